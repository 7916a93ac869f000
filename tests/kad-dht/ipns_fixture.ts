/**
 * IPNS records made in tests: a tiny DAG-CBOR writer for the `data` field and a signer
 * (V2 signature over "ipns-signature:" ‖ data, optional V1 fields and pubKey).
 */

import { concat, utf8Encode } from "../../src/bytes.ts";
import type { PrivateKey } from "../../src/keys/mod.ts";
import { ProtobufWriter } from "../../src/protobuf.ts";

/** The DHT key of an IPNS name: "/ipns/" ‖ binary multihash. */
export function ipnsKey(name: Uint8Array): Uint8Array {
  return concat([utf8Encode("/ipns/"), name]);
}

// --- a tiny DAG-CBOR writer for records made in these tests ---
function head(major: number, n: number): number[] {
  if (n < 24) return [(major << 5) | n];
  if (n < 0x100) return [(major << 5) | 24, n];
  if (n < 0x10000) return [(major << 5) | 25, n >> 8, n & 0xff];
  if (n < 2 ** 32) {
    return [(major << 5) | 26, n >>> 24, (n >> 16) & 0xff, (n >> 8) & 0xff, n & 0xff];
  }
  throw new RangeError("test CBOR writer handles values below 2^32");
}
function text(s: string): number[] {
  const b = utf8Encode(s);
  return [...head(3, b.length), ...b];
}
function bytes(b: Uint8Array): number[] {
  return [...head(2, b.length), ...b];
}
export interface Fields {
  value: string;
  validity: string;
  sequence: number;
  ttl: number;
}
function cborData(f: Fields): Uint8Array {
  // DAG-CBOR key order: length first, then bytewise.
  return new Uint8Array([
    ...head(5, 5),
    ...text("TTL"),
    ...head(0, f.ttl),
    ...text("Value"),
    ...bytes(utf8Encode(f.value)),
    ...text("Sequence"),
    ...head(0, f.sequence),
    ...text("Validity"),
    ...bytes(utf8Encode(f.validity)),
    ...text("ValidityType"),
    ...head(0, 0),
  ]);
}

export async function makeRecord(
  key: PrivateKey,
  f: Fields,
  options: { v1?: Partial<Fields>; pubKey?: Uint8Array; badSig?: boolean } = {},
): Promise<Uint8Array> {
  const data = cborData(f);
  const sig = await key.sign(concat([utf8Encode("ipns-signature:"), data]));
  if (options.badSig === true) sig[0] ^= 1;
  const w = new ProtobufWriter();
  if (options.v1 !== undefined) {
    const v1 = { ...f, ...options.v1 };
    w.bytes(1, utf8Encode(v1.value)).bytes(2, new Uint8Array(64)).uint(3, 0)
      .bytes(4, utf8Encode(v1.validity)).uint(5, v1.sequence).uint(6, v1.ttl);
  }
  if (options.pubKey !== undefined) w.bytes(7, options.pubKey);
  w.bytes(8, sig).bytes(9, data);
  return w.finish();
}
