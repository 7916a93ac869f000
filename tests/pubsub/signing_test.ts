/**
 * Pubsub message signing (pubsub/README.md "Message Signing"): StrictSign and StrictNoSign,
 * the key field only for ids that cannot inline the key, binding the key to `from`
 * (HARDENING.md rule 6), monotonic seqnos, message-id functions, and cross-checks with
 * js-libp2p (@libp2p/floodsub 11.0.28 `signMessage`, @libp2p/gossipsub 17.1.1
 * `buildRawMessage` / `validateToRawMessage` / `msgIdFnStrictSign`, @libp2p/crypto keys):
 * the same Ed25519 key signs to the same bytes, and each side verifies the other's messages.
 */

import { describe, it } from "node:test";
import assert from "node:assert/strict";
import {
  generateKeyPair as jsGenerateKeyPair,
  generateKeyPairFromSeed as jsKeyFromSeed,
} from "@libp2p/crypto/keys";
import { peerIdFromPrivateKey as jsPeerIdFromPrivateKey } from "@libp2p/peer-id";
import { signMessage as jsFloodSign } from "../../node_modules/@libp2p/floodsub/dist/src/sign.js";
import { RPC as JsFloodRPC } from "../../node_modules/@libp2p/floodsub/dist/src/message/rpc.js";
import {
  buildRawMessage as jsBuildRawMessage,
  validateToRawMessage as jsValidate,
} from "../../node_modules/@libp2p/gossipsub/dist/src/utils/buildRawMessage.js";
import { getPublishConfigFromPeerId as jsPublishConfig } from "../../node_modules/@libp2p/gossipsub/dist/src/utils/publishConfig.js";
import { msgIdFnStrictSign as jsMsgIdFn } from "../../node_modules/@libp2p/gossipsub/dist/src/utils/msgIdFn.js";
import { concat, toHex, utf8Encode } from "../../src/bytes.ts";
import {
  generateKeyPair,
  generateKeyPairFromSeed,
  peerIdFromPrivateKey,
  publicKeyToProtobuf,
} from "../../src/keys/mod.ts";
import {
  checkSignaturePolicy,
  defaultMessageIdFn,
  MessageAuthor,
  messageIdFromContent,
  messageIdFromSeqno,
  messageIdJsDefault,
  SeqnoGenerator,
  SIGN_PREFIX,
  signedBytes,
} from "../../protocols/pubsub/signing.ts";
import { encodeMessage } from "../../protocols/pubsub/rpc_codec.ts";
import type { PubsubMessage } from "../../protocols/pubsub/types.ts";

const seed = new Uint8Array(32).map((_, i) => i + 1);
const SEQ = 0x1234_5678_9abc_def0n;

describe("seqno generator", () => {
  it("is monotonic, 8 bytes big-endian, seeded from the clock in ns (go and js)", () => {
    const before = BigInt(Date.now()) * 1_000_000n;
    const gen = new SeqnoGenerator();
    const after = BigInt(Date.now()) * 1_000_000n;
    const a = new DataView(gen.next().buffer).getBigUint64(0, false);
    const b = new DataView(gen.next().buffer).getBigUint64(0, false);
    assert.ok(a > before && a <= after + 1n, `${a} in (${before}, ${after}]`);
    assert.equal(b, a + 1n);
    assert.equal(toHex(new SeqnoGenerator({ seed: 0x0102n }).next()), "0000000000000103");
    assert.equal(toHex(new SeqnoGenerator({ seed: 2n ** 64n - 1n }).next()), "0000000000000000");
  });
});

describe("StrictSign", () => {
  it("signs prefix ‖ message without signature and key; Ed25519 ids inline the key", async () => {
    const key = generateKeyPairFromSeed("Ed25519", seed);
    const author = new MessageAuthor({
      privateKey: key,
      seqnos: new SeqnoGenerator({ seed: SEQ - 1n }),
    });
    const m = await author.build("topic", utf8Encode("hello"));
    assert.deepEqual(m.from, peerIdFromPrivateKey(key).toBytes());
    assert.equal(toHex(m.seqno!), "123456789abcdef0");
    assert.equal(m.key, undefined);
    const expected = concat([
      utf8Encode("libp2p-pubsub:"),
      encodeMessage({ from: m.from, data: m.data, seqno: m.seqno, topic: "topic" }),
    ]);
    assert.deepEqual(signedBytes(m), expected);
    assert.deepEqual(SIGN_PREFIX, utf8Encode("libp2p-pubsub:"));
    assert.equal(await key.publicKey.verify(expected, m.signature!), true);
    const check = await checkSignaturePolicy(m, "StrictSign");
    assert.equal(check.valid, true);
    assert.ok(check.valid && check.author?.equals(author.peerId));
  });

  it("an author's later messages (its key import kept after the cache) verify, and forgeries still fail", async () => {
    const key = generateKeyPairFromSeed("Ed25519", seed.map((b) => b ^ 0x5a));
    const author = new MessageAuthor({ privateKey: key });
    for (let i = 0; i < 6; i++) {
      const m = await author.build("topic", utf8Encode(`message ${i}`));
      const check = await checkSignaturePolicy(m, "StrictSign");
      assert.equal(check.valid, true, `message ${i}`);
      // The same author object each time: its key keeps the WebCrypto import from the third.
      const forged = { ...m, data: utf8Encode(`forged ${i}`) };
      assert.deepEqual(await checkSignaturePolicy(forged, "StrictSign"), {
        valid: false,
        reason: "invalid-signature",
      });
    }
  });

  it("RSA ids (sha256 of the key) carry the key, which must hash to from", async () => {
    const rsa = await generateKeyPair("RSA", 2048);
    const m = await new MessageAuthor({ privateKey: rsa }).build("t", utf8Encode("x"));
    assert.deepEqual(m.key, publicKeyToProtobuf(rsa.publicKey));
    assert.deepEqual((await checkSignaturePolicy(m, "StrictSign")).valid, true);
    // Without the key the id cannot give it back.
    assert.deepEqual(await checkSignaturePolicy({ ...m, key: undefined }, "StrictSign"), {
      valid: false,
      reason: "invalid-key",
    });
    // Another peer's key, even one that signs correctly, does not match `from`.
    const other = await generateKeyPair("Ed25519");
    const forged: PubsubMessage = { ...m, key: publicKeyToProtobuf(other.publicKey) };
    forged.signature = await other.sign(signedBytes(forged));
    assert.deepEqual(await checkSignaturePolicy(forged, "StrictSign"), {
      valid: false,
      reason: "key-mismatch",
    });
  });

  it("every malformed or missing field is a reason, never an exception", async () => {
    const key = generateKeyPairFromSeed("Ed25519", seed);
    const m = await new MessageAuthor({ privateKey: key }).build("t", utf8Encode("x"));
    const cases: [PubsubMessage, string][] = [
      [{ ...m, from: undefined }, "missing-from"],
      [{ ...m, seqno: undefined }, "missing-seqno"],
      [{ ...m, seqno: m.seqno!.subarray(1) }, "invalid-seqno"],
      [{ ...m, signature: undefined }, "missing-signature"],
      [{ ...m, from: new Uint8Array([0xff, 0xff]) }, "invalid-from"],
      [{ ...m, from: new Uint8Array([0x00, 0x03, 1, 2, 3]) }, "invalid-from"], // bad inline key
      [{ ...m, key: new Uint8Array([1, 2, 3]) }, "invalid-key"],
      [{ ...m, data: utf8Encode("y") }, "invalid-signature"],
      [{ ...m, topic: "u" }, "invalid-signature"],
      [{ ...m, seqno: new Uint8Array(8) }, "invalid-signature"],
      [{ ...m, signature: new Uint8Array(3) }, "invalid-signature"],
    ];
    for (const [message, reason] of cases) {
      assert.deepEqual(
        await checkSignaturePolicy(message, "StrictSign"),
        { valid: false, reason },
        reason,
      );
    }
    // A key field that matches an inline id is accepted (js always sends one).
    const withKey = { ...m, key: publicKeyToProtobuf(key.publicKey) };
    assert.equal((await checkSignaturePolicy(withKey, "StrictSign")).valid, true);
  });
});

describe("StrictNoSign", () => {
  it("builds bare messages and rejects any of from, seqno, signature, key", async () => {
    const author = new MessageAuthor({ policy: "StrictNoSign" });
    const m = await author.build("t", utf8Encode("x"));
    assert.deepEqual(m, { topic: "t", data: utf8Encode("x") });
    assert.deepEqual(await checkSignaturePolicy(m, "StrictNoSign"), { valid: true });
    const b = new Uint8Array([1]);
    for (
      const [field, reason] of [
        ["from", "from-present"],
        ["seqno", "seqno-present"],
        ["signature", "signature-present"],
        ["key", "key-present"],
      ] as const
    ) {
      assert.deepEqual(await checkSignaturePolicy({ ...m, [field]: b }, "StrictNoSign"), {
        valid: false,
        reason,
      });
    }
    assert.throws(() => new MessageAuthor({}), TypeError);
  });
});

describe("message ids", () => {
  it("from ‖ seqno (go default), sha256(data), and the defaults per policy", () => {
    const m = { topic: "t", from: new Uint8Array([1, 2]), seqno: new Uint8Array([3]) };
    assert.equal(toHex(messageIdFromSeqno(m)), "010203");
    assert.equal(
      toHex(messageIdFromContent({ topic: "t" })),
      "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    );
    assert.equal(defaultMessageIdFn("StrictSign"), messageIdFromSeqno);
    assert.equal(defaultMessageIdFn("StrictNoSign"), messageIdFromContent);
  });
});

describe("js-libp2p cross-checks", () => {
  it("the same Ed25519 key signs the same message to the same bytes as js floodsub", async () => {
    const ours = generateKeyPairFromSeed("Ed25519", seed);
    const js = await jsKeyFromSeed("Ed25519", seed);
    const data = utf8Encode("cross-check");
    const jsSigned = await jsFloodSign(
      js,
      { topic: "topic", data, sequenceNumber: SEQ },
      JsFloodRPC.Message.encode,
    );
    const m = await new MessageAuthor({
      privateKey: ours,
      seqnos: new SeqnoGenerator({ seed: SEQ - 1n }),
    })
      .build("topic", data);
    assert.equal(
      toHex(m.signature!),
      toHex((jsSigned as unknown as { signature: Uint8Array }).signature),
    );
    assert.deepEqual(m.from, jsSigned.from.toMultihash().bytes);
  });

  it("js gossipsub validates our signed messages (Ed25519, secp256k1, RSA)", async () => {
    for (const type of ["Ed25519", "secp256k1", "RSA"] as const) {
      const key = await generateKeyPair(type);
      const m = await new MessageAuthor({ privateKey: key }).build("topic", utf8Encode(type));
      const result = await jsValidate("StrictSign", m);
      assert.equal(result.valid, true, `${type}: ${result.error}`);
      const tampered = await jsValidate("StrictSign", { ...m, data: utf8Encode("other") });
      assert.equal(tampered.valid, false);
    }
  });

  it("we validate js gossipsub's signed messages, and match js's default message id", async () => {
    for (const type of ["Ed25519", "secp256k1"] as const) {
      const jsKey = await jsGenerateKeyPair(type);
      const config = jsPublishConfig("StrictSign", jsPeerIdFromPrivateKey(jsKey), jsKey);
      const { raw, msg } = await jsBuildRawMessage(
        config,
        "topic",
        utf8Encode("js"),
        utf8Encode("js"),
      );
      assert.ok(raw.key !== undefined); // js always sends the key
      const m: PubsubMessage = { ...raw };
      for (const k of Object.keys(m) as (keyof PubsubMessage)[]) {
        if (m[k] === undefined) delete m[k];
      }
      const check = await checkSignaturePolicy(m, "StrictSign");
      assert.equal(check.valid, true, type);
      assert.equal(toHex(messageIdJsDefault(m)), toHex(jsMsgIdFn(msg)));
      assert.equal(
        (await checkSignaturePolicy({ ...m, topic: "other" }, "StrictSign")).valid,
        false,
      );
    }
  });
});
