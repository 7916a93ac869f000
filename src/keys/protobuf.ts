/**
 * The key protobuf of libp2p/specs peer-ids/peer-ids.md §Keys:
 *
 * ```protobuf
 * message PublicKey  { required KeyType Type = 1; required bytes Data = 2; }
 * message PrivateKey { required KeyType Type = 1; required bytes Data = 2; }
 * ```
 *
 * Encoding is deterministic (field 1 then field 2, minimal varints) so peer ids derived from it
 * match go/rust/js. Decoding takes the fields in any order and skips unknown fields (protobuf
 * rules), but a repeated Type or Data is malformed. Importing this module registers the inline
 * key decoder of src/peer_id.ts.
 *
 * @module
 */

import { equals as bytesEqual } from "../bytes.ts";
import { DecodeError, LimitExceededError, UnsupportedKeyTypeError } from "../errors.ts";
import { MAX_INLINE_KEY_LENGTH, registerInlineKeyDecoder } from "../peer_id.ts";
import { ProtobufReader, ProtobufWriter, WireType } from "../protobuf.ts";
import { MAX_KEY_DATA_BYTES, MAX_KEY_PROTOBUF_BYTES } from "./constants.ts";
import { keyTypeFromCode, privateKeyFromRaw, publicKeyFromRaw } from "./factory.ts";
import { KEY_TYPE_CODES, type KeyType, type PrivateKey, type PublicKey } from "./types.ts";

/** Split a key protobuf into its type and Data. */
function decodeKeyMessage(bytes: Uint8Array): { type: KeyType; data: Uint8Array } {
  if (!(bytes instanceof Uint8Array)) throw new TypeError("key protobuf must be a Uint8Array");
  if (bytes.byteLength > MAX_KEY_PROTOBUF_BYTES) {
    throw new LimitExceededError(
      `key protobuf of ${bytes.byteLength} bytes is above ${MAX_KEY_PROTOBUF_BYTES}`,
      "MAX_KEY_PROTOBUF_BYTES",
    );
  }
  const reader = new ProtobufReader(bytes);
  let code: number | undefined;
  let data: Uint8Array | undefined;
  for (let tag = reader.readTag(); tag !== undefined; tag = reader.readTag()) {
    if (tag.field === 1) {
      reader.expect(tag, WireType.VARINT);
      if (code !== undefined) throw new DecodeError("key protobuf: Type appears twice");
      code = reader.readUint();
    } else if (tag.field === 2) {
      reader.expect(tag, WireType.LENGTH_DELIMITED);
      if (data !== undefined) throw new DecodeError("key protobuf: Data appears twice");
      data = reader.readBytes();
    } else {
      reader.skip(tag.wireType);
    }
  }
  if (code === undefined) throw new DecodeError("key protobuf: required field Type is missing");
  if (data === undefined) throw new DecodeError("key protobuf: required field Data is missing");
  if (data.byteLength > MAX_KEY_DATA_BYTES) {
    throw new LimitExceededError("key Data above MAX_KEY_DATA_BYTES", "MAX_KEY_DATA_BYTES");
  }
  return { type: keyTypeFromCode(code), data };
}

function encodeKeyMessage(type: KeyType, raw: Uint8Array): Uint8Array {
  const code = KEY_TYPE_CODES[type];
  if (code === undefined) throw new UnsupportedKeyTypeError(`unsupported key type ${type}`);
  return new ProtobufWriter().uint(1, code).bytes(2, raw).finish();
}

/**
 * Decode a protobuf `PublicKey`. Synchronous. Throws DecodeError (malformed),
 * UnsupportedKeyTypeError (unknown type, unsupported curve) or LimitExceededError (oversized
 * message, RSA modulus outside 2048..8192 bits).
 *
 * @example
 * ```ts
 * import { publicKeyFromProtobuf } from "@p2p-edge/libp2p";
 * import { fromHex } from "@p2p-edge/libp2p/bytes";
 * const key = publicKeyFromProtobuf(
 *   fromHex("080112201ed1e8fae2c4a144b8be8fd4b47bf3d3b34b871c3cacf6010f0e42d474fce27e"),
 * );
 * key.type; // "Ed25519"
 * ```
 */
export function publicKeyFromProtobuf(bytes: Uint8Array): PublicKey {
  const { type, data } = decodeKeyMessage(bytes);
  return publicKeyFromRaw(type, data);
}

/**
 * Decode a protobuf `PrivateKey`. Synchronous for every type (ECDSA and RSA keys are parsed and
 * checked here; their WebCrypto import happens on the first `sign`). Throws like
 * {@link publicKeyFromProtobuf}.
 *
 * @example
 * ```ts
 * import { generateKeyPair, privateKeyFromProtobuf, privateKeyToProtobuf } from "@p2p-edge/libp2p";
 * const key = await generateKeyPair("Ed25519");
 * privateKeyFromProtobuf(privateKeyToProtobuf(key)).equals(key); // true
 * ```
 */
export function privateKeyFromProtobuf(bytes: Uint8Array): PrivateKey {
  const { type, data } = decodeKeyMessage(bytes);
  return privateKeyFromRaw(type, data);
}

/**
 * Encode a public key as a protobuf `PublicKey` (deterministic).
 *
 * @example
 * ```ts
 * import { generateKeyPair, publicKeyToProtobuf } from "@p2p-edge/libp2p";
 * const key = await generateKeyPair("Ed25519");
 * publicKeyToProtobuf(key.publicKey).length; // 36
 * ```
 */
export function publicKeyToProtobuf(key: PublicKey): Uint8Array {
  return encodeKeyMessage(key.type, key.raw);
}

/**
 * Encode a private key as a protobuf `PrivateKey` (deterministic).
 *
 * @example
 * ```ts
 * import { generateKeyPair, privateKeyToProtobuf } from "@p2p-edge/libp2p";
 * const key = await generateKeyPair("secp256k1");
 * privateKeyToProtobuf(key).length; // 36
 * ```
 */
export function privateKeyToProtobuf(key: PrivateKey): Uint8Array {
  return encodeKeyMessage(key.type, key.raw);
}

/**
 * Decoder for keys inlined in identity-multihash peer ids. Only what peerIdFromPublicKey would
 * produce is accepted: the canonical encoding, at most MAX_INLINE_KEY_LENGTH (42) bytes (longer
 * keys get sha2-256 ids, peer-ids.md §Peer Ids). So one key has exactly one peer id (HARDENING
 * rule 6: a key must map back to the id it is bound to).
 */
function decodeInlineKey(bytes: Uint8Array): PublicKey {
  if (bytes.byteLength > MAX_INLINE_KEY_LENGTH) {
    throw new DecodeError(
      `identity peer id embeds ${bytes.byteLength} bytes; keys above 42 bytes are hashed`,
    );
  }
  const key = publicKeyFromProtobuf(bytes);
  if (!bytesEqual(publicKeyToProtobuf(key), bytes)) {
    throw new DecodeError("peer id embeds a non-canonical public key encoding");
  }
  return key;
}

registerInlineKeyDecoder(decodeInlineKey);
