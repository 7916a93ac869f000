/**
 * Self-signed X.509 certificates for WebTransport listeners, built in DER with WebCrypto only
 * (libp2p/specs webtransport/README.md "Certificates"; W3C WebTransport
 * `serverCertificateHashes`: an X.509v3 certificate with an ECDSA key, valid at most 14 days).
 *
 * The certificate is the smallest one browsers and rustls accept: v3, random positive serial,
 * ecdsa-with-SHA256, issuer = subject = `CN=libp2p`, one critical basicConstraints (CA:FALSE)
 * extension, an ECDSA P-256 key. Its certhash is the sha2-256 multihash of the DER bytes.
 *
 * @module
 */

import { equals, randomBytes } from "../../src/bytes.ts";
import { DecodeError } from "../../src/errors.ts";
import {
  derBitString,
  derContext,
  derOctetString,
  derOid,
  DerReader,
  derSequence,
  derSmallInteger,
  DerTag,
  derTlv,
  derUnsignedInteger,
  ecdsaSignatureToDer,
} from "../../src/keys/der.ts";
import { type Multihash, sha256Multihash } from "../../src/multiformats/multihash.ts";
import { MAX_CERT_VALIDITY_MS } from "./constants.ts";

// OID contents (X.690 §8.19): 1.2.840.10045.4.3.2 ecdsa-with-SHA256 (RFC 5758 §3.2)
const OID_ECDSA_SHA256 = new Uint8Array([0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x02]);
// 2.5.4.3 commonName, 2.5.29.19 basicConstraints (RFC 5280 §4.1.2.4, §4.2.1.9)
const OID_COMMON_NAME = new Uint8Array([0x55, 0x04, 0x03]);
const OID_BASIC_CONSTRAINTS = new Uint8Array([0x55, 0x1d, 0x13]);
// 1.2.840.10045.2.1 id-ecPublicKey, 1.2.840.10045.3.1.7 prime256v1 (RFC 5480 §2.1.1)
const OID_EC_PUBLIC_KEY = new Uint8Array([0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01]);
const OID_P256 = new Uint8Array([0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07]);

const TAG_BOOLEAN = 0x01;
const TAG_UTF8_STRING = 0x0c;
const TAG_SET = 0x31;
const TAG_UTC_TIME = 0x17;
const TAG_GENERALIZED_TIME = 0x18;
/** Bytes of the random serial number (RFC 5280 §4.1.2.2: positive, at most 20 octets). */
const SERIAL_BYTES = 16;
/** The common name of issuer and subject: identifies nothing on purpose. */
const COMMON_NAME = "libp2p";

/**
 * A listener certificate: DER, PEM forms for runtime APIs, its certhash and validity.
 *
 * @example
 * ```ts
 * import { generateCertificate } from "@p2p-edge/libp2p/transports/webtransport";
 * const now = Date.now();
 * const cert = await generateCertificate({ notBefore: now, notAfter: now + 86_400_000 });
 * cert.certhash.code; // 0x12 (sha2-256)
 * ```
 */
export interface WebTransportCertificate {
  /** The certificate in DER. */
  readonly der: Uint8Array;
  /** The certificate as PEM ("CERTIFICATE"). */
  readonly certPem: string;
  /** The private key as PEM PKCS#8 ("PRIVATE KEY"). */
  readonly keyPem: string;
  /** sha2-256 multihash of `der`: what `/certhash/` carries. */
  readonly certhash: Multihash;
  /** Start of validity, ms since the epoch (whole seconds). */
  readonly notBefore: number;
  /** End of validity, ms since the epoch (whole seconds). */
  readonly notAfter: number;
}

/** Options of {@link generateCertificate}. */
export interface GenerateCertificateOptions {
  /** Start of validity, ms since the epoch (truncated to seconds). */
  notBefore: number;
  /** End of validity, ms since the epoch (truncated to seconds); at most 14 days after start. */
  notAfter: number;
  /** An ECDSA P-256 key pair to certify (extractable private key). Default: a fresh one. */
  keyPair?: CryptoKeyPair;
}

/** The fields of a parsed certificate (what tests and diagnostics need). */
export interface ParsedCertificate {
  /** X.509 version number as encoded (2 = v3). */
  readonly version: number;
  /** Serial number magnitude. */
  readonly serial: Uint8Array;
  /** Validity, ms since the epoch. */
  readonly notBefore: number;
  /** Validity end, ms since the epoch. */
  readonly notAfter: number;
  /** Uncompressed P-256 public point (65 bytes). */
  readonly publicKey: Uint8Array;
  /** The DER of tbsCertificate (what the signature covers). */
  readonly tbs: Uint8Array;
  /** The signature, DER ECDSA-Sig-Value. */
  readonly signature: Uint8Array;
  /** Issuer and subject common names. */
  readonly issuer: string;
  /** Subject common name. */
  readonly subject: string;
}

function algorithmIdentifier(): Uint8Array {
  // RFC 5758 §3.2: the parameters field MUST be absent for ecdsa-with-SHA256.
  return derSequence([derOid(OID_ECDSA_SHA256)]);
}

function name(cn: string): Uint8Array {
  const attr = derSequence([
    derOid(OID_COMMON_NAME),
    derTlv(TAG_UTF8_STRING, [new TextEncoder().encode(cn)]),
  ]);
  return derSequence([derTlv(TAG_SET, [attr])]);
}

function two(n: number): string {
  return String(n).padStart(2, "0");
}

/** RFC 5280 §4.1.2.5: UTCTime through 2049, GeneralizedTime from 2050; always Zulu seconds. */
export function encodeTime(ms: number): Uint8Array {
  const d = new Date(Math.floor(ms / 1000) * 1000);
  const year = d.getUTCFullYear();
  if (year < 1950 || year > 9999) throw new RangeError(`year ${year} cannot be encoded`);
  const rest = two(d.getUTCMonth() + 1) + two(d.getUTCDate()) + two(d.getUTCHours()) +
    two(d.getUTCMinutes()) + two(d.getUTCSeconds()) + "Z";
  const text = year < 2050 ? two(year % 100) + rest : String(year) + rest;
  return derTlv(year < 2050 ? TAG_UTC_TIME : TAG_GENERALIZED_TIME, [
    new TextEncoder().encode(text),
  ]);
}

function decodeTime(reader: DerReader): number {
  const tag = reader.peekTag();
  if (tag !== TAG_UTC_TIME && tag !== TAG_GENERALIZED_TIME) {
    throw new DecodeError("certificate: validity is not a UTCTime or GeneralizedTime");
  }
  const text = new TextDecoder().decode(reader.read(tag));
  const match = tag === TAG_UTC_TIME
    ? /^(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})Z$/.exec(text)
    : /^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})Z$/.exec(text);
  if (match === null) throw new DecodeError(`certificate: bad time ${JSON.stringify(text)}`);
  let year = Number(match[1]);
  if (tag === TAG_UTC_TIME) year += year < 50 ? 2000 : 1900;
  const [mo, da, h, mi, s] = match.slice(2).map(Number);
  const ms = Date.UTC(year, mo - 1, da, h, mi, s);
  if (new Date(ms).getUTCDate() !== da || h > 23 || mi > 59 || s > 59) {
    throw new DecodeError(`certificate: invalid date ${JSON.stringify(text)}`);
  }
  return ms;
}

function toBase64(bytes: Uint8Array): string {
  let binary = "";
  for (let i = 0; i < bytes.byteLength; i += 0x8000) {
    binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  }
  return btoa(binary);
}

/**
 * PEM-encode DER bytes (RFC 7468: base64 in 64-character lines).
 *
 * @example
 * ```ts
 * import { toPem } from "@p2p-edge/libp2p/transports/webtransport";
 * toPem("CERTIFICATE", new Uint8Array([1, 2, 3]));
 * // "-----BEGIN CERTIFICATE-----\nAQID\n-----END CERTIFICATE-----\n"
 * ```
 */
export function toPem(label: string, der: Uint8Array): string {
  const b64 = toBase64(der);
  const lines: string[] = [];
  for (let i = 0; i < b64.length; i += 64) lines.push(b64.slice(i, i + 64));
  return `-----BEGIN ${label}-----\n${lines.join("\n")}\n-----END ${label}-----\n`;
}

/**
 * Generate a self-signed ECDSA P-256 certificate valid from `notBefore` to `notAfter`.
 * Throws RangeError when the validity is empty or longer than 14 days.
 *
 * @example
 * ```ts
 * import { generateCertificate } from "@p2p-edge/libp2p/transports/webtransport";
 * const now = Date.now();
 * const cert = await generateCertificate({ notBefore: now, notAfter: now + 3_600_000 });
 * cert.certPem.startsWith("-----BEGIN CERTIFICATE-----"); // true
 * ```
 */
export async function generateCertificate(
  options: GenerateCertificateOptions,
): Promise<WebTransportCertificate> {
  const notBefore = Math.floor(options.notBefore / 1000) * 1000;
  const notAfter = Math.floor(options.notAfter / 1000) * 1000;
  if (!Number.isFinite(notBefore) || !Number.isFinite(notAfter) || notAfter <= notBefore) {
    throw new RangeError("certificate validity must end after it starts");
  }
  if (notAfter - notBefore > MAX_CERT_VALIDITY_MS) {
    throw new RangeError("certificate validity must be at most 14 days (W3C WebTransport)");
  }
  const keyPair = options.keyPair ??
    await crypto.subtle.generateKey({ name: "ECDSA", namedCurve: "P-256" }, true, [
      "sign",
      "verify",
    ]);
  const spki = new Uint8Array(await crypto.subtle.exportKey("spki", keyPair.publicKey));
  const pkcs8 = new Uint8Array(await crypto.subtle.exportKey("pkcs8", keyPair.privateKey));
  const serial = randomBytes(SERIAL_BYTES);
  serial[0] = (serial[0] & 0x7f) | 0x01; // positive and non-zero, fixed length
  const basicConstraints = derSequence([
    derOid(OID_BASIC_CONSTRAINTS),
    derTlv(TAG_BOOLEAN, [new Uint8Array([0xff])]), // critical
    derOctetString(derSequence([])), // cA defaults to FALSE
  ]);
  const tbs = derSequence([
    derContext(0, [derSmallInteger(2)]), // v3
    derUnsignedInteger(serial),
    algorithmIdentifier(),
    name(COMMON_NAME),
    derSequence([encodeTime(notBefore), encodeTime(notAfter)]),
    name(COMMON_NAME),
    spki,
    derContext(3, [derSequence([basicConstraints])]),
  ]);
  const raw = new Uint8Array(
    await crypto.subtle.sign(
      { name: "ECDSA", hash: "SHA-256" },
      keyPair.privateKey,
      tbs as BufferSource,
    ),
  );
  const der = derSequence([tbs, algorithmIdentifier(), derBitString(ecdsaSignatureToDer(raw))]);
  return {
    der,
    certPem: toPem("CERTIFICATE", der),
    keyPem: toPem("PRIVATE KEY", pkcs8),
    certhash: await sha256Multihash(der),
    notBefore,
    notAfter,
  };
}

function readName(reader: DerReader): string {
  const seq = reader.readSequence();
  const set = new DerReader(seq.read(TAG_SET));
  seq.end();
  const attr = set.readSequence();
  set.end();
  if (!equals(attr.readOid(), OID_COMMON_NAME)) {
    throw new DecodeError("certificate: name is not a single common name");
  }
  const cn = new TextDecoder("utf-8", { fatal: true }).decode(attr.read(TAG_UTF8_STRING));
  attr.end();
  return cn;
}

function readAlgorithm(reader: DerReader): void {
  const alg = reader.readSequence();
  if (!equals(alg.readOid(), OID_ECDSA_SHA256)) {
    throw new DecodeError("certificate: signature algorithm is not ecdsa-with-SHA256");
  }
  alg.end();
}

/**
 * Parse a certificate of the shape {@link generateCertificate} writes (strict DER). Throws
 * DecodeError for anything else. It does not verify the signature.
 *
 * @example
 * ```ts
 * import { generateCertificate, parseCertificate } from "@p2p-edge/libp2p/transports/webtransport";
 * const now = Date.now();
 * const cert = await generateCertificate({ notBefore: now, notAfter: now + 3_600_000 });
 * parseCertificate(cert.der).version; // 2 (v3)
 * ```
 */
export function parseCertificate(der: Uint8Array): ParsedCertificate {
  const outer = new DerReader(der);
  const cert = outer.readSequence();
  outer.end();
  const tbsContents = cert.read(DerTag.SEQUENCE);
  readAlgorithm(cert);
  const sigBits = cert.readBitString();
  cert.end();
  const tbs = new DerReader(tbsContents);
  const versionBox = tbs.readContext(0);
  const version = versionBox.readSmallInteger();
  versionBox.end();
  const serial = tbs.readUnsignedInteger();
  readAlgorithm(tbs);
  const issuer = readName(tbs);
  const validity = tbs.readSequence();
  const notBefore = decodeTime(validity);
  const notAfter = decodeTime(validity);
  validity.end();
  const subject = readName(tbs);
  const spki = tbs.readSequence();
  const alg = spki.readSequence();
  if (!equals(alg.readOid(), OID_EC_PUBLIC_KEY) || !equals(alg.readOid(), OID_P256)) {
    throw new DecodeError("certificate: key is not an ECDSA P-256 key");
  }
  alg.end();
  const publicKey = spki.readBitString();
  spki.end();
  if (!tbs.done) tbs.readContext(3); // extensions
  tbs.end();
  return {
    version,
    serial,
    notBefore,
    notAfter,
    publicKey,
    tbs: derTlv(DerTag.SEQUENCE, [tbsContents]),
    signature: sigBits,
    issuer,
    subject,
  };
}
