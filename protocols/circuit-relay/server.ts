/**
 * The circuit relay v2 server as a node service (`node.services.relay`), serving
 * `/libp2p/circuit/relay/0.2.0/hop` (libp2p/specs `relay/circuit-v2.md` §Hop Protocol):
 *
 * - RESERVE: admitted by the sans-IO {@link ReservationTable} (rate limits, one slot per peer,
 *   caps); answered with the expiry, our addresses (through `addressFilter`), a signed voucher
 *   and the limit; then our side of the stream closes. The reservation ends at its expiry or
 *   when the peer's last connection closes (as go).
 * - CONNECT: the target must hold a reservation and a connection; the circuit is counted; a
 *   STOP stream goes to the target with the source and the limit; once it answers OK the source
 *   gets OK and the two streams' channels are spliced (circuit.ts) with the limit enforced in
 *   both directions.
 * - RESERVE or CONNECT over a relayed connection: PERMISSION_DENIED (go and js do). The HOP
 *   handler therefore opts in to limited connections, to answer instead of refusing the
 *   protocol.
 *
 * Every exchange has a deadline ({@link DEFAULT_HOP_TIMEOUT_MS}); malformed requests get
 * MALFORMED_MESSAGE and a STATUS request UNEXPECTED_MESSAGE (HARDENING.md rule 5).
 *
 * @module
 */

import { type Connection, type Stream, streamChannelOf } from "../../src/connection.ts";
import { DecodeError, LimitExceededError, TimeoutError } from "../../src/errors.ts";
import type { Multiaddr } from "../../src/multiaddr/mod.ts";
import { CODE_P2P_CIRCUIT } from "../../src/multiaddr/protocols.ts";
import type { Libp2pNode, ServiceFactory, Startable } from "../../src/node/node.ts";
import { type PeerId, peerIdFromBytes, peerIdFromString } from "../../src/peer_id.ts";
import { ByteReader, UnexpectedEOFError } from "../../src/stream/byte_reader.ts";
import type { ByteChannel } from "../../src/stream/channel.ts";
import { spliceCircuit } from "./circuit.ts";
import {
  encodeFrame,
  encodeHopMessage,
  encodeStopMessage,
  HOP_PROTOCOL,
  type HopMessage,
  HopType,
  type Limit,
  readHopMessage,
  readStopMessage,
  Status,
  type StatusValue,
  STOP_PROTOCOL,
  StopType,
} from "./codec.ts";
import {
  addressBlock,
  DEFAULT_DATA_LIMIT,
  DEFAULT_DURATION_LIMIT_MS,
  ReservationTable,
} from "./reservations.ts";
import {
  type CircuitRelayServerOptions,
  type CircuitRelayStats,
  DEFAULT_HOP_TIMEOUT_MS,
  DEFAULT_MAX_INBOUND_HOP_STREAMS,
  DEFAULT_MAX_OUTBOUND_STOP_STREAMS,
  DEFAULT_RESERVATION_CLEAR_INTERVAL_MS,
  publicAddressFilter,
} from "./server_types.ts";
import { sealVoucher } from "./voucher.ts";

/** Connection-manager tag of peers holding a reservation (go tags them with weight 10). */
const RESERVATION_TAG = "circuit-relay-reservation";
const RESERVATION_TAG_VALUE = 10;

/**
 * The relay server service.
 *
 * @example
 * ```ts
 * import { circuitRelayServer } from "@p2p-edge/libp2p/protocols/circuit-relay";
 * const relay = circuitRelayServer(); // services: { identify: identify(), relay }
 * ```
 */
export class CircuitRelayServer implements Startable {
  /** The node the relay runs on. */
  readonly node: Libp2pNode;
  /** The reservation table (sans-IO). */
  readonly #table: ReservationTable;
  readonly #options: CircuitRelayServerOptions;
  readonly #now: () => number;
  readonly #hopTimeout: number;
  readonly #maxStops: number;
  readonly #limit: Limit | undefined;
  readonly #addressFilter: (addr: Multiaddr) => boolean;
  #pendingStops = 0;
  #lifetime = new AbortController();
  #sweeper: ReturnType<typeof setInterval> | undefined;
  #started = false;
  readonly #stats: Omit<CircuitRelayStats, "reservations" | "circuits"> = {
    reservesAccepted: 0,
    reservesRenewed: 0,
    reservesRefused: 0,
    connectsAccepted: 0,
    connectsRefused: 0,
    malformed: 0,
    circuitsClosed: 0,
    circuitsLimited: 0,
    bytesRelayed: 0n,
  };

  /** Prefer {@link circuitRelayServer}, which builds it as a node service. */
  constructor(node: Libp2pNode, options: CircuitRelayServerOptions = {}) {
    this.node = node;
    this.#options = options;
    const r = options.reservations ?? {};
    this.#now = options.now ?? Date.now;
    this.#hopTimeout = options.hopTimeout ?? DEFAULT_HOP_TIMEOUT_MS;
    this.#maxStops = options.maxOutboundStopStreams ?? DEFAULT_MAX_OUTBOUND_STOP_STREAMS;
    this.#addressFilter = r.addressFilter ?? publicAddressFilter;
    this.#table = new ReservationTable(r);
    if (r.applyDefaultLimit === false) {
      this.#limit = undefined;
    } else {
      const durationMs = r.defaultDurationLimit ?? DEFAULT_DURATION_LIMIT_MS;
      const data = r.defaultDataLimit ?? DEFAULT_DATA_LIMIT;
      if (!(durationMs >= 1000) || data < 0n) {
        throw new RangeError("defaultDurationLimit must be >= 1000 ms and defaultDataLimit >= 0");
      }
      // The wire carries whole seconds (spec §Limit); we enforce what we announce.
      this.#limit = { duration: Math.floor(durationMs / 1000), data };
    }
  }

  /** Counters, and the reservations and circuits held now. */
  stats(): CircuitRelayStats {
    return {
      ...this.#stats,
      reservations: this.#table.list(this.#now()).length,
      circuits: this.#table.circuits,
    };
  }

  /** Serve HOP, sweep expired reservations, drop reservations of peers that left. */
  start(): void {
    if (this.#started) return;
    this.#started = true;
    this.#lifetime = new AbortController();
    this.node.handle(HOP_PROTOCOL, (stream) => this.#onHop(stream), {
      maxInboundStreams: this.#options.maxInboundHopStreams ?? DEFAULT_MAX_INBOUND_HOP_STREAMS,
      // Asked over a relayed connection, we answer PERMISSION_DENIED rather than "na".
      runOnLimitedConnection: true,
    });
    const every = this.#options.reservations?.reservationClearInterval ??
      DEFAULT_RESERVATION_CLEAR_INTERVAL_MS;
    this.#sweeper = setInterval(() => this.#sweep(), every);
    this.node.addEventListener("peer:disconnect", this.#onDisconnect);
  }

  /** Stop serving; every circuit is reset and every reservation dropped. */
  stop(): void {
    if (!this.#started) return;
    this.#started = false;
    this.node.unhandle(HOP_PROTOCOL);
    this.node.removeEventListener("peer:disconnect", this.#onDisconnect);
    clearInterval(this.#sweeper);
    this.#lifetime.abort(new Error("relay stopped"));
    for (const e of this.#table.list(this.#now())) this.#untag(e.peer);
    this.#table.clear();
  }

  readonly #onDisconnect = (event: CustomEvent<PeerId>): void => {
    const peer = event.detail.toString();
    if (this.#table.remove(peer)) this.#untag(peer);
  };

  #sweep(): void {
    const now = this.#now();
    const expired = this.#table.list(-Infinity).filter((e) => e.expiresAt <= now);
    this.#table.sweep(now);
    for (const e of expired) this.#untag(e.peer);
  }

  #untag(peer: string): void {
    try {
      this.node.untagPeer(peerIdFromString(peer), RESERVATION_TAG);
    } catch {
      // Not a peer id we can parse back: nothing was tagged.
    }
  }

  async #onHop(stream: Stream): Promise<void> {
    const channel = streamChannelOf(stream);
    const reader = new ByteReader(channel);
    const deadline = new AbortController();
    const timer = setTimeout(
      () => deadline.abort(new TimeoutError("HOP exchange deadline passed")),
      this.#hopTimeout,
    );
    const onDeadline = (): void => channel.abort(deadline.signal.reason);
    deadline.signal.addEventListener("abort", onDeadline, { once: true });
    const onStop = (): void => deadline.abort(this.#lifetime.signal.reason);
    this.#lifetime.signal.addEventListener("abort", onStop, { once: true });
    const release = (): void => {
      clearTimeout(timer);
      deadline.signal.removeEventListener("abort", onDeadline);
      this.#lifetime.signal.removeEventListener("abort", onStop);
    };
    let request: HopMessage;
    try {
      request = await readHopMessage(reader);
    } catch (err) {
      release();
      // A stream that ended or failed early gets nothing; a malformed request gets its answer
      // (and our side closed: what it sent beyond is never read).
      if (err instanceof DecodeError && !(err instanceof UnexpectedEOFError)) {
        this.#stats.malformed++;
        await answer(channel, Status.MALFORMED_MESSAGE).catch(() => channel.abort(err));
        return;
      }
      if (err instanceof LimitExceededError) {
        this.#stats.malformed++;
        await answer(channel, Status.MALFORMED_MESSAGE).catch(() => channel.abort(err));
        return;
      }
      channel.abort(err);
      return;
    }
    try {
      if (request.type === HopType.RESERVE) {
        await this.#reserve(stream.connection, channel);
      } else if (request.type === HopType.CONNECT) {
        // The splice outlives the exchange: its own limits govern it from there.
        await this.#connect(stream.connection, channel, reader, request, deadline.signal, release);
      } else {
        this.#stats.malformed++;
        await answer(channel, Status.UNEXPECTED_MESSAGE);
      }
    } catch (err) {
      channel.abort(err);
    } finally {
      release();
    }
  }

  async #reserve(conn: Connection, channel: ByteChannel): Promise<void> {
    if (isRelayed(conn)) {
      this.#stats.reservesRefused++;
      await answer(channel, Status.PERMISSION_DENIED);
      return;
    }
    const peer = conn.remotePeer;
    const now = this.#now();
    const result = this.#table.reserve(peer.toString(), addressBlock(conn.remoteAddr.bytes), now);
    if (!result.ok) {
      this.#stats.reservesRefused++;
      await answer(channel, result.status);
      return;
    }
    const expire = BigInt(Math.floor(result.entry.expiresAt / 1000));
    try {
      const voucher = await sealVoucher(this.node.privateKey, {
        relay: this.node.peerId,
        peer,
        expiration: expire,
      });
      const addrs = this.node.getMultiaddrs()
        .filter((a) => !hasCircuit(a) && this.#addressFilter(a))
        .map((a) => a.bytes);
      const message: HopMessage = {
        type: HopType.STATUS,
        status: Status.OK,
        reservation: { expire, addrs, voucher },
      };
      if (this.#limit !== undefined) message.limit = this.#limit;
      channel.write(encodeFrame(encodeHopMessage(message)));
      await finish(channel);
    } catch (err) {
      // The peer never learned of it: the slot goes back.
      this.#table.remove(peer.toString());
      throw err;
    }
    this.#stats.reservesAccepted++;
    if (result.replaced) this.#stats.reservesRenewed++;
    else this.node.tagPeer(peer, RESERVATION_TAG, RESERVATION_TAG_VALUE);
  }

  async #connect(
    conn: Connection,
    channel: ByteChannel,
    reader: ByteReader,
    request: HopMessage,
    signal: AbortSignal,
    release: () => void,
  ): Promise<void> {
    const refuse = async (status: StatusValue): Promise<void> => {
      this.#stats.connectsRefused++;
      if (status === Status.MALFORMED_MESSAGE) this.#stats.malformed++;
      await answer(channel, status);
    };
    if (isRelayed(conn)) return await refuse(Status.PERMISSION_DENIED);
    if (request.peer === undefined) return await refuse(Status.MALFORMED_MESSAGE);
    let target: PeerId;
    try {
      target = peerIdFromBytes(request.peer.id);
    } catch {
      return await refuse(Status.MALFORMED_MESSAGE);
    }
    const source = conn.remotePeer;
    const now = this.#now();
    if (this.#table.get(target.toString(), now) === undefined) {
      return await refuse(Status.NO_RESERVATION);
    }
    const targetConn = this.node.getConnections(target).find((c) =>
      c.status === "open" && !isRelayed(c)
    );
    // The reservation lives with the connection (spec §Reservation); without one, none is held.
    if (targetConn === undefined) return await refuse(Status.NO_RESERVATION);
    if (this.#pendingStops >= this.#maxStops) return await refuse(Status.RESOURCE_LIMIT_EXCEEDED);
    const counted = this.#table.openCircuit(source.toString(), target.toString());
    if (!counted.ok) return await refuse(counted.status);
    let closeCounted = true;
    const uncount = (): void => {
      if (!closeCounted) return;
      closeCounted = false;
      this.#table.closeCircuit(source.toString(), target.toString());
    };
    let stopChannel: ByteChannel | undefined;
    this.#pendingStops++;
    try {
      try {
        stopChannel = await this.#openStop(targetConn, source, signal);
      } finally {
        this.#pendingStops--;
      }
      if (stopChannel === undefined) {
        uncount();
        return await refuse(Status.CONNECTION_FAILED);
      }
      const ok: HopMessage = { type: HopType.STATUS, status: Status.OK };
      if (this.#limit !== undefined) ok.limit = this.#limit;
      channel.write(encodeFrame(encodeHopMessage(ok)));
      await channel.drained();
    } catch (err) {
      uncount();
      stopChannel?.abort(err);
      throw err;
    }
    this.#stats.connectsAccepted++;
    // From here the circuit's own limits govern; the HOP deadline no longer applies.
    release();
    const sourceSide = reader.restChannel();
    const targetSide = stopChannel;
    spliceCircuit(sourceSide, targetSide, {
      dataLimit: this.#limit?.data === 0n ? undefined : this.#limit?.data,
      durationMs: this.#limit?.duration ? this.#limit.duration * 1000 : undefined,
      signal: this.#lifetime.signal,
      onBytes: (n) => {
        this.#stats.bytesRelayed += BigInt(n);
      },
    }).then((info) => {
      this.#stats.circuitsClosed++;
      if (info.end === "data-limit" || info.end === "duration-limit") {
        this.#stats.circuitsLimited++;
      }
    }, () => {}).finally(uncount);
  }

  /**
   * Open STOP to the target and wait for its answer. Resolves with the stream's channel (the
   * bytes after the answer included) when it accepted, `undefined` when it refused or failed.
   */
  async #openStop(
    targetConn: Connection,
    source: PeerId,
    signal: AbortSignal,
  ): Promise<ByteChannel | undefined> {
    let channel: ByteChannel | undefined;
    const onAbort = (): void => channel?.abort(signal.reason);
    signal.addEventListener("abort", onAbort, { once: true });
    try {
      const stream = await targetConn.newStream(STOP_PROTOCOL, {
        runOnLimitedConnection: true,
        signal,
      });
      channel = streamChannelOf(stream);
      const connect = {
        type: StopType.CONNECT,
        peer: { id: source.toBytes(), addrs: [] },
        ...(this.#limit === undefined ? {} : { limit: this.#limit }),
      };
      channel.write(encodeFrame(encodeStopMessage(connect)));
      await channel.drained();
      const reader = new ByteReader(channel);
      const reply = await readStopMessage(reader);
      if (reply.type !== StopType.STATUS || reply.status !== Status.OK) {
        await channel.closeWrite().catch(() => {});
        channel.abort();
        return undefined;
      }
      return reader.restChannel();
    } catch {
      channel?.abort();
      return undefined;
    } finally {
      signal.removeEventListener("abort", onAbort);
    }
  }
}

/**
 * Write a STATUS answer and end the stream on our side: we write and read nothing more, so the
 * stream is freed here at once whatever the peer does.
 */
async function answer(channel: ByteChannel, status: StatusValue): Promise<void> {
  channel.write(encodeFrame(encodeHopMessage({ type: HopType.STATUS, status })));
  await finish(channel);
}

async function finish(channel: ByteChannel): Promise<void> {
  await channel.drained();
  await channel.closeWrite();
  channel.cancelRead();
}

/** A relayed connection: limited, or reached over `/p2p-circuit`. */
function isRelayed(conn: Connection): boolean {
  return conn.limits !== undefined || hasCircuit(conn.remoteAddr);
}

function hasCircuit(addr: { components(): readonly { code: number }[] }): boolean {
  return addr.components().some((c) => c.code === CODE_P2P_CIRCUIT);
}

/**
 * The relay server as a node service: register it as `services.relay`.
 *
 * @example
 * ```ts
 * import { createNode } from "@p2p-edge/libp2p";
 * import { tcp } from "@p2p-edge/libp2p/transports/tcp";
 * import { noise } from "@p2p-edge/libp2p/protocols/noise";
 * import { yamux } from "@p2p-edge/libp2p/protocols/yamux";
 * import { identify } from "@p2p-edge/libp2p/protocols/identify";
 * import { circuitRelayServer } from "@p2p-edge/libp2p/protocols/circuit-relay";
 * const node = await createNode({
 *   listen: ["/ip4/0.0.0.0/tcp/4001"],
 *   transports: [tcp()],
 *   connectionEncrypters: [noise()],
 *   streamMuxers: [yamux()],
 *   services: { identify: identify(), relay: circuitRelayServer({ reservations: { maxReservations: 512 } }) },
 * });
 * console.log(node.services.relay.stats().reservations); // 0
 * ```
 */
export function circuitRelayServer(
  options: CircuitRelayServerOptions = {},
): ServiceFactory<CircuitRelayServer> {
  const factory = (node: Libp2pNode): CircuitRelayServer => new CircuitRelayServer(node, options);
  return Object.assign(factory, { serviceCapabilities: ["@libp2p/circuit-relay-v2-server"] });
}
