/**
 * Noise over any web duplex: the composable form of the security layer, for stacks assembled by
 * hand. One call runs the XX handshake and returns the decrypted duplex and the proven peer.
 *
 * @module
 */

import type { PrivateKey, PublicKey } from "../../src/keys/types.ts";
import type { PeerId } from "../../src/peer_id.ts";
import type { AbortOptions, Direction } from "../../src/stream/types.ts";
import {
  connectionFromDuplex,
  duplexFromConnection,
  type DuplexInput,
} from "../../src/web/boundary.ts";
import type { ClosableWebDuplex } from "../../src/web/types.ts";
import { NoiseEncrypter, type NoiseOptions } from "./service.ts";

/** Options of {@link secure}. */
export interface SecureInit extends NoiseOptions, AbortOptions {
  /** Our libp2p identity key; it signs the static Noise key. Required. */
  privateKey: PrivateKey;
  /** "outbound" on the side that dialled: it runs the handshake as initiator. Required. */
  direction: Direction;
  /** The peer we expect; another proven identity fails with PeerIdMismatchError. */
  remotePeer?: PeerId;
  /**
   * Muxer protocol ids to agree on inside the handshake (inlined muxer negotiation), in
   * preference order. Default none: agree on the muxer with multistream-select afterwards.
   */
  muxers?: readonly string[];
}

/** What {@link secure} returns. */
export interface SecureResult {
  /** The decrypted duplex: plaintext in both directions. */
  duplex: ClosableWebDuplex;
  /** The remote peer, as proven in the handshake. */
  remotePeer: PeerId;
  /** The remote's identity key. */
  remotePublicKey: PublicKey;
  /** The muxer agreed inside the handshake, when both sides offered `muxers`. */
  earlyMuxer?: string;
}

/**
 * Run the Noise handshake (`/noise`) over `duplex` and return the decrypted duplex and the remote
 * peer. `duplex` is any web duplex whose bytes are this connection's from here on, usually after
 * multistream-select agreed on "/noise"; with `close`/`abort` (a WebSocket's, say) closing the
 * result closes it too.
 *
 * @example
 * ```ts
 * import { generateKeyPair } from "@p2p-edge/libp2p";
 * import { secure } from "@p2p-edge/libp2p/protocols/noise";
 * import { webDuplexPair } from "@p2p-edge/libp2p/stream";
 * const [a, b] = webDuplexPair();
 * const [alice, bob] = await Promise.all([
 *   secure(a, { privateKey: await generateKeyPair("Ed25519"), direction: "outbound" }),
 *   secure(b, { privateKey: await generateKeyPair("Ed25519"), direction: "inbound" }),
 * ]);
 * console.log(alice.remotePeer.toString(), bob.remotePeer.toString());
 * ```
 */
export async function secure(duplex: DuplexInput, init: SecureInit): Promise<SecureResult> {
  if (init === null || typeof init !== "object") throw new TypeError("secure(): init required");
  const { direction, remotePeer, muxers, signal, ...options } = init;
  if (direction !== "outbound" && direction !== "inbound") {
    throw new TypeError('secure(): direction must be "outbound" or "inbound"');
  }
  const encrypter = new NoiseEncrypter(options);
  const conn = connectionFromDuplex(duplex);
  const secured = direction === "outbound"
    ? await encrypter.secureOutbound(conn, { remotePeer, muxers, signal })
    : await encrypter.secureInbound(conn, { remotePeer, muxers, signal });
  return {
    duplex: duplexFromConnection(secured),
    remotePeer: secured.remotePeer,
    remotePublicKey: secured.remotePublicKey,
    earlyMuxer: secured.earlyMuxer,
  };
}
