/**
 * ECDSA P-256 keys (libp2p/specs peer-ids/peer-ids.md "ECDSA"), signing and verifying through
 * WebCrypto; @noble/curves only validates points and derives the public key synchronously.
 *
 * Encodings, as go-libp2p core/crypto/ecdsa.go writes them:
 * - public `Data`: DER SubjectPublicKeyInfo (x509.MarshalPKIXPublicKey, RFC 5480), uncompressed
 *   point. js-libp2p (@libp2p/crypto 5.x) writes instead `SEQUENCE { INTEGER 1, [0] { curve OID },
 *   [1] { BIT STRING point } }` and cannot read PKIX; that form is accepted here on decode and
 *   re-encoded as PKIX.
 * - private `Data`: DER SEC1 ECPrivateKey (x509.MarshalECPrivateKey, RFC 5915) with the curve
 *   `[0]` and the public key `[1]`; js-libp2p writes the same.
 * - signatures: DER ECDSA-Sig-Value over SHA-256(message). js-libp2p signs with raw `r || s`
 *   (64 bytes) instead; verification accepts that form too when the bytes are not valid DER.
 *
 * Only the P-256 curve is supported (go-libp2p generates only P-256); other curves are
 * UnsupportedKeyTypeError.
 *
 * @module
 */

import { p256 } from "@noble/curves/nist.js";
import { base64urlnopad } from "@scure/base";
import { equals as bytesEqual } from "../bytes.ts";
import { DecodeError, UnsupportedKeyTypeError } from "../errors.ts";
import { OID_EC_PUBLIC_KEY, OID_P256, P256_BYTES } from "./constants.ts";
import {
  derBitString,
  derContext,
  derOctetString,
  derOid,
  DerReader,
  derSequence,
  derSmallInteger,
  DerTag,
  ecdsaSignatureFromDer,
  ecdsaSignatureToDer,
  leftPad,
} from "./der.ts";
import type { PrivateKey, PublicKey } from "./types.ts";

const ALGORITHM = { name: "ECDSA", namedCurve: "P-256" } as const;
const SIGN_PARAMS = { name: "ECDSA", hash: "SHA-256" } as const;
const POINT_BYTES = 1 + 2 * P256_BYTES;

function checkCurve(oid: Uint8Array): void {
  if (!bytesEqual(oid, OID_P256)) {
    throw new UnsupportedKeyTypeError("ECDSA keys on curves other than P-256 are not supported");
  }
}

/** Validate an uncompressed point (0x04 || X || Y) on P-256; returns a copy. */
function checkPoint(point: Uint8Array): Uint8Array {
  if (point.byteLength !== POINT_BYTES || point[0] !== 0x04) {
    throw new DecodeError("ECDSA public key must be an uncompressed P-256 point");
  }
  try {
    p256.Point.fromBytes(point);
  } catch (cause) {
    throw new DecodeError("ECDSA public key is not a point on P-256", { cause });
  }
  return point.slice();
}

/** SubjectPublicKeyInfo (RFC 5480 §2) of an uncompressed P-256 point. */
function encodeSpki(point: Uint8Array): Uint8Array {
  return derSequence([
    derSequence([derOid(OID_EC_PUBLIC_KEY), derOid(OID_P256)]),
    derBitString(point),
  ]);
}

/**
 * Decode ECDSA public `Data`: PKIX SubjectPublicKeyInfo, or js-libp2p's
 * `SEQUENCE { 1, [0] OID, [1] BIT STRING }`. Returns the uncompressed point.
 */
function decodePublicData(data: Uint8Array): Uint8Array {
  const outer = new DerReader(data);
  const seq = outer.readSequence();
  outer.end();
  if (seq.peekTag() === DerTag.INTEGER) {
    // js-libp2p's form.
    if (seq.readSmallInteger() !== 1) throw new DecodeError("ECDSA public key: bad version");
    const params = seq.readContext(0);
    checkCurve(params.readOid());
    params.end();
    const pub = seq.readContext(1);
    const point = pub.readBitString();
    pub.end();
    seq.end();
    return checkPoint(point);
  }
  const algorithm = seq.readSequence();
  if (!bytesEqual(algorithm.readOid(), OID_EC_PUBLIC_KEY)) {
    throw new UnsupportedKeyTypeError("ECDSA public key: algorithm is not id-ecPublicKey");
  }
  checkCurve(algorithm.readOid());
  algorithm.end();
  const point = seq.readBitString();
  seq.end();
  return checkPoint(point);
}

/**
 * An ECDSA P-256 public key.
 *
 * @example
 * ```ts
 * import { generateEcdsa } from "./ecdsa.ts";
 * const key = await generateEcdsa();
 * await key.publicKey.verify(new Uint8Array([1]), await key.sign(new Uint8Array([1]))); // true
 * ```
 */
export class EcdsaPublicKey implements PublicKey {
  /** Always "ECDSA". */
  readonly type = "ECDSA" as const;
  /** DER SubjectPublicKeyInfo. */
  readonly raw: Uint8Array;
  /** The uncompressed point 0x04 || X || Y. */
  readonly point: Uint8Array;
  #cryptoKey: Promise<CryptoKey> | undefined;

  /** Decode public `Data` (see the module notes). Throws DecodeError/UnsupportedKeyTypeError. */
  constructor(data: Uint8Array) {
    this.point = decodePublicData(data);
    this.raw = encodeSpki(this.point);
  }

  /** @internal Build from an already validated uncompressed point. */
  static fromPoint(point: Uint8Array): EcdsaPublicKey {
    return new EcdsaPublicKey(encodeSpki(checkPoint(point)));
  }

  /**
   * Verify a DER (or, for js-libp2p, raw `r || s`) signature over SHA-256(data). High and low S
   * are both accepted. Never throws.
   */
  async verify(data: Uint8Array, signature: Uint8Array): Promise<boolean> {
    let compact = ecdsaSignatureFromDer(signature, P256_BYTES);
    if (compact === undefined && signature.byteLength === 2 * P256_BYTES) compact = signature;
    if (compact === undefined) return false;
    try {
      this.#cryptoKey ??= crypto.subtle.importKey(
        "raw",
        this.point as BufferSource,
        ALGORITHM,
        false,
        ["verify"],
      );
      const key = await this.#cryptoKey;
      return await crypto.subtle.verify(
        SIGN_PARAMS,
        key,
        compact as BufferSource,
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
 * An ECDSA P-256 private key.
 *
 * @example
 * ```ts
 * import { generateEcdsa } from "./ecdsa.ts";
 * const key = await generateEcdsa();
 * console.log(key.raw[0]); // 0x30 (DER SEC1 ECPrivateKey)
 * ```
 */
export class EcdsaPrivateKey implements PrivateKey {
  /** Always "ECDSA". */
  readonly type = "ECDSA" as const;
  /** DER SEC1 ECPrivateKey with curve and public key, as go-libp2p writes it. */
  readonly raw: Uint8Array;
  /** The matching public key. */
  readonly publicKey: EcdsaPublicKey;
  readonly #d: Uint8Array;
  #cryptoKey: Promise<CryptoKey> | undefined;

  /**
   * Decode SEC1 ECPrivateKey `Data` (RFC 5915 §3). The curve parameters `[0]` must name P-256;
   * the optional public key `[1]`, when present, must match the scalar. Throws DecodeError or
   * UnsupportedKeyTypeError.
   */
  constructor(data: Uint8Array, cryptoKey?: CryptoKey) {
    const outer = new DerReader(data);
    const seq = outer.readSequence();
    outer.end();
    if (seq.readSmallInteger() !== 1) throw new DecodeError("ECPrivateKey: version must be 1");
    const d = leftPad(seq.readOctetString(), P256_BYTES);
    if (d === undefined) throw new DecodeError("ECPrivateKey: private key longer than 32 bytes");
    if (seq.peekTag() !== 0xa0) throw new DecodeError("ECPrivateKey: curve parameters missing");
    const params = seq.readContext(0);
    checkCurve(params.readOid());
    params.end();
    let embedded: Uint8Array | undefined;
    if (seq.peekTag() === 0xa1) {
      const pub = seq.readContext(1);
      embedded = pub.readBitString();
      pub.end();
    }
    seq.end();
    if (!p256.utils.isValidSecretKey(d)) throw new DecodeError("ECPrivateKey: scalar out of range");
    const point = p256.getPublicKey(d, false);
    if (embedded !== undefined && !bytesEqual(embedded, point)) {
      throw new DecodeError("ECPrivateKey: embedded public key does not match the private key");
    }
    this.#d = d;
    this.publicKey = EcdsaPublicKey.fromPoint(point);
    this.raw = derSequence([
      derSmallInteger(1),
      derOctetString(d),
      derContext(0, [derOid(OID_P256)]),
      derContext(1, [derBitString(point)]),
    ]);
    if (cryptoKey !== undefined) this.#cryptoKey = Promise.resolve(cryptoKey);
  }

  /** DER ECDSA signature over SHA-256(data) (random nonce, WebCrypto). */
  async sign(data: Uint8Array): Promise<Uint8Array> {
    try {
      this.#cryptoKey ??= crypto.subtle.importKey(
        "jwk",
        {
          kty: "EC",
          crv: "P-256",
          d: base64urlnopad.encode(this.#d),
          x: base64urlnopad.encode(this.publicKey.point.subarray(1, 1 + P256_BYTES)),
          y: base64urlnopad.encode(this.publicKey.point.subarray(1 + P256_BYTES)),
        },
        ALGORITHM,
        false,
        ["sign"],
      );
      const key = await this.#cryptoKey;
      const compact = new Uint8Array(
        await crypto.subtle.sign(SIGN_PARAMS, key, data as BufferSource),
      );
      return ecdsaSignatureToDer(compact);
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

/**
 * A new random ECDSA P-256 key (WebCrypto).
 *
 * @example
 * ```ts
 * import { generateEcdsa } from "./ecdsa.ts";
 * (await generateEcdsa()).publicKey.raw.length; // 91
 * ```
 */
export async function generateEcdsa(): Promise<EcdsaPrivateKey> {
  const pair = await crypto.subtle.generateKey(ALGORITHM, true, ["sign", "verify"]);
  const jwk = await crypto.subtle.exportKey("jwk", pair.privateKey);
  if (jwk.d === undefined) throw new TypeError("WebCrypto exported an EC key without d");
  const d = leftPad(base64urlnopad.decode(jwk.d), P256_BYTES);
  if (d === undefined) throw new TypeError("WebCrypto exported an oversized EC scalar");
  // Only the scalar is needed: the constructor derives and checks the public key.
  const sec1 = derSequence([
    derSmallInteger(1),
    derOctetString(d),
    derContext(0, [derOid(OID_P256)]),
  ]);
  return new EcdsaPrivateKey(sec1, pair.privateKey);
}
