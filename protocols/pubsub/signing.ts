/**
 * Message signing (libp2p/specs pubsub/README.md "Message Signing"; research §2.1).
 *
 * - `"StrictSign"` (the default in go and js): every message carries `from`, an 8-byte
 *   big-endian `seqno` and `signature = Sign(key, "libp2p-pubsub:" ‖ Message without signature
 *   and key)`. `key` carries the author's public key only when the peer id cannot inline it
 *   (RSA; Ed25519 and secp256k1 ids are identity multihashes of the key, as go does — js
 *   always sends it). A verifier binds the key to `from` (HARDENING.md rule 6).
 * - `"StrictNoSign"`: `from`, `seqno`, `signature` and `key` must all be absent.
 *
 * Sequence numbers: monotonic 64-bit, seeded from the wall clock in nanoseconds and
 * incremented per message, as go (`time.Now().UnixNano()` at start) and js (`Date.now() *
 * 1e6`, `buildRawMessage.ts`) do, so they keep increasing across restarts (kubo's
 * `BasicSeqnoValidator` drops non-increasing ones).
 *
 * Message ids: {@link messageIdFromSeqno} (`from ‖ seqno`, go's default, ours),
 * {@link messageIdFromContent} (sha256 of data, js's StrictNoSign default) and
 * {@link messageIdJsDefault} (`protobuf(publicKey) ‖ seqno`, js gossipsub's StrictSign default,
 * for meshes that must match js ids).
 *
 * @module
 */

import { sha256 } from "@noble/hashes/sha2.js";
import { concat, utf8Encode } from "../../src/bytes.ts";
import { type PeerId, peerIdFromBytes } from "../../src/peer_id.ts";
import { peerIdFromPrivateKey, peerIdFromPublicKey } from "../../src/keys/peer_id_from_key.ts";
import { publicKeyFromProtobuf, publicKeyToProtobuf } from "../../src/keys/protobuf.ts";
import type { PrivateKey, PublicKey } from "../../src/keys/types.ts";
import { IDENTITY_CODE } from "../../src/multiformats/multihash.ts";
import { encodeMessage } from "./rpc_codec.ts";
import { messageIdKey, type PubsubMessage } from "./types.ts";

/** How messages are authored and checked (pubsub/README.md "Message Signing"). */
export type SignaturePolicy = "StrictSign" | "StrictNoSign";

/** The default policy in go and js. */
export const DEFAULT_SIGNATURE_POLICY: SignaturePolicy = "StrictSign";

/** The prefix of the signed bytes. */
export const SIGN_PREFIX: Uint8Array = utf8Encode("libp2p-pubsub:");

/** Length of `seqno` under StrictSign (js and go reject other lengths). */
export const SEQNO_BYTES = 8;

/**
 * The bytes a StrictSign signature covers: `"libp2p-pubsub:" ‖ encode(message)` with
 * `signature` and `key` left out.
 *
 * @example
 * ```ts
 * import { signedBytes } from "./signing.ts";
 * signedBytes({ topic: "t" }).length; // 14 + 3
 * ```
 */
export function signedBytes(message: PubsubMessage): Uint8Array {
  return concat([SIGN_PREFIX, encodeMessage(message, { forSigning: true })]);
}

/**
 * Monotonic 8-byte big-endian sequence numbers, seeded from the wall clock in nanoseconds.
 *
 * @example
 * ```ts
 * import { SeqnoGenerator } from "./signing.ts";
 * const seqnos = new SeqnoGenerator({ seed: 41n });
 * seqnos.next(); // Uint8Array [0, 0, 0, 0, 0, 0, 0, 42]
 * ```
 */
export class SeqnoGenerator {
  #counter: bigint;

  /** `seed` defaults to `Date.now()` in nanoseconds (go and js). */
  constructor(options: { seed?: bigint } = {}) {
    this.#counter = BigInt.asUintN(64, options.seed ?? BigInt(Date.now()) * 1_000_000n);
  }

  /** The next sequence number (wraps at 2^64, some 500 years after the epoch). */
  next(): Uint8Array {
    this.#counter = BigInt.asUintN(64, this.#counter + 1n);
    const out = new Uint8Array(SEQNO_BYTES);
    new DataView(out.buffer).setBigUint64(0, this.#counter, false);
    return out;
  }
}

/** Options of {@link MessageAuthor}. */
export interface MessageAuthorOptions {
  /** Default {@link DEFAULT_SIGNATURE_POLICY}. */
  policy?: SignaturePolicy;
  /** Our key; required under StrictSign. */
  privateKey?: PrivateKey;
  /** Sequence numbers (default: a clock-seeded {@link SeqnoGenerator}). */
  seqnos?: SeqnoGenerator;
}

/**
 * Builds our own messages under one policy: signed with `from`, `seqno` and (for RSA) `key`
 * under StrictSign; bare `{ topic, data }` under StrictNoSign.
 *
 * @example
 * ```ts
 * import { generateKeyPair } from "@p2p-edge/libp2p";
 * import { MessageAuthor } from "./signing.ts";
 * const author = new MessageAuthor({ privateKey: await generateKeyPair("Ed25519") });
 * const message = await author.build("chat", new TextEncoder().encode("hi"));
 * message.signature?.length; // 64
 * ```
 */
export class MessageAuthor {
  /** The policy. */
  readonly policy: SignaturePolicy;
  /** Our peer id (StrictSign). */
  readonly peerId: PeerId | undefined;
  readonly #privateKey: PrivateKey | undefined;
  readonly #from: Uint8Array | undefined;
  readonly #key: Uint8Array | undefined;
  readonly #seqnos: SeqnoGenerator;

  /** An author for `policy`; StrictSign needs `privateKey`. */
  constructor(options: MessageAuthorOptions) {
    this.policy = options.policy ?? DEFAULT_SIGNATURE_POLICY;
    this.#seqnos = options.seqnos ?? new SeqnoGenerator();
    if (this.policy === "StrictSign") {
      if (options.privateKey === undefined) {
        throw new TypeError("StrictSign needs the node's private key");
      }
      this.#privateKey = options.privateKey;
      this.peerId = peerIdFromPrivateKey(options.privateKey);
      this.#from = this.peerId.toBytes();
      // Only when the id cannot give the key back (go `signMessage`; research §2.1).
      this.#key = this.peerId.multihash.code === IDENTITY_CODE
        ? undefined
        : publicKeyToProtobuf(options.privateKey.publicKey);
    } else if (this.policy !== "StrictNoSign") {
      throw new TypeError(`unknown signature policy ${this.policy}`);
    }
  }

  /** A new message for `topic` carrying `data`, signed when the policy says so. */
  async build(topic: string, data: Uint8Array): Promise<PubsubMessage> {
    if (this.#privateKey === undefined) return { topic, data };
    const message: PubsubMessage = { from: this.#from, data, seqno: this.#seqnos.next(), topic };
    message.signature = await this.#privateKey.sign(signedBytes(message));
    if (this.#key !== undefined) message.key = this.#key;
    return message;
  }
}

/** Why a message failed its policy check. */
export type SignatureRejection =
  | "missing-from"
  | "invalid-from"
  | "missing-seqno"
  | "invalid-seqno"
  | "missing-signature"
  | "invalid-key"
  | "key-mismatch"
  | "invalid-signature"
  | "from-present"
  | "seqno-present"
  | "signature-present"
  | "key-present";

/** The outcome of {@link checkSignaturePolicy}. */
export type SignatureCheck =
  | { valid: true; author?: PeerId; publicKey?: PublicKey }
  | { valid: false; reason: SignatureRejection };

/**
 * Check `message` against `policy`. Never throws for remote input: every malformed field
 * becomes `{ valid: false, reason }` (HARDENING.md rule 5). Under StrictSign the public key is
 * the one inlined in `from`, or `key` when it hashes to `from` (HARDENING.md rule 6).
 *
 * @example
 * ```ts
 * import { checkSignaturePolicy } from "./signing.ts";
 * await checkSignaturePolicy({ topic: "t" }, "StrictNoSign"); // { valid: true }
 * await checkSignaturePolicy({ topic: "t" }, "StrictSign"); // { valid: false, reason: "missing-from" }
 * ```
 */
export async function checkSignaturePolicy(
  message: PubsubMessage,
  policy: SignaturePolicy,
): Promise<SignatureCheck> {
  if (policy === "StrictNoSign") {
    if (message.from !== undefined) return { valid: false, reason: "from-present" };
    if (message.seqno !== undefined) return { valid: false, reason: "seqno-present" };
    if (message.signature !== undefined) return { valid: false, reason: "signature-present" };
    if (message.key !== undefined) return { valid: false, reason: "key-present" };
    return { valid: true };
  }
  if (message.from === undefined) return { valid: false, reason: "missing-from" };
  if (message.seqno === undefined) return { valid: false, reason: "missing-seqno" };
  if (message.seqno.byteLength !== SEQNO_BYTES) return { valid: false, reason: "invalid-seqno" };
  if (message.signature === undefined) return { valid: false, reason: "missing-signature" };
  let author: PeerId;
  const fromKey = message.key === undefined ? messageIdKey(message.from) : undefined;
  const known = fromKey === undefined ? undefined : AUTHORS.get(fromKey);
  if (known !== undefined) author = known;
  else {
    try {
      author = peerIdFromBytes(message.from);
    } catch {
      return { valid: false, reason: "invalid-from" };
    }
    if (fromKey !== undefined) {
      // Cleared whole at the cap: O(1) per message, bounded (HARDENING.md rule 4).
      if (AUTHORS.size >= MAX_CACHED_AUTHORS) AUTHORS.clear();
      AUTHORS.set(fromKey, author);
    }
  }
  let publicKey: PublicKey | undefined;
  if (message.key !== undefined) {
    try {
      publicKey = publicKeyFromProtobuf(message.key);
    } catch {
      return { valid: false, reason: "invalid-key" };
    }
    if (!peerIdFromPublicKey(publicKey).equals(author)) {
      return { valid: false, reason: "key-mismatch" };
    }
  } else {
    publicKey = author.publicKey;
    if (publicKey === undefined) return { valid: false, reason: "invalid-key" };
  }
  let ok: boolean;
  try {
    ok = await publicKey.verify(signedBytes(message), message.signature);
  } catch {
    ok = false;
  }
  return ok ? { valid: true, author, publicKey } : { valid: false, reason: "invalid-signature" };
}

/**
 * Authors whose keys are inlined in their peer ids (Ed25519, secp256k1), by `from` bytes: the
 * same PeerId object, and so the same public key object, verifies each of an author's messages,
 * which lets the key keep its WebCrypto import (src/keys/ed25519.ts). Process-wide, capped.
 */
const AUTHORS = new Map<string, PeerId>();

/** Authors kept in {@link AUTHORS} (a 38-byte id and its key object: ~1 KiB each). */
export const MAX_CACHED_AUTHORS = 4096;

/** A message-id function (the id is bytes; its map key is `messageIdKey(id)`). */
export type MessageIdFn = (message: PubsubMessage) => Uint8Array;

const EMPTY = new Uint8Array(0);

/**
 * go's default id, `from ‖ seqno` (go `DefaultMsgIdFn`), our default under StrictSign.
 *
 * @example
 * ```ts
 * import { messageIdFromSeqno } from "./signing.ts";
 * messageIdFromSeqno({ topic: "t", from: new Uint8Array([1]), seqno: new Uint8Array([2]) });
 * // Uint8Array [1, 2]
 * ```
 */
export function messageIdFromSeqno(message: PubsubMessage): Uint8Array {
  return concat([message.from ?? EMPTY, message.seqno ?? EMPTY]);
}

/**
 * Content-addressed id: sha256 of `data` (32 bytes; js's StrictNoSign default), our default
 * under StrictNoSign.
 *
 * @example
 * ```ts
 * import { messageIdFromContent } from "./signing.ts";
 * messageIdFromContent({ topic: "t", data: new Uint8Array() }).length; // 32
 * ```
 */
export function messageIdFromContent(message: PubsubMessage): Uint8Array {
  return sha256(message.data ?? EMPTY);
}

/**
 * js gossipsub's StrictSign default id: the author's protobuf public key ‖ seqno
 * (`msgIdFn.ts`). The key is the digest of an identity-multihash `from`, else `key`; with
 * neither this falls back to {@link messageIdFromSeqno}.
 *
 * @example
 * ```ts
 * import { messageIdJsDefault } from "./signing.ts";
 * const from = new Uint8Array([0x00, 0x02, 8, 1]); // identity multihash of a 2-byte "key"
 * messageIdJsDefault({ topic: "t", from, seqno: new Uint8Array([9]) }); // [8, 1, 9]
 * ```
 */
export function messageIdJsDefault(message: PubsubMessage): Uint8Array {
  const from = message.from;
  let key: Uint8Array | undefined;
  // identity multihash: code 0x00, then a one-byte length (inline keys are <= 42 bytes).
  if (
    from !== undefined && from.length >= 2 && from[0] === IDENTITY_CODE &&
    from[1] === from.length - 2
  ) {
    key = from.subarray(2);
  } else {
    key = message.key;
  }
  if (key === undefined) return messageIdFromSeqno(message);
  return concat([key, message.seqno ?? EMPTY]);
}

/**
 * The default id function for a policy: `from ‖ seqno` under StrictSign (go-compatible),
 * sha256(data) under StrictNoSign.
 *
 * @example
 * ```ts
 * import { defaultMessageIdFn, messageIdFromContent } from "./signing.ts";
 * defaultMessageIdFn("StrictNoSign") === messageIdFromContent; // true
 * ```
 */
export function defaultMessageIdFn(policy: SignaturePolicy): MessageIdFn {
  return policy === "StrictNoSign" ? messageIdFromContent : messageIdFromSeqno;
}
