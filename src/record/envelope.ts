/**
 * Signed envelopes (libp2p/specs RFC/0002-signed-envelopes.md): a payload, its type, the
 * signer's public key and a signature over a domain-separated encoding of both.
 *
 * Wire format, as go-, js- and rust-libp2p send it (the RFC's field names and numbers are an
 * older draft): `Envelope{public_key=1 (PublicKey message), payload_type=2, payload=3,
 * signature=5}`. The signed bytes are (RFC 0002 §Signature Production):
 * `uvarint(len(domain)) domain uvarint(len(payload_type)) payload_type uvarint(len(payload)) payload`.
 *
 * @module
 */

import { concat, equals as bytesEqual, utf8Encode } from "../bytes.ts";
import { DecodeError, InvalidSignatureError, LimitExceededError } from "../errors.ts";
import { publicKeyFromProtobuf, publicKeyToProtobuf } from "../keys/mod.ts";
import type { PrivateKey, PublicKey } from "../keys/types.ts";
import { ProtobufReader, ProtobufWriter, WireType } from "../protobuf.ts";
import type { AbortOptions } from "../stream/types.ts";
import { encodeUvarint } from "../varint.ts";
import { MAX_ENVELOPE_BYTES } from "./constants.ts";

/**
 * Something that can be sealed in an envelope: its domain, its payload type and its encoding.
 *
 * @example
 * ```ts
 * import type { EnvelopeRecord } from "@p2p-edge/libp2p";
 * const note: EnvelopeRecord = {
 *   domain: "my-app-note",
 *   payloadType: new TextEncoder().encode("/my-app/note"),
 *   encode: () => new TextEncoder().encode("hello"),
 * };
 * ```
 */
export interface EnvelopeRecord {
  /** Domain separation string the signature is made for (non-empty UTF-8). */
  readonly domain: string;
  /** Payload type hint (non-empty): a multicodec, optionally followed by more bytes. */
  readonly payloadType: Uint8Array;
  /** The payload bytes. */
  encode(): Uint8Array;
}

/** The four fields of an envelope. */
export interface SignedEnvelopeInit {
  /** Key that verifies the signature. */
  publicKey: PublicKey;
  /** Payload type hint. */
  payloadType: Uint8Array;
  /** The payload. */
  payload: Uint8Array;
  /** Signature over {@link envelopeSigningBytes}. */
  signature: Uint8Array;
}

/** Options of {@link SignedEnvelope.decode} and {@link SignedEnvelope.open}. */
export interface OpenEnvelopeOptions extends AbortOptions {
  /**
   * Expected payload type. A different one is rejected with DecodeError before the signature is
   * checked (cheap checks first). Default: any type.
   */
  payloadType?: Uint8Array;
  /** Largest encoded envelope accepted. Default {@link MAX_ENVELOPE_BYTES}. */
  maxBytes?: number;
}

/**
 * The bytes an envelope's signature covers (RFC 0002 §Signature Production / Verification).
 *
 * @example
 * ```ts
 * import { envelopeSigningBytes } from "@p2p-edge/libp2p";
 * envelopeSigningBytes("d", new Uint8Array([3, 1]), new Uint8Array([9]));
 * // Uint8Array [1, 0x64, 2, 3, 1, 1, 9]
 * ```
 */
export function envelopeSigningBytes(
  domain: string,
  payloadType: Uint8Array,
  payload: Uint8Array,
): Uint8Array {
  const domainBytes = utf8Encode(domain);
  return concat([
    encodeUvarint(domainBytes.byteLength),
    domainBytes,
    encodeUvarint(payloadType.byteLength),
    payloadType,
    encodeUvarint(payload.byteLength),
    payload,
  ]);
}

/**
 * A signed envelope. {@link SignedEnvelope.open} is the way to accept one from the network: it
 * decodes, checks the payload type and verifies the signature for a domain.
 *
 * @example
 * ```ts
 * import { generateKeyPair } from "@p2p-edge/libp2p";
 * import { SignedEnvelope } from "@p2p-edge/libp2p";
 * const key = await generateKeyPair("Ed25519");
 * const record = {
 *   domain: "my-app-note",
 *   payloadType: new TextEncoder().encode("/my-app/note"),
 *   encode: () => new TextEncoder().encode("hello"),
 * };
 * const sealed = await SignedEnvelope.seal(key, record);
 * const opened = await SignedEnvelope.open(sealed.encode(), "my-app-note");
 * new TextDecoder().decode(opened.payload); // "hello"
 * ```
 */
export class SignedEnvelope {
  /** Key that verifies the signature; the signer's peer id derives from it. */
  readonly publicKey: PublicKey;
  /** Payload type hint. */
  readonly payloadType: Uint8Array;
  /** The payload (still to be decoded by its record type). */
  readonly payload: Uint8Array;
  /** The signature. */
  readonly signature: Uint8Array;
  #encoded: Uint8Array | undefined;

  /** Build from fields; nothing is verified (use {@link SignedEnvelope.open} for peer input). */
  constructor(init: SignedEnvelopeInit) {
    this.publicKey = init.publicKey;
    this.payloadType = init.payloadType;
    this.payload = init.payload;
    this.signature = init.signature;
  }

  /**
   * Sign `record` with `privateKey`. Throws TypeError for an empty domain or payload type.
   */
  static async seal(
    privateKey: PrivateKey,
    record: EnvelopeRecord,
    options?: AbortOptions,
  ): Promise<SignedEnvelope> {
    return await SignedEnvelope.sealPayload(
      privateKey,
      record.domain,
      record.payloadType,
      record.encode(),
      options,
    );
  }

  /** Sign raw payload bytes for a domain and payload type (see {@link SignedEnvelope.seal}). */
  static async sealPayload(
    privateKey: PrivateKey,
    domain: string,
    payloadType: Uint8Array,
    payload: Uint8Array,
    options?: AbortOptions,
  ): Promise<SignedEnvelope> {
    checkDomain(domain);
    if (!(payloadType instanceof Uint8Array) || payloadType.byteLength === 0) {
      throw new TypeError("envelope payload type must be a non-empty Uint8Array");
    }
    if (!(payload instanceof Uint8Array)) throw new TypeError("envelope payload must be bytes");
    options?.signal?.throwIfAborted();
    const signature = await privateKey.sign(envelopeSigningBytes(domain, payloadType, payload));
    return new SignedEnvelope({
      publicKey: privateKey.publicKey,
      payloadType,
      payload,
      signature: new Uint8Array(signature),
    });
  }

  /**
   * Decode without verifying anything but the structure. The input is copied once, so the
   * fields do not alias the caller's buffer.
   *
   * Throws LimitExceededError (over `maxBytes`), DecodeError (malformed protobuf; a missing
   * public key, payload type or signature; a known field repeated; an unexpected payload type),
   * or what decoding the public key throws (DecodeError, UnsupportedKeyTypeError,
   * LimitExceededError).
   */
  static decode(bytes: Uint8Array, options?: OpenEnvelopeOptions): SignedEnvelope {
    const maxBytes = options?.maxBytes ?? MAX_ENVELOPE_BYTES;
    if (bytes.byteLength > maxBytes) {
      throw new LimitExceededError(
        `envelope of ${bytes.byteLength} bytes exceeds the limit of ${maxBytes}`,
        "MAX_ENVELOPE_BYTES",
      );
    }
    const reader = new ProtobufReader(bytes.slice());
    let publicKey: Uint8Array | undefined;
    let payloadType: Uint8Array | undefined;
    let payload: Uint8Array | undefined;
    let signature: Uint8Array | undefined;
    for (let tag = reader.readTag(); tag !== undefined; tag = reader.readTag()) {
      if (tag.field !== 1 && tag.field !== 2 && tag.field !== 3 && tag.field !== 5) {
        reader.skip(tag.wireType); // unknown fields are ignored (protobuf rules)
        continue;
      }
      reader.expect(tag, WireType.LENGTH_DELIMITED);
      const value = reader.readBytes();
      // A repeated known field would be merged or overwritten depending on the implementation;
      // no honest encoder writes one, so refuse rather than guess which copy was signed.
      const duplicate = () => new DecodeError(`envelope repeats field ${tag.field}`);
      switch (tag.field) {
        case 1:
          if (publicKey !== undefined) throw duplicate();
          publicKey = value;
          break;
        case 2:
          if (payloadType !== undefined) throw duplicate();
          payloadType = value;
          break;
        case 3:
          if (payload !== undefined) throw duplicate();
          payload = value;
          break;
        case 5:
          if (signature !== undefined) throw duplicate();
          signature = value;
          break;
      }
    }
    if (publicKey === undefined) throw new DecodeError("envelope has no public key");
    if (payloadType === undefined || payloadType.byteLength === 0) {
      throw new DecodeError("envelope has no payload type");
    }
    if (signature === undefined || signature.byteLength === 0) {
      throw new DecodeError("envelope has no signature");
    }
    if (options?.payloadType !== undefined && !bytesEqual(options.payloadType, payloadType)) {
      throw new DecodeError("envelope has an unexpected payload type");
    }
    return new SignedEnvelope({
      publicKey: publicKeyFromProtobuf(publicKey),
      payloadType,
      payload: payload ?? new Uint8Array(0),
      signature,
    });
  }

  /**
   * Decode an envelope received from a peer and verify its signature for `domain`.
   * Throws what {@link SignedEnvelope.decode} throws, and InvalidSignatureError when the
   * signature does not verify (tampered bytes, or signed for another domain).
   */
  static async open(
    bytes: Uint8Array,
    domain: string,
    options?: OpenEnvelopeOptions,
  ): Promise<SignedEnvelope> {
    checkDomain(domain);
    const envelope = SignedEnvelope.decode(bytes, options);
    options?.signal?.throwIfAborted();
    if (!(await envelope.verify(domain))) {
      throw new InvalidSignatureError(`envelope signature is not valid for domain "${domain}"`);
    }
    return envelope;
  }

  /** True when the signature verifies for `domain`. Never throws for a bad signature. */
  async verify(domain: string): Promise<boolean> {
    try {
      const data = envelopeSigningBytes(domain, this.payloadType, this.payload);
      return (await this.publicKey.verify(data, this.signature)) === true;
    } catch {
      return false;
    }
  }

  /**
   * The protobuf encoding (cached), deterministic like go and js: fields in number order,
   * empty fields left out (proto3).
   */
  encode(): Uint8Array {
    if (this.#encoded === undefined) {
      const w = new ProtobufWriter().bytes(1, publicKeyToProtobuf(this.publicKey));
      if (this.payloadType.byteLength > 0) w.bytes(2, this.payloadType);
      if (this.payload.byteLength > 0) w.bytes(3, this.payload);
      if (this.signature.byteLength > 0) w.bytes(5, this.signature);
      this.#encoded = w.finish();
    }
    return this.#encoded;
  }

  /** Same key, payload type, payload and signature. */
  equals(other: SignedEnvelope): boolean {
    return this.publicKey.equals(other.publicKey) &&
      bytesEqual(this.payloadType, other.payloadType) &&
      bytesEqual(this.payload, other.payload) &&
      bytesEqual(this.signature, other.signature);
  }
}

function checkDomain(domain: string): void {
  if (typeof domain !== "string" || domain.length === 0) {
    throw new TypeError("envelope domain must be a non-empty string");
  }
}
