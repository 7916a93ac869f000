/**
 * The mDNS querier and responder as one sans-IO machine: packets and `now` in, packets to
 * multicast and discovered peers out. It never reads a clock or a socket (ARCHITECTURE.md); the
 * service (service.ts) feeds it and runs one timer at {@link MdnsMachine.nextWake}.
 *
 * Behaviour (libp2p/specs discovery/mdns.md, RFC 6762):
 * - a `PTR _p2p._udp.local` query at start and every `queryIntervalMs`;
 * - a response to every query that asks for the service, our instance or our host, our own
 *   queries included (that is how a new peer announces itself), unless the query already knows
 *   our record (known-answer suppression, RFC 6762 section 7.1), and never more than one per
 *   {@link MIN_RESPONSE_INTERVAL_MS}: a query inside that window is answered when it ends;
 * - peers read from anyone's responses (ours skipped), reported when new, when their addresses
 *   changed, or again after {@link REPORT_AGAIN_MS}, through a token bucket of
 *   {@link DISCOVERIES_PER_SECOND}; at most {@link MAX_KNOWN_PEERS} remembered;
 * - an unsolicited response when our addresses change ({@link MdnsMachine.announce});
 * - a goodbye (our records with TTL 0, RFC 6762 section 10.1) at stop.
 *
 * @module
 */

import { DecodeError, LimitExceededError } from "../../src/errors.ts";
import { decodeDnsMessage, FLAG_QR, OPCODE_MASK } from "../../src/dns/mod.ts";
import type { Multiaddr } from "../../src/multiaddr/mod.ts";
import {
  DEFAULT_QUERY_INTERVAL_MS,
  DEFAULT_RECORD_TTL_S,
  DISCOVERIES_PER_SECOND,
  DISCOVERY_BURST,
  MAX_KNOWN_PEERS,
  MAX_RECEIVE_BYTES,
  MAX_RECORDS_PER_PACKET,
  MDNS_SERVICE_NAME,
  MIN_RESPONSE_INTERVAL_MS,
  REPORT_AGAIN_MS,
} from "./constants.ts";
import { buildQuery, buildResponse, queryKnowsUs, queryWantsUs, readPeers } from "./records.ts";

/** Settings of {@link MdnsMachine}. */
export interface MdnsMachineInit {
  /** Our peer id (base58btc). */
  readonly peerId: string;
  /** Our random instance label. */
  readonly peerName: string;
  /** Our current addresses (read when a response is built). */
  readonly addresses: () => readonly Multiaddr[];
  /** Service name; default `_p2p._udp.local`. */
  readonly serviceName?: string;
  /** Query interval; default 10 s. */
  readonly queryIntervalMs?: number;
  /** TTL of our records in seconds; default 120. */
  readonly ttl?: number;
  /** Answer queries (announce ourselves); default true (js `broadcast`). */
  readonly broadcast?: boolean;
}

/** One thing for the service to do. */
export type MdnsAction =
  | { readonly type: "send"; readonly bytes: Uint8Array }
  | { readonly type: "peer"; readonly peerId: string; readonly multiaddrs: readonly Multiaddr[] };

/** Counters of {@link MdnsMachine}. */
export interface MdnsStats {
  /** Queries sent. */
  queriesSent: number;
  /** Responses sent. */
  responsesSent: number;
  /** Packets received (all). */
  received: number;
  /** Packets dropped: oversize, malformed, over a cap. */
  malformed: number;
  /** Answers held back by the one-per-second rule (a later response covered them). */
  responsesDeferred: number;
  /** Peers reported. */
  reported: number;
  /** Peer sightings dropped by the discovery rate limit. */
  rateLimited: number;
}

interface Known {
  key: string;
  reportedAt: number;
  seenAt: number;
}

/**
 * The mDNS machine. Call {@link start}, then {@link receive} for every packet and {@link tick}
 * at {@link nextWake}; carry out the returned actions.
 *
 * @example
 * ```ts
 * import { MdnsMachine } from "@p2p-edge/libp2p/protocols/mdns";
 * import { multiaddr } from "@p2p-edge/libp2p/multiaddr";
 * const m = new MdnsMachine({
 *   peerId: "12D3KooWD3eckifWpRn9wQpMG9R9hX3sD158z7EqHWmweQAJU5SA",
 *   peerName: "a".repeat(63),
 *   addresses: () => [multiaddr("/ip4/127.0.0.1/tcp/4001")],
 * });
 * const [query] = m.start(0); // { type: "send", bytes: <PTR query> }
 * const actions = m.receive(query.type === "send" ? query.bytes : new Uint8Array(), 1);
 * console.log(actions.length); // 1: our response to our own query
 * ```
 */
export class MdnsMachine {
  readonly #init: MdnsMachineInit;
  readonly #service: string;
  readonly #interval: number;
  readonly #ttl: number;
  readonly #query: Uint8Array;
  #running = false;
  #nextQueryAt = Infinity;
  #lastResponseAt = -Infinity;
  #pendingResponseAt = Infinity;
  #tokens = DISCOVERY_BURST;
  #tokensAt = 0;
  readonly #known = new Map<string, Known>(); // insertion order = least recently seen first
  readonly #stats: MdnsStats = {
    queriesSent: 0,
    responsesSent: 0,
    received: 0,
    malformed: 0,
    responsesDeferred: 0,
    reported: 0,
    rateLimited: 0,
  };

  /** A machine for our peer; nothing happens before {@link start}. */
  constructor(init: MdnsMachineInit) {
    this.#init = init;
    this.#service = init.serviceName ?? MDNS_SERVICE_NAME;
    this.#interval = init.queryIntervalMs ?? DEFAULT_QUERY_INTERVAL_MS;
    this.#ttl = init.ttl ?? DEFAULT_RECORD_TTL_S;
    if (!(this.#interval > 0)) throw new RangeError("mDNS queryIntervalMs must be > 0");
    this.#query = buildQuery(this.#service);
  }

  /** Begin: the first query goes out now. */
  start(now: number): MdnsAction[] {
    this.#running = true;
    this.#tokensAt = now;
    this.#nextQueryAt = now + this.#interval;
    this.#stats.queriesSent++;
    return [{ type: "send", bytes: this.#query }];
  }

  /**
   * Our addresses changed: announce them unsolicited (RFC 6762 section 8.4), within the
   * one-response-per-second rule.
   */
  announce(now: number): MdnsAction[] {
    if (!this.#running || this.#init.broadcast === false) return [];
    const out: MdnsAction[] = [];
    this.#respond(now, out);
    return out;
  }

  /** Stop: the goodbye packet to send, if we announced anything. */
  stop(): MdnsAction[] {
    if (!this.#running) return [];
    this.#running = false;
    this.#nextQueryAt = this.#pendingResponseAt = Infinity;
    this.#known.clear();
    if (this.#init.broadcast === false || this.#lastResponseAt === -Infinity) return [];
    const bye = this.#response(0);
    return bye === undefined ? [] : [{ type: "send", bytes: bye }];
  }

  /** When {@link tick} wants to run next (Infinity: never). */
  nextWake(): number {
    return Math.min(this.#nextQueryAt, this.#pendingResponseAt);
  }

  /** Timers: the periodic query and a deferred response. */
  tick(now: number): MdnsAction[] {
    if (!this.#running) return [];
    const out: MdnsAction[] = [];
    if (now >= this.#nextQueryAt) {
      this.#nextQueryAt = now + this.#interval;
      this.#stats.queriesSent++;
      out.push({ type: "send", bytes: this.#query });
    }
    if (now >= this.#pendingResponseAt) {
      this.#pendingResponseAt = Infinity;
      this.#respond(now, out);
    }
    return out;
  }

  /** A packet from the group (any sender, ours included). */
  receive(packet: Uint8Array, now: number): MdnsAction[] {
    if (!this.#running) return [];
    this.#stats.received++;
    if (packet.length > MAX_RECEIVE_BYTES) {
      this.#stats.malformed++;
      return [];
    }
    let message;
    try {
      message = decodeDnsMessage(packet, { maxRecords: MAX_RECORDS_PER_PACKET });
    } catch (err) {
      if (err instanceof DecodeError || err instanceof LimitExceededError) {
        this.#stats.malformed++;
        return [];
      }
      throw err;
    }
    if ((message.flags & OPCODE_MASK) !== 0) return []; // RFC 6762 section 18.3: ignore
    const out: MdnsAction[] = [];
    if ((message.flags & FLAG_QR) === 0) {
      if (
        this.#init.broadcast !== false &&
        queryWantsUs(message, this.#service, this.#init.peerName) &&
        !queryKnowsUs(message, this.#service, this.#init.peerName, this.#ttl)
      ) this.#respond(now, out);
      return out;
    }
    for (const peer of readPeers(message, this.#service)) {
      if (peer.peerId === this.#init.peerId) continue;
      if (peer.instance.toLowerCase().startsWith(this.#init.peerName + ".")) continue;
      if (this.#shouldReport(peer.peerId, peer.multiaddrs, now)) {
        this.#stats.reported++;
        out.push({ type: "peer", peerId: peer.peerId, multiaddrs: peer.multiaddrs });
      }
    }
    return out;
  }

  /** Counters. */
  stats(): MdnsStats {
    return { ...this.#stats };
  }

  /** Peers remembered for de-duplication. */
  get knownPeers(): number {
    return this.#known.size;
  }

  #response(ttl: number): Uint8Array | undefined {
    return buildResponse({
      serviceName: this.#service,
      peerName: this.#init.peerName,
      peerId: this.#init.peerId,
      addresses: this.#init.addresses(),
      ttl,
    });
  }

  #respond(now: number, out: MdnsAction[]): void {
    if (now - this.#lastResponseAt < MIN_RESPONSE_INTERVAL_MS) {
      this.#stats.responsesDeferred++;
      this.#pendingResponseAt = Math.min(
        this.#pendingResponseAt,
        this.#lastResponseAt + MIN_RESPONSE_INTERVAL_MS,
      );
      return;
    }
    const bytes = this.#response(this.#ttl);
    if (bytes === undefined) return; // nothing we may announce
    this.#lastResponseAt = now;
    this.#stats.responsesSent++;
    out.push({ type: "send", bytes });
  }

  #shouldReport(peerId: string, addrs: readonly Multiaddr[], now: number): boolean {
    const key = addrs.map((a) => a.toString()).sort().join(" ");
    const known = this.#known.get(peerId);
    if (known !== undefined) {
      this.#known.delete(peerId); // re-insert: most recently seen last
      this.#known.set(peerId, known);
      known.seenAt = now;
      if (known.key === key && now - known.reportedAt < REPORT_AGAIN_MS) return false;
    }
    // token bucket (HARDENING.md rule 7)
    this.#tokens = Math.min(
      DISCOVERY_BURST,
      this.#tokens + ((now - this.#tokensAt) * DISCOVERIES_PER_SECOND) / 1000,
    );
    this.#tokensAt = now;
    if (this.#tokens < 1) {
      this.#stats.rateLimited++;
      return false;
    }
    this.#tokens -= 1;
    if (known !== undefined) {
      known.key = key;
      known.reportedAt = now;
      return true;
    }
    if (this.#known.size >= MAX_KNOWN_PEERS) {
      const oldest = this.#known.keys().next().value;
      if (oldest !== undefined) this.#known.delete(oldest);
    }
    this.#known.set(peerId, { key, reportedAt: now, seenAt: now });
    return true;
  }
}
