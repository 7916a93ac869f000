/**
 * The contract between a security protocol (Noise, plaintext) and the upgrader.
 *
 * @module
 */

import type { PeerId } from "./peer_id.ts";
import type { PublicKey } from "./keys/types.ts";
import type { AbortOptions, ClosableDuplex } from "./stream/types.ts";

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
 * An authenticated, encrypted duplex: what a security protocol returns.
 *
 * @example
 * ```ts
 * import type { SecuredConnection } from "@p2p-edge/libp2p";
 * function who(c: SecuredConnection): string { return c.remotePeer.toString(); }
 * ```
 */
export interface SecuredConnection extends ClosableDuplex {
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
  /** Run the handshake as initiator over `conn`. */
  secureOutbound(conn: ClosableDuplex, options?: SecureOptions): Promise<SecuredConnection>;
  /** Run the handshake as responder over `conn`. */
  secureInbound(conn: ClosableDuplex, options?: SecureOptions): Promise<SecuredConnection>;
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
