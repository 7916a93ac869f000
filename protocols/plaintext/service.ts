/**
 * The plaintext connection encrypter: the only plaintext file that touches a connection or a
 * timer.
 *
 * @module
 */

import type { PrivateKey } from "../../src/keys/mod.ts";
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
import { encodeUvarint } from "../../src/varint.ts";
import {
  DEFAULT_HANDSHAKE_TIMEOUT_MS,
  MAX_EXCHANGE_BYTES,
  PLAINTEXT_PROTOCOL_ID,
} from "./constants.ts";
import { createExchange, type RemoteIdentity, verifyExchange } from "./handshake.ts";

/** Options of {@link plaintext}. */
export interface PlaintextOptions {
  /** Deadline of the exchange in ms (0 = none). Default 10 000 (DEFAULT_HANDSHAKE_TIMEOUT_MS). */
  handshakeTimeoutMs?: number;
}

/** Options of a {@link PlaintextEncrypter}: {@link PlaintextOptions} and the identity key. */
export interface PlaintextInit extends PlaintextOptions {
  /** The node's identity key, sent to the remote in the Exchange. Required. */
  privateKey: PrivateKey;
}

/**
 * The `/plaintext/2.0.0` encrypter: exchanges peer ids and public keys, then hands the
 * connection on unchanged. NO encryption, NO authentication: tests and benchmarks only.
 *
 * @example
 * ```ts
 * import { generateKeyPair } from "@p2p-edge/libp2p";
 * import { PlaintextEncrypter } from "@p2p-edge/libp2p/protocols/plaintext";
 * const e = new PlaintextEncrypter({ privateKey: await generateKeyPair("Ed25519") });
 * console.log(e.protocol); // "/plaintext/2.0.0"
 * ```
 */
export class PlaintextEncrypter implements ConnectionEncrypter {
  /** "/plaintext/2.0.0". */
  readonly protocol: string = PLAINTEXT_PROTOCOL_ID;
  #privateKey: PrivateKey;
  #timeoutMs: number;
  #exchange: Uint8Array | undefined;

  /** Validate the options; throws TypeError/RangeError. */
  constructor(options: PlaintextInit) {
    if (options === null || typeof options !== "object") {
      throw new TypeError("plaintext(): options with a privateKey are required");
    }
    const key = options.privateKey;
    if (key === undefined || typeof key.sign !== "function" || key.publicKey === undefined) {
      throw new TypeError("plaintext(): privateKey must be a libp2p PrivateKey");
    }
    const timeout = options.handshakeTimeoutMs ?? DEFAULT_HANDSHAKE_TIMEOUT_MS;
    if (typeof timeout !== "number" || Number.isNaN(timeout) || timeout < 0) {
      throw new RangeError("plaintext(): handshakeTimeoutMs must be a number >= 0");
    }
    this.#privateKey = key;
    this.#timeoutMs = timeout;
  }

  /** Run the exchange as the dialler (checks `options.remotePeer` when given). */
  secureOutbound(conn: ChannelConnection, options?: SecureOptions): Promise<SecuredConnection> {
    return this.#secure(conn, options);
  }

  /** Run the exchange as the listener. */
  secureInbound(conn: ChannelConnection, options?: SecureOptions): Promise<SecuredConnection> {
    return this.#secure(conn, options);
  }

  async #secure(conn: ChannelConnection, options: SecureOptions = {}): Promise<SecuredConnection> {
    const { result, channel } = await runHandshake(
      conn,
      // Spec, "Exchange": terminate abruptly on timeout (the helper aborts the socket).
      { timeoutMs: this.#timeoutMs, signal: options.signal, what: "plaintext exchange" },
      (reader, writer) => this.#exchangeWith(reader, writer, options),
    );
    return secured(conn, channel, result);
  }

  async #exchangeWith(
    reader: ByteReader,
    writer: HandshakeWriter,
    options: SecureOptions,
  ): Promise<RemoteIdentity> {
    this.#exchange ??= createExchange(this.#privateKey);
    const message = this.#exchange;
    const prefix = encodeUvarint(message.byteLength);
    const framed = new Uint8Array(prefix.byteLength + message.byteLength);
    framed.set(prefix);
    framed.set(message, prefix.byteLength);
    // Both sides send at once ("Exchange"); read without waiting for our write to drain.
    const written = writer.write(framed);
    written.catch(() => {});
    // The length prefix is checked against MAX_EXCHANGE_BYTES before the body is read.
    const remote = verifyExchange(
      await reader.readLengthPrefixed(MAX_EXCHANGE_BYTES),
      options.remotePeer,
    );
    await written;
    return remote;
  }
}

/** The connection after the exchange: the same channel, replaying the reader's unread rest. */
function secured(
  conn: ChannelConnection,
  channel: ByteChannel,
  remote: RemoteIdentity,
): SecuredConnection {
  return securedConnection(conn, channel, {
    remotePeer: remote.peerId,
    remotePublicKey: remote.publicKey,
  });
}

/**
 * The `/plaintext/2.0.0` encrypter for a node's `connectionEncrypters` (NO encryption, NO
 * authentication: tests and benchmarks only). Called like `noise()`: it returns a factory the
 * node calls with its identity key.
 *
 * @example
 * ```ts
 * import { createNode } from "@p2p-edge/libp2p";
 * import { plaintext } from "@p2p-edge/libp2p/protocols/plaintext";
 * import { yamux } from "@p2p-edge/libp2p/protocols/yamux";
 * import { memory } from "@p2p-edge/libp2p/transports/memory";
 * const node = await createNode({
 *   transports: [memory()],
 *   connectionEncrypters: [plaintext()],
 *   streamMuxers: [yamux()],
 * });
 * await node.stop();
 * ```
 */
export function plaintext(options: PlaintextOptions = {}): ConnectionEncrypterFactory {
  if (options === null || typeof options !== "object") {
    throw new TypeError("plaintext(): options must be an object");
  }
  return (components) => new PlaintextEncrypter({ ...options, privateKey: components.privateKey });
}
