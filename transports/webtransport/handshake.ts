/**
 * The libp2p handshake of a WebTransport session (libp2p/specs webtransport/README.md
 * "Security Handshake"): the first bidirectional stream the client opens runs Noise XX with the
 * client as initiator; the server sends its certificate hashes in the Noise extension
 * `webtransport_certhashes`, and the client checks that every hash it dialled is among them
 * (a man in the middle with another certificate cannot pass). The stream is closed afterwards:
 * libp2p streams are native WebTransport streams, not Noise-encrypted.
 *
 * @module
 */

import { equals } from "../../src/bytes.ts";
import { HandshakeError, LimitExceededError } from "../../src/errors.ts";
import type { PrivateKey } from "../../src/keys/types.ts";
import type { PeerId } from "../../src/peer_id.ts";
import type { ConnectionEncrypter, SecuredConnection } from "../../src/security.ts";
import { type ChannelConnection, prefixChannel, streamChannel } from "../../src/stream/channel.ts";
import type { SelfUpgradeOptions, SelfUpgradeResult } from "../../src/transport.ts";
import { noise } from "../../protocols/noise/mod.ts";
import { MAX_REMOTE_CERTHASHES } from "./constants.ts";
import { type NativeBidiStream, type NativeSession, WebTransportMuxer } from "./session.ts";

/** The certhashes of the server did not include one the client dialled (possible MITM). */
export class CerthashMismatchError extends HandshakeError {}

/**
 * Check the server's certhash extension against what we dialled: every dialled hash (multihash
 * bytes) must be in the server's list. Throws {@link CerthashMismatchError}.
 *
 * @example
 * ```ts
 * import { verifyCerthashes } from "@p2p-edge/libp2p/transports/webtransport";
 * const h = new Uint8Array([0x12, 1, 7]);
 * verifyCerthashes([h], [h, new Uint8Array([0x12, 1, 8])]); // ok: a subset
 * ```
 */
export function verifyCerthashes(
  dialled: readonly Uint8Array[],
  remote: readonly Uint8Array[] | undefined,
): void {
  const list = remote ?? [];
  if (list.length > MAX_REMOTE_CERTHASHES) {
    throw new LimitExceededError(`server sent ${list.length} certhashes`, "MAX_REMOTE_CERTHASHES");
  }
  if (dialled.length > 0 && list.length === 0) {
    throw new CerthashMismatchError("the server sent no certhashes in the Noise extension");
  }
  for (const hash of dialled) {
    if (!list.some((h) => equals(h, hash))) {
      throw new CerthashMismatchError(
        "a dialled certhash is not among the server's: the connection may be intercepted",
      );
    }
  }
}

const encrypterCache = new WeakMap<PrivateKey, Map<string, ConnectionEncrypter>>();

/** One Noise encrypter per key and extension set (its static key signature is made once). */
function encrypterFor(
  privateKey: PrivateKey,
  certhashes: readonly Uint8Array[],
): ConnectionEncrypter {
  const key = certhashes.map((h) => Array.from(h).join(",")).join(";");
  let byHashes = encrypterCache.get(privateKey);
  if (byHashes === undefined) {
    byHashes = new Map();
    encrypterCache.set(privateKey, byHashes);
  }
  let encrypter = byHashes.get(key);
  if (encrypter === undefined) {
    // Certificates rotate every ~2 weeks: keep only the newest few sets.
    if (byHashes.size >= 4) byHashes.delete(byHashes.keys().next().value!);
    encrypter = noise({
      extensions: { webtransportCerthashes: certhashes.map((h) => h.slice()) },
    })({ privateKey });
    byHashes.set(key, encrypter);
  }
  return encrypter;
}

/**
 * The first bidirectional stream as the connection Noise runs over: its web streams converted to
 * a byte channel once, replaying the bytes the session read ahead (`prefix`).
 */
function handshakeConnection(native: NativeBidiStream, session: NativeSession): ChannelConnection {
  const channel = streamChannel({
    readable: native.readable,
    writable: native.writable,
    abort: () => session.close(1, "handshake aborted"),
  });
  return {
    channel: native.prefix === undefined ? channel : prefixChannel(channel, [native.prefix]),
    close: () => channel.closeWrite().catch(() => {}),
    abort: (reason?: unknown) => channel.abort(reason),
  };
}

/** Close the handshake stream in both directions once Noise is done with it. */
async function closeHandshakeStream(secured: SecuredConnection): Promise<void> {
  await secured.close().catch(() => {});
  secured.channel.cancelRead();
}

/** Options of {@link upgradeSession}. */
export interface UpgradeSessionOptions extends SelfUpgradeOptions {
  /** Client: the certhashes of the dialled address (multihash bytes). */
  dialledCerthashes?: readonly Uint8Array[];
  /** Server: the certhashes to send in the Noise extension (multihash bytes). */
  serverCerthashes?: readonly Uint8Array[];
  /** Most streams per direction of the muxer. */
  maxStreams?: number;
}

/**
 * Run the libp2p WebTransport handshake over an established session and return the
 * authenticated peer with the session as the connection's muxer. On failure the session is
 * closed and the error rethrown.
 *
 * @example
 * ```ts
 * import { upgradeSession, type NativeSession } from "@p2p-edge/libp2p/transports/webtransport";
 * import { generateKeyPair } from "@p2p-edge/libp2p";
 * declare const session: NativeSession;
 * const privateKey = await generateKeyPair("Ed25519");
 * const { remotePeer } = await upgradeSession(session, {
 *   direction: "outbound", privateKey, muxerInit: { direction: "outbound" }, dialledCerthashes: [],
 * });
 * ```
 */
export async function upgradeSession(
  session: NativeSession,
  options: UpgradeSessionOptions,
): Promise<SelfUpgradeResult> {
  const signal = options.signal;
  const onAbort = (): void => session.close(1, "upgrade aborted");
  signal?.addEventListener("abort", onAbort, { once: true });
  try {
    signal?.throwIfAborted();
    let secured: SecuredConnection;
    let remotePeer: PeerId;
    if (options.direction === "outbound") {
      const encrypter = encrypterFor(options.privateKey, []);
      const first = await session.openBidi();
      secured = await encrypter.secureOutbound(handshakeConnection(first, session), {
        signal,
        remotePeer: options.remotePeer,
      });
      verifyCerthashes(
        options.dialledCerthashes ?? [],
        secured.remoteExtensions?.webtransportCerthashes,
      );
      remotePeer = secured.remotePeer;
    } else {
      const encrypter = encrypterFor(options.privateKey, options.serverCerthashes ?? []);
      const first = await session.acceptBidi();
      if (first === undefined) throw new HandshakeError("the session ended before the handshake");
      secured = await encrypter.secureInbound(handshakeConnection(first, session), { signal });
      remotePeer = secured.remotePeer;
    }
    closeHandshakeStream(secured);
    const muxer = new WebTransportMuxer(session, options.muxerInit, {
      maxStreams: options.maxStreams,
    });
    return {
      remotePeer,
      remotePublicKey: secured.remotePublicKey,
      encryption: encrypterFor(options.privateKey, []).protocol,
      muxer,
    };
  } catch (err) {
    session.close(1, "handshake failed");
    throw err;
  } finally {
    signal?.removeEventListener("abort", onAbort);
  }
}
