/**
 * The HolePunch message (libp2p/specs relay/DCUtR.md, "RPC messages"), proto2:
 *
 * ```protobuf
 * message HolePunch {
 *   enum Type { CONNECT = 100; SYNC = 300; }
 *   required Type type = 1;
 *   repeated bytes ObsAddrs = 2;
 * }
 * ```
 *
 * Frames are uvarint length-prefixed; the prefix is checked against
 * {@link MAX_DCUTR_MESSAGE_BYTES} before the body is buffered, and only the first
 * {@link MAX_OBS_ADDRS} addresses are kept (HARDENING.md rules 1 and 4).
 *
 * @module
 */

import { DecodeError } from "../../src/errors.ts";
import { ProtobufReader, ProtobufWriter, WireType } from "../../src/protobuf.ts";
import { encodeUvarint } from "../../src/varint.ts";
import { MAX_DCUTR_MESSAGE_BYTES, MAX_OBS_ADDRS } from "./constants.ts";

/** HolePunch.Type values. */
export const HolePunchType = {
  /** Carries the sender's observed addresses; starts (and answers) an exchange. */
  CONNECT: 100,
  /** Tells the responder to dial now. */
  SYNC: 300,
} as const;

/** One of {@link HolePunchType}. */
export type HolePunchTypeValue = (typeof HolePunchType)[keyof typeof HolePunchType];

/** A decoded HolePunch message. `obsAddrs` are binary multiaddrs (not validated here). */
export interface HolePunch {
  /** CONNECT or SYNC. */
  type: HolePunchTypeValue;
  /** The sender's observed addresses (binary multiaddrs), at most {@link MAX_OBS_ADDRS}. */
  obsAddrs: Uint8Array[];
}

/**
 * Encode a HolePunch message body (no length prefix). Addresses beyond
 * {@link MAX_OBS_ADDRS} are not sent.
 *
 * @example
 * ```ts
 * import { encodeHolePunch, HolePunchType } from "@p2p-edge/libp2p/protocols/dcutr";
 * encodeHolePunch({ type: HolePunchType.SYNC, obsAddrs: [] }); // Uint8Array [8, 172, 2]
 * ```
 */
export function encodeHolePunch(message: HolePunch): Uint8Array {
  const w = new ProtobufWriter().uint(1, message.type);
  for (const addr of message.obsAddrs.slice(0, MAX_OBS_ADDRS)) w.bytes(2, addr);
  return w.finish();
}

/**
 * Decode a HolePunch message body. A missing or unknown type is a DecodeError; addresses after
 * the first {@link MAX_OBS_ADDRS} are skipped without being copied; unknown fields are skipped.
 *
 * @example
 * ```ts
 * import { decodeHolePunch } from "@p2p-edge/libp2p/protocols/dcutr";
 * decodeHolePunch(new Uint8Array([8, 100])).type; // 100 (CONNECT)
 * ```
 */
export function decodeHolePunch(bytes: Uint8Array): HolePunch {
  const r = new ProtobufReader(bytes);
  let type: number | undefined;
  const obsAddrs: Uint8Array[] = [];
  for (let tag = r.readTag(); tag !== undefined; tag = r.readTag()) {
    if (tag.field === 1) {
      r.expect(tag, WireType.VARINT);
      type = r.readUint();
    } else if (tag.field === 2) {
      r.expect(tag, WireType.LENGTH_DELIMITED);
      const addr = r.readBytes();
      if (obsAddrs.length < MAX_OBS_ADDRS) obsAddrs.push(addr.slice());
    } else {
      r.skip(tag.wireType);
    }
  }
  if (type === undefined) throw new DecodeError("HolePunch without a type");
  if (type !== HolePunchType.CONNECT && type !== HolePunchType.SYNC) {
    throw new DecodeError(`HolePunch of unknown type ${type}`);
  }
  return { type, obsAddrs };
}

/**
 * A message as one frame: uvarint length, then the body.
 *
 * @example
 * ```ts
 * import { encodeHolePunchFrame, HolePunchType } from "@p2p-edge/libp2p/protocols/dcutr";
 * encodeHolePunchFrame({ type: HolePunchType.CONNECT, obsAddrs: [] }); // [2, 8, 100]
 * ```
 */
export function encodeHolePunchFrame(message: HolePunch): Uint8Array {
  const body = encodeHolePunch(message);
  const prefix = encodeUvarint(body.byteLength);
  const out = new Uint8Array(prefix.byteLength + body.byteLength);
  out.set(prefix);
  out.set(body, prefix.byteLength);
  return out;
}

/**
 * Where framed messages are read from: a `ByteReader` (src/stream) over the stream.
 *
 * @example
 * ```ts
 * import type { HolePunchSource } from "@p2p-edge/libp2p/protocols/dcutr";
 * const once: HolePunchSource = {
 *   readLengthPrefixed: () => Promise.resolve(new Uint8Array([8, 100])),
 * };
 * ```
 */
export interface HolePunchSource {
  /** Read `uvarint(length) ‖ body`; a length over `maxLength` throws before the body is read. */
  readLengthPrefixed(maxLength: number): Promise<Uint8Array>;
}

/**
 * Read one framed HolePunch message; a length prefix over {@link MAX_DCUTR_MESSAGE_BYTES} is
 * refused before the body is read.
 *
 * @example
 * ```ts
 * import { readHolePunch } from "@p2p-edge/libp2p/protocols/dcutr";
 * const reader = { readLengthPrefixed: () => Promise.resolve(new Uint8Array([8, 100])) };
 * (await readHolePunch(reader)).type; // 100
 * ```
 */
export async function readHolePunch(reader: HolePunchSource): Promise<HolePunch> {
  return decodeHolePunch(await reader.readLengthPrefixed(MAX_DCUTR_MESSAGE_BYTES));
}
