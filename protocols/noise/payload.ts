/**
 * The libp2p handshake payload carried encrypted in XX messages 2 and 3 (libp2p/specs
 * noise/README.md, "The libp2p Handshake Payload"; extensions from
 * connections/inlined-muxer-negotiation.md and webtransport/README.md):
 *
 * ```protobuf
 * message NoiseExtensions {
 *   repeated bytes webtransport_certhashes = 1;
 *   repeated string stream_muxers = 2;
 * }
 * message NoiseHandshakePayload {
 *   optional bytes identity_key = 1;      // PublicKey protobuf
 *   optional bytes identity_sig = 2;      // sign("noise-libp2p-static-key:" || s.public)
 *   optional NoiseExtensions extensions = 4;
 * }
 * ```
 *
 * Pure and synchronous. Every peer-controlled size and count is checked against a named limit.
 *
 * @module
 */

import { DecodeError, LimitExceededError } from "../../src/errors.ts";
import {
  checkRepeatedCount,
  ProtobufReader,
  ProtobufWriter,
  WireType,
} from "../../src/protobuf.ts";
import {
  MAX_CERTHASHES,
  MAX_IDENTITY_KEY_LENGTH,
  MAX_IDENTITY_SIG_LENGTH,
  MAX_MUXER_ID_LENGTH,
  MAX_STREAM_MUXERS,
} from "./constants.ts";

/** NoiseExtensions. */
export interface NoiseExtensions {
  /** WebTransport certificate hashes (multihash bytes), sent by WebTransport servers. */
  webtransportCerthashes: Uint8Array[];
  /** Stream muxer protocol ids in preference order (early muxer negotiation). */
  streamMuxers: string[];
}

/** NoiseHandshakePayload. */
export interface NoiseHandshakePayload {
  /** The sender's identity PublicKey protobuf. */
  identityKey: Uint8Array;
  /** Signature over "noise-libp2p-static-key:" || the sender's static X25519 key. */
  identitySig: Uint8Array;
  /** Extensions, when the sender included the field. */
  extensions?: NoiseExtensions;
}

/**
 * Encode a handshake payload. The extensions field is written only when it holds something.
 *
 * @example
 * ```ts
 * import { encodeHandshakePayload } from "@p2p-edge/libp2p/protocols/noise";
 * const bytes = encodeHandshakePayload({
 *   identityKey: new Uint8Array([8, 1]), identitySig: new Uint8Array([1]),
 *   extensions: { webtransportCerthashes: [], streamMuxers: ["/yamux/1.0.0"] },
 * });
 * ```
 */
export function encodeHandshakePayload(payload: NoiseHandshakePayload): Uint8Array {
  const w = new ProtobufWriter()
    .bytes(1, payload.identityKey)
    .bytes(2, payload.identitySig);
  const ext = payload.extensions;
  if (ext !== undefined && (ext.webtransportCerthashes.length > 0 || ext.streamMuxers.length > 0)) {
    const e = new ProtobufWriter();
    for (const hash of ext.webtransportCerthashes) e.bytes(1, hash);
    for (const muxer of ext.streamMuxers) e.string(2, muxer);
    w.message(4, e);
  }
  return w.finish();
}

function decodeExtensions(bytes: Uint8Array): NoiseExtensions {
  const r = new ProtobufReader(bytes);
  const out: NoiseExtensions = { webtransportCerthashes: [], streamMuxers: [] };
  for (let tag = r.readTag(); tag !== undefined; tag = r.readTag()) {
    if (tag.field === 1) {
      r.expect(tag, WireType.LENGTH_DELIMITED);
      checkRepeatedCount(
        "webtransport_certhashes",
        out.webtransportCerthashes.length + 1,
        MAX_CERTHASHES,
      );
      out.webtransportCerthashes.push(r.readBytes().slice());
    } else if (tag.field === 2) {
      r.expect(tag, WireType.LENGTH_DELIMITED);
      checkRepeatedCount("stream_muxers", out.streamMuxers.length + 1, MAX_STREAM_MUXERS);
      const muxer = r.readString();
      if (muxer.length > MAX_MUXER_ID_LENGTH) {
        throw new LimitExceededError("stream muxer id too long", "MAX_MUXER_ID_LENGTH");
      }
      out.streamMuxers.push(muxer);
    } else {
      r.skip(tag.wireType);
    }
  }
  return out;
}

/**
 * Decode a handshake payload. Throws DecodeError for malformed input or a missing identity,
 * LimitExceededError when a field passes its limit (the identity key is size-checked here,
 * before any key parsing). Unknown fields are skipped; repeated singular fields are refused.
 *
 * @example
 * ```ts
 * import { decodeHandshakePayload } from "@p2p-edge/libp2p/protocols/noise";
 * const p = decodeHandshakePayload(new Uint8Array([0x0a, 2, 8, 1, 0x12, 1, 7]));
 * console.log(p.identitySig); // Uint8Array [7]
 * ```
 */
export function decodeHandshakePayload(bytes: Uint8Array): NoiseHandshakePayload {
  const r = new ProtobufReader(bytes);
  let identityKey: Uint8Array | undefined;
  let identitySig: Uint8Array | undefined;
  let extensions: NoiseExtensions | undefined;
  for (let tag = r.readTag(); tag !== undefined; tag = r.readTag()) {
    switch (tag.field) {
      case 1: {
        r.expect(tag, WireType.LENGTH_DELIMITED);
        if (identityKey !== undefined) throw new DecodeError("identity_key appears twice");
        const value = r.readBytes();
        if (value.byteLength > MAX_IDENTITY_KEY_LENGTH) {
          throw new LimitExceededError(
            `identity_key of ${value.byteLength} bytes is above ${MAX_IDENTITY_KEY_LENGTH}`,
            "MAX_IDENTITY_KEY_LENGTH",
          );
        }
        identityKey = value.slice();
        break;
      }
      case 2: {
        r.expect(tag, WireType.LENGTH_DELIMITED);
        if (identitySig !== undefined) throw new DecodeError("identity_sig appears twice");
        const value = r.readBytes();
        if (value.byteLength > MAX_IDENTITY_SIG_LENGTH) {
          throw new LimitExceededError(
            `identity_sig of ${value.byteLength} bytes is above ${MAX_IDENTITY_SIG_LENGTH}`,
            "MAX_IDENTITY_SIG_LENGTH",
          );
        }
        identitySig = value.slice();
        break;
      }
      case 4:
        r.expect(tag, WireType.LENGTH_DELIMITED);
        if (extensions !== undefined) throw new DecodeError("extensions appear twice");
        extensions = decodeExtensions(r.readBytes());
        break;
      default:
        r.skip(tag.wireType);
    }
  }
  if (identityKey === undefined || identityKey.byteLength === 0) {
    throw new DecodeError("handshake payload has no identity_key");
  }
  if (identitySig === undefined || identitySig.byteLength === 0) {
    throw new DecodeError("handshake payload has no identity_sig");
  }
  return extensions === undefined
    ? { identityKey, identitySig }
    : { identityKey, identitySig, extensions };
}
