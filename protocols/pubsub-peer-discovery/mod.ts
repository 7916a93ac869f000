/**
 * Pubsub peer discovery (the `@libp2p/pubsub-peer-discovery` protocol; there is no libp2p spec):
 * peers announce themselves on the topic `_peer-discovery._p2p._pubsub` with a protobuf
 * `Peer { bytes publicKey = 1; repeated bytes addrs = 2; }` (the public key in libp2p's
 * protobuf form, the addresses as binary multiaddrs), at start and then every `interval`.
 *
 * Authenticity comes only from pubsub's StrictSign, and the payload's key is not bound to the
 * message: an announcement is accepted only when the key's peer id is the message's signed
 * `from` (wave-2 research §2.6; the js package does not check it). Our own announcements are
 * ignored. Discovered peers get their addresses in the peer store and a `peer` event; with
 * `dial: true` they are also dialled when not connected.
 *
 * Register it next to a pubsub service named `pubsub` (`gossipsub()` or `floodsub()`).
 *
 * @example
 * ```ts
 * import { createNode } from "@p2p-edge/libp2p";
 * import { tcp } from "@p2p-edge/libp2p/transports/tcp";
 * import { noise } from "@p2p-edge/libp2p/protocols/noise";
 * import { yamux } from "@p2p-edge/libp2p/protocols/yamux";
 * import { identify } from "@p2p-edge/libp2p/protocols/identify";
 * import { gossipsub } from "@p2p-edge/libp2p/protocols/gossipsub";
 * import { pubsubPeerDiscovery } from "@p2p-edge/libp2p/protocols/pubsub-peer-discovery";
 * const node = await createNode({
 *   transports: [tcp()],
 *   connectionEncrypters: [noise()],
 *   streamMuxers: [yamux()],
 *   services: {
 *     identify: identify(),
 *     pubsub: gossipsub({ allowPublishToZeroTopicPeers: true }),
 *     discovery: pubsubPeerDiscovery({ interval: 10_000, dial: true }),
 *   },
 * });
 * node.services.discovery.addEventListener("peer", (e) => console.log(e.detail.id.toString()));
 * ```
 *
 * @module
 */

import { LimitExceededError } from "../../src/errors.ts";
import {
  peerIdFromPublicKey,
  publicKeyFromProtobuf,
  publicKeyToProtobuf,
} from "../../src/keys/mod.ts";
import { type Multiaddr, multiaddr } from "../../src/multiaddr/mod.ts";
import type { Libp2pNode, ServiceFactory, Startable } from "../../src/node/node.ts";
import { TypedEventTarget } from "../../src/node/events.ts";
import type { PeerId } from "../../src/peer_id.ts";
import { ProtobufReader, ProtobufWriter, WireType } from "../../src/protobuf.ts";
import type { PubsubMessageDetail, PubsubService } from "../pubsub/mod.ts";

/** The default announcement topic (`@libp2p/pubsub-peer-discovery`). */
export const PUBSUB_DISCOVERY_TOPIC = "_peer-discovery._p2p._pubsub";

/** Announcement period, ms (js `interval`, 10 s). */
export const DEFAULT_DISCOVERY_INTERVAL_MS = 10_000;

/** Addresses taken from one announcement (HARDENING.md rule 4). */
export const MAX_ANNOUNCED_ADDRS = 64;

/** Largest announcement decoded, bytes (a key and 64 addresses fit; HARDENING.md rule 4). */
export const MAX_ANNOUNCEMENT_BYTES = 16 * 1024;

/**
 * Announcements asked for within this window (start, peers joining the topic) go out as one,
 * ms; it also gives a new topic peer's mesh a moment to form (HARDENING.md rule 4: a topic
 * peer churning subscriptions costs at most one announcement per window).
 */
export const ANNOUNCE_COALESCE_MS = 200;

/** Peers dialled at once from announcements (HARDENING.md rule 4). */
export const MAX_CONCURRENT_DISCOVERY_DIALS = 8;

/** A decoded announcement. */
export interface PeerAnnouncement {
  /** The announcer's public key, protobuf form. */
  publicKey: Uint8Array;
  /** Its addresses, binary multiaddrs. */
  addrs: Uint8Array[];
}

/**
 * Encode an announcement.
 *
 * @example
 * ```ts
 * import { decodeAnnouncement, encodeAnnouncement } from "@p2p-edge/libp2p/protocols/pubsub-peer-discovery";
 * const bytes = encodeAnnouncement({ publicKey: new Uint8Array([8, 1]), addrs: [] });
 * decodeAnnouncement(bytes).publicKey; // Uint8Array [8, 1]
 * ```
 */
export function encodeAnnouncement(a: PeerAnnouncement): Uint8Array {
  const w = new ProtobufWriter().bytes(1, a.publicKey);
  for (const addr of a.addrs) w.bytes(2, addr);
  return w.finish();
}

/**
 * Decode an announcement (unknown fields skipped). Throws DecodeError for malformed bytes and
 * LimitExceededError past {@link MAX_ANNOUNCEMENT_BYTES} or {@link MAX_ANNOUNCED_ADDRS}.
 *
 * @example
 * ```ts
 * import { decodeAnnouncement } from "@p2p-edge/libp2p/protocols/pubsub-peer-discovery";
 * decodeAnnouncement(new Uint8Array([0x0a, 0x01, 0x07])).addrs.length; // 0
 * ```
 */
export function decodeAnnouncement(bytes: Uint8Array): PeerAnnouncement {
  if (bytes.byteLength > MAX_ANNOUNCEMENT_BYTES) {
    throw new LimitExceededError("announcement too large", "MAX_ANNOUNCEMENT_BYTES");
  }
  const r = new ProtobufReader(bytes);
  let publicKey: Uint8Array | undefined;
  const addrs: Uint8Array[] = [];
  for (let tag = r.readTag(); tag !== undefined; tag = r.readTag()) {
    if (tag.field === 1 && tag.wireType === WireType.LENGTH_DELIMITED) {
      publicKey = r.readBytes();
    } else if (tag.field === 2 && tag.wireType === WireType.LENGTH_DELIMITED) {
      if (addrs.length >= MAX_ANNOUNCED_ADDRS) {
        throw new LimitExceededError("too many announced addresses", "MAX_ANNOUNCED_ADDRS");
      }
      addrs.push(r.readBytes());
    } else {
      r.skip(tag.wireType);
    }
  }
  return { publicKey: publicKey ?? new Uint8Array(0), addrs };
}

/** Options of {@link pubsubPeerDiscovery} (js names). */
export interface PubsubPeerDiscoveryOptions {
  /** Announcement period, ms. Default {@link DEFAULT_DISCOVERY_INTERVAL_MS}. */
  interval?: number;
  /** Topics to announce on and listen to. Default `[PUBSUB_DISCOVERY_TOPIC]`. */
  topics?: string[];
  /** Only listen, never announce. Default false. */
  listenOnly?: boolean;
  /** Dial discovered peers we are not connected to. Default false. */
  dial?: boolean;
}

/** A discovered peer (js-libp2p's `PeerInfo` shape). */
export interface DiscoveredPeer {
  /** The peer. */
  id: PeerId;
  /** Its announced addresses. */
  multiaddrs: Multiaddr[];
}

/** Events of the discovery service. */
export interface PubsubPeerDiscoveryEvents {
  /** A valid announcement from another peer. */
  peer: DiscoveredPeer;
}

/**
 * The discovery service (`node.services.<name>`).
 *
 * @example
 * ```ts
 * import type { PubsubPeerDiscovery } from "@p2p-edge/libp2p/protocols/pubsub-peer-discovery";
 * function log(d: PubsubPeerDiscovery): void {
 *   d.addEventListener("peer", (e) => console.log(e.detail.id.toString()));
 * }
 * ```
 */
export class PubsubPeerDiscovery extends TypedEventTarget<PubsubPeerDiscoveryEvents>
  implements Startable {
  readonly #node: Libp2pNode<{ pubsub: PubsubService }>;
  readonly #interval: number;
  readonly #topics: string[];
  readonly #listenOnly: boolean;
  readonly #dial: boolean;
  #timer: ReturnType<typeof setInterval> | undefined;
  #soon: ReturnType<typeof setTimeout> | undefined;
  #dialing = 0;
  #started = false;
  /** Announcements dropped: malformed, key not matching the signed author, or our own. */
  rejected = 0;

  /** Prefer {@link pubsubPeerDiscovery}. */
  constructor(node: Libp2pNode, options: PubsubPeerDiscoveryOptions = {}) {
    super();
    this.#node = node as Libp2pNode<{ pubsub: PubsubService }>;
    this.#interval = options.interval ?? DEFAULT_DISCOVERY_INTERVAL_MS;
    this.#topics = options.topics ?? [PUBSUB_DISCOVERY_TOPIC];
    this.#listenOnly = options.listenOnly ?? false;
    this.#dial = options.dial ?? false;
  }

  /** Subscribe, announce once, then every interval. */
  start(): void {
    if (this.#started) return;
    this.#started = true;
    const pubsub = this.#pubsub();
    pubsub.addEventListener("message", this.#onMessage);
    pubsub.addEventListener("subscription-change", this.#onSubscription);
    for (const t of this.#topics) pubsub.subscribe(t);
    if (!this.#listenOnly) {
      if (this.#node.addressManager.getAddresses().length > 0) this.#announceSoon();
      else this.#node.addEventListener("listening", this.#announceSoon, { once: true });
      if (this.#interval > 0) this.#timer = setInterval(() => this.announce(), this.#interval);
    }
  }

  /** Stop announcing and listening. */
  stop(): void {
    if (!this.#started) return;
    this.#started = false;
    clearInterval(this.#timer);
    this.#timer = undefined;
    this.#node.removeEventListener("listening", this.#announceSoon);
    const pubsub = this.#pubsub();
    pubsub.removeEventListener("message", this.#onMessage);
    pubsub.removeEventListener("subscription-change", this.#onSubscription);
    clearTimeout(this.#soon);
    this.#soon = undefined;
  }

  /** Announce ourselves now on every topic (failures, e.g. no peers yet, are ignored). */
  async announce(): Promise<void> {
    if (!this.#started || this.#listenOnly) return;
    const bytes = encodeAnnouncement({
      publicKey: publicKeyToProtobuf(this.#node.privateKey.publicKey),
      addrs: this.#node.addressManager.getAddresses().map((a) => withoutP2p(a).bytes),
    });
    const pubsub = this.#pubsub();
    await Promise.all(this.#topics.map((t) => pubsub.publish(t, bytes).catch(() => {})));
  }

  /** Announce shortly (coalescing requests within {@link ANNOUNCE_COALESCE_MS}). */
  readonly #announceSoon = (): void => {
    if (this.#soon !== undefined || !this.#started) return;
    this.#soon = setTimeout(() => {
      this.#soon = undefined;
      this.announce().catch(() => {});
    }, ANNOUNCE_COALESCE_MS);
  };

  /** A peer joined one of our topics: announce to it (js waits for the next interval). */
  readonly #onSubscription = (
    e: CustomEvent<{ subscriptions: { topic: string; subscribe: boolean }[] }>,
  ): void => {
    if (this.#listenOnly) return;
    if (e.detail.subscriptions.some((s) => s.subscribe && this.#topics.includes(s.topic))) {
      this.#announceSoon();
    }
  };

  #pubsub(): PubsubService {
    const pubsub = this.#node.services.pubsub;
    if (pubsub === undefined) throw new TypeError("pubsub peer discovery needs services.pubsub");
    return pubsub;
  }

  readonly #onMessage = (e: CustomEvent<PubsubMessageDetail>): void => {
    if (!this.#topics.includes(e.detail.topic)) return;
    const found = this.#check(e.detail);
    if (found === undefined) {
      this.rejected++;
      return;
    }
    // The node's discovery path: the peer store ("discovered"), the node's `peer:discovery`
    // event, and dials while the node is below its connection target.
    this.#node.discovery.report(found).catch(() => {});
    this.dispatch("peer", found);
    if (
      this.#dial && this.#dialing < MAX_CONCURRENT_DISCOVERY_DIALS &&
      this.#node.getConnections(found.id).length === 0 && found.multiaddrs.length > 0
    ) {
      this.#dialing++;
      this.#node.dial(found.id).catch(() => {}).finally(() => this.#dialing--);
    }
  };

  /** The announced peer, when the announcement is well-formed, signed by it, and not ours. */
  #check(detail: PubsubMessageDetail): DiscoveredPeer | undefined {
    if (detail.from === undefined) return undefined; // unsigned: nothing binds the key
    let id: PeerId;
    const multiaddrs: Multiaddr[] = [];
    try {
      const a = decodeAnnouncement(detail.data);
      id = peerIdFromPublicKey(publicKeyFromProtobuf(a.publicKey));
      for (const bytes of a.addrs) multiaddrs.push(multiaddr(bytes));
    } catch {
      return undefined;
    }
    // The key must be the signed author's (research §2.6), and not ours.
    if (!id.equals(detail.from) || id.equals(this.#node.peerId)) return undefined;
    return { id, multiaddrs };
  }
}

function withoutP2p(addr: Multiaddr): Multiaddr {
  const codes = addr.protoCodes();
  return codes[codes.length - 1] === 421 ? addr.decapsulateCode(421) : addr;
}

/**
 * The pubsub peer discovery service factory; it needs a pubsub service named `pubsub`.
 *
 * @example
 * ```ts
 * import { pubsubPeerDiscovery } from "@p2p-edge/libp2p/protocols/pubsub-peer-discovery";
 * const factory = pubsubPeerDiscovery({ listenOnly: true });
 * ```
 */
export function pubsubPeerDiscovery(
  options: PubsubPeerDiscoveryOptions = {},
): ServiceFactory<PubsubPeerDiscovery> {
  const build = (node: Libp2pNode): PubsubPeerDiscovery => new PubsubPeerDiscovery(node, options);
  return Object.assign(build, {
    serviceCapabilities: Object.freeze(["@libp2p/peer-discovery"]),
    serviceDependencies: Object.freeze(["@libp2p/pubsub"]),
  });
}
