/**
 * The mDNS discovery service: wires {@link MdnsMachine} to a multicast socket, one timer and the
 * node's discovery contract (a `PeerDiscovery` dispatching `peer` events).
 *
 * @module
 */

import { PeerDiscoveryBase } from "../../src/node/discovery.ts";
import type { PeerDiscoveryFactory } from "../../src/node/node.ts";
import type { Multiaddr } from "../../src/multiaddr/mod.ts";
import { type PeerId, peerIdFromString } from "../../src/peer_id.ts";
import {
  DEFAULT_QUERY_INTERVAL_MS,
  DEFAULT_RECORD_TTL_S,
  MDNS_IPV4_GROUP,
  MDNS_PORT,
  MDNS_SERVICE_NAME,
  PEER_NAME_LENGTH,
} from "./constants.ts";
import { MdnsUnavailableError } from "./errors.ts";
import { type MdnsAction, MdnsMachine, type MdnsStats } from "./machine.ts";
import { type MdnsSocket, type MdnsSocketFactory, openMdnsSocket } from "./socket.ts";

/** Options of {@link mdns} (js-libp2p's names where it has them). */
export interface MdnsOptions {
  /** Answer queries, i.e. announce ourselves; default true. */
  readonly broadcast?: boolean;
  /** Milliseconds between queries; default 10,000 (js-libp2p). */
  readonly interval?: number;
  /** Service name; default `_p2p._udp.local`. */
  readonly serviceTag?: string;
  /** Our instance label; default 63 random lower-case letters and digits. */
  readonly peerName?: string;
  /** UDP port; default 5353. */
  readonly port?: number;
  /** Multicast group; default `224.0.0.251`. */
  readonly ip?: string;
  /** IPv4 address of the interface to join the group on; default `0.0.0.0` (the kernel's choice). */
  readonly interface?: string;
  /** TTL of our records in seconds; default 120. */
  readonly ttl?: number;
  /**
   * When the runtime cannot do multicast, dispatch an `error` event (detail: the
   * {@link MdnsUnavailableError}) and run without mDNS instead of failing `start()`. Default false.
   */
  readonly optional?: boolean;
  /** The socket; default the runtime's ({@link openMdnsSocket}). */
  readonly socket?: MdnsSocketFactory;
  /** Clock; default `Date.now`. */
  readonly now?: () => number;
}

/** What the service needs of the node. */
export interface MdnsHost {
  /** Our id. */
  readonly peerId: PeerId;
  /** The addresses we announce (those mDNS may announce are picked from them). */
  getMultiaddrs(): Multiaddr[];
  /** The node's events: `self:peer:update` (our addresses changed) triggers an announcement. */
  addEventListener?(type: "self:peer:update", listener: () => void): void;
  /** Counterpart of `addEventListener`. */
  removeEventListener?(type: "self:peer:update", listener: () => void): void;
}

const NAME_ALPHABET = "abcdefghijklmnopqrstuvwxyz0123456789";

function randomPeerName(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(PEER_NAME_LENGTH));
  let out = "";
  for (const b of bytes) out += NAME_ALPHABET[b % NAME_ALPHABET.length];
  return out;
}

/**
 * mDNS peer discovery (a `PeerDiscovery`): `peer` events for peers found on the LAN, and
 * `error` events (detail: an Error) for socket failures after start.
 *
 * @example
 * ```ts
 * import { MdnsDiscovery } from "@p2p-edge/libp2p/protocols/mdns";
 * import { generateKeyPair, peerIdFromPublicKey } from "@p2p-edge/libp2p";
 * const peerId = peerIdFromPublicKey((await generateKeyPair("Ed25519")).publicKey);
 * const d = new MdnsDiscovery({ peerId, getMultiaddrs: () => [] }, { optional: true });
 * d.addEventListener("peer", (e) => console.log(e.detail.id.toString()));
 * ```
 */
export class MdnsDiscovery extends PeerDiscoveryBase {
  /** "mdns". */
  readonly discoveryName = "mdns";
  /** Our instance label. */
  readonly peerName: string;
  readonly #host: MdnsHost;
  readonly #options: MdnsOptions;
  readonly #now: () => number;
  #machine: MdnsMachine | undefined;
  #socket: MdnsSocket | undefined;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #timerAt = Infinity;
  #startTimer: ReturnType<typeof setTimeout> | undefined;
  #starting = false;
  #sendFailures = 0;

  /** A service for `host`; nothing happens before {@link start}. */
  constructor(host: MdnsHost, options: MdnsOptions = {}) {
    super();
    const name = options.peerName ?? randomPeerName();
    if (!/^[a-z0-9-]{1,63}$/.test(name)) {
      throw new RangeError("mDNS peerName must be 1 to 63 lower-case letters, digits or '-'");
    }
    this.peerName = name;
    this.#host = host;
    this.#options = options;
    this.#now = options.now ?? Date.now;
  }

  /** Whether the socket is open. */
  get running(): boolean {
    return this.#socket !== undefined;
  }

  /** Open the socket, join the group and send the first query. */
  async start(): Promise<void> {
    if (this.#machine !== undefined || this.#starting) return;
    this.#starting = true;
    try {
      await this.#start();
    } finally {
      this.#starting = false;
    }
  }

  async #start(): Promise<void> {
    const o = this.#options;
    const machine = new MdnsMachine({
      peerId: this.#host.peerId.toString(),
      peerName: this.peerName,
      addresses: () => this.#host.getMultiaddrs(),
      serviceName: o.serviceTag ?? MDNS_SERVICE_NAME,
      queryIntervalMs: o.interval ?? DEFAULT_QUERY_INTERVAL_MS,
      ttl: o.ttl ?? DEFAULT_RECORD_TTL_S,
      broadcast: o.broadcast,
    });
    let socket: MdnsSocket;
    try {
      socket = await (o.socket ?? openMdnsSocket)({
        group: o.ip ?? MDNS_IPV4_GROUP,
        port: o.port ?? MDNS_PORT,
        interface: o.interface ?? "0.0.0.0",
        onMessage: (bytes) => this.#run(this.#machine?.receive(bytes, this.#now())),
        onError: (err) => this.dispatchEvent(new CustomEvent("error", { detail: err })),
      });
    } catch (err) {
      const error = err instanceof MdnsUnavailableError
        ? err
        : new MdnsUnavailableError("mDNS: cannot open the multicast socket", { cause: err });
      if (o.optional) {
        this.dispatchEvent(new CustomEvent("error", { detail: error }));
        return;
      }
      throw error;
    }
    this.#machine = machine;
    this.#socket = socket;
    this.#host.addEventListener?.("self:peer:update", this.#onSelfUpdate);
    // The first query goes out in a later task: the node publishes its listening addresses
    // right after its discovery services started, and our own query makes us announce them.
    this.#startTimer = setTimeout(() => {
      this.#startTimer = undefined;
      if (this.#machine === machine) this.#run(machine.start(this.#now()));
    }, 0);
  }

  readonly #onSelfUpdate = (): void => {
    this.#run(this.#machine?.announce(this.#now()));
  };

  /** Send a goodbye, close the socket, clear the timer. */
  async stop(): Promise<void> {
    const machine = this.#machine;
    const socket = this.#socket;
    this.#machine = undefined;
    this.#socket = undefined;
    this.#host.removeEventListener?.("self:peer:update", this.#onSelfUpdate);
    clearTimeout(this.#startTimer);
    clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#timerAt = Infinity;
    if (machine === undefined || socket === undefined) return;
    for (const action of machine.stop()) {
      if (action.type === "send") await socket.send(action.bytes).catch(() => {});
    }
    socket.close();
  }

  /** Counters of the machine (zeros before start), plus failed sends. */
  stats(): MdnsStats & { sendFailures: number; knownPeers: number } {
    const base: MdnsStats = this.#machine?.stats() ?? {
      queriesSent: 0,
      responsesSent: 0,
      received: 0,
      malformed: 0,
      responsesDeferred: 0,
      reported: 0,
      rateLimited: 0,
    };
    return {
      ...base,
      sendFailures: this.#sendFailures,
      knownPeers: this.#machine?.knownPeers ?? 0,
    };
  }

  #run(actions: readonly MdnsAction[] | undefined): void {
    const socket = this.#socket;
    if (actions === undefined || socket === undefined) return;
    for (const action of actions) {
      if (action.type === "send") {
        socket.send(action.bytes).catch(() => this.#sendFailures++);
      } else {
        let id: PeerId;
        try {
          id = peerIdFromString(action.peerId);
        } catch {
          continue; // not a peer id this library reads
        }
        this.dispatch("peer", { id, multiaddrs: [...action.multiaddrs] });
      }
    }
    this.#arm();
  }

  #arm(): void {
    const machine = this.#machine;
    if (machine === undefined) return;
    const at = machine.nextWake();
    if (at === this.#timerAt) return;
    clearTimeout(this.#timer);
    this.#timerAt = at;
    if (at === Infinity) return;
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.#timerAt = Infinity;
      this.#run(this.#machine?.tick(this.#now()));
    }, Math.max(0, at - this.#now()));
  }
}

/**
 * mDNS discovery for `createNode({ peerDiscovery: [mdns()] })`: finds peers on the LAN (and
 * announces us with our loopback, link-local, private and documentation-range addresses).
 *
 * @example
 * ```ts
 * import { createNode } from "@p2p-edge/libp2p";
 * import { mdns } from "@p2p-edge/libp2p/protocols/mdns";
 * import { tcp } from "@p2p-edge/libp2p/transports/tcp";
 * const node = await createNode({
 *   addresses: { listen: ["/ip4/127.0.0.1/tcp/0"] },
 *   transports: [tcp()],
 *   peerDiscovery: [mdns({ interval: 5_000 })],
 * });
 * node.addEventListener("peer:discovery", (e) => console.log("discovered", e.detail.id.toString()));
 * ```
 */
export function mdns(options: MdnsOptions = {}): PeerDiscoveryFactory {
  return (node) => new MdnsDiscovery(node, options);
}
