/**
 * The contract between a transport (tcp, websocket, webtransport, memory) and the node.
 *
 * @module
 */

import type { ConnectionLimits } from "./node/limits.ts";
import type { Multiaddr } from "./multiaddr/mod.ts";
import type { PrivateKey, PublicKey } from "./keys/types.ts";
import type { StreamMuxer, StreamMuxerInit } from "./muxer.ts";
import type { PeerId } from "./peer_id.ts";
import type { ByteChannel, ChannelConnection } from "./stream/channel.ts";
import type { AbortOptions, Direction } from "./stream/types.ts";

/**
 * A transport-level connection before security and multiplexing: its bytes as a typed
 * {@link ByteChannel} member (a stream-based transport converts its web streams once, with
 * `streamChannel`), its addresses and its teardown. The upgrader takes `channel` and never wraps
 * it; any object of this shape can be upgraded, e.g. one built from a Stream of another
 * connection (circuit relay).
 *
 * @example
 * ```ts
 * import type { RawConnection } from "@p2p-edge/libp2p";
 * function describe(c: RawConnection): string { return c.remoteAddr.toString(); }
 * ```
 */
export interface RawConnection extends ChannelConnection {
  /** The connection's bytes; the upgrader takes it. */
  readonly channel: ByteChannel;
  /** The remote address as the transport sees it (no `/p2p/` part). */
  readonly remoteAddr: Multiaddr;
  /** The local address, when known. */
  readonly localAddr?: Multiaddr;
  /**
   * Limits the transport imposes (a relayed connection: circuit relay v2's duration and data
   * caps). The upgrader copies them to the Connection, which is then limited: only protocols that
   * opt in with `runOnLimitedConnection` run on it.
   */
  readonly limits?: ConnectionLimits;
  /**
   * Set by transports that secure and multiplex connections themselves (WebTransport: Noise on
   * the first native stream, native streams as the muxer). The upgrader then calls it instead of
   * negotiating a security protocol and a muxer, under the same upgrade deadline; on failure it
   * aborts the connection as usual. `channel` of such a connection is not used.
   */
  readonly selfUpgrade?: (options: SelfUpgradeOptions) => Promise<SelfUpgradeResult>;
}

/** What the upgrader hands to {@link RawConnection.selfUpgrade}. */
export interface SelfUpgradeOptions extends AbortOptions {
  /** "outbound" when we dialled. */
  direction: Direction;
  /** The node's identity key (the connection runs its own security handshake). */
  privateKey: PrivateKey;
  /** The peer we dialled, when known: a different proven identity must fail the upgrade. */
  remotePeer?: PeerId;
  /** Callbacks for the muxer the connection creates (incoming streams, close). */
  muxerInit: StreamMuxerInit;
}

/**
 * The result of a self-upgrade: the authenticated peer and the session's muxer.
 *
 * @example
 * ```ts
 * import type { SelfUpgradeResult } from "@p2p-edge/libp2p";
 * function who(r: SelfUpgradeResult): string { return `${r.remotePeer} via ${r.encryption}`; }
 * ```
 */
export interface SelfUpgradeResult {
  /** The authenticated remote peer. */
  remotePeer: PeerId;
  /** Its public key, as proven in the handshake. */
  remotePublicKey: PublicKey;
  /** The security protocol that ran, e.g. "/noise". */
  encryption: string;
  /** The session's streams (created with the given `muxerInit`). */
  muxer: StreamMuxer;
}

/** What a listener reports to its owner. */
export interface ListenerInit {
  /** Called for each accepted connection. The owner upgrades or closes it. */
  onConnection(conn: RawConnection): void;
  /** Called when the listener fails after it started listening. */
  onError?(error: Error): void;
  /**
   * Called when {@link Listener.getAddrs} changed after `listen` resolved (a circuit relay
   * listener gains or loses a reservation); the owner re-reads the addresses and announces them.
   */
  onAddrsChange?(): void;
}

/**
 * A listening socket of one transport.
 *
 * @example
 * ```ts
 * import type { Listener } from "@p2p-edge/libp2p";
 * function addrs(l: Listener): string[] { return l.getAddrs().map(String); }
 * ```
 */
export interface Listener {
  /** Start listening on `addr` (port 0 picks a free port; getAddrs() then shows the real one). */
  listen(addr: Multiaddr): Promise<void>;
  /** The addresses it listens on, as dialable multiaddrs (without `/p2p/`). */
  getAddrs(): Multiaddr[];
  /** Stop accepting; connections already handed out are not closed. */
  close(): Promise<void>;
}

/**
 * A transport.
 *
 * @example
 * ```ts
 * import type { Transport } from "@p2p-edge/libp2p";
 * function canDial(t: Transport, addrs: import("@p2p-edge/libp2p").Multiaddr[]): boolean {
 *   return t.dialFilter(addrs).length > 0;
 * }
 * ```
 */
export interface Transport {
  /** A short name for logs, e.g. "tcp". */
  readonly name: string;
  /** Open a raw connection to `addr`. */
  dial(addr: Multiaddr, options?: AbortOptions): Promise<RawConnection>;
  /** Create a listener; call its `listen` to bind. */
  createListener(init: ListenerInit): Listener;
  /** The subset of `addrs` this transport can listen on. */
  listenFilter(addrs: readonly Multiaddr[]): Multiaddr[];
  /** The subset of `addrs` this transport can dial. */
  dialFilter(addrs: readonly Multiaddr[]): Multiaddr[];
  /**
   * Optional: called by node.start() once the node is started (after its listeners and
   * services), for transports that work through the node (circuit relay).
   */
  start?(): void | Promise<void>;
  /** Optional: called by node.stop() before the listeners close. */
  stop?(): void | Promise<void>;
}
