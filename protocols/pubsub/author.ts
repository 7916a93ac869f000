/**
 * The service's {@link PubsubAuthor}: how our messages are built and signed, how any message
 * is identified, and how a received message is checked against the signing policy
 * (libp2p/specs pubsub/README.md "Message Signing"). The signing primitives are signing.ts's.
 *
 * @module
 */

import type { PrivateKey } from "../../src/keys/types.ts";
import { type PeerId, peerIdFromBytes } from "../../src/peer_id.ts";
import { checkSignaturePolicy, defaultMessageIdFn, MessageAuthor } from "./signing.ts";
import type { PubsubAuthor, PubsubMessageDetail, SignaturePolicy } from "./service_types.ts";
import type { PubsubMessage } from "./types.ts";

/**
 * The author of a node: its key and peer id sign (StrictSign) our messages; `msgIdFn` (default
 * `from ‖ seqno` under StrictSign, sha256(data) under StrictNoSign) names every message.
 *
 * @example
 * ```ts
 * import { createAuthor } from "./author.ts";
 * // const author = createAuthor(node, { globalSignaturePolicy: "StrictSign" });
 * // const msg = await author.build("topic", new Uint8Array([1]));
 * ```
 */
export function createAuthor(
  node: { peerId: PeerId; privateKey: PrivateKey },
  options: {
    globalSignaturePolicy?: SignaturePolicy;
    msgIdFn?: (message: PubsubMessage) => Uint8Array;
  },
): PubsubAuthor {
  const policy: SignaturePolicy = options.globalSignaturePolicy ?? "StrictSign";
  const msgIdFn = options.msgIdFn ?? defaultMessageIdFn(policy);
  const author = new MessageAuthor({ policy, privateKey: node.privateKey });
  return {
    policy,
    build: (topic, data) => author.build(topic, data),
    msgId: msgIdFn,
    check: async (message) => (await checkSignaturePolicy(message, policy)).valid,
    detail(message, id, source): PubsubMessageDetail {
      const detail: PubsubMessageDetail = {
        type: policy === "StrictSign" ? "signed" : "unsigned",
        topic: message.topic,
        data: message.data ?? new Uint8Array(0),
        msgId: id,
        propagationSource: source,
        raw: message,
      };
      if (message.from !== undefined) {
        try {
          detail.from = peerIdFromBytes(message.from);
        } catch { /* checked by the policy; leave it out */ }
      }
      if (message.seqno !== undefined) detail.sequenceNumber = seqnoToBigInt(message.seqno);
      if (message.signature !== undefined) detail.signature = message.signature;
      if (message.key !== undefined) detail.key = message.key;
      return detail;
    },
  };
}

/** A big-endian sequence number's value. */
export function seqnoToBigInt(bytes: Uint8Array): bigint {
  let v = 0n;
  for (const b of bytes) v = (v << 8n) | BigInt(b);
  return v;
}
