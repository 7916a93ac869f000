/**
 * fast-check arbitraries for valid values of the core formats: multihashes, multiaddr
 * components, peer ids and keys (built deterministically from generated seeds, so a failing
 * case replays from fast-check's seed alone).
 *
 * @module
 */

import fc from "fast-check";
import { createMultihash, IDENTITY_CODE, SHA2_256_CODE } from "../../src/multiformats/multihash.ts";
import { encodeUvarint } from "../../src/varint.ts";
import { concat } from "../../src/bytes.ts";
import {
  generateKeyPairFromSeed,
  privateKeyFromRaw,
  publicKeyToProtobuf,
} from "../../src/keys/mod.ts";
import type { PrivateKey } from "../../src/keys/mod.ts";
import {
  CODE_CERTHASH,
  CODE_DCCP,
  CODE_DNS,
  CODE_DNS4,
  CODE_DNS6,
  CODE_DNSADDR,
  CODE_HTTP_PATH,
  CODE_IP4,
  CODE_IP6,
  CODE_IP6ZONE,
  CODE_IPCIDR,
  CODE_MEMORY,
  CODE_ONION,
  CODE_ONION3,
  CODE_P2P,
  CODE_SCTP,
  CODE_SNI,
  CODE_TCP,
  CODE_UDP,
  CODE_UNIX,
  PROTOCOL_TABLE,
} from "../../src/multiaddr/mod.ts";
import { bytes } from "./fuzz.ts";

/** A non-empty Unicode string (valid UTF-16, no lone surrogates) without "/". */
export const nameText: fc.Arbitrary<string> = fc
  .string({ unit: "binary", minLength: 1, maxLength: 16 })
  .filter((s) => !s.includes("/"));

/** Any non-empty Unicode string (for percent-encoded values: unix, http-path). */
export const anyText: fc.Arbitrary<string> = fc.string({
  unit: "binary",
  minLength: 1,
  maxLength: 24,
});

/** A sha2-256 multihash (random 32-byte digest). */
export const sha256Multihash: fc.Arbitrary<Uint8Array> = fc
  .uint8Array({ minLength: 32, maxLength: 32 })
  .map((d) => createMultihash(SHA2_256_CODE, d).bytes);

/** A multihash with any code and digest (certhash values). */
export const anyMultihash: fc.Arbitrary<Uint8Array> = fc.oneof(
  sha256Multihash,
  fc.record({
    code: fc.integer({ min: 0, max: 0xffff }).filter((c) => c !== SHA2_256_CODE),
    d: bytes(48),
  })
    .map(({ code, d }) => createMultihash(code, d).bytes),
);

/** A 32-byte Ed25519 seed. */
export const seed32: fc.Arbitrary<Uint8Array> = fc
  .uint8Array({ minLength: 32, maxLength: 32 })
  .map((b) => new Uint8Array(b));

/** An Ed25519 private key derived from a generated seed. */
export const ed25519Key: fc.Arbitrary<PrivateKey> = seed32.map((s) =>
  generateKeyPairFromSeed("Ed25519", s)
);

// secp256k1 group order n: a 32-byte scalar is a valid private key when 0 < k < n.
const SECP256K1_N = 0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141n;

/** A secp256k1 private key from a generated scalar. */
export const secp256k1Key: fc.Arbitrary<PrivateKey> = fc
  .bigInt({ min: 1n, max: SECP256K1_N - 1n })
  .map((k) => {
    const raw = new Uint8Array(32);
    for (let i = 31, v = k; i >= 0; i--, v >>= 8n) raw[i] = Number(v & 0xffn);
    return privateKeyFromRaw("secp256k1", raw);
  });

/** Peer id bytes: an identity multihash of an inlined key, or a sha2-256 multihash. */
export const peerIdBytes: fc.Arbitrary<Uint8Array> = fc.oneof(
  ed25519Key.map((k) => createMultihash(IDENTITY_CODE, publicKeyToProtobuf(k.publicKey)).bytes),
  secp256k1Key.map((k) => createMultihash(IDENTITY_CODE, publicKeyToProtobuf(k.publicKey)).bytes),
  sha256Multihash,
);

const port = fc.integer({ min: 0, max: 65535 }).map((p) => Uint8Array.of(p >> 8, p & 0xff));
const fixed = (n: number) =>
  fc.uint8Array({ minLength: n, maxLength: n }).map((b) => new Uint8Array(b));
const utf8 = (s: string) => new TextEncoder().encode(s);
const onion = (hash: number) =>
  fc.tuple(fixed(hash), fc.integer({ min: 1, max: 65535 })).map(([h, p]) =>
    concat([h, Uint8Array.of(p >> 8, p & 0xff)])
  );

/** The value bytes a component with this code may carry (undefined: no value). */
function valueFor(code: number): fc.Arbitrary<Uint8Array> | undefined {
  switch (code) {
    case CODE_IP4:
      return fixed(4);
    case CODE_IP6:
      return fixed(16);
    case CODE_TCP:
    case CODE_UDP:
    case CODE_DCCP:
    case CODE_SCTP:
      return port;
    case CODE_IPCIDR:
      return fixed(1);
    case CODE_IP6ZONE:
    case CODE_DNS:
    case CODE_DNS4:
    case CODE_DNS6:
    case CODE_DNSADDR:
    case CODE_SNI:
    case CODE_MEMORY:
      return nameText.map(utf8);
    case CODE_UNIX:
    case CODE_HTTP_PATH:
      return anyText.map(utf8);
    case CODE_P2P:
      return peerIdBytes;
    case CODE_CERTHASH:
      return anyMultihash;
    case CODE_ONION:
      return onion(10);
    case CODE_ONION3:
      return onion(35);
  }
  return undefined;
}

/** One valid binary multiaddr component. */
export const multiaddrComponent: fc.Arbitrary<Uint8Array> = fc
  .constantFrom(...PROTOCOL_TABLE)
  .chain((p) => {
    const value = valueFor(p.code);
    if (p.size !== 0 && value === undefined) throw new Error(`no arbitrary for ${p.name}`);
    if (value === undefined) return fc.constant(encodeUvarint(p.code));
    return value.map((v) =>
      concat(
        p.size === -1
          ? [encodeUvarint(p.code), encodeUvarint(v.byteLength), v]
          : [encodeUvarint(p.code), v],
      )
    );
  });

/** A valid binary multiaddr of up to `max` components (within the size limits). */
export function multiaddrBytes(max = 6): fc.Arbitrary<Uint8Array> {
  return fc.array(multiaddrComponent, { maxLength: max }).map((parts) => concat(parts));
}
