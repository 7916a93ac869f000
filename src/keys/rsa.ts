/**
 * RSA keys (libp2p/specs peer-ids/peer-ids.md "RSA"): RSASSA-PKCS1-v1_5 with SHA-256 through
 * WebCrypto.
 *
 * Public `Data` is DER SubjectPublicKeyInfo (RFC 8017 `RSAPublicKey` inside PKIX, algorithm
 * rsaEncryption with NULL parameters, as x509.MarshalPKIXPublicKey writes it). Private `Data` is
 * DER PKCS#1 `RSAPrivateKey` (RFC 8017 §A.1.2, two primes); WebCrypto only imports PKCS#8, so the
 * PKCS#1 structure is wrapped into / unwrapped from PKCS#8 (RFC 5208) here.
 *
 * Moduli outside [MIN_RSA_BITS, MAX_RSA_BITS] (2048..8192 bits, go-libp2p's bounds) are refused
 * with LimitExceededError as soon as the modulus INTEGER has been read, before any arithmetic or
 * WebCrypto import. Decoding is synchronous: private keys are checked with a few bigint
 * identities (n = pq, ed = 1 mod p-1 and q-1, CRT values) so inconsistent keys fail at decode
 * rather than at the first signature.
 *
 * @module
 */

import { equals as bytesEqual } from "../bytes.ts";
import { DecodeError, LimitExceededError, UnsupportedKeyTypeError } from "../errors.ts";
import { MAX_RSA_BITS, MIN_RSA_BITS, OID_RSA_ENCRYPTION } from "./constants.ts";
import {
  bitLength,
  bytesToBigInt,
  derBitString,
  derNull,
  derOctetString,
  derOid,
  DerReader,
  derSequence,
  derSmallInteger,
  derUnsignedInteger,
} from "./der.ts";
import type { PrivateKey, PublicKey } from "./types.ts";

const ALGORITHM = { name: "RSASSA-PKCS1-v1_5", hash: "SHA-256" } as const;

/** Throw LimitExceededError unless the modulus size is within the accepted range. */
function checkModulus(n: Uint8Array): void {
  const bits = bitLength(n);
  if (bits < MIN_RSA_BITS) {
    throw new LimitExceededError(
      `RSA key of ${bits} bits is below the minimum of ${MIN_RSA_BITS}`,
      "MIN_RSA_BITS",
    );
  }
  if (bits > MAX_RSA_BITS) {
    throw new LimitExceededError(
      `RSA key of ${bits} bits is above the maximum of ${MAX_RSA_BITS}`,
      "MAX_RSA_BITS",
    );
  }
}

/** Public exponent: odd, at least 3, at most 2^31-1 (go's x509 bound). */
function readExponent(r: DerReader): number {
  const e = r.readSmallInteger();
  if (e < 3 || e % 2 === 0) throw new DecodeError(`RSA public exponent ${e} is invalid`);
  return e;
}

function exponentBytes(e: number): Uint8Array {
  const out = [];
  for (let v = e; v > 0; v = Math.floor(v / 256)) out.unshift(v & 0xff);
  return new Uint8Array(out);
}

/** rsaEncryption AlgorithmIdentifier with NULL parameters. */
function encodeAlgorithm(): Uint8Array {
  return derSequence([derOid(OID_RSA_ENCRYPTION), derNull()]);
}

function readAlgorithm(r: DerReader): void {
  const algorithm = r.readSequence();
  if (!bytesEqual(algorithm.readOid(), OID_RSA_ENCRYPTION)) {
    throw new UnsupportedKeyTypeError("RSA key: algorithm is not rsaEncryption");
  }
  algorithm.readNull();
  algorithm.end();
}

function encodeSpki(n: Uint8Array, e: number): Uint8Array {
  return derSequence([
    encodeAlgorithm(),
    derBitString(derSequence([derUnsignedInteger(n), derUnsignedInteger(exponentBytes(e))])),
  ]);
}

/**
 * An RSA public key.
 *
 * @example
 * ```ts
 * import { generateRsa } from "./rsa.ts";
 * const key = await generateRsa(2048);
 * await key.publicKey.verify(new Uint8Array([1]), await key.sign(new Uint8Array([1]))); // true
 * ```
 */
export class RsaPublicKey implements PublicKey {
  /** Always "RSA". */
  readonly type = "RSA" as const;
  /** DER SubjectPublicKeyInfo. */
  readonly raw: Uint8Array;
  /** Modulus size in bits. */
  readonly bits: number;
  #cryptoKey: Promise<CryptoKey> | undefined;

  /** Decode SubjectPublicKeyInfo `Data`. Throws DecodeError/LimitExceededError. */
  constructor(data: Uint8Array) {
    const outer = new DerReader(data);
    const spki = outer.readSequence();
    outer.end();
    readAlgorithm(spki);
    const inner = new DerReader(spki.readBitString());
    spki.end();
    const seq = inner.readSequence();
    inner.end();
    const n = seq.readUnsignedInteger();
    checkModulus(n);
    const e = readExponent(seq);
    seq.end();
    this.bits = bitLength(n);
    this.raw = encodeSpki(n, e);
  }

  /** Verify an RSASSA-PKCS1-v1_5 SHA-256 signature. Never throws. */
  async verify(data: Uint8Array, signature: Uint8Array): Promise<boolean> {
    if (signature.byteLength !== Math.ceil(this.bits / 8)) return false;
    try {
      this.#cryptoKey ??= crypto.subtle.importKey(
        "spki",
        this.raw as BufferSource,
        ALGORITHM,
        false,
        ["verify"],
      );
      const key = await this.#cryptoKey;
      return await crypto.subtle.verify(
        ALGORITHM.name,
        key,
        signature as BufferSource,
        data as BufferSource,
      );
    } catch {
      this.#cryptoKey = undefined;
      return false;
    }
  }

  /** Same type and bytes. */
  equals(other: PublicKey): boolean {
    return other?.type === this.type && bytesEqual(this.raw, other.raw);
  }
}

/**
 * An RSA private key.
 *
 * @example
 * ```ts
 * import { generateRsa } from "./rsa.ts";
 * const key = await generateRsa(2048);
 * console.log(key.publicKey.bits); // 2048
 * ```
 */
export class RsaPrivateKey implements PrivateKey {
  /** Always "RSA". */
  readonly type = "RSA" as const;
  /** DER PKCS#1 RSAPrivateKey. */
  readonly raw: Uint8Array;
  /** The matching public key. */
  readonly publicKey: RsaPublicKey;
  #cryptoKey: Promise<CryptoKey> | undefined;

  /**
   * Decode PKCS#1 RSAPrivateKey `Data`. The modulus size is checked first; then the key's
   * internal consistency. Throws DecodeError, LimitExceededError or UnsupportedKeyTypeError.
   */
  constructor(data: Uint8Array, cryptoKey?: CryptoKey) {
    const outer = new DerReader(data);
    const seq = outer.readSequence();
    outer.end();
    const version = seq.readSmallInteger();
    if (version !== 0) {
      throw new UnsupportedKeyTypeError("multi-prime RSA private keys are not supported");
    }
    const n = seq.readUnsignedInteger();
    checkModulus(n);
    const e = readExponent(seq);
    const rest: Uint8Array[] = [];
    for (let i = 0; i < 6; i++) rest.push(seq.readUnsignedInteger());
    seq.end();
    const [d, p, q, dp, dq, qinv] = rest;
    checkConsistency(n, e, d, p, q, dp, dq, qinv);
    this.raw = derSequence([
      derSmallInteger(0),
      derUnsignedInteger(n),
      derUnsignedInteger(exponentBytes(e)),
      ...rest.map(derUnsignedInteger),
    ]);
    this.publicKey = new RsaPublicKey(encodeSpki(n, e));
    if (cryptoKey !== undefined) this.#cryptoKey = Promise.resolve(cryptoKey);
  }

  /** RSASSA-PKCS1-v1_5 SHA-256 signature (deterministic). */
  async sign(data: Uint8Array): Promise<Uint8Array> {
    try {
      this.#cryptoKey ??= crypto.subtle.importKey(
        "pkcs8",
        pkcs1ToPkcs8(this.raw) as BufferSource,
        ALGORITHM,
        false,
        ["sign"],
      );
      const key = await this.#cryptoKey;
      return new Uint8Array(await crypto.subtle.sign(ALGORITHM.name, key, data as BufferSource));
    } catch (err) {
      this.#cryptoKey = undefined;
      throw err;
    }
  }

  /** Same type and bytes. */
  equals(other: PrivateKey): boolean {
    return other?.type === this.type && bytesEqual(this.raw, other.raw);
  }
}

function checkConsistency(
  nBytes: Uint8Array,
  e: number,
  ...parts: Uint8Array[]
): void {
  const n = bytesToBigInt(nBytes);
  const [d, p, q, dp, dq, qinv] = parts.map(bytesToBigInt);
  const E = BigInt(e);
  const ok = p > 1n && q > 1n && d > 1n && p * q === n &&
    (E * d) % (p - 1n) === 1n && (E * d) % (q - 1n) === 1n &&
    dp === d % (p - 1n) && dq === d % (q - 1n) &&
    qinv < p && (qinv * q) % p === 1n;
  if (!ok) throw new DecodeError("RSA private key is not internally consistent");
}

/**
 * Wrap PKCS#1 RSAPrivateKey DER into PKCS#8 PrivateKeyInfo (RFC 5208 §5).
 *
 * @example
 * ```ts
 * import { pkcs1ToPkcs8 } from "./rsa.ts";
 * pkcs1ToPkcs8(new Uint8Array([0x30, 0])).length; // 26
 * ```
 */
export function pkcs1ToPkcs8(pkcs1: Uint8Array): Uint8Array {
  return derSequence([derSmallInteger(0), encodeAlgorithm(), derOctetString(pkcs1)]);
}

/**
 * Unwrap PKCS#8 PrivateKeyInfo DER (rsaEncryption) to the PKCS#1 RSAPrivateKey inside.
 * Throws DecodeError/UnsupportedKeyTypeError.
 *
 * @example
 * ```ts
 * import { pkcs1ToPkcs8, pkcs8ToPkcs1 } from "./rsa.ts";
 * pkcs8ToPkcs1(pkcs1ToPkcs8(new Uint8Array([0x30, 0]))); // Uint8Array [0x30, 0]
 * ```
 */
export function pkcs8ToPkcs1(pkcs8: Uint8Array): Uint8Array {
  const outer = new DerReader(pkcs8);
  const seq = outer.readSequence();
  outer.end();
  if (seq.readSmallInteger() !== 0) throw new DecodeError("PKCS#8: unsupported version");
  readAlgorithm(seq);
  const pkcs1 = seq.readOctetString();
  // Optional attributes [0] may follow; they carry nothing a libp2p key needs.
  return pkcs1;
}

/**
 * A new random RSA key (WebCrypto, public exponent 65537). Throws RangeError when `bits` is
 * outside [MIN_RSA_BITS, MAX_RSA_BITS] or not a multiple of 8.
 *
 * @example
 * ```ts
 * import { generateRsa } from "./rsa.ts";
 * (await generateRsa(2048)).publicKey.bits; // 2048
 * ```
 */
export async function generateRsa(bits: number): Promise<RsaPrivateKey> {
  if (!Number.isInteger(bits) || bits < MIN_RSA_BITS || bits > MAX_RSA_BITS || bits % 8 !== 0) {
    throw new RangeError(
      `RSA key size must be a multiple of 8 in [${MIN_RSA_BITS}, ${MAX_RSA_BITS}], got ${bits}`,
    );
  }
  const pair = await crypto.subtle.generateKey(
    { ...ALGORITHM, modulusLength: bits, publicExponent: new Uint8Array([1, 0, 1]) },
    true,
    ["sign", "verify"],
  );
  const pkcs8 = new Uint8Array(await crypto.subtle.exportKey("pkcs8", pair.privateKey));
  return new RsaPrivateKey(pkcs8ToPkcs1(pkcs8), pair.privateKey);
}
