/**
 * noise-libp2p as a ConnectionEncrypter (libp2p/specs noise/README.md): runs the XX handshake
 * over a raw connection, authenticates the remote identity, agrees on an early muxer
 * (connections/inlined-muxer-negotiation.md) and returns the encrypted connection. The only
 * file of this protocol that touches streams and timers.
 *
 * @module
 */

import { HandshakeError, PeerIdMismatchError } from "../../src/errors.ts";
import type { PrivateKey, PublicKey } from "../../src/keys/types.ts";
import type { PeerId } from "../../src/peer_id.ts";
import {
  type ConnectionEncrypter,
  type ConnectionEncrypterFactory,
  type SecuredConnection,
  securedConnection,
  type SecureOptions,
} from "../../src/security.ts";
import type { ByteReader } from "../../src/stream/byte_reader.ts";
import type { ByteChannel, ChannelConnection } from "../../src/stream/channel.ts";
import { type HandshakeWriter, runHandshake } from "../../src/stream/handshake.ts";
import {
  DEFAULT_HANDSHAKE_TIMEOUT_MS,
  DH_LENGTH,
  MAX_FRAME,
  NOISE_PROTOCOL_ID,
} from "./constants.ts";
import { encodeFrame } from "./codec.ts";
import type { NoiseCrypto, X25519KeyPair } from "./crypto.ts";
import { defaultNoiseCrypto } from "./crypto_native.ts";
import { type HandshakeResult, XXHandshakeState } from "./handshake.ts";
import { createHandshakePayload, staticKeySignedData, verifyHandshakePayload } from "./identity.ts";
import type { NoiseExtensions } from "./payload.ts";
import { NoiseChannel } from "./secure_channel.ts";

const EMPTY = new Uint8Array(0);

/** Options of {@link noise} (and of {@link secure} with the identity key added). */
export interface NoiseOptions {
  /**
   * A 32-byte X25519 private key to use as the static Noise key (spec: MAY persist across
   * restarts). Default: a fresh key per encrypter instance.
   */
  staticNoiseKey?: Uint8Array;
  /** Extensions we send: WebTransport servers put their certificate hashes here. */
  extensions?: { webtransportCerthashes?: Uint8Array[] };
  /** Deadline of the whole handshake in ms (0 = none). Default 10 000. */
  handshakeTimeoutMs?: number;
  /** Crypto primitives. Default: {@link defaultNoiseCrypto} (fastest available here). */
  crypto?: NoiseCrypto;
  /** Noise prologue; libp2p uses the empty prologue (default). Tests only. */
  prologue?: Uint8Array;
}

/** Options of a {@link NoiseEncrypter}: {@link NoiseOptions} and the identity key. */
export interface NoiseInit extends NoiseOptions {
  /** The node's libp2p identity key; it signs the static Noise key. Required. */
  privateKey: PrivateKey;
}

/**
 * The muxer early negotiation agrees on: the first entry of the initiator's list that the
 * responder also lists (inlined-muxer-negotiation.md, "Multiplexer Negotiation over Noise").
 * `undefined` when either list is empty (no early negotiation: fall back to multistream);
 * `null` when both offered and nothing overlaps (the handshake MUST fail).
 *
 * @example
 * ```ts
 * import { selectEarlyMuxer } from "@p2p-edge/libp2p/protocols/noise";
 * selectEarlyMuxer(["/yamux/1.0.0", "/mplex/6.7.0"], ["/mplex/6.7.0", "/yamux/1.0.0"]);
 * // "/yamux/1.0.0"
 * ```
 */
export function selectEarlyMuxer(
  initiatorMuxers: readonly string[],
  responderMuxers: readonly string[],
): string | undefined | null {
  if (initiatorMuxers.length === 0 || responderMuxers.length === 0) return undefined;
  return initiatorMuxers.find((m) => responderMuxers.includes(m)) ?? null;
}

/** Validate and copy the init options once. */
function validateInit(init: NoiseInit): NoiseInit {
  if (init === null || typeof init !== "object" || init.privateKey === undefined) {
    throw new TypeError("noise(): privateKey is required");
  }
  if (typeof init.privateKey.sign !== "function" || init.privateKey.publicKey === undefined) {
    throw new TypeError("noise(): privateKey must be a libp2p PrivateKey");
  }
  if (
    init.staticNoiseKey !== undefined &&
    (!(init.staticNoiseKey instanceof Uint8Array) || init.staticNoiseKey.byteLength !== DH_LENGTH)
  ) {
    throw new TypeError("noise(): staticNoiseKey must be a 32-byte Uint8Array");
  }
  const timeout = init.handshakeTimeoutMs ?? DEFAULT_HANDSHAKE_TIMEOUT_MS;
  if (typeof timeout !== "number" || Number.isNaN(timeout) || timeout < 0) {
    throw new RangeError("noise(): handshakeTimeoutMs must be a number >= 0");
  }
  const hashes = init.extensions?.webtransportCerthashes ?? [];
  if (!Array.isArray(hashes) || hashes.some((h) => !(h instanceof Uint8Array))) {
    throw new TypeError("noise(): webtransportCerthashes must be Uint8Arrays");
  }
  return {
    ...init,
    staticNoiseKey: init.staticNoiseKey?.slice(),
    handshakeTimeoutMs: timeout,
    extensions: { webtransportCerthashes: hashes.map((h) => h.slice()) },
  };
}

/** Keys and the signature prepared once per encrypter. */
interface Prepared {
  crypto: NoiseCrypto;
  staticKeyPair: X25519KeyPair;
  signature: Uint8Array;
}

/**
 * The Noise connection encrypter. Prefer the {@link noise} factory.
 *
 * @example
 * ```ts
 * import { generateKeyPair } from "@p2p-edge/libp2p";
 * import { NoiseEncrypter } from "@p2p-edge/libp2p/protocols/noise";
 * const encrypter = new NoiseEncrypter({ privateKey: await generateKeyPair("Ed25519") });
 * console.log(encrypter.protocol); // "/noise"
 * ```
 */
export class NoiseEncrypter implements ConnectionEncrypter {
  /** "/noise". */
  readonly protocol: string = NOISE_PROTOCOL_ID;
  readonly #init: NoiseInit;
  #prepared: Promise<Prepared> | undefined;

  /** Validate the options; keys are prepared on first use. */
  constructor(init: NoiseInit) {
    this.#init = validateInit(init);
  }

  /** Resolve the crypto provider, the static key pair and its identity signature, once. */
  #prepare(): Promise<Prepared> {
    this.#prepared ??= (async () => {
      const crypto = this.#init.crypto ?? await defaultNoiseCrypto();
      const staticKeyPair = this.#init.staticNoiseKey !== undefined
        ? {
          privateKey: this.#init.staticNoiseKey,
          publicKey: crypto.x25519PublicKey(this.#init.staticNoiseKey),
        }
        : crypto.generateX25519KeyPair();
      const signature = await this.#init.privateKey.sign(
        staticKeySignedData(staticKeyPair.publicKey),
      );
      return { crypto, staticKeyPair, signature };
    })();
    // A failed preparation (e.g. a broken signer) is retried on the next handshake.
    this.#prepared.catch(() => (this.#prepared = undefined));
    return this.#prepared;
  }

  /** The static X25519 public key this encrypter authenticates (after the first handshake). */
  async staticPublicKey(): Promise<Uint8Array> {
    return (await this.#prepare()).staticKeyPair.publicKey.slice();
  }

  /** Run the handshake as initiator. */
  secureOutbound(conn: ChannelConnection, options?: SecureOptions): Promise<SecuredConnection> {
    return this.#secure(conn, true, options);
  }

  /** Run the handshake as responder. */
  secureInbound(conn: ChannelConnection, options?: SecureOptions): Promise<SecuredConnection> {
    return this.#secure(conn, false, options);
  }

  async #secure(
    conn: ChannelConnection,
    initiator: boolean,
    options: SecureOptions = {},
  ): Promise<SecuredConnection> {
    const { result, channel } = await runHandshake(
      conn,
      {
        timeoutMs: this.#init.handshakeTimeoutMs!,
        signal: options.signal,
        what: "Noise handshake",
      },
      (reader, writer) => this.#handshake(reader, writer, initiator, options),
    );
    return secureConnection(conn, channel, result);
  }

  async #handshake(
    reader: ByteReader,
    writer: HandshakeWriter,
    initiator: boolean,
    options: SecureOptions,
  ): Promise<HandshakeDone> {
    const { crypto, staticKeyPair, signature } = await this.#prepare();
    const hs = new XXHandshakeState({
      crypto,
      initiator,
      staticKeyPair,
      prologue: this.#init.prologue,
    });
    const ourMuxers = [...(options.muxers ?? [])];
    const ourExtensions: NoiseExtensions = {
      webtransportCerthashes: this.#init.extensions?.webtransportCerthashes ?? [],
      streamMuxers: ourMuxers,
    };
    const send = async (payload: Uint8Array): Promise<void> => {
      const message = hs.writeMessage(payload);
      if (message.byteLength > MAX_FRAME) {
        throw new HandshakeError(`handshake message of ${message.byteLength} bytes is too large`);
      }
      await writer.write(encodeFrame(message));
    };
    const receive = async (): Promise<Uint8Array> => {
      // readUint16Prefixed allocates at most 65535 bytes: the prefix is 16 bits.
      return hs.readMessage(await reader.readUint16Prefixed());
    };
    const ourPayload = () =>
      createHandshakePayload(
        this.#init.privateKey,
        staticKeyPair.publicKey,
        ourExtensions,
        signature,
      );
    const checkExpected = (remote: PeerId): void => {
      if (options.remotePeer !== undefined && !options.remotePeer.equals(remote)) {
        throw new PeerIdMismatchError(
          `dialled ${options.remotePeer.toString()} but the remote proved ${remote.toString()}`,
        );
      }
    };

    let remote;
    if (initiator) {
      // -> e
      await send(EMPTY);
      // <- e, ee, s, es + responder payload
      const payload = await receive();
      remote = await verifyHandshakePayload(payload, hs.remoteStaticKey!);
      // Refuse before revealing our identity in message 3 (HARDENING.md rule 6).
      checkExpected(remote.peerId);
      // -> s, se + our payload
      await send(await ourPayload());
    } else {
      // -> e (its payload is unauthenticated and carries nothing in libp2p: ignored)
      await receive();
      // <- e, ee, s, es + our payload
      await send(await ourPayload());
      // -> s, se + initiator payload
      const payload = await receive();
      remote = await verifyHandshakePayload(payload, hs.remoteStaticKey!);
      checkExpected(remote.peerId);
    }
    const result = hs.result!;
    const initiatorMuxers = initiator ? ourMuxers : remote.extensions.streamMuxers;
    const responderMuxers = initiator ? remote.extensions.streamMuxers : ourMuxers;
    const earlyMuxer = selectEarlyMuxer(initiatorMuxers, responderMuxers);
    if (earlyMuxer === null) {
      throw new HandshakeError(
        `no common stream muxer (initiator: ${initiatorMuxers.join(", ")}; responder: ${
          responderMuxers.join(", ")
        })`,
      );
    }
    return {
      result,
      remotePeer: remote.peerId,
      remotePublicKey: remote.publicKey,
      earlyMuxer,
      remoteExtensions: remote.extensions,
    };
  }
}

/** What a successful handshake hands to {@link secureConnection}. */
interface HandshakeDone {
  result: HandshakeResult;
  remotePeer: PeerId;
  remotePublicKey: PublicKey;
  earlyMuxer: string | undefined;
  remoteExtensions: NoiseExtensions;
}

/**
 * The secured connection: a {@link NoiseChannel} over the raw connection's channel
 * (ARCHITECTURE.md: one transform per layer, no stream objects in between; the old
 * TransformStream + pipe pair cost about 19 KiB per idle connection on Deno and a promise hop
 * per chunk).
 */
function secureConnection(
  conn: ChannelConnection,
  raw: ByteChannel,
  done: HandshakeDone,
): SecuredConnection {
  // Sealing is synchronous: nothing waits in this layer, so closing is the layer below's.
  const channel = new NoiseChannel(raw, done.result.send, done.result.receive);
  return securedConnection(conn, channel, {
    remotePeer: done.remotePeer,
    remotePublicKey: done.remotePublicKey,
    earlyMuxer: done.earlyMuxer,
    remoteExtensions: {
      webtransportCerthashes: done.remoteExtensions.webtransportCerthashes,
      streamMuxers: done.remoteExtensions.streamMuxers,
    },
  });
}

/**
 * The Noise connection encrypter (`/noise`, Noise_XX_25519_ChaChaPoly_SHA256) for a node's
 * `connectionEncrypters`: called like `yamux()` and `tcp()`, it returns a factory the node calls
 * with its identity key. The options are checked here, at once.
 *
 * @example
 * ```ts
 * import { createNode } from "@p2p-edge/libp2p";
 * import { noise } from "@p2p-edge/libp2p/protocols/noise";
 * import { yamux } from "@p2p-edge/libp2p/protocols/yamux";
 * import { memory } from "@p2p-edge/libp2p/transports/memory";
 * const node = await createNode({
 *   transports: [memory()],
 *   connectionEncrypters: [noise({ handshakeTimeoutMs: 5_000 })],
 *   streamMuxers: [yamux()],
 * });
 * await node.stop();
 * ```
 */
export function noise(options: NoiseOptions = {}): ConnectionEncrypterFactory {
  if (options === null || typeof options !== "object") {
    throw new TypeError("noise(): options must be an object");
  }
  if ("privateKey" in options) {
    throw new TypeError(
      "noise(): the node supplies privateKey; pass noise() to connectionEncrypters",
    );
  }
  // Check the options now (with a stand-in key) so that a bad option fails where it is written.
  validateInit({ ...options, privateKey: OPTIONS_CHECK_KEY });
  return (components) => new NoiseEncrypter({ ...options, privateKey: components.privateKey });
}

/** Stands in for the identity key while {@link noise} checks its options; never used to sign. */
const OPTIONS_CHECK_KEY = {
  sign: () => {
    throw new TypeError("not a key");
  },
  publicKey: {},
} as unknown as PrivateKey;
