/**
 * The DNS message codec (RFC 1035 section 4): header, questions and resource records, with name
 * compression on encode and decode. Sans-IO and web-only: bytes in, objects out, and back. Used by
 * mDNS (RFC 6762) and by DNS-over-HTTPS / local DNS servers (RFC 8484 uses the same wire format).
 *
 * Record data is typed for A, AAAA, PTR, CNAME, NS, TXT and SRV; every other type keeps its rdata
 * as opaque bytes. The top bit of a record's class is exposed as `cacheFlush` and of a question's
 * class as `unicastResponse` (mDNS, RFC 6762 sections 10.2 and 5.4); `class` holds the low 15 bits.
 *
 * @module
 */

import { DecodeError, LimitExceededError } from "../errors.ts";
import { formatIPv4, formatIPv6, parseIPv4, parseIPv6 } from "../multiaddr/ip.ts";
import {
  CLASS_IN,
  CLASS_TOP_BIT,
  DEFAULT_MAX_RECORDS,
  HEADER_BYTES,
  MAX_CHARACTER_STRING_BYTES,
  MAX_MESSAGE_BYTES,
  MAX_POINTER_OFFSET,
  MIN_QUESTION_BYTES,
  MIN_RECORD_BYTES,
  TYPE_A,
  TYPE_AAAA,
  TYPE_CNAME,
  TYPE_NS,
  TYPE_PTR,
  TYPE_SRV,
  TYPE_TXT,
} from "./constants.ts";
import { nameToLabels, readName } from "./name.ts";

/** A question (RFC 1035 section 4.1.2). */
export interface DnsQuestion {
  /** The name asked about, in text form. */
  readonly name: string;
  /** QTYPE, e.g. {@link TYPE_PTR}. */
  readonly type: number;
  /** QCLASS without the top bit; default {@link CLASS_IN}. */
  readonly class?: number;
  /** mDNS: the QU bit, "unicast response wanted" (RFC 6762 section 5.4). */
  readonly unicastResponse?: boolean;
}

/** The fields every resource record has (RFC 1035 section 4.1.3). */
export interface DnsRecordBase {
  /** Owner name, in text form. */
  readonly name: string;
  /** CLASS without the top bit; default {@link CLASS_IN}. */
  readonly class?: number;
  /** mDNS: the cache-flush bit (RFC 6762 section 10.2). */
  readonly cacheFlush?: boolean;
  /** Seconds the record may be cached; 0 in an mDNS goodbye (RFC 6762 section 10.1). */
  readonly ttl: number;
}

/** An A record: `data` is a dotted-quad IPv4 address. */
export interface DnsARecord extends DnsRecordBase {
  /** {@link TYPE_A}. */
  readonly type: typeof TYPE_A;
  /** The address, e.g. `"192.0.2.1"`. */
  readonly data: string;
}

/** An AAAA record: `data` is an IPv6 address in RFC 5952 text. */
export interface DnsAaaaRecord extends DnsRecordBase {
  /** {@link TYPE_AAAA}. */
  readonly type: typeof TYPE_AAAA;
  /** The address, e.g. `"2001:db8::1"`. */
  readonly data: string;
}

/** A PTR, CNAME or NS record: `data` is a domain name. */
export interface DnsNameRecord extends DnsRecordBase {
  /** {@link TYPE_PTR}, {@link TYPE_CNAME} or {@link TYPE_NS}. */
  readonly type: typeof TYPE_PTR | typeof TYPE_CNAME | typeof TYPE_NS;
  /** The name pointed to, in text form. */
  readonly data: string;
}

/** A TXT record: `data` is its character-strings (each at most 255 bytes). */
export interface DnsTxtRecord extends DnsRecordBase {
  /** {@link TYPE_TXT}. */
  readonly type: typeof TYPE_TXT;
  /** The strings, as bytes (TXT strings are not necessarily text). */
  readonly data: readonly Uint8Array[];
}

/** SRV record data (RFC 2782). */
export interface DnsSrvData {
  /** Lower is preferred. */
  readonly priority: number;
  /** Relative weight among equal priorities. */
  readonly weight: number;
  /** The service's port. */
  readonly port: number;
  /** The host offering the service. */
  readonly target: string;
}

/** An SRV record. */
export interface DnsSrvRecord extends DnsRecordBase {
  /** {@link TYPE_SRV}. */
  readonly type: typeof TYPE_SRV;
  /** Priority, weight, port and target. */
  readonly data: DnsSrvData;
}

/**
 * A record of any other type, with its rdata as bytes. The decoder never produces one for a type
 * it types itself, and the encoder refuses one (so filtering by `type` is sound, see
 * {@link recordsOfType}). Rdata holding compressed names cannot be re-encoded elsewhere.
 */
export interface DnsOpaqueRecord extends DnsRecordBase {
  /** Any type but A, AAAA, PTR, CNAME, NS, TXT and SRV. */
  readonly type: number;
  /** The raw rdata. */
  readonly data: Uint8Array;
}

/** Any resource record. */
export type DnsRecord =
  | DnsARecord
  | DnsAaaaRecord
  | DnsNameRecord
  | DnsTxtRecord
  | DnsSrvRecord
  | DnsOpaqueRecord;

/** The record interface of each typed record type. */
export interface DnsTypedRecords {
  /** A. */
  1: DnsARecord;
  /** NS. */
  2: DnsNameRecord;
  /** CNAME. */
  5: DnsNameRecord;
  /** PTR. */
  12: DnsNameRecord;
  /** TXT. */
  16: DnsTxtRecord;
  /** AAAA. */
  28: DnsAaaaRecord;
  /** SRV. */
  33: DnsSrvRecord;
}

/** A DNS message. */
export interface DnsMessage {
  /** Transaction id (0 in mDNS, RFC 6762 section 18.1). */
  readonly id: number;
  /** The 16-bit flags word: {@link FLAG_QR}, opcode, {@link FLAG_AA}, ..., rcode. */
  readonly flags: number;
  /** Question section. */
  readonly questions: readonly DnsQuestion[];
  /** Answer section. */
  readonly answers: readonly DnsRecord[];
  /** Authority section. */
  readonly authorities: readonly DnsRecord[];
  /** Additional section. */
  readonly additionals: readonly DnsRecord[];
}

/** What {@link encodeDnsMessage} takes: every field is optional (id and flags default to 0). */
export type DnsMessageInit = Partial<DnsMessage>;

/** Options of {@link decodeDnsMessage}. */
export interface DecodeDnsOptions {
  /** Cap on questions plus records; default {@link DEFAULT_MAX_RECORDS} (HARDENING.md rule 4). */
  readonly maxRecords?: number;
}

const TYPED = new Set<number>([
  TYPE_A,
  TYPE_AAAA,
  TYPE_PTR,
  TYPE_CNAME,
  TYPE_NS,
  TYPE_TXT,
  TYPE_SRV,
]);

/**
 * The records of one typed type, with their type narrowed.
 *
 * @example
 * ```ts
 * import { recordsOfType, TYPE_TXT } from "@p2p-edge/libp2p/dns";
 * const txt = recordsOfType([{ name: "x", type: TYPE_TXT, ttl: 60, data: [] }], TYPE_TXT);
 * console.log(txt.length); // 1
 * ```
 */
export function recordsOfType<T extends keyof DnsTypedRecords>(
  records: readonly DnsRecord[],
  type: T,
): DnsTypedRecords[T][] {
  return records.filter((r) => r.type === type) as DnsTypedRecords[T][];
}

// ---------------------------------------------------------------------------------------------
// Decoding

/**
 * Decode a DNS message. Throws DecodeError on malformed input (truncation, bad names or pointers,
 * rdata whose length does not match its type, trailing bytes) and LimitExceededError when the
 * message is larger than {@link MAX_MESSAGE_BYTES} or holds more than `maxRecords` entries. Counts
 * are checked against the bytes left before anything is allocated (HARDENING.md rule 1).
 *
 * @example
 * ```ts
 * import { decodeDnsMessage, encodeDnsMessage, TYPE_PTR } from "@p2p-edge/libp2p/dns";
 * const bytes = encodeDnsMessage({ questions: [{ name: "_p2p._udp.local", type: TYPE_PTR }] });
 * decodeDnsMessage(bytes).questions[0].name; // "_p2p._udp.local"
 * ```
 */
export function decodeDnsMessage(bytes: Uint8Array, options: DecodeDnsOptions = {}): DnsMessage {
  const maxRecords = options.maxRecords ?? DEFAULT_MAX_RECORDS;
  if (bytes.length > MAX_MESSAGE_BYTES) {
    throw new LimitExceededError(
      `DNS message of ${bytes.length} bytes (max ${MAX_MESSAGE_BYTES})`,
      "MAX_MESSAGE_BYTES",
    );
  }
  if (bytes.length < HEADER_BYTES) throw new DecodeError("DNS message shorter than its header");
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const id = view.getUint16(0);
  const flags = view.getUint16(2);
  const qd = view.getUint16(4);
  const an = view.getUint16(6);
  const ns = view.getUint16(8);
  const ar = view.getUint16(10);
  const total = qd + an + ns + ar;
  if (total > maxRecords) {
    throw new LimitExceededError(
      `DNS message announces ${total} entries (max ${maxRecords})`,
      "DEFAULT_MAX_RECORDS",
    );
  }
  const left = bytes.length - HEADER_BYTES;
  if (qd * MIN_QUESTION_BYTES + (an + ns + ar) * MIN_RECORD_BYTES > left) {
    throw new DecodeError(`DNS message truncated: its counts need more than ${left} bytes`);
  }
  let pos = HEADER_BYTES;
  const questions: DnsQuestion[] = [];
  for (let i = 0; i < qd; i++) {
    const [name, next] = readName(bytes, pos);
    if (next + 4 > bytes.length) throw new DecodeError("DNS question truncated");
    const type = view.getUint16(next);
    const cls = view.getUint16(next + 2);
    const q: DnsQuestion = { name, type, class: cls & ~CLASS_TOP_BIT };
    questions.push((cls & CLASS_TOP_BIT) !== 0 ? { ...q, unicastResponse: true } : q);
    pos = next + 4;
  }
  const section = (count: number): DnsRecord[] => {
    const out: DnsRecord[] = [];
    for (let i = 0; i < count; i++) {
      const [record, next] = readRecord(bytes, view, pos);
      out.push(record);
      pos = next;
    }
    return out;
  };
  const answers = section(an);
  const authorities = section(ns);
  const additionals = section(ar);
  if (pos !== bytes.length) {
    throw new DecodeError(`DNS message has ${bytes.length - pos} trailing bytes`);
  }
  return { id, flags, questions, answers, authorities, additionals };
}

function readRecord(bytes: Uint8Array, view: DataView, start: number): [DnsRecord, number] {
  const [name, next] = readName(bytes, start);
  if (next + 10 > bytes.length) throw new DecodeError("DNS record truncated");
  const type = view.getUint16(next);
  const cls = view.getUint16(next + 2);
  const rawTtl = view.getUint32(next + 4);
  const rdlength = view.getUint16(next + 8);
  const rdStart = next + 10;
  const rdEnd = rdStart + rdlength;
  if (rdEnd > bytes.length) throw new DecodeError("DNS record data truncated");
  const base = {
    name,
    class: cls & ~CLASS_TOP_BIT,
    ttl: rawTtl > 0x7fff_ffff ? 0 : rawTtl, // RFC 2181 section 8: a TTL with the top bit set is 0
    ...((cls & CLASS_TOP_BIT) !== 0 ? { cacheFlush: true } : {}),
  };
  const rdata = bytes.subarray(rdStart, rdEnd);
  const exactName = (at: number): string => {
    const [target, end] = readName(bytes, at);
    if (end !== rdEnd) {
      throw new DecodeError(`DNS type ${type} rdata length does not match its name`);
    }
    return target;
  };
  let record: DnsRecord;
  switch (type) {
    case TYPE_A:
      if (rdlength !== 4) throw new DecodeError(`DNS A record of ${rdlength} bytes`);
      record = { ...base, type, data: formatIPv4(rdata) };
      break;
    case TYPE_AAAA:
      if (rdlength !== 16) throw new DecodeError(`DNS AAAA record of ${rdlength} bytes`);
      record = { ...base, type, data: formatIPv6(rdata) };
      break;
    case TYPE_PTR:
    case TYPE_CNAME:
    case TYPE_NS:
      if (rdlength === 0) throw new DecodeError(`DNS type ${type} record without a name`);
      record = { ...base, type, data: exactName(rdStart) };
      break;
    case TYPE_TXT: {
      const strings: Uint8Array[] = [];
      let at = 0;
      while (at < rdata.length) {
        const len = rdata[at];
        if (at + 1 + len > rdata.length) throw new DecodeError("DNS TXT string truncated");
        strings.push(rdata.slice(at + 1, at + 1 + len));
        at += 1 + len;
      }
      record = { ...base, type, data: strings };
      break;
    }
    case TYPE_SRV: {
      if (rdlength < 7) throw new DecodeError(`DNS SRV record of ${rdlength} bytes`);
      const target = exactName(rdStart + 6);
      record = {
        ...base,
        type,
        data: {
          priority: view.getUint16(rdStart),
          weight: view.getUint16(rdStart + 2),
          port: view.getUint16(rdStart + 4),
          target,
        },
      };
      break;
    }
    default:
      record = { ...base, type, data: rdata.slice() };
  }
  return [record, rdEnd];
}

// ---------------------------------------------------------------------------------------------
// Encoding

/** A growable output buffer with the compression dictionary of one message. */
class Writer {
  buf: Uint8Array = new Uint8Array(512);
  length = 0;
  /** Suffix key -> offset of its first occurrence (RFC 1035 section 4.1.4). */
  readonly names = new Map<string, number>();

  ensure(extra: number): void {
    const need = this.length + extra;
    if (need > MAX_MESSAGE_BYTES) {
      throw new RangeError(`DNS message would exceed ${MAX_MESSAGE_BYTES} bytes`);
    }
    if (need <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < need) size *= 2;
    const grown = new Uint8Array(size);
    grown.set(this.buf.subarray(0, this.length));
    this.buf = grown;
  }
  u8(v: number): void {
    this.ensure(1);
    this.buf[this.length++] = v;
  }
  u16(v: number): void {
    this.ensure(2);
    this.buf[this.length++] = v >>> 8;
    this.buf[this.length++] = v & 0xff;
  }
  u32(v: number): void {
    this.u16(v >>> 16);
    this.u16(v & 0xffff);
  }
  bytes(b: Uint8Array): void {
    this.ensure(b.length);
    this.buf.set(b, this.length);
    this.length += b.length;
  }
  setU16(at: number, v: number): void {
    this.buf[at] = v >>> 8;
    this.buf[at + 1] = v & 0xff;
  }
  /** Write a name; with `compress`, its longest suffix already written becomes a pointer. */
  name(text: string, compress: boolean): void {
    const labels = nameToLabels(text);
    const keys: string[] = [];
    let key = "";
    for (let i = labels.length - 1; i >= 0; i--) {
      key = labels[i].length + ":" + String.fromCharCode(...labels[i]) + "|" + key;
      keys[i] = key;
    }
    for (let i = 0; i < labels.length; i++) {
      const seen = this.names.get(keys[i]);
      if (compress && seen !== undefined) {
        this.u16(0xc000 | seen);
        return;
      }
      if (seen === undefined && this.length <= MAX_POINTER_OFFSET) {
        this.names.set(keys[i], this.length);
      }
      this.u8(labels[i].length);
      this.bytes(labels[i]);
    }
    this.u8(0);
  }
}

function checkU16(value: number, what: string): number {
  if (!Number.isInteger(value) || value < 0 || value > 0xffff) {
    throw new RangeError(`DNS ${what} must be an integer in 0..65535, got ${value}`);
  }
  return value;
}

function classWord(cls: number | undefined, top: boolean | undefined, what: string): number {
  const c = cls ?? CLASS_IN;
  if (!Number.isInteger(c) || c < 0 || c > 0x7fff) {
    throw new RangeError(`DNS ${what} class must be in 0..32767, got ${c}`);
  }
  return top ? c | CLASS_TOP_BIT : c;
}

function writeRecord(w: Writer, r: DnsRecord): void {
  w.name(r.name, true);
  w.u16(checkU16(r.type, "record type"));
  w.u16(classWord(r.class, r.cacheFlush, "record"));
  if (!Number.isInteger(r.ttl) || r.ttl < 0 || r.ttl > 0xffff_ffff) {
    throw new RangeError(`DNS TTL must be an integer in 0..2^32-1, got ${r.ttl}`);
  }
  w.u32(r.ttl);
  const lengthAt = w.length;
  w.u16(0);
  const rdStart = w.length;
  switch (r.type) {
    case TYPE_A:
    case TYPE_AAAA: {
      const text = r.data;
      const ip = typeof text === "string"
        ? (r.type === TYPE_A ? parseIPv4(text) : parseIPv6(text))
        : undefined;
      if (ip === undefined) throw new TypeError(`DNS type ${r.type} data is not an IP address`);
      w.bytes(ip);
      break;
    }
    case TYPE_PTR:
    case TYPE_CNAME:
    case TYPE_NS:
      if (typeof r.data !== "string") throw new TypeError(`DNS type ${r.type} data must be a name`);
      w.name(r.data, true);
      break;
    case TYPE_TXT: {
      const strings = r.data as readonly Uint8Array[];
      if (!Array.isArray(strings)) throw new TypeError("DNS TXT data must be an array of bytes");
      // RFC 6763 section 6.1: an empty TXT record is one empty string.
      if (strings.length === 0) w.u8(0);
      for (const s of strings) {
        if (!(s instanceof Uint8Array)) throw new TypeError("DNS TXT strings must be Uint8Array");
        if (s.length > MAX_CHARACTER_STRING_BYTES) {
          throw new RangeError(`DNS TXT string of ${s.length} bytes (max 255)`);
        }
        w.u8(s.length);
        w.bytes(s);
      }
      break;
    }
    case TYPE_SRV: {
      const d = r.data as DnsSrvData;
      if (typeof d !== "object" || d === null || typeof d.target !== "string") {
        throw new TypeError("DNS SRV data must be { priority, weight, port, target }");
      }
      w.u16(checkU16(d.priority, "SRV priority"));
      w.u16(checkU16(d.weight, "SRV weight"));
      w.u16(checkU16(d.port, "SRV port"));
      // RFC 2782: the target is not compressed (RFC 6762 section 18.14 allows it; both decode).
      w.name(d.target, false);
      break;
    }
    default:
      if (TYPED.has(r.type) || !(r.data instanceof Uint8Array)) {
        throw new TypeError(
          `DNS type ${r.type} data must be typed data or, for other types, bytes`,
        );
      }
      w.bytes(r.data);
  }
  w.setU16(lengthAt, w.length - rdStart);
}

/**
 * Encode a DNS message, compressing repeated names (owner names and PTR/CNAME/NS data). Throws
 * TypeError/RangeError on bad input (an oversize label, name or TXT string, a bad address, record
 * data of the wrong shape, a result over {@link MAX_MESSAGE_BYTES}).
 *
 * @example
 * ```ts
 * import { encodeDnsMessage, FLAG_AA, FLAG_QR, TYPE_PTR } from "@p2p-edge/libp2p/dns";
 * const bytes = encodeDnsMessage({
 *   flags: FLAG_QR | FLAG_AA,
 *   answers: [{ name: "_p2p._udp.local", type: TYPE_PTR, ttl: 120, data: "abc._p2p._udp.local" }],
 * });
 * console.log(bytes.length); // 45: the PTR target ends in a pointer to "_p2p._udp.local"
 * ```
 */
export function encodeDnsMessage(message: DnsMessageInit): Uint8Array {
  const questions = message.questions ?? [];
  const answers = message.answers ?? [];
  const authorities = message.authorities ?? [];
  const additionals = message.additionals ?? [];
  const w = new Writer();
  w.u16(checkU16(message.id ?? 0, "id"));
  w.u16(checkU16(message.flags ?? 0, "flags"));
  w.u16(checkU16(questions.length, "question count"));
  w.u16(checkU16(answers.length, "answer count"));
  w.u16(checkU16(authorities.length, "authority count"));
  w.u16(checkU16(additionals.length, "additional count"));
  for (const q of questions) {
    w.name(q.name, true);
    w.u16(checkU16(q.type, "question type"));
    w.u16(classWord(q.class, q.unicastResponse, "question"));
  }
  for (const r of answers) writeRecord(w, r);
  for (const r of authorities) writeRecord(w, r);
  for (const r of additionals) writeRecord(w, r);
  return w.buf.slice(0, w.length);
}
