/**
 * DNS wire constants (RFC 1035, RFC 3596, RFC 2782, RFC 6762) and the named limits of the codec in
 * `message.ts`. Each limit cites the RFC section it comes from or HARDENING.md rule it serves.
 *
 * @module
 */

/** RR type A, an IPv4 address (RFC 1035 section 3.2.2). */
export const TYPE_A = 1;
/** RR type NS, an authoritative name server (RFC 1035 section 3.2.2). */
export const TYPE_NS = 2;
/** RR type CNAME, the canonical name of an alias (RFC 1035 section 3.2.2). */
export const TYPE_CNAME = 5;
/** RR type PTR, a domain name pointer (RFC 1035 section 3.2.2; DNS-SD service browsing). */
export const TYPE_PTR = 12;
/** RR type TXT, one or more character strings (RFC 1035 section 3.3.14). */
export const TYPE_TXT = 16;
/** RR type AAAA, an IPv6 address (RFC 3596 section 2.1). */
export const TYPE_AAAA = 28;
/** RR type SRV, a service location (RFC 2782). */
export const TYPE_SRV = 33;
/** RR type OPT, the EDNS(0) pseudo-record (RFC 6891 section 6.1.1); kept as opaque rdata. */
export const TYPE_OPT = 41;
/** QTYPE ANY, "all records" (RFC 1035 section 3.2.3); questions only. */
export const TYPE_ANY = 255;

/** Class IN, the Internet (RFC 1035 section 3.2.4). */
export const CLASS_IN = 1;
/** QCLASS ANY (RFC 1035 section 3.2.5). */
export const CLASS_ANY = 255;

/** Header flag QR: the message is a response (RFC 1035 section 4.1.1). */
export const FLAG_QR = 0x8000;
/** Header flag AA: authoritative answer (RFC 1035 section 4.1.1; set in every mDNS response, RFC 6762 section 18.4). */
export const FLAG_AA = 0x0400;
/** Header flag TC: the message was truncated (RFC 1035 section 4.1.1). */
export const FLAG_TC = 0x0200;
/** Header flag RD: recursion desired (RFC 1035 section 4.1.1). */
export const FLAG_RD = 0x0100;
/** Header flag RA: recursion available (RFC 1035 section 4.1.1). */
export const FLAG_RA = 0x0080;
/** Mask of the OPCODE field in the flags word (RFC 1035 section 4.1.1). */
export const OPCODE_MASK = 0x7800;
/** Mask of the RCODE field in the flags word (RFC 1035 section 4.1.1). */
export const RCODE_MASK = 0x000f;
/** RCODE 3, NXDOMAIN: the name does not exist (RFC 1035 section 4.1.1). */
export const RCODE_NXDOMAIN = 3;

/** Bytes of the fixed header (RFC 1035 section 4.1.1). */
export const HEADER_BYTES = 12;
/** Longest label, in bytes (RFC 1035 section 2.3.4). */
export const MAX_LABEL_BYTES = 63;
/** Longest name in wire form, length octets and the root included (RFC 1035 section 2.3.4). */
export const MAX_NAME_BYTES = 255;
/** Longest character-string, e.g. one TXT string (RFC 1035 section 3.3: one length octet). */
export const MAX_CHARACTER_STRING_BYTES = 255;
/** Largest message the codec reads or writes: the 16-bit length of DNS over TCP and DoH bodies (RFC 1035 section 4.2.2, RFC 8484). */
export const MAX_MESSAGE_BYTES = 65_535;
/**
 * Default cap on questions plus records in one decoded message (HARDENING.md rule 4). A full
 * 9,000-byte mDNS packet (RFC 6762 section 17) of minimal records holds ~800; real ones hold a
 * handful. Callers may lower or raise it per decode.
 */
export const DEFAULT_MAX_RECORDS = 512;
/** Smallest question on the wire: root name (1) + QTYPE (2) + QCLASS (2) (RFC 1035 section 4.1.2). */
export const MIN_QUESTION_BYTES = 5;
/** Smallest resource record on the wire: root name (1) + TYPE, CLASS, TTL, RDLENGTH (10) (RFC 1035 section 4.1.3). */
export const MIN_RECORD_BYTES = 11;
/** Offsets a compression pointer can reach: 14 bits (RFC 1035 section 4.1.4). */
export const MAX_POINTER_OFFSET = 0x3fff;
/** Top bit of a record's CLASS in mDNS: cache-flush (RFC 6762 section 10.2); of a question's: unicast response wanted (section 5.4). */
export const CLASS_TOP_BIT = 0x8000;
/** Largest TTL a record carries: 2^31 - 1 seconds (RFC 2181 section 8). */
export const MAX_TTL = 0x7fff_ffff;
