/**
 * Peer ids (libp2p/specs peer-ids/peer-ids.md): a multihash of the protobuf-encoded public key,
 * identity (0x00) when that encoding is at most 42 bytes, sha2-256 (0x12) otherwise.
 *
 * Text forms: base58btc of the multihash (printed by default: `12D3KooW...`, `16Uiu2...`,
 * `Qm...`), or a CIDv1 with the libp2p-key codec in any multibase (`bafz...`, `k51...`).
 *
 * @module
 */

import { compactCopy, equals as bytesEqual } from "./bytes.ts";
import { DecodeError } from "./errors.ts";
import { CID, LIBP2P_KEY_CODEC } from "./multiformats/cid.ts";
import { base58btc } from "./multiformats/multibase.ts";
import {
  decodeMultihash,
  IDENTITY_CODE,
  type Multihash,
  SHA2_256_CODE,
} from "./multiformats/multihash.ts";
import type { KeyType, PublicKey } from "./keys/types.ts";

/** Encoded public keys up to this length are inlined in the peer id (identity multihash). */
export const MAX_INLINE_KEY_LENGTH = 42;

/**
 * Decodes an identity multihash's digest (a protobuf public key). Set by the keys module so
 * that this module does not import every key implementation.
 */
let inlineKeyDecoder: ((bytes: Uint8Array) => PublicKey) | undefined;

/** @internal Called by src/keys to let peer ids expose the keys they embed. */
export function registerInlineKeyDecoder(decode: (bytes: Uint8Array) => PublicKey): void {
  inlineKeyDecoder = decode;
}

/**
 * The identity of a peer.
 *
 * @example
 * ```ts
 * import { peerIdFromString } from "@p2p-edge/libp2p";
 * const id = peerIdFromString("12D3KooWD3eckifWpRn9wQpMG9R9hX3sD158z7EqHWmweQAJU5SA");
 * id.toString(); // the same base58btc text
 * id.toCID().toString(); // "bafzaa..."
 * ```
 */
export class PeerId {
  /** The multihash this peer id is. */
  readonly multihash: Multihash;
  /** The key type, when the id embeds the key (Ed25519, secp256k1); else undefined. */
  readonly type: KeyType | undefined;
  /** The public key, when the id embeds it or it was built from a key. */
  readonly publicKey: PublicKey | undefined;
  #text: string | undefined;

  /** Prefer peerIdFromString / peerIdFromPublicKey / peerIdFromBytes. */
  constructor(multihash: Multihash, publicKey?: PublicKey) {
    if (multihash.code !== IDENTITY_CODE && multihash.code !== SHA2_256_CODE) {
      throw new DecodeError(
        `peer id multihash must be identity or sha2-256, got ${multihash.code}`,
      );
    }
    this.multihash = multihash;
    if (publicKey === undefined && multihash.code === IDENTITY_CODE) {
      if (inlineKeyDecoder === undefined) {
        throw new TypeError("no key decoder registered: import the keys module");
      }
      publicKey = inlineKeyDecoder(multihash.digest);
    }
    this.publicKey = publicKey;
    this.type = multihash.code === IDENTITY_CODE ? publicKey?.type : undefined;
  }

  /** The binary form (the multihash bytes). */
  toBytes(): Uint8Array {
    return this.multihash.bytes;
  }

  /** base58btc text, the default form. */
  toString(): string {
    this.#text ??= base58btc.baseEncode(this.multihash.bytes);
    return this.#text;
  }

  /** CIDv1 with the libp2p-key codec; its `toString()` is base32. */
  toCID(): CID {
    return CID.create(LIBP2P_KEY_CODEC, this.multihash);
  }

  /** Same multihash bytes. Accepts another PeerId, its bytes or its text. */
  equals(other: PeerId | Uint8Array | string | undefined | null): boolean {
    if (other === undefined || other === null) return false;
    if (typeof other === "string") return this.toString() === other;
    if (other instanceof Uint8Array) return bytesEqual(this.multihash.bytes, other);
    return bytesEqual(this.multihash.bytes, other.multihash.bytes);
  }

  /** JSON form is the text form. */
  toJSON(): string {
    return this.toString();
  }
}

/**
 * Decode a peer id from its binary multihash form. Throws DecodeError.
 *
 * @example
 * ```ts
 * import { peerIdFromBytes, peerIdFromString } from "@p2p-edge/libp2p";
 * const id = peerIdFromString("QmYyQSo1c1Ym7orWxLYvCrM2EmxFTANf8wXmmE7DWjhx5N");
 * peerIdFromBytes(id.toBytes()).equals(id); // true
 * ```
 */
export function peerIdFromBytes(bytes: Uint8Array): PeerId {
  // Copied: `bytes` is often a view into a larger message that must not stay alive with it.
  return new PeerId(decodeMultihash(compactCopy(bytes)));
}

/**
 * Parse a peer id from text: base58btc multihash (`12D3KooW...`, `Qm...`, `16Uiu2...`) or a
 * CIDv1 with the libp2p-key codec in base32 (`bafz...`), base36 (`k...`) or another multibase.
 * Throws SyntaxError.
 *
 * @example
 * ```ts
 * import { peerIdFromString } from "@p2p-edge/libp2p";
 * peerIdFromString("QmYyQSo1c1Ym7orWxLYvCrM2EmxFTANf8wXmmE7DWjhx5N").toString();
 * ```
 */
export function peerIdFromString(text: string): PeerId {
  if (typeof text !== "string" || text.length === 0) {
    throw new SyntaxError("peer id text must be a non-empty string");
  }
  if (text.length > 256) throw new SyntaxError("peer id text is too long");
  try {
    // Bare base58btc multihashes start with "1" (identity) or "Q" (sha2-256); everything else
    // is a multibase-prefixed CID.
    if (text.charAt(0) === "1" || text.charAt(0) === "Q") {
      return peerIdFromBytes(base58btc.baseDecode(text));
    }
    const cid = CID.parse(text);
    if (cid.code !== LIBP2P_KEY_CODEC) {
      throw new SyntaxError(`CID codec 0x${cid.code.toString(16)} is not libp2p-key (0x72)`);
    }
    return new PeerId(cid.multihash);
  } catch (cause) {
    if (cause instanceof SyntaxError && cause.message.includes("libp2p-key")) throw cause;
    throw new SyntaxError(`invalid peer id ${JSON.stringify(text)}`, { cause });
  }
}
