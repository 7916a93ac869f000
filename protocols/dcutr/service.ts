/**
 * The DCUtR service (libp2p/specs relay/DCUtR.md): when a relayed (limited) connection opens,
 * the side that received it (B) first dials the other side (A) directly if A announced usable
 * addresses (the spec's unilateral upgrade); otherwise it runs the CONNECT/SYNC exchange on a
 * `/libp2p/dcutr` stream over the relayed connection and both sides dial at the synchronised
 * moment, up to three attempts. On success the relayed connection is closed (option).
 *
 * The dials are ordinary dials from an ephemeral port: no runtime we support lets an outgoing
 * TCP connection leave from the listening port (see {@link HOLE_PUNCH_SUPPORT} and the README
 * section "Hole punching: what works where"), so the synchronised dial connects whenever one
 * side's address is reachable (a full-cone NAT, a port mapping, a public host), but does not
 * open a port-restricted NAT the way a TCP simultaneous open does. Because the two dials use
 * different ports they make two ordinary connections, never a simultaneous open, so each keeps
 * the usual roles (the dialler is the Noise initiator) and no role override is needed.
 *
 * @module
 */

import { deadlineSignal } from "../../src/abort.ts";
import type { Connection, Stream } from "../../src/connection.ts";
import type { Multiaddr } from "../../src/multiaddr/mod.ts";
import type { Libp2pNode, ServiceFactory, Startable } from "../../src/node/node.ts";
import type { PeerId } from "../../src/peer_id.ts";
import { ByteReader } from "../../src/stream/byte_reader.ts";
import type { AbortOptions } from "../../src/stream/types.ts";
import { ownHolePunchAddrs, parseObsAddrs } from "./addresses.ts";
import { encodeHolePunchFrame, type HolePunch, readHolePunch } from "./codec.ts";
import {
  DCUTR_PROTOCOL_ID,
  DEFAULT_DIAL_TIMEOUT_MS,
  DEFAULT_EXCHANGE_TIMEOUT_MS,
  DEFAULT_IDENTIFY_WAIT_MS,
  DEFAULT_RETRY_BACKOFF_MS,
  MAX_ATTEMPTS,
  MAX_DIAL_ADDRS,
  MAX_INBOUND_STREAMS,
  MAX_OBS_ADDRS,
} from "./constants.ts";
import { type DcutrAction, InitiatorMachine, ResponderMachine } from "./machine.ts";

/**
 * What this library can do for hole punching on Deno and Bun, checked on Linux with Deno 2.9
 * and Bun 1.4 (README "Hole punching: what works where"). A TCP hole punch needs the outgoing
 * connection to leave from the listening port (SO_REUSEPORT on both sockets); a UDP punch needs
 * a QUIC transport, which this library does not have (Deno's QUIC cannot do libp2p's mutual
 * self-signed TLS).
 *
 * @example
 * ```ts
 * import { HOLE_PUNCH_SUPPORT } from "@p2p-edge/libp2p/protocols/dcutr";
 * console.log(HOLE_PUNCH_SUPPORT.tcp); // false
 * ```
 */
export const HOLE_PUNCH_SUPPORT: {
  readonly tcp: boolean;
  readonly udp: boolean;
  readonly reason: string;
} = {
  tcp: false,
  udp: false,
  reason: "Deno.connect has no local-address option (localPort is ignored) and node:net " +
    "connect({ localPort }) fails with EADDRINUSE while we listen on that port; Bun.connect " +
    "ignores localPort/reusePort and node:net on Bun fails the same way; no QUIC transport. " +
    "DCUtR therefore upgrades by direct dial (unilateral, or both sides at the synchronised " +
    "moment), which works whenever one side is reachable.",
};

/** Options of {@link dcutr}; each with its default. */
export interface DcutrOptions {
  /**
   * Exchange and dial private, loopback and link-local addresses too (tests, LANs). Default
   * false: only public addresses, as go-libp2p and js-libp2p.
   */
  allowPrivateAddresses?: boolean;
  /** Close the relayed connection once a direct one is up. Default true. */
  closeRelayedConnection?: boolean;
  /** Deadline for the other side's CONNECT or SYNC, ms. Default 10 s. */
  exchangeTimeoutMs?: number;
  /** Deadline for the direct dials of one attempt, ms. Default 10 s (go-libp2p). */
  dialTimeoutMs?: number;
  /** Pause before attempt n+1 is n times this, ms. Default 1 s. */
  retryBackoffMs?: number;
  /** Hole-punch attempts. Default 3 (DCUtR.md). */
  maxAttempts?: number;
  /** How long to wait for identify to report the other side's addresses, ms. Default 5 s. */
  identifyWaitMs?: number;
  /** Called with the outcome of each upgrade this node initiated. */
  onUpgrade?: (peer: PeerId, result: DcutrResult) => void;
}

/** The outcome of one upgrade of a relayed connection. */
export interface DcutrResult {
  /** Whether a direct (unlimited) connection to the peer is open now. */
  ok: boolean;
  /** "existing" (one was open already), "direct" (unilateral dial) or "hole-punch" (the exchange). */
  method: "existing" | "direct" | "hole-punch" | "none";
  /** Hole-punch attempts made (0 without the exchange). */
  attempts: number;
  /** Round-trip times measured over the relay, one per answered attempt, ms. */
  rtts: number[];
  /** Why, in words. */
  reason: string;
  /** The direct connection, on success. */
  connection?: Connection;
}

/** The DCUtR service as `node.services.dcutr`. */
export interface DcutrService extends Startable {
  /**
   * Upgrade a relayed connection to a direct one as the initiator (B): unilateral dial first,
   * then the hole-punch exchange. The service calls it for each inbound relayed connection;
   * calling it for the same peer while one runs returns the running one.
   */
  upgrade(relayed: Connection, options?: AbortOptions): Promise<DcutrResult>;
  /** Counters: upgrades by outcome and exchanges answered as responder. */
  stats(): DcutrStats;
}

/** Counters of {@link DcutrService.stats}. */
export interface DcutrStats {
  /** Upgrades that ended with a direct connection, by method. */
  direct: number;
  /** Upgrades that ended with a direct connection through the exchange. */
  holePunched: number;
  /** Upgrades that failed. */
  failed: number;
  /** Exchanges we answered (responder, A). */
  responded: number;
  /** Inbound exchanges that failed (unexpected message, timeout, malformed). */
  respondFailed: number;
}

/**
 * DCUtR as a node service (`services: { dcutr: dcutr() }`). It needs a relayed connection to
 * matter (circuitRelayTransport) and identify to learn the other side's addresses.
 *
 * @example
 * ```ts
 * import { createNode } from "@p2p-edge/libp2p";
 * import { dcutr } from "@p2p-edge/libp2p/protocols/dcutr";
 * import { identify } from "@p2p-edge/libp2p/protocols/identify";
 * import { tcp } from "@p2p-edge/libp2p/transports/tcp";
 * import { noise } from "@p2p-edge/libp2p/protocols/noise";
 * import { yamux } from "@p2p-edge/libp2p/protocols/yamux";
 * const node = await createNode({
 *   transports: [tcp()],
 *   connectionEncrypters: [noise()],
 *   streamMuxers: [yamux()],
 *   services: { identify: identify(), dcutr: dcutr() },
 * });
 * console.log(node.services.dcutr.stats().failed); // 0
 * await node.stop();
 * ```
 */
export function dcutr(options: DcutrOptions = {}): ServiceFactory<DcutrService> {
  for (
    const k of ["exchangeTimeoutMs", "dialTimeoutMs", "identifyWaitMs"] as const
  ) {
    const v = options[k];
    if (v !== undefined && !(v > 0)) throw new RangeError(`${k} must be > 0`);
  }
  const factory = ((node: Libp2pNode) => new Dcutr(node, options)) as ServiceFactory<DcutrService>;
  return factory;
}

type Event =
  | { k: "opened"; gen: number; stream: Stream }
  | { k: "open-failed"; gen: number; reason: string }
  | { k: "msg"; gen: number; message: HolePunch }
  | { k: "ended"; gen: number; reason: string }
  | { k: "dial"; ok: boolean; reason: string; conn?: Connection };

/** Events pushed by async work, taken one at a time by the driver (or a wake at a deadline). */
class Inbox {
  readonly #items: Event[] = [];
  #wake: (() => void) | undefined;
  push(e: Event): void {
    this.#items.push(e);
    this.#wake?.();
  }
  async next(delayMs: number | undefined, signal: AbortSignal): Promise<Event | undefined> {
    if (this.#items.length > 0) return this.#items.shift();
    let timer: ReturnType<typeof setTimeout> | undefined;
    let onAbort: (() => void) | undefined;
    await new Promise<void>((resolve) => {
      this.#wake = resolve;
      if (delayMs !== undefined) timer = setTimeout(resolve, Math.max(0, delayMs));
      onAbort = () => resolve();
      if (signal.aborted) resolve();
      else signal.addEventListener("abort", onAbort, { once: true });
    });
    clearTimeout(timer);
    signal.removeEventListener("abort", onAbort!);
    this.#wake = undefined;
    return this.#items.shift();
  }
}

class Dcutr implements DcutrService {
  readonly #node: Libp2pNode;
  readonly #o: Required<Omit<DcutrOptions, "onUpgrade">> & Pick<DcutrOptions, "onUpgrade">;
  readonly #running = new Map<string, Promise<DcutrResult>>();
  readonly #stats: DcutrStats = {
    direct: 0,
    holePunched: 0,
    failed: 0,
    responded: 0,
    respondFailed: 0,
  };
  #lifetime = new AbortController();
  #started = false;
  readonly #now = (): number => performance.now();
  readonly #onOpen = (e: Event | globalThis.Event): void => {
    const conn = (e as CustomEvent<Connection>).detail;
    // DCUtR.md: B, the side that received the relayed connection, starts.
    if (!conn.limited || conn.direction !== "inbound") return;
    this.upgrade(conn).catch(() => {});
  };

  constructor(node: Libp2pNode, options: DcutrOptions) {
    this.#node = node;
    this.#o = {
      allowPrivateAddresses: options.allowPrivateAddresses ?? false,
      closeRelayedConnection: options.closeRelayedConnection ?? true,
      exchangeTimeoutMs: options.exchangeTimeoutMs ?? DEFAULT_EXCHANGE_TIMEOUT_MS,
      dialTimeoutMs: options.dialTimeoutMs ?? DEFAULT_DIAL_TIMEOUT_MS,
      retryBackoffMs: options.retryBackoffMs ?? DEFAULT_RETRY_BACKOFF_MS,
      maxAttempts: options.maxAttempts ?? MAX_ATTEMPTS,
      identifyWaitMs: options.identifyWaitMs ?? DEFAULT_IDENTIFY_WAIT_MS,
      onUpgrade: options.onUpgrade,
    };
    // Validates maxAttempts and retryBackoffMs now rather than at the first relayed connection.
    new InitiatorMachine({
      ourAddrs: [],
      maxAttempts: this.#o.maxAttempts,
      retryBackoffMs: this.#o.retryBackoffMs,
    });
  }

  start(): void {
    if (this.#started) return;
    this.#started = true;
    this.#lifetime = new AbortController();
    this.#node.handle(DCUTR_PROTOCOL_ID, (s) => this.#respond(s), {
      runOnLimitedConnection: true,
      maxInboundStreams: MAX_INBOUND_STREAMS,
    });
    this.#node.addEventListener("connection:open", this.#onOpen);
  }

  stop(): void {
    if (!this.#started) return;
    this.#started = false;
    this.#node.removeEventListener("connection:open", this.#onOpen);
    this.#node.unhandle(DCUTR_PROTOCOL_ID);
    this.#lifetime.abort(new DOMException("dcutr stopped", "AbortError"));
  }

  stats(): DcutrStats {
    return { ...this.#stats };
  }

  upgrade(relayed: Connection, options?: AbortOptions): Promise<DcutrResult> {
    const key = relayed.remotePeer.toString();
    const running = this.#running.get(key);
    if (running !== undefined) return running;
    const p = this.#upgrade(relayed, options?.signal).then((result) => {
      if (result.ok) {
        if (result.method === "hole-punch") this.#stats.holePunched++;
        else this.#stats.direct++;
        if (this.#o.closeRelayedConnection && relayed.status === "open") {
          relayed.close().catch(() => relayed.abort());
        }
      } else {
        this.#stats.failed++;
      }
      this.#o.onUpgrade?.(relayed.remotePeer, result);
      return result;
    }).finally(() => this.#running.delete(key));
    this.#running.set(key, p);
    return p;
  }

  #unlimited(peer: PeerId): Connection | undefined {
    return this.#node.getConnections(peer).find((c) => c.status === "open" && !c.limited);
  }

  async #upgrade(relayed: Connection, parent?: AbortSignal): Promise<DcutrResult> {
    const peer = relayed.remotePeer;
    const existing = this.#unlimited(peer);
    if (existing !== undefined) {
      return {
        ok: true,
        method: "existing",
        attempts: 0,
        rtts: [],
        reason: "a direct connection is open already",
        connection: existing,
      };
    }
    const signals = [this.#lifetime.signal, ...(parent ? [parent] : [])];
    const signal = AbortSignal.any(signals);
    // DCUtR.md: B checks the addresses A advertised through identify; if any is usable, it
    // tries a direct connection first.
    const addrs = await this.#remoteAddrs(peer, signal);
    if (addrs.length > 0) {
      const r = await this.#dialDirect(peer, addrs, signal);
      if (r.conn !== undefined) {
        return {
          ok: true,
          method: "direct",
          attempts: 0,
          rtts: [],
          reason: "direct dial",
          connection: r.conn,
        };
      }
    }
    if (signal.aborted || relayed.status !== "open") {
      return { ok: false, method: "none", attempts: 0, rtts: [], reason: "cancelled" };
    }
    // A peer whose identify did not list the protocol would refuse the stream three times.
    const protocols = (await this.#node.peerStore.get(peer))?.protocols ?? [];
    if (protocols.length > 0 && !protocols.includes(DCUTR_PROTOCOL_ID)) {
      return {
        ok: false,
        method: "none",
        attempts: 0,
        rtts: [],
        reason: `the peer does not speak ${DCUTR_PROTOCOL_ID} and has no address we reached`,
      };
    }
    return await this.#holePunch(relayed, signal);
  }

  /** A's addresses from the peer store once identify reported them (or after the wait). */
  async #remoteAddrs(peer: PeerId, signal: AbortSignal): Promise<Multiaddr[]> {
    const info = await this.#node.peerStore.get(peer);
    if (info === undefined || info.protocols.length === 0) {
      await new Promise<void>((resolve) => {
        const done = (): void => {
          clearTimeout(timer);
          this.#node.removeEventListener("peer:identify", onIdentify);
          signal.removeEventListener("abort", done);
          resolve();
        };
        const onIdentify = (e: globalThis.Event): void => {
          const d = (e as CustomEvent<{ peerId: PeerId }>).detail;
          if (d.peerId.equals(peer)) done();
        };
        const timer = setTimeout(done, this.#o.identifyWaitMs);
        this.#node.addEventListener("peer:identify", onIdentify);
        signal.addEventListener("abort", done, { once: true });
      });
    }
    const known = (await this.#node.peerStore.get(peer))?.addresses ?? [];
    return parseObsAddrs(
      known.map((a) => a.bytes),
      this.#o.allowPrivateAddresses,
      MAX_DIAL_ADDRS,
      peer.toString(),
    );
  }

  /**
   * Dial `addrs` of `peer` one after another, while also watching for a direct connection the
   * peer makes to us; the first unlimited connection wins. With no address (or all failing),
   * wait for the peer's connection until the dial deadline (`graceMs` after failures).
   */
  async #dialDirect(
    peer: PeerId,
    addrs: readonly Multiaddr[],
    parent: AbortSignal,
    waitForPeer = false,
  ): Promise<{ conn?: Connection; reason: string }> {
    const d = deadlineSignal(this.#o.dialTimeoutMs, parent, "dcutr dial");
    const errors: string[] = [];
    let onOpen: ((e: globalThis.Event) => void) | undefined;
    try {
      const inbound = new Promise<Connection | undefined>((resolve) => {
        onOpen = (e) => {
          const c = (e as CustomEvent<Connection>).detail;
          if (!c.limited && c.remotePeer.equals(peer)) resolve(c);
        };
        this.#node.addEventListener("connection:open", onOpen);
        d.signal.addEventListener("abort", () => resolve(undefined), { once: true });
      });
      const dialling = (async (): Promise<Connection | undefined> => {
        for (const addr of addrs.slice(0, MAX_DIAL_ADDRS)) {
          if (d.signal.aborted) break;
          try {
            const target = addr.encapsulate(`/p2p/${peer.toString()}`);
            const conn = await this.#node.dial(target, { signal: d.signal });
            if (!conn.limited) return conn;
          } catch (err) {
            errors.push(`${addr}: ${(err as Error)?.message ?? err}`);
          }
        }
        return undefined;
      })();
      const first = await Promise.race([inbound, dialling]);
      if (first !== undefined) return { conn: first, reason: "connected" };
      const direct = this.#unlimited(peer);
      if (direct !== undefined) return { conn: direct, reason: "connected" };
      // Our dials failed: the other side's dial may still arrive (its SYNC-time dial).
      if (waitForPeer || addrs.length === 0) {
        const late = await inbound;
        if (late !== undefined) return { conn: late, reason: "connected" };
      }
      return {
        reason: errors.length > 0
          ? `direct dials failed: ${errors.join("; ")}`
          : "no address to dial and no connection from the peer",
      };
    } finally {
      if (onOpen !== undefined) this.#node.removeEventListener("connection:open", onOpen);
      d.clear();
    }
  }

  /** B's exchange, driven by {@link InitiatorMachine}. */
  async #holePunch(relayed: Connection, signal: AbortSignal): Promise<DcutrResult> {
    const peer = relayed.remotePeer;
    const ourAddrs = ownHolePunchAddrs(
      this.#node.getMultiaddrs(),
      this.#o.allowPrivateAddresses,
      MAX_OBS_ADDRS,
    );
    const m = new InitiatorMachine({
      ourAddrs,
      exchangeTimeoutMs: this.#o.exchangeTimeoutMs,
      maxAttempts: this.#o.maxAttempts,
      retryBackoffMs: this.#o.retryBackoffMs,
    });
    const inbox = new Inbox();
    let gen = 0;
    let stream: Stream | undefined;
    let writer: WritableStreamDefaultWriter<Uint8Array> | undefined;
    let connection: Connection | undefined;
    const onClose = (): void =>
      inbox.push({ k: "ended", gen, reason: "relayed connection closed" });
    const closeStream = (): void => {
      const w = writer;
      const s = stream;
      writer = undefined;
      stream = undefined;
      if (w !== undefined) w.close().catch(() => s?.abort(new Error("dcutr attempt over")));
    };
    const perform = async (actions: DcutrAction[]): Promise<DcutrResult | undefined> => {
      for (const a of actions) {
        if (a.type === "open-stream") {
          const g = ++gen;
          relayed.newStream(DCUTR_PROTOCOL_ID, { runOnLimitedConnection: true, signal })
            .then((s) => inbox.push({ k: "opened", gen: g, stream: s }))
            .catch((err) => inbox.push({ k: "open-failed", gen: g, reason: String(err) }));
        } else if (a.type === "send") {
          await writer?.write(encodeHolePunchFrame(a.message)).catch(() => {});
        } else if (a.type === "close-stream") {
          closeStream();
        } else if (a.type === "dial") {
          const addrs = parseObsAddrs(
            a.addrs,
            this.#o.allowPrivateAddresses,
            MAX_DIAL_ADDRS,
            peer.toString(),
          );
          this.#dialDirect(peer, addrs, signal, true).then(
            (r) =>
              inbox.push({ k: "dial", ok: r.conn !== undefined, reason: r.reason, conn: r.conn }),
            (err) => inbox.push({ k: "dial", ok: false, reason: String(err) }),
          );
        } else if (a.type === "done") {
          return {
            ok: a.ok,
            method: a.ok ? "hole-punch" : "none",
            attempts: m.attempt,
            rtts: [...m.rtts],
            reason: a.reason,
            connection: a.ok ? connection : undefined,
          };
        }
      }
      return undefined;
    };
    const readLoop = async (s: Stream, g: number): Promise<void> => {
      const reader = new ByteReader(s.readable);
      try {
        for (;;) inbox.push({ k: "msg", gen: g, message: await readHolePunch(reader) });
      } catch (err) {
        inbox.push({ k: "ended", gen: g, reason: `stream: ${(err as Error)?.message ?? err}` });
      }
    };
    relayed.closed.then(onClose, onClose);
    try {
      let result = await perform(m.start(this.#now()));
      while (result === undefined) {
        // The relay matters only while the exchange needs its stream: once SYNC went out the
        // dials go on even if the other side closed the relayed connection (js-libp2p closes it
        // as soon as its own dial succeeded).
        const needsRelay = m.state === "opening" || m.state === "await-connect" ||
          m.state === "backoff";
        if (signal.aborted || (relayed.status !== "open" && needsRelay)) {
          result = await perform(
            m.cancel(signal.aborted ? "cancelled" : "relayed connection closed"),
          );
          break;
        }
        const deadline = m.deadline();
        const e = await inbox.next(
          deadline === undefined ? undefined : deadline - this.#now(),
          signal,
        );
        const now = this.#now();
        let actions: DcutrAction[];
        if (e === undefined) actions = m.tick(now);
        else if (e.k === "dial") {
          if (e.conn !== undefined) connection = e.conn;
          actions = m.dialResult(e.ok, now, e.reason);
        } else if (e.gen !== gen) {
          // A late event of an earlier attempt's stream.
          if (e.k === "opened") e.stream.abort(new Error("dcutr attempt over"));
          continue;
        } else if (e.k === "opened") {
          stream = e.stream;
          writer = e.stream.writable.getWriter();
          readLoop(e.stream, e.gen);
          actions = m.streamOpened(now);
        } else if (e.k === "open-failed") actions = m.streamFailed(now, e.reason);
        else if (e.k === "msg") actions = m.message(e.message, now);
        else actions = m.streamEnded(now, e.reason);
        result = await perform(actions);
      }
      result ??= {
        ok: false,
        method: "none",
        attempts: m.attempt,
        rtts: [...m.rtts],
        reason: "cancelled",
      };
      const direct = result.ok ? undefined : this.#unlimited(peer);
      if (direct !== undefined && m.attempt > 0) {
        // The other side's dial won while ours failed or the relay went away.
        return { ...result, ok: true, method: "hole-punch", connection: direct };
      }
      return result;
    } finally {
      closeStream();
    }
  }

  /** A's side of one inbound exchange, driven by {@link ResponderMachine}. */
  async #respond(stream: Stream): Promise<void> {
    const conn = stream.connection;
    // DCUtR runs over the relayed connection; on a direct one there is nothing to upgrade.
    if (!conn.limited) {
      stream.abort(new Error("DCUtR over a direct connection"));
      return;
    }
    const peer = conn.remotePeer;
    const ourAddrs = ownHolePunchAddrs(
      this.#node.getMultiaddrs(),
      this.#o.allowPrivateAddresses,
      MAX_OBS_ADDRS,
    );
    const m = new ResponderMachine(
      { ourAddrs, exchangeTimeoutMs: this.#o.exchangeTimeoutMs },
      this.#now(),
    );
    const reader = new ByteReader(stream.readable);
    const writer = stream.writable.getWriter();
    const signal = this.#lifetime.signal;
    let ok = false;
    try {
      for (;;) {
        const deadline = m.deadline();
        if (deadline === undefined) break;
        const d = deadlineSignal(Math.max(1, deadline - this.#now()), signal, "dcutr exchange");
        let actions: DcutrAction[];
        try {
          const msg = await new Promise<HolePunch>((resolve, reject) => {
            readHolePunch(reader).then(resolve, reject);
            d.signal.addEventListener("abort", () => reject(d.signal.reason), { once: true });
          });
          actions = m.message(msg, this.#now());
        } catch (err) {
          actions = d.signal.aborted && !signal.aborted
            ? m.tick(Math.max(this.#now(), deadline))
            : m.streamEnded(String(err));
        } finally {
          d.clear();
        }
        for (const a of actions) {
          if (a.type === "send") await writer.write(encodeHolePunchFrame(a.message));
          else if (a.type === "close-stream") {
            await writer.close().catch(() => stream.abort(new Error("dcutr exchange over")));
          } else if (a.type === "dial") {
            const addrs = parseObsAddrs(
              a.addrs,
              this.#o.allowPrivateAddresses,
              MAX_DIAL_ADDRS,
              peer.toString(),
            );
            // Dial at once (DCUtR.md: A dials on SYNC); the initiator judges the outcome.
            if (addrs.length > 0) this.#dialDirect(peer, addrs, signal).catch(() => {});
          } else if (a.type === "done") ok = a.ok;
        }
      }
    } catch (err) {
      stream.abort(err);
    } finally {
      if (ok) this.#stats.responded++;
      else {
        this.#stats.respondFailed++;
        stream.abort(new Error("dcutr exchange failed"));
      }
    }
  }
}
