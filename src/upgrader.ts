/**
 * The upgrader: raw transport connection -> security -> muxer -> {@link Connection}
 * (libp2p/specs connections/README.md "Upgrading connections").
 *
 * Both sides negotiate the security protocol with multistream-select, run its handshake, then
 * negotiate the muxer with multistream-select over the secured channel, unless the security
 * handshake already agreed on one (Noise early muxer negotiation,
 * connections/inlined-muxer-negotiation.md). The whole upgrade runs under one deadline.
 *
 * @module
 */

import { deadlineSignal } from "./abort.ts";
import { Connection, type StreamHandlerRegistry } from "./connection.ts";
import { ProtocolNegotiationError } from "./errors.ts";
import type { MuxedStream, MuxerMemory, StreamMuxer, StreamMuxerFactory } from "./muxer.ts";
import type { PeerId } from "./peer_id.ts";
import type { PrivateKey } from "./keys/types.ts";
import type { ConnectionEncrypter, SecuredConnection } from "./security.ts";
import type { AbortOptions, Direction } from "./stream/types.ts";
import type { ByteChannel, ChannelConnection } from "./stream/channel.ts";
import type { TrafficCounters } from "./metrics/traffic.ts";
import type { RawConnection, SelfUpgradeResult } from "./transport.ts";
import { type ConnectionGater, gate } from "./node/gater.ts";
import type { ConnectionScope, ResourceManager } from "./node/resource_manager.ts";
import { handleChannel, selectChannel } from "./multistream/mod.ts";

/** Default deadline for a whole upgrade (HARDENING.md rule 8). */
export const DEFAULT_UPGRADE_TIMEOUT_MS = 10_000;

/**
 * Inbound streams a self-upgrading connection (WebTransport) may open before its Connection
 * exists; they are handed over once it does. More are reset (HARDENING.md rule 4).
 */
export const MAX_EARLY_INBOUND_STREAMS = 32;

/** Upgrader configuration. */
export interface UpgraderInit {
  /** Security protocols in preference order (at least one). */
  encrypters: readonly ConnectionEncrypter[];
  /** Muxers in preference order (at least one). */
  muxers: readonly StreamMuxerFactory[];
  /** Handlers for inbound streams on upgraded connections. */
  registry?: StreamHandlerRegistry;
  /** Deadline for the whole upgrade, ms. Default {@link DEFAULT_UPGRADE_TIMEOUT_MS}. */
  upgradeTimeoutMs?: number;
  /** Deadline for protocol negotiation on each stream, ms. Default 10 s. */
  negotiationTimeoutMs?: number;
  /** Called with errors thrown by stream handlers (after their stream was reset). */
  onHandlerError?: (error: unknown, protocol: string, peer: PeerId) => void;
  /**
   * Called once for each Connection built, before the upgrade returns it (the node keeps every
   * connection it owns, admitted or not, so that stop() can end them all).
   */
  onConnectionOpen?: (connection: Connection) => void;
  /** Called once when an upgraded connection has closed. */
  onConnectionClose?: (connection: Connection) => void;
  /**
   * The node's identity key, for connections that secure themselves (RawConnection.selfUpgrade,
   * e.g. WebTransport). Without it such connections fail to upgrade.
   */
  privateKey?: PrivateKey;
  /** Gater asked after security (denyInboundEncrypted / denyOutboundEncrypted). */
  gater?: ConnectionGater;
  /** Resource accounting: each connection gets a scope, closed when it closes. */
  resources?: ResourceManager;
  /** Default inactivity deadline of protocol streams, ms (0: none). Default 60 s. */
  streamIdleTimeoutMs?: number;
  /** Count each connection's bytes by transport (src/metrics/traffic.ts). Default none. */
  traffic?: TrafficCounters;
}

/** Options of one outbound upgrade. */
export interface UpgradeOutboundOptions extends AbortOptions {
  /** The peer we dialled, when known: a different proven identity fails the upgrade. */
  remotePeer?: PeerId;
}

let connectionCounter = 0;
const connectionIdPrefix = Math.random().toString(36).slice(2, 8);

/**
 * Upgrades raw connections. One instance serves a node.
 *
 * @example
 * ```ts
 * import { Upgrader } from "@p2p-edge/libp2p";
 * import { noise } from "@p2p-edge/libp2p/protocols/noise";
 * import { yamux } from "@p2p-edge/libp2p/protocols/yamux";
 * import { generateKeyPair } from "@p2p-edge/libp2p";
 * const privateKey = await generateKeyPair("Ed25519");
 * const upgrader = new Upgrader({ encrypters: [noise()({ privateKey })], muxers: [yamux()] });
 * ```
 */
export class Upgrader {
  readonly #encrypters: readonly ConnectionEncrypter[];
  readonly #muxers: readonly StreamMuxerFactory[];
  readonly #init: UpgraderInit;

  /** Validate and keep the configuration. */
  constructor(init: UpgraderInit) {
    if (init.encrypters.length === 0) throw new TypeError("at least one encrypter is required");
    if (init.muxers.length === 0) throw new TypeError("at least one muxer is required");
    const timeout = init.upgradeTimeoutMs ?? DEFAULT_UPGRADE_TIMEOUT_MS;
    if (!(timeout > 0)) throw new RangeError("upgradeTimeoutMs must be positive");
    this.#encrypters = init.encrypters;
    this.#muxers = init.muxers;
    this.#init = init;
  }

  /** Upgrade a connection we dialled. On failure the raw connection is aborted. */
  upgradeOutbound(raw: RawConnection, options?: UpgradeOutboundOptions): Promise<Connection> {
    return this.#upgrade(raw, "outbound", options);
  }

  /**
   * Upgrade a connection we accepted. On failure the raw connection is aborted.
   * `onSecurityNegotiated` is called once the remote has negotiated a security protocol (its
   * first handshake bytes arrived and made sense): the node then stops treating it as silent.
   */
  upgradeInbound(
    raw: RawConnection,
    options?: AbortOptions & { onSecurityNegotiated?: () => void },
  ): Promise<Connection> {
    return this.#upgrade(raw, "inbound", options);
  }

  async #upgrade(
    raw: RawConnection,
    direction: Direction,
    options?: UpgradeOutboundOptions & { onSecurityNegotiated?: () => void },
  ): Promise<Connection> {
    const open = Date.now();
    if (this.#init.traffic !== undefined) raw = this.#init.traffic.wrap(raw);
    const deadline = deadlineSignal(
      this.#init.upgradeTimeoutMs ?? DEFAULT_UPGRADE_TIMEOUT_MS,
      options?.signal,
      "connection upgrade",
    );
    const signal = deadline.signal;
    // Abort the socket as soon as the deadline fires, so reads blocked inside a handshake end.
    const onAbort = (): void => raw.abort(signal.reason);
    signal.addEventListener("abort", onAbort, { once: true });
    try {
      if (raw.selfUpgrade !== undefined) {
        return await this.#selfUpgrade(raw, direction, open, signal, options?.remotePeer);
      }
      const muxerIds = this.#muxers.map((m) => m.protocol);
      const { secured, encryption } = await this.#secure(
        raw,
        direction,
        muxerIds,
        options?.remotePeer,
        signal,
        options?.onSecurityNegotiated,
      );
      await this.#gateEncrypted(direction, secured.remotePeer, raw);
      signal.throwIfAborted();
      // Noise may already have agreed on a muxer; otherwise negotiate one over the channel.
      const muxed = secured.earlyMuxer !== undefined
        ? { protocol: secured.earlyMuxer, channel: secured.channel }
        : await this.#negotiate(secured.channel, muxerIds, direction, signal, {
          // The muxer's reader starts in the background, so an optimistic select would let the
          // upgrade succeed before a refusal arrives: wait for the answer (go does the same).
          // With Noise the early-muxer path above skips this round trip.
          lazy: false,
        });
      const factory = this.#muxers.find((m) => m.protocol === muxed.protocol);
      if (factory === undefined) {
        throw new ProtocolNegotiationError(`negotiated muxer ${muxed.protocol} is not configured`);
      }
      signal.throwIfAborted();
      // The muxer exists before the Connection that owns it: inbound streams that arrive in
      // between are reset.
      const owner: { connection?: Connection } = {};
      // The connection's resource scope exists before its muxer: the muxer reserves the
      // memory it promises to buffer (yamux receive windows) from it, so one node-wide budget
      // bounds every connection.
      const scope = this.#init.resources?.openConnection(secured.remotePeer.toString());
      const muxer: StreamMuxer = factory.createStreamMuxer(above(secured, muxed.channel), {
        direction,
        onIncomingStream: routeInbound(owner),
        memory: scope === undefined ? undefined : new ScopeMuxerMemory(scope),
      });
      return this.#connection(owner, raw, direction, open, {
        remotePeer: secured.remotePeer,
        remotePublicKey: secured.remotePublicKey,
        encryption,
        muxer,
      }, scope);
    } catch (err) {
      const reason = signal.aborted ? signal.reason : err;
      raw.abort(reason);
      throw reason;
    } finally {
      signal.removeEventListener("abort", onAbort);
      deadline.clear();
    }
  }

  /** Wrap an upgraded session into a Connection and report its closing. */
  #connection(
    owner: { connection?: Connection },
    raw: RawConnection,
    direction: Direction,
    open: number,
    upgraded: SelfUpgradeResult,
    scope?: ConnectionScope,
  ): Connection {
    const connection = new Connection({
      id: `${connectionIdPrefix}-${++connectionCounter}`,
      remotePeer: upgraded.remotePeer,
      remotePublicKey: upgraded.remotePublicKey,
      remoteAddr: raw.remoteAddr,
      localAddr: raw.localAddr,
      limits: raw.limits,
      direction,
      encryption: upgraded.encryption,
      muxer: upgraded.muxer,
      timeline: { open, upgraded: Date.now() },
      registry: this.#init.registry,
      negotiationTimeoutMs: this.#init.negotiationTimeoutMs,
      onHandlerError: this.#init.onHandlerError,
      resources: scope ?? this.#init.resources?.openConnection(upgraded.remotePeer.toString()),
      streamIdleTimeoutMs: this.#init.streamIdleTimeoutMs,
    });
    owner.connection = connection;
    this.#init.onConnectionOpen?.(connection);
    const onClose = this.#init.onConnectionClose;
    if (onClose !== undefined) {
      connection.closed.then(() => onClose(connection), () => onClose(connection));
    }
    return connection;
  }

  /** A transport that secures and multiplexes by itself (WebTransport): no negotiation here. */
  async #selfUpgrade(
    raw: RawConnection,
    direction: Direction,
    open: number,
    signal: AbortSignal,
    remotePeer: PeerId | undefined,
  ): Promise<Connection> {
    const privateKey = this.#init.privateKey;
    if (privateKey === undefined) {
      throw new TypeError("this connection secures itself: the upgrader needs the privateKey");
    }
    // The transport creates the muxer inside selfUpgrade, and the remote may open streams as
    // soon as its side of the handshake is done (a WebTransport client opens its first stream
    // right after sending Noise message 3, while we may still be verifying it). Those streams
    // are the peer's legitimate first streams: hold them (up to a cap) until the Connection
    // exists instead of resetting them.
    const owner: { connection?: Connection } = {};
    const early: MuxedStream[] = [];
    const upgraded = await raw.selfUpgrade!({
      direction,
      privateKey,
      remotePeer,
      signal,
      muxerInit: {
        direction,
        onIncomingStream: (stream) => {
          if (owner.connection !== undefined) owner.connection.handleInbound(stream);
          else if (early.length < MAX_EARLY_INBOUND_STREAMS) early.push(stream);
          else stream.reset();
        },
      },
    }).catch((err) => {
      for (const stream of early.splice(0)) stream.reset();
      throw err;
    });
    try {
      await this.#gateEncrypted(direction, upgraded.remotePeer, raw);
      signal.throwIfAborted();
    } catch (err) {
      for (const stream of early.splice(0)) stream.reset();
      upgraded.muxer.abort(signal.aborted ? signal.reason : err);
      throw signal.aborted ? signal.reason : err;
    }
    const connection = this.#connection(owner, raw, direction, open, upgraded);
    for (const stream of early.splice(0)) connection.handleInbound(stream);
    return connection;
  }

  /** Ask the gater about an authenticated peer; throws ConnectionDeniedError when denied. */
  async #gateEncrypted(direction: Direction, peer: PeerId, raw: RawConnection): Promise<void> {
    const stage = direction === "inbound" ? "denyInboundEncrypted" : "denyOutboundEncrypted";
    const denied = await gate(this.#init.gater, stage, peer, raw.remoteAddr);
    if (denied !== undefined) throw denied;
  }

  async #secure(
    raw: RawConnection,
    direction: Direction,
    muxers: string[],
    remotePeer: PeerId | undefined,
    signal: AbortSignal,
    onNegotiated?: () => void,
  ): Promise<{ secured: SecuredConnection; encryption: string }> {
    const ids = this.#encrypters.map((e) => e.protocol);
    const negotiated = await this.#negotiate(raw.channel, ids, direction, signal);
    onNegotiated?.();
    const encrypter = this.#encrypters.find((e) => e.protocol === negotiated.protocol)!;
    const conn = above(raw, negotiated.channel);
    const secureOptions = { signal, muxers, remotePeer };
    const secured = direction === "outbound"
      ? await encrypter.secureOutbound(conn, secureOptions)
      : await encrypter.secureInbound(conn, secureOptions);
    return { secured, encryption: encrypter.protocol };
  }

  /**
   * multistream-select as dialer (outbound) or listener (inbound) on a connection's channel. The
   * returned channel is the one to keep using: the same channel (replaying what arrived with the
   * negotiation), or a lazy select's thin layer over it.
   */
  #negotiate(
    channel: ByteChannel,
    protocols: readonly string[],
    direction: Direction,
    signal: AbortSignal,
    options: { lazy?: boolean } = {},
  ): Promise<{ protocol: string; channel: ByteChannel }> {
    return direction === "outbound"
      ? selectChannel(channel, protocols, { signal, lazy: options.lazy })
      : handleChannel(channel, protocols, { signal });
  }
}

/**
 * `conn` continued on `channel` (what follows a negotiation on `conn.channel`): `conn` itself
 * when the negotiation handed back the same channel, otherwise the channel with `conn`'s
 * teardown. No duplex and no stream objects: the next layer takes `channel` as it is.
 */
function above(conn: ChannelConnection, channel: ByteChannel): ChannelConnection {
  return channel === conn.channel ? conn : new ContinuedConnection(conn, channel);
}

/** See {@link above}: one small object per negotiated layer, its methods on the prototype. */
class ContinuedConnection implements ChannelConnection {
  readonly channel: ByteChannel;
  readonly #below: ChannelConnection;

  constructor(below: ChannelConnection, channel: ByteChannel) {
    this.#below = below;
    this.channel = channel;
  }

  close(): Promise<void> {
    return this.#below.close();
  }

  abort(reason?: unknown): void {
    this.channel.abort(reason);
    this.#below.abort(reason);
  }
}

/**
 * A muxer's memory reservations, drawn from a connection's resource scope. A class rather than an
 * object of two closures: one lives as long as each connection.
 */
class ScopeMuxerMemory implements MuxerMemory {
  readonly #scope: ConnectionScope;

  constructor(scope: ConnectionScope) {
    this.#scope = scope;
  }

  reserve(bytes: number): boolean {
    try {
      this.#scope.reserveMemory(bytes);
      return true;
    } catch {
      return false;
    }
  }

  release(bytes: number): void {
    this.#scope.releaseMemory(bytes);
  }
}

/**
 * The muxer's inbound-stream callback: to the connection once it exists, reset before. Made
 * outside the upgrade function so that the closure, which lives as long as the connection,
 * holds `owner` and not the upgrade's whole scope (its signal, deadline and raw connection).
 */
function routeInbound(owner: { connection?: Connection }): (stream: MuxedStream) => void {
  return (stream) => {
    if (owner.connection === undefined) stream.reset();
    else owner.connection.handleInbound(stream);
  };
}
