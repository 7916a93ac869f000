/**
 * The contract between a security protocol (Noise, plaintext) and the upgrader.
 *
 * @module
 */

import type { PeerId } from "./peer_id.ts";
import type { PublicKey } from "./keys/types.ts";
import type { ByteChannel, ChannelConnection } from "./stream/channel.ts";
import type { AbortOptions } from "./stream/types.ts";

/** Options for one security handshake. */
export interface SecureOptions extends AbortOptions {
  /**
   * The peer we expect (outbound dials to a known peer id). When set and the remote proves
   * another identity, the handshake fails with PeerIdMismatchError.
   */
  remotePeer?: PeerId;
  /**
   * Muxer protocol ids we support, in preference order, offered through the security
   * protocol's early-negotiation extension when it has one (Noise `stream_muxers`).
   */
  muxers?: readonly string[];
}

/**
 * An authenticated, encrypted connection: what a security protocol returns. `channel` carries
 * the plaintext; `close()` flushes and closes the connection below, `abort()` tears it down.
 *
 * @example
 * ```ts
 * import type { SecuredConnection } from "@p2p-edge/libp2p";
 * function who(c: SecuredConnection): string { return c.remotePeer.toString(); }
 * ```
 */
export interface SecuredConnection extends ChannelConnection {
  /** The plaintext bytes; the muxer (or the muxer negotiation) takes it. */
  readonly channel: ByteChannel;
  /** The authenticated remote peer. */
  readonly remotePeer: PeerId;
  /** The remote's public key, as proven in the handshake. */
  readonly remotePublicKey: PublicKey;
  /**
   * The muxer both sides agreed on during the handshake (Noise early muxer negotiation), if
   * any; the upgrader then skips multistream-select for the muxer.
   */
  readonly earlyMuxer?: string;
  /** Extension data the remote sent (Noise: webtransport certhashes), when the protocol has it. */
  readonly remoteExtensions?: { webtransportCerthashes?: Uint8Array[]; streamMuxers?: string[] };
}

/**
 * A security protocol. One instance is shared by all connections of a node and holds the
 * node's private key.
 *
 * @example
 * ```ts
 * import type { ConnectionEncrypter } from "@p2p-edge/libp2p";
 * function name(e: ConnectionEncrypter): string { return e.protocol; }
 * ```
 */
export interface ConnectionEncrypter {
  /** Protocol id, e.g. "/noise". */
  readonly protocol: string;
  /**
   * Run the handshake as initiator over `conn` (its channel, positioned after the security
   * protocol's negotiation). The result owns `conn`: its `close`/`abort` reach `conn`'s.
   */
  secureOutbound(conn: ChannelConnection, options?: SecureOptions): Promise<SecuredConnection>;
  /** Run the handshake as responder over `conn` (see {@link secureOutbound}). */
  secureInbound(conn: ChannelConnection, options?: SecureOptions): Promise<SecuredConnection>;
}

/** Who the remote proved to be, and what else the handshake agreed on. */
export type SecuredIdentity = Omit<SecuredConnection, "channel" | "close" | "abort">;

/**
 * The {@link SecuredConnection} of a security protocol whose channel passes closing down
 * unchanged (its sealing is synchronous, nothing waits in it): `channel` is the plaintext
 * channel over `conn`'s, `close()` starts `channel.closeWrite()` and then closes `conn` (whose own
 * close bounds the wait: a TCP socket gives up after its closeTimeoutMs), `abort()` aborts both. One small object per
 * connection, its methods on the prototype.
 *
 * @example
 * ```ts
 * import { securedConnection } from "@p2p-edge/libp2p";
 * import { channelPair } from "@p2p-edge/libp2p/stream";
 * import { generateKeyPair, peerIdFromPublicKey } from "@p2p-edge/libp2p";
 * const key = await generateKeyPair("Ed25519");
 * const [a] = channelPair();
 * const secured = securedConnection(a, a.channel, {
 *   remotePeer: peerIdFromPublicKey(key.publicKey),
 *   remotePublicKey: key.publicKey,
 * });
 * ```
 */
export function securedConnection(
  conn: ChannelConnection,
  channel: ByteChannel,
  identity: SecuredIdentity,
): SecuredConnection {
  return new LayeredSecuredConnection(conn, channel, identity);
}

/** What {@link securedConnection} builds. */
class LayeredSecuredConnection implements SecuredConnection {
  readonly channel: ByteChannel;
  readonly remotePeer: PeerId;
  readonly remotePublicKey: PublicKey;
  readonly earlyMuxer?: string;
  readonly remoteExtensions?: SecuredConnection["remoteExtensions"];
  readonly #conn: ChannelConnection;
  #aborted = false;

  constructor(conn: ChannelConnection, channel: ByteChannel, identity: SecuredIdentity) {
    this.#conn = conn;
    this.channel = channel;
    this.remotePeer = identity.remotePeer;
    this.remotePublicKey = identity.remotePublicKey;
    if (identity.earlyMuxer !== undefined) this.earlyMuxer = identity.earlyMuxer;
    if (identity.remoteExtensions !== undefined) this.remoteExtensions = identity.remoteExtensions;
  }

  close(): Promise<void> {
    this.channel.closeWrite().catch(() => {});
    return this.#conn.close();
  }

  abort(reason?: unknown): void {
    if (this.#aborted) return;
    this.#aborted = true;
    this.channel.abort(reason);
    this.#conn.abort(reason);
  }
}

/**
 * What a node's `connectionEncrypters` option holds: a factory that builds the encrypter from the
 * node's components (its identity key), as `noise()` and `plaintext()` return; js-libp2p's
 * `connectionEncrypters` entries have the same shape.
 *
 * @example
 * ```ts
 * import type { ConnectionEncrypterFactory } from "@p2p-edge/libp2p";
 * import { noise } from "@p2p-edge/libp2p/protocols/noise";
 * const factory: ConnectionEncrypterFactory = noise();
 * ```
 */
export type ConnectionEncrypterFactory = (
  components: { privateKey: import("./keys/types.ts").PrivateKey },
) => ConnectionEncrypter;
