/**
 * Multibase: self-describing base encodings (github.com/multiformats/multibase).
 *
 * The codecs themselves come from @scure/base; this module adds the prefixes, the lower-case
 * variants multibase uses, and strict error reporting (SyntaxError on bad input).
 *
 * @module
 */

import {
  base16,
  base32nopad,
  base36,
  base58,
  base64nopad,
  base64urlnopad,
  type BytesCoder,
} from "@scure/base";

/** A multibase encoding: its name, its one-character prefix and its codec. */
export interface MultibaseCodec {
  /** Multibase table name, e.g. "base58btc". */
  readonly name: string;
  /** One-character prefix, e.g. "z". */
  readonly prefix: string;
  /** Encode bytes without the prefix. */
  baseEncode(bytes: Uint8Array): string;
  /** Decode text without the prefix; throws SyntaxError on invalid input. */
  baseDecode(text: string): Uint8Array;
}

function fromScure(
  name: string,
  prefix: string,
  coder: BytesCoder,
  transform?: { encode(s: string): string; decode(s: string): string; valid: RegExp },
): MultibaseCodec {
  return {
    name,
    prefix,
    baseEncode: (bytes) => transform ? transform.encode(coder.encode(bytes)) : coder.encode(bytes),
    baseDecode: (text) => {
      if (transform && !transform.valid.test(text)) {
        throw new SyntaxError(`invalid ${name} text`);
      }
      try {
        return coder.decode(transform ? transform.decode(text) : text);
      } catch (cause) {
        throw new SyntaxError(`invalid ${name} text`, { cause });
      }
    },
  };
}

const lower = {
  encode: (s: string) => s.toLowerCase(),
  decode: (s: string) => s.toUpperCase(),
};

/** base58btc, prefix `z`: the default text form of peer ids. */
export const base58btc: MultibaseCodec = fromScure("base58btc", "z", base58);
/** base32 lower case without padding, prefix `b`: the default text form of CIDv1. */
export const base32: MultibaseCodec = fromScure("base32", "b", base32nopad, {
  ...lower,
  valid: /^[a-z2-7]*$/,
});
/** base32 upper case without padding, prefix `B`. */
export const base32upper: MultibaseCodec = fromScure("base32upper", "B", base32nopad, {
  encode: (s) => s,
  decode: (s) => s,
  valid: /^[A-Z2-7]*$/,
});
/** base36 lower case, prefix `k`: used for libp2p-key CIDs in DNS labels. */
export const base36lower: MultibaseCodec = fromScure("base36", "k", base36, {
  encode: (s) => s,
  decode: (s) => s,
  valid: /^[0-9a-z]*$/,
});
/** base64url without padding, prefix `u`. */
export const base64url: MultibaseCodec = fromScure("base64url", "u", base64urlnopad);
/** base64 without padding, prefix `m`. */
export const base64: MultibaseCodec = fromScure("base64", "m", base64nopad);
/** base16 lower case, prefix `f`. */
export const base16lower: MultibaseCodec = fromScure("base16", "f", base16, {
  encode: (s) => s.toLowerCase(),
  decode: (s) => s.toUpperCase(),
  valid: /^[0-9a-f]*$/,
});

const byPrefix: ReadonlyMap<string, MultibaseCodec> = new Map(
  [base58btc, base32, base32upper, base36lower, base64url, base64, base16lower].map((c) => [
    c.prefix,
    c,
  ]),
);

/**
 * Encode bytes with a multibase prefix.
 *
 * @example
 * ```ts
 * import { multibaseEncode, base32 } from "@p2p-edge/libp2p/multiformats";
 * multibaseEncode(new Uint8Array([1, 2]), base32); // "baeba"
 * ```
 */
export function multibaseEncode(bytes: Uint8Array, codec: MultibaseCodec): string {
  return codec.prefix + codec.baseEncode(bytes);
}

/**
 * Decode multibase text, picking the codec from its prefix. Throws SyntaxError for an unknown
 * prefix or invalid text.
 *
 * @example
 * ```ts
 * import { multibaseDecode } from "@p2p-edge/libp2p/multiformats";
 * multibaseDecode("baeba"); // Uint8Array [1, 2]
 * ```
 */
export function multibaseDecode(text: string): Uint8Array {
  const codec = byPrefix.get(text.charAt(0));
  if (codec === undefined) {
    throw new SyntaxError(`unsupported multibase prefix ${JSON.stringify(text.charAt(0))}`);
  }
  return codec.baseDecode(text.slice(1));
}

/**
 * The codec registered for a multibase prefix, if supported.
 *
 * @example
 * ```ts
 * import { multibaseCodecOf } from "@p2p-edge/libp2p/multiformats";
 * multibaseCodecOf("z")?.name; // "base58btc"
 * ```
 */
export function multibaseCodecOf(prefix: string): MultibaseCodec | undefined {
  return byPrefix.get(prefix);
}
