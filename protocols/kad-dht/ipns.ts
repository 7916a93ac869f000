/**
 * IPNS records (ipfs/specs `ipns-record.md`): decoding, verification and selection, as the DHT's
 * `/ipns` validator needs them. No I/O and no clock: `now` (milliseconds since the epoch) is
 * passed in.
 *
 * ```proto
 * message IpnsEntry {
 *   optional bytes value = 1; optional bytes signatureV1 = 2; optional ValidityType validityType = 3;
 *   optional bytes validity = 4; optional uint64 sequence = 5; optional uint64 ttl = 6;
 *   optional bytes pubKey = 7; optional bytes signatureV2 = 8; optional bytes data = 9;
 * }
 * ```
 *
 * Verification follows §Record Verification in order and fails on the first error: the size
 * cap before parsing; `signatureV2` and `data` present; the public key from `pubKey` (which must
 * hash to the name: HARDENING.md rule 6) or inlined in an identity-multihash name; the signature
 * over `"ipns-signature:" ‖ data`; the V1 protobuf fields equal to the CBOR ones when
 * `signatureV1` or `value` is present; the EOL validity later than now. `signatureV1` is never
 * checked.
 *
 * @module
 */

import { concat, equals, utf8Encode } from "../../src/bytes.ts";
import { DecodeError, Libp2pError } from "../../src/errors.ts";
import { publicKeyFromProtobuf } from "../../src/keys/protobuf.ts";
import { peerIdFromPublicKey } from "../../src/keys/peer_id_from_key.ts";
import type { PublicKey } from "../../src/keys/types.ts";
import { decodeMultihash, IDENTITY_CODE } from "../../src/multiformats/multihash.ts";
import { ProtobufReader, WireType } from "../../src/protobuf.ts";
import { decodeCbor } from "./cbor.ts";
import { MAX_IPNS_RECORD_BYTES } from "./constants.ts";

/**
 * A record failed validation (bad signature, wrong key, expired, unknown namespace, ...).
 *
 * @example
 * ```ts
 * import { RecordValidationError } from "@p2p-edge/libp2p/protocols/kad-dht";
 * new RecordValidationError("expired").message; // "expired"
 * ```
 */
export class RecordValidationError extends Libp2pError {}

/** Prefix of the bytes signed by `signatureV2`. */
export const IPNS_SIGNATURE_PREFIX: Uint8Array = utf8Encode("ipns-signature:");

/** The DHT key prefix of IPNS records: `"/ipns/" ‖ binary name`. */
export const IPNS_KEY_PREFIX: Uint8Array = utf8Encode("/ipns/");

/** `validityType` EOL: `validity` is an RFC 3339 end of life. */
export const IPNS_VALIDITY_EOL = 0n;

/** A decoded `IpnsEntry` protobuf (absent fields are undefined). */
export interface IpnsEntry {
  /** 1: V1 value (a path). */
  value?: Uint8Array;
  /** 2: legacy V1 signature (never verified). */
  signatureV1?: Uint8Array;
  /** 3: V1 validity type (0 = EOL). */
  validityType?: bigint;
  /** 4: V1 validity (RFC 3339 EOL). */
  validity?: Uint8Array;
  /** 5: V1 sequence number. */
  sequence?: bigint;
  /** 6: V1 TTL in nanoseconds. */
  ttl?: bigint;
  /** 7: protobuf public key, when the name does not inline it. */
  pubKey?: Uint8Array;
  /** 8: signature over `"ipns-signature:" ‖ data`. */
  signatureV2?: Uint8Array;
  /** 9: the signed DAG-CBOR document. */
  data?: Uint8Array;
}

/** The signed fields of the CBOR `data`. */
export interface IpnsData {
  /** `Value`: the path the name points to. */
  value: Uint8Array;
  /** `Validity`: RFC 3339 end of life when `validityType` is 0. */
  validity: Uint8Array;
  /** `ValidityType`: 0 = EOL. */
  validityType: bigint;
  /** `Sequence`: higher wins. */
  sequence: bigint;
  /** `TTL`: cache lifetime in nanoseconds. */
  ttl: bigint;
}

/** A verified record. */
export interface VerifiedIpnsRecord {
  /** The decoded protobuf. */
  entry: IpnsEntry;
  /** The signed fields. */
  data: IpnsData;
  /** End of life in milliseconds since the epoch (sub-millisecond part dropped). */
  eolMs: number;
  /** The key that signed it. */
  publicKey: PublicKey;
}

/**
 * Decode an `IpnsEntry`, checking the size cap before parsing. Throws
 * {@link RecordValidationError} when too large, {@link DecodeError} when malformed.
 *
 * @example
 * ```ts
 * import { decodeIpnsEntry } from "@p2p-edge/libp2p/protocols/kad-dht";
 * decodeIpnsEntry(new Uint8Array([0x28, 0x07])).sequence; // 7n
 * ```
 */
export function decodeIpnsEntry(bytes: Uint8Array): IpnsEntry {
  if (bytes.byteLength > MAX_IPNS_RECORD_BYTES) {
    throw new RecordValidationError(
      `IPNS record of ${bytes.byteLength} bytes exceeds ${MAX_IPNS_RECORD_BYTES}`,
    );
  }
  const r = new ProtobufReader(bytes);
  const e: IpnsEntry = {};
  for (let tag = r.readTag(); tag !== undefined; tag = r.readTag()) {
    const f = tag.field;
    if (f === 3 || f === 5 || f === 6) {
      r.expect(tag, WireType.VARINT);
      const v = r.readUint64();
      if (f === 3) e.validityType = v;
      else if (f === 5) e.sequence = v;
      else e.ttl = v;
    } else if (f === 1 || f === 2 || f === 4 || f === 7 || f === 8 || f === 9) {
      r.expect(tag, WireType.LENGTH_DELIMITED);
      const v = r.readBytes();
      if (f === 1) e.value = v;
      else if (f === 2) e.signatureV1 = v;
      else if (f === 4) e.validity = v;
      else if (f === 7) e.pubKey = v;
      else if (f === 8) e.signatureV2 = v;
      else e.data = v;
    } else {
      r.skip(tag.wireType);
    }
  }
  return e;
}

/**
 * Decode the signed CBOR `data` and check the five fields' types. Throws
 * {@link RecordValidationError} or {@link DecodeError}.
 *
 * @example
 * ```ts
 * import { ipnsData } from "@p2p-edge/libp2p/protocols/kad-dht";
 * // ipnsData(entry.data).sequence
 * ```
 */
export function ipnsData(data: Uint8Array): IpnsData {
  const doc = decodeCbor(data);
  if (!(doc instanceof Map)) throw new RecordValidationError("IPNS data is not a CBOR map");
  const bytes = (k: string): Uint8Array => {
    const v = doc.get(k);
    if (!(v instanceof Uint8Array)) throw new RecordValidationError(`IPNS data ${k} is not bytes`);
    return v;
  };
  const uint = (k: string): bigint => {
    const v = doc.get(k);
    if (typeof v !== "bigint" || v < 0n) {
      throw new RecordValidationError(`IPNS data ${k} is not an unsigned integer`);
    }
    return v;
  };
  return {
    value: bytes("Value"),
    validity: bytes("Validity"),
    validityType: uint("ValidityType"),
    sequence: uint("Sequence"),
    ttl: uint("TTL"),
  };
}

const RFC3339 =
  /^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?([Zz]|[+-]\d{2}:\d{2})$/;

/**
 * Parse an RFC 3339 timestamp (nanosecond precision as go writes it) to milliseconds since the
 * epoch plus the nanoseconds below the millisecond. Throws {@link RecordValidationError}.
 *
 * @example
 * ```ts
 * import { parseRfc3339 } from "@p2p-edge/libp2p/protocols/kad-dht";
 * parseRfc3339("1970-01-01T00:00:00.000000001Z"); // { ms: 0, subMsNanos: 1 }
 * ```
 */
export function parseRfc3339(text: string): { ms: number; subMsNanos: number } {
  const m = RFC3339.exec(text);
  if (m === null) throw new RecordValidationError(`not an RFC 3339 time: ${text.slice(0, 64)}`);
  const [y, mo, d, h, mi, s] = m.slice(1, 7).map(Number);
  if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || s > 60) {
    throw new RecordValidationError(`RFC 3339 time out of range: ${text}`);
  }
  const frac = (m[7] ?? "").padEnd(9, "0");
  let ms = Date.UTC(y, mo - 1, d, h, mi, s) + Number(frac.slice(0, 3));
  const zone = m[8];
  if (zone !== "Z" && zone !== "z") {
    const sign = zone[0] === "-" ? -1 : 1;
    ms -= sign * (Number(zone.slice(1, 3)) * 60 + Number(zone.slice(4, 6))) * 60_000;
  }
  return { ms, subMsNanos: Number(frac.slice(3)) };
}

function namePublicKey(name: Uint8Array, entry: IpnsEntry): PublicKey {
  const mh = decodeMultihash(name);
  if (entry.pubKey !== undefined && entry.pubKey.byteLength > 0) {
    const key = publicKeyFromProtobuf(entry.pubKey);
    if (!equals(peerIdFromPublicKey(key).toBytes(), mh.bytes)) {
      throw new RecordValidationError("IPNS pubKey does not match the name");
    }
    return key;
  }
  if (mh.code !== IDENTITY_CODE) {
    throw new RecordValidationError("IPNS record has no pubKey and the name inlines no key");
  }
  return publicKeyFromProtobuf(mh.digest);
}

/**
 * Verify an IPNS record stored under the DHT key `"/ipns/" ‖ name` at time `now` (ms).
 * Throws {@link RecordValidationError} (or {@link DecodeError} for malformed bytes).
 *
 * @example
 * ```ts
 * import { verifyIpnsRecord } from "@p2p-edge/libp2p/protocols/kad-dht";
 * // const { data } = await verifyIpnsRecord(key, recordBytes, Date.now());
 * ```
 */
export async function verifyIpnsRecord(
  key: Uint8Array,
  record: Uint8Array,
  now: number,
): Promise<VerifiedIpnsRecord> {
  if (!startsWith(key, IPNS_KEY_PREFIX)) throw new RecordValidationError("not an /ipns/ key");
  const entry = decodeIpnsEntry(record);
  if (entry.signatureV2 === undefined || entry.signatureV2.byteLength === 0) {
    throw new RecordValidationError("IPNS record has no signatureV2");
  }
  if (entry.data === undefined || entry.data.byteLength === 0) {
    throw new RecordValidationError("IPNS record has no data");
  }
  let publicKey: PublicKey;
  try {
    publicKey = namePublicKey(key.subarray(IPNS_KEY_PREFIX.byteLength), entry);
  } catch (cause) {
    if (cause instanceof RecordValidationError) throw cause;
    throw new RecordValidationError("IPNS public key unusable", { cause });
  }
  const data = ipnsData(entry.data);
  const signed = concat([IPNS_SIGNATURE_PREFIX, entry.data]);
  if (!(await publicKey.verify(signed, entry.signatureV2))) {
    throw new RecordValidationError("IPNS signatureV2 does not verify");
  }
  if (entry.signatureV1 !== undefined || entry.value !== undefined) {
    // Absent V1 fields read as their protobuf defaults, as boxo compares them.
    const empty = new Uint8Array(0);
    if (
      !equals(entry.value ?? empty, data.value) ||
      !equals(entry.validity ?? empty, data.validity) ||
      (entry.validityType ?? 0n) !== data.validityType ||
      (entry.sequence ?? 0n) !== data.sequence ||
      (entry.ttl ?? 0n) !== data.ttl
    ) {
      throw new RecordValidationError("IPNS V1 fields differ from the signed CBOR data");
    }
  }
  if (data.validityType !== IPNS_VALIDITY_EOL) {
    throw new RecordValidationError(`unknown IPNS validity type ${data.validityType}`);
  }
  let eol: { ms: number; subMsNanos: number };
  try {
    eol = parseRfc3339(new TextDecoder("utf-8", { fatal: true }).decode(data.validity));
  } catch (cause) {
    if (cause instanceof RecordValidationError) throw cause;
    throw new RecordValidationError("IPNS validity is not UTF-8", { cause });
  }
  if (!(eol.ms > now || (eol.ms === now && eol.subMsNanos > 0))) {
    throw new RecordValidationError("IPNS record expired");
  }
  return { entry, data, eolMs: eol.ms, publicKey };
}

/**
 * Index of the best of several IPNS records (already verified): the highest sequence, then the
 * latest end of life; the first on a tie. Records that do not parse rank last.
 *
 * @example
 * ```ts
 * import { selectIpnsRecord } from "@p2p-edge/libp2p/protocols/kad-dht";
 * // selectIpnsRecord([older, newer]); // 1
 * ```
 */
export function selectIpnsRecord(records: readonly Uint8Array[]): number {
  let best = -1;
  let bestSeq = -1n;
  let bestEol = -Infinity;
  for (let i = 0; i < records.length; i++) {
    let seq: bigint;
    let eol: number;
    try {
      const entry = decodeIpnsEntry(records[i]);
      if (entry.data === undefined) continue;
      const data = ipnsData(entry.data);
      seq = data.sequence;
      const t = parseRfc3339(new TextDecoder().decode(data.validity));
      eol = t.ms + t.subMsNanos / 1e6;
    } catch (err) {
      if (err instanceof RecordValidationError || err instanceof DecodeError) continue;
      throw err;
    }
    if (best === -1 || seq > bestSeq || (seq === bestSeq && eol > bestEol)) {
      best = i;
      bestSeq = seq;
      bestEol = eol;
    }
  }
  return Math.max(best, 0);
}

function startsWith(bytes: Uint8Array, prefix: Uint8Array): boolean {
  return bytes.byteLength >= prefix.byteLength &&
    equals(bytes.subarray(0, prefix.byteLength), prefix);
}
