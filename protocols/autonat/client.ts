/**
 * The AutoNAT client: tests our addresses with other peers' AutoNAT servers and feeds the
 * node's reachability (`node.addressManager.setReachability`, which emits `self:reachability`;
 * the DHT's auto mode and the relay client follow it).
 *
 * - Servers are the connected peers that advertise `/libp2p/autonat/2/dial-request` (v2) or
 *   `/libp2p/autonat/1.0.0` (v1), learnt from identify through topologies. v1 is used only when
 *   no v2 server is connected.
 * - v2 (libp2p/specs `autonat/autonat-v2.md` §Client): each request lists the addresses still
 *   undecided in priority order with a fresh random nonce; a server dials back one and reports
 *   which. A success counts only when the nonce arrived on `/libp2p/autonat/2/dial-back` (from
 *   any peer id: go dials back from a fresh identity, so the nonce, not the id, is the proof).
 *   Dial data is paid up to {@link MAX_DIAL_DATA_BYTES_CLIENT}.
 * - Results go into the sans-IO {@link ReachabilityTracker}: one vote per server per address,
 *   decided at a net confidence of 3 (go's `targetConfidence`).
 * - Rounds run after start, when servers or our addresses change, every `retryIntervalMs`
 *   while something is undecided, and every `reprobeIntervalMs` otherwise. Timers and clock
 *   are injected; {@link AutoNATClient.probe} runs a round at once (tests).
 *
 * @module
 */

import { type Stream, streamChannelOf } from "../../src/connection.ts";
import type { Reachability } from "../../src/node/address_manager.ts";
import { type Multiaddr, multiaddr } from "../../src/multiaddr/mod.ts";
import type { Libp2pNode } from "../../src/node/node.ts";
import type { PeerId } from "../../src/peer_id.ts";
import { ByteReader } from "../../src/stream/byte_reader.ts";
import {
  decodeV1Message,
  encodeV1Message,
  MAX_V1_MESSAGE_BYTES,
  V1_PROTOCOL,
  V1Status,
  V1Type,
} from "./codec_v1.ts";
import {
  decodeDialBack,
  decodeV2Message,
  DIAL_BACK_PROTOCOL,
  DIAL_REQUEST_PROTOCOL,
  DialStatus,
  encodeDialBackResponse,
  encodeV2Message,
  frame,
  MAX_DIAL_DATA_CHUNK,
  MAX_V2_ADDRS,
  MAX_V2_MESSAGE_BYTES,
  ResponseStatus,
} from "./codec_v2.ts";
import {
  type AutoNATOptions,
  DEFAULT_REQUEST_TIMEOUT_MS,
  MAX_DIAL_DATA_BYTES_CLIENT,
  testable,
  withoutPeer,
} from "./options.ts";
import { type ProbeOutcome, ReachabilityTracker } from "./reachability.ts";

/** First round after start, ms. */
const DEFAULT_STARTUP_DELAY_MS = 5_000;
/** Pause between rounds while something is undecided, ms. */
const DEFAULT_RETRY_INTERVAL_MS = 10_000;
/** Servers asked at once. */
const DEFAULT_MAX_CONCURRENT_PROBES = 3;
/** Delay of a round triggered by a new server or an address change, ms (coalesces bursts). */
const SOON_MS = 1_000;
/** Servers remembered per protocol (HARDENING.md rule 4). */
const MAX_SERVERS = 64;
/** Dial-back nonces awaited at once (one per request in flight; HARDENING.md rule 4). */
const MAX_PENDING_NONCES = 64;
/** Key of the node-wide v1 verdict in its tracker. */
const V1_KEY = "node";

/**
 * The AutoNAT client; {@link autoNAT} builds it inside the service.
 *
 * @example
 * ```ts
 * import { autoNAT } from "@p2p-edge/libp2p/protocols/autonat";
 * const service = autoNAT({ server: false }); // a client only
 * ```
 */
export class AutoNATClient {
  readonly #node: Libp2pNode;
  readonly #options: AutoNATOptions;
  readonly #allowPrivate: boolean;
  readonly #now: () => number;
  readonly #timers: NonNullable<AutoNATOptions["timers"]>;
  readonly #tracker: ReachabilityTracker;
  readonly #v1Tracker: ReachabilityTracker;
  readonly #v2Servers = new Map<string, PeerId>();
  readonly #v1Servers = new Map<string, PeerId>();
  readonly #pending = new Map<bigint, { received: boolean }>();
  #observed = new Set<string>();
  #topologies: string[] = [];
  #timer: unknown;
  #running: Promise<void> | undefined;
  #started = false;
  #lifetime = new AbortController();

  /** Prefer {@link autoNAT}, which builds it as part of the service. */
  constructor(node: Libp2pNode, options: AutoNATOptions = {}) {
    this.#node = node;
    this.#options = options;
    this.#allowPrivate = options.allowPrivateAddresses ?? false;
    this.#now = options.now ?? Date.now;
    this.#timers = options.timers ?? {
      setTimeout: (fn, ms) => setTimeout(fn, ms),
      clearTimeout: (h) => clearTimeout(h as ReturnType<typeof setTimeout>),
    };
    const tracker = {
      confidence: options.confidence,
      window: Math.max(5, options.confidence ?? 3),
      reprobeIntervalMs: options.reprobeIntervalMs,
    };
    this.#tracker = new ReachabilityTracker(tracker);
    this.#v1Tracker = new ReachabilityTracker(tracker);
    this.#v1Tracker.setAddresses([V1_KEY]);
  }

  /** Per tested address (text, no `/p2p/`): its state and net confidence. */
  addresses(): { addr: string; state: Reachability; confidence: number }[] {
    return this.#tracker.addresses().map((addr) => ({
      addr,
      state: this.#tracker.state(addr),
      confidence: this.#tracker.confidence(addr),
    }));
  }

  /** The servers known now, by protocol version. */
  servers(): { v2: string[]; v1: string[] } {
    return { v2: [...this.#v2Servers.keys()], v1: [...this.#v1Servers.keys()] };
  }

  /** Start: accept dial-backs, follow servers and our addresses, schedule the first round. */
  start(): void {
    if (this.#started) return;
    this.#started = true;
    this.#lifetime = new AbortController();
    this.#node.handle(DIAL_BACK_PROTOCOL, (s) => this.#onDialBack(s), { maxInboundStreams: 4 });
    const follow = (map: Map<string, PeerId>) => ({
      onConnect: (peer: PeerId): void => {
        if (map.size >= MAX_SERVERS && !map.has(peer.toString())) return;
        map.set(peer.toString(), peer);
        this.#schedule(SOON_MS);
      },
      onDisconnect: (peer: PeerId): void => {
        map.delete(peer.toString());
      },
    });
    this.#topologies = [
      this.#node.register(DIAL_REQUEST_PROTOCOL, follow(this.#v2Servers)),
      this.#node.register(V1_PROTOCOL, follow(this.#v1Servers)),
    ];
    this.#node.addEventListener("self:peer:update", this.#onSelfUpdate);
    this.#schedule(this.#options.startupDelayMs ?? DEFAULT_STARTUP_DELAY_MS);
  }

  /** Stop testing. */
  stop(): void {
    if (!this.#started) return;
    this.#started = false;
    this.#timers.clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#lifetime.abort(new Error("AutoNAT client stopped"));
    this.#node.unhandle(DIAL_BACK_PROTOCOL);
    for (const id of this.#topologies) this.#node.unregister(id);
    this.#topologies = [];
    this.#node.removeEventListener("self:peer:update", this.#onSelfUpdate);
  }

  readonly #onSelfUpdate = (): void => {
    this.#schedule(SOON_MS);
  };

  #schedule(ms: number): void {
    if (!this.#started) return;
    this.#timers.clearTimeout(this.#timer);
    this.#timer = this.#timers.setTimeout(() => {
      this.#timer = undefined;
      this.probe().catch(() => {});
    }, ms);
  }

  /**
   * Run one round now (or join the one running): ask servers about the addresses that are due,
   * update the reachability, and schedule the next round.
   */
  probe(): Promise<void> {
    this.#running ??= this.#round().finally(() => {
      this.#running = undefined;
    });
    return this.#running;
  }

  async #round(): Promise<void> {
    if (!this.#started) return;
    this.#refreshAddresses();
    const now = this.#now();
    const due = this.#tracker.dueAddresses(now);
    const max = this.#options.maxConcurrentProbes ?? DEFAULT_MAX_CONCURRENT_PROBES;
    const jobs: Promise<void>[] = [];
    if (this.#v2Servers.size > 0) {
      for (const [id, peer] of this.#v2Servers) {
        if (jobs.length >= max) break;
        const ask = due.filter((a) => this.#tracker.canAsk(a, id, now)).slice(0, MAX_V2_ADDRS);
        if (ask.length > 0) jobs.push(this.#askV2(peer, ask).catch(() => {}));
      }
    } else if (due.length > 0) {
      for (const [id, peer] of this.#v1Servers) {
        if (jobs.length >= max) break;
        if (this.#v1Tracker.canAsk(V1_KEY, id, now)) {
          jobs.push(this.#askV1(peer, due).catch(() => {}));
        }
      }
    }
    await Promise.all(jobs);
    this.#apply();
    const undecided = this.#tracker.dueAddresses(this.#now()).length > 0;
    this.#schedule(
      undecided
        ? this.#options.retryIntervalMs ?? DEFAULT_RETRY_INTERVAL_MS
        : this.#options.reprobeIntervalMs ?? 60 * 60_000,
    );
  }

  /** Our testable addresses: announced ones, then observed candidates. */
  #refreshAddresses(): void {
    const keys: string[] = [];
    const observed = new Set<string>();
    const add = (a: Multiaddr, isObserved: boolean): void => {
      const bare = withoutPeer(a);
      const key = bare.toString();
      if (!testable(bare, this.#allowPrivate) || keys.includes(key)) return;
      keys.push(key);
      if (isObserved) observed.add(key);
    };
    for (const a of this.#node.getMultiaddrs()) add(a, false);
    for (const o of this.#node.addressManager.getObservedAddrs()) add(o.multiaddr, !o.confirmed);
    this.#observed = observed;
    this.#tracker.setAddresses(keys);
  }

  /** Push the verdicts to the node: reachability, and observed addresses confirmed or dropped. */
  #apply(): void {
    const am = this.#node.addressManager;
    for (const key of this.#observed) {
      const state = this.#tracker.state(key);
      if (state === "public") am.confirmObservedAddr(multiaddr(key));
      else if (state === "private") am.removeObservedAddr(multiaddr(key));
    }
    let overall = this.#tracker.overall();
    if (overall === "unknown") overall = this.#v1Tracker.overall();
    if (overall !== "unknown" || am.reachability !== "unknown") am.setReachability(overall);
  }

  #record(addr: string, server: PeerId, outcome: ProbeOutcome): void {
    this.#tracker.record(addr, server.toString(), outcome, this.#now());
    this.#apply();
  }

  #signal(): AbortSignal {
    return AbortSignal.any([
      AbortSignal.timeout(this.#options.timeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS),
      this.#lifetime.signal,
    ]);
  }

  async #askV2(server: PeerId, addrs: string[]): Promise<void> {
    if (this.#pending.size >= MAX_PENDING_NONCES) return;
    const nonce = randomNonce();
    const pending = { received: false };
    this.#pending.set(nonce, pending);
    const signal = this.#signal();
    try {
      const stream = await this.#node.dialProtocol(server, DIAL_REQUEST_PROTOCOL, { signal });
      const channel = streamChannelOf(stream);
      const onAbort = (): void => channel.abort(signal.reason);
      signal.addEventListener("abort", onAbort, { once: true });
      try {
        const reader = new ByteReader(channel);
        channel.write(frame(encodeV2Message({
          type: "dialRequest",
          addrs: addrs.map((a) => multiaddr(a).bytes),
          nonce,
        })));
        await channel.drained();
        for (;;) {
          const m = decodeV2Message(await reader.readLengthPrefixed(MAX_V2_MESSAGE_BYTES));
          if (m.type === "dialDataRequest") {
            if (m.numBytes > BigInt(MAX_DIAL_DATA_BYTES_CLIENT) || addrs[m.addrIdx] === undefined) {
              throw new Error(`refusing to send ${m.numBytes} bytes of dial data`);
            }
            await sendDialData(channel, Number(m.numBytes));
            continue;
          }
          if (m.type !== "dialResponse") throw new Error(`unexpected AutoNAT v2 ${m.type}`);
          await channel.closeWrite().catch(() => {});
          channel.cancelRead();
          if (m.status !== ResponseStatus.OK) return;
          const addr = addrs[m.addrIdx];
          if (addr === undefined) return;
          if (m.dialStatus === DialStatus.E_DIAL_ERROR) this.#record(addr, server, "failure");
          // OK counts only with our nonce delivered: a server cannot claim it reached us.
          else if (m.dialStatus === DialStatus.OK && pending.received) {
            this.#record(addr, server, "success");
          }
          return;
        }
      } finally {
        signal.removeEventListener("abort", onAbort);
      }
    } finally {
      this.#pending.delete(nonce);
    }
  }

  async #askV1(server: PeerId, addrs: string[]): Promise<void> {
    const signal = this.#signal();
    const stream = await this.#node.dialProtocol(server, V1_PROTOCOL, { signal });
    const channel = streamChannelOf(stream);
    const onAbort = (): void => channel.abort(signal.reason);
    signal.addEventListener("abort", onAbort, { once: true });
    try {
      channel.write(frame(
        encodeV1Message({
          type: V1Type.DIAL,
          peer: { id: this.#node.peerId.toBytes(), addrs: addrs.map((a) => multiaddr(a).bytes) },
        }),
        MAX_V1_MESSAGE_BYTES,
      ));
      await channel.drained();
      const reply = decodeV1Message(
        await new ByteReader(channel).readLengthPrefixed(MAX_V1_MESSAGE_BYTES),
      );
      await channel.closeWrite().catch(() => {});
      channel.cancelRead();
      const status = reply.response?.status;
      const now = this.#now();
      if (status === V1Status.OK) {
        this.#v1Tracker.record(V1_KEY, server.toString(), "success", now);
      } else if (status === V1Status.E_DIAL_ERROR) {
        this.#v1Tracker.record(V1_KEY, server.toString(), "failure", now);
      }
      this.#apply();
    } finally {
      signal.removeEventListener("abort", onAbort);
    }
  }

  /** A server dials us back: answer OK to a nonce we wait for; reset anything else. */
  async #onDialBack(stream: Stream): Promise<void> {
    const channel = streamChannelOf(stream);
    const timer = setTimeout(() => channel.abort(new Error("dial-back deadline passed")), 5_000);
    try {
      const nonce = decodeDialBack(
        await new ByteReader(channel).readLengthPrefixed(MAX_V2_MESSAGE_BYTES),
      );
      const pending = this.#pending.get(nonce);
      if (pending === undefined) {
        channel.abort(new Error("dial-back with an unknown nonce"));
        return;
      }
      pending.received = true;
      channel.write(frame(encodeDialBackResponse(0)));
      await channel.drained();
      await channel.closeWrite();
      channel.cancelRead();
    } catch (err) {
      channel.abort(err);
    } finally {
      clearTimeout(timer);
    }
  }
}

/** Send at least `n` bytes of dial data in chunks of at most 4096 (spec §DialDataResponse). */
async function sendDialData(
  channel: { write(c: Uint8Array): void; drained(): Promise<void> },
  n: number,
): Promise<void> {
  const chunk = frame(encodeV2Message({
    type: "dialDataResponse",
    data: new Uint8Array(MAX_DIAL_DATA_CHUNK),
  }));
  for (let sent = 0; sent < n; sent += MAX_DIAL_DATA_CHUNK) {
    channel.write(chunk);
    await channel.drained();
  }
}

function randomNonce(): bigint {
  const b = new Uint8Array(8);
  crypto.getRandomValues(b);
  return new DataView(b.buffer).getBigUint64(0, true);
}
