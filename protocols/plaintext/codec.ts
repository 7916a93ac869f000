/**
 * The plaintext Exchange message (libp2p/specs plaintext/README.md, "Messages"):
 *
 * ```protobuf
 * message Exchange { optional bytes id = 1; optional PublicKey pubkey = 2; }
 * ```
 *
 * Pure and synchronous. `pubkey` is kept as the encoded PublicKey protobuf; handshake.ts decodes
 * and checks it.
 *
 * @module
 */

import { DecodeError, LimitExceededError } from "../../src/errors.ts";
import { ProtobufReader, ProtobufWriter, WireType } from "../../src/protobuf.ts";
import { MAX_EXCHANGE_BYTES } from "./constants.ts";

/** A decoded Exchange message. Both fields are optional on the wire. */
export interface Exchange {
  /** The sender's peer id as a binary multihash. */
  id?: Uint8Array;
  /** The sender's public key as an encoded `PublicKey` protobuf. */
  pubkey?: Uint8Array;
}

/**
 * Encode an Exchange message (fields in number order, as go and js write them).
 *
 * @example
 * ```ts
 * import { encodeExchange } from "@p2p-edge/libp2p/protocols/plaintext";
 * encodeExchange({ id: new Uint8Array([0, 1, 7]), pubkey: new Uint8Array([8, 1]) });
 * // Uint8Array [0x0a, 3, 0, 1, 7, 0x12, 2, 8, 1]
 * ```
 */
export function encodeExchange(exchange: Exchange): Uint8Array {
  const w = new ProtobufWriter();
  if (exchange.id !== undefined) w.bytes(1, exchange.id);
  if (exchange.pubkey !== undefined) w.bytes(2, exchange.pubkey);
  return w.finish();
}

/**
 * Decode an Exchange message. Unknown fields are skipped (protobuf rules); a repeated field, a
 * wrong wire type or truncation throws DecodeError; input above MAX_EXCHANGE_BYTES throws
 * LimitExceededError. The returned fields are views into `bytes`.
 *
 * @example
 * ```ts
 * import { decodeExchange } from "@p2p-edge/libp2p/protocols/plaintext";
 * decodeExchange(new Uint8Array([0x0a, 1, 9])); // { id: Uint8Array [9], pubkey: undefined }
 * ```
 */
export function decodeExchange(bytes: Uint8Array): Exchange {
  if (bytes.byteLength > MAX_EXCHANGE_BYTES) {
    throw new LimitExceededError(
      `plaintext Exchange of ${bytes.byteLength} bytes is above ${MAX_EXCHANGE_BYTES}`,
      "MAX_EXCHANGE_BYTES",
    );
  }
  const r = new ProtobufReader(bytes);
  const out: Exchange = {};
  for (let tag = r.readTag(); tag !== undefined; tag = r.readTag()) {
    if (tag.field === 1 || tag.field === 2) {
      r.expect(tag, WireType.LENGTH_DELIMITED);
      const key = tag.field === 1 ? "id" : "pubkey";
      if (out[key] !== undefined) throw new DecodeError(`plaintext Exchange: ${key} appears twice`);
      out[key] = r.readBytes();
    } else {
      r.skip(tag.wireType);
    }
  }
  return out;
}
