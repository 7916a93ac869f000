// Tests for src/record/peer_record.ts (libp2p/specs RFC/0003-routing-records.md), including a
// signed peer record produced by go-libp2p (tests/vectors/peer-record/NOTE.md).
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { fromHex, toHex, utf8Encode } from "../../src/bytes.ts";
import {
  DecodeError,
  InvalidSignatureError,
  LimitExceededError,
  PeerIdMismatchError,
} from "../../src/errors.ts";
import {
  generateKeyPair,
  type KeyType,
  peerIdFromPrivateKey,
  privateKeyFromProtobuf,
} from "../../src/keys/mod.ts";
import { multiaddr } from "../../src/multiaddr/mod.ts";
import { ProtobufWriter } from "../../src/protobuf.ts";
import {
  LEGACY_ROUTING_STATE_DOMAIN,
  LEGACY_ROUTING_STATE_PAYLOAD_TYPE,
  MAX_PEER_RECORD_ADDRESSES,
  nextPeerRecordSeq,
  openPeerRecord,
  PEER_RECORD_DOMAIN,
  PEER_RECORD_PAYLOAD_TYPE,
  PeerRecord,
  sealPeerRecord,
  SignedEnvelope,
} from "../../src/record/mod.ts";

function vector(name: string): Uint8Array {
  const text = readFileSync(new URL(`../vectors/peer-record/${name}`, import.meta.url), "utf8");
  return fromHex(text.trim());
}

const GO_ENVELOPE = vector("go_envelope.hex");
const GO_KEY = privateKeyFromProtobuf(vector("go_private_key.hex"));
const GO_SEQ = 1598453001624231000n;
const GO_ADDRS = Array.from({ length: 10 }, (_, i) => `/ip4/1.2.3.4/tcp/${i}`);

describe("peer record made by go-libp2p", () => {
  it("opens, verifies and binds to the signer", async () => {
    const goPeer = peerIdFromPrivateKey(GO_KEY);
    const { envelope, record } = await openPeerRecord(GO_ENVELOPE, goPeer);
    assert.ok(envelope.publicKey.equals(GO_KEY.publicKey));
    assert.deepEqual([...envelope.payloadType], [0x03, 0x01]);
    assert.ok(record.peerId.equals(goPeer));
    assert.equal(record.peerId.toString().slice(0, 8), "12D3KooW");
    assert.equal(record.seq, GO_SEQ);
    assert.deepEqual(record.addresses.map((a) => a.toString()), GO_ADDRS);
    assert.equal(record.ignoredAddresses, 0);
    // The generic path opens it too.
    await SignedEnvelope.open(GO_ENVELOPE, PEER_RECORD_DOMAIN, {
      payloadType: PEER_RECORD_PAYLOAD_TYPE,
    });
  });

  it("re-encodes byte-identically", async () => {
    const { envelope, record } = await openPeerRecord(GO_ENVELOPE);
    assert.equal(toHex(envelope.encode()), toHex(GO_ENVELOPE));
    assert.equal(toHex(record.encode()), toHex(envelope.payload));
    const rebuilt = new SignedEnvelope({
      publicKey: envelope.publicKey,
      payloadType: envelope.payloadType,
      payload: record.encode(),
      signature: envelope.signature,
    });
    assert.equal(toHex(rebuilt.encode()), toHex(GO_ENVELOPE));
  });

  it("is reproduced exactly when we seal the same record with the same key", async () => {
    // Ed25519 signatures are deterministic, so our envelope must equal go's byte for byte.
    const ours = await sealPeerRecord(GO_KEY, GO_ADDRS.map((a) => multiaddr(a)), { seq: GO_SEQ });
    assert.equal(toHex(ours.encode()), toHex(GO_ENVELOPE));
  });

  it("is rejected for another expected peer, another domain, or when tampered", async () => {
    const other = peerIdFromPrivateKey(await generateKeyPair("Ed25519"));
    await assert.rejects(openPeerRecord(GO_ENVELOPE, other), PeerIdMismatchError);
    await assert.rejects(
      SignedEnvelope.open(GO_ENVELOPE, "libp2p-routing-state"),
      InvalidSignatureError,
    );
    const tampered = GO_ENVELOPE.slice();
    tampered[tampered.byteLength - 80] ^= 1; // inside the ninth address (signed payload)
    await assert.rejects(openPeerRecord(tampered), InvalidSignatureError);
  });
});

describe("PeerRecord", () => {
  const KEY_TYPES: KeyType[] = ["Ed25519", "secp256k1", "ECDSA"];
  for (const type of KEY_TYPES) {
    it(`round-trips sealed with a ${type} key`, async () => {
      const key = await generateKeyPair(type);
      const peer = peerIdFromPrivateKey(key);
      const addresses = [
        multiaddr("/ip4/192.0.2.1/tcp/4001"),
        multiaddr("/ip6/::1/udp/4001/quic-v1"),
      ];
      const envelope = await sealPeerRecord(key, addresses, { seq: 42n });
      const { record } = await openPeerRecord(envelope.encode(), peer);
      assert.ok(record.peerId.equals(peer));
      assert.equal(record.seq, 42n);
      assert.deepEqual(
        record.addresses.map((a) => a.toString()),
        addresses.map((a) => a.toString()),
      );
      assert.ok(record.equals(new PeerRecord({ peerId: peer, seq: 42n, addresses })));
    });
  }

  it("encodes canonically (proto3: seq 0 and empty fields left out)", () => {
    const peer = peerIdFromPrivateKey(GO_KEY);
    const id = toHex(peer.toBytes());
    assert.equal(id.length, 76); // 38-byte identity multihash
    const one = new PeerRecord({
      peerId: peer,
      seq: 1n,
      addresses: [multiaddr("/ip4/1.2.3.4/tcp/0")],
    });
    assert.equal(
      toHex(one.encode()),
      "0a26" + id + "1001" + "1a0a" + "0a08" + "04010203040600" + "00",
    );
    const zero = new PeerRecord({ peerId: peer, seq: 0n });
    assert.equal(toHex(zero.encode()), "0a26" + id);
    assert.equal(PeerRecord.decode(zero.encode()).seq, 0n);
    const max = new PeerRecord({ peerId: peer, seq: 2n ** 64n - 1n });
    assert.equal(PeerRecord.decode(max.encode()).seq, 2n ** 64n - 1n);
    assert.equal(one.domain, "libp2p-peer-record");
    assert.deepEqual([...one.payloadType], [3, 1]);
  });

  it("rejects a seq outside u64 and too many addresses with RangeError", () => {
    const peer = peerIdFromPrivateKey(GO_KEY);
    assert.throws(() => new PeerRecord({ peerId: peer, seq: -1n }), RangeError);
    assert.throws(() => new PeerRecord({ peerId: peer, seq: 2n ** 64n }), RangeError);
    const many = Array.from(
      { length: MAX_PEER_RECORD_ADDRESSES + 1 },
      () => multiaddr("/ip4/1.2.3.4"),
    );
    assert.throws(() => new PeerRecord({ peerId: peer, seq: 1n, addresses: many }), RangeError);
  });

  it("caps the number of addresses while decoding", async () => {
    const peer = peerIdFromPrivateKey(GO_KEY);
    const payload = (count: number) => {
      const w = new ProtobufWriter().bytes(1, peer.toBytes()).uint(2, 1);
      for (let i = 0; i < count; i++) {
        w.message(3, new ProtobufWriter().bytes(1, multiaddr(`/ip4/10.0.0.1/tcp/${i}`).bytes));
      }
      return w.finish();
    };
    assert.equal(PeerRecord.decode(payload(MAX_PEER_RECORD_ADDRESSES)).addresses.length, 128);
    assert.throws(
      () => PeerRecord.decode(payload(MAX_PEER_RECORD_ADDRESSES + 1)),
      (e: unknown) => e instanceof LimitExceededError && e.limit === "MAX_PEER_RECORD_ADDRESSES",
    );
    // Through a correctly signed envelope too.
    const signed = await SignedEnvelope.sealPayload(
      GO_KEY,
      PEER_RECORD_DOMAIN,
      PEER_RECORD_PAYLOAD_TYPE,
      payload(MAX_PEER_RECORD_ADDRESSES + 1),
    );
    await assert.rejects(openPeerRecord(signed.encode()), LimitExceededError);
  });

  it("skips addresses that do not parse and counts them", () => {
    const peer = peerIdFromPrivateKey(GO_KEY);
    const bytes = new ProtobufWriter()
      .bytes(1, peer.toBytes())
      .message(3, new ProtobufWriter().bytes(1, Uint8Array.of(0xff, 0xff, 0x03))) // unknown code
      .message(3, new ProtobufWriter().bytes(1, multiaddr("/ip4/1.2.3.4/tcp/1").bytes))
      .message(3, new ProtobufWriter()) // empty AddressInfo
      .message(3, new ProtobufWriter().bytes(1, Uint8Array.of(0x04, 1, 2))) // truncated ip4
      .finish();
    const record = PeerRecord.decode(bytes);
    assert.deepEqual(record.addresses.map((a) => a.toString()), ["/ip4/1.2.3.4/tcp/1"]);
    assert.equal(record.ignoredAddresses, 3);
  });

  it("rejects malformed payloads with DecodeError", () => {
    const peer = peerIdFromPrivateKey(GO_KEY);
    const cases = [
      new Uint8Array(0), // no peer id
      new ProtobufWriter().uint(2, 1).finish(), // no peer id
      new ProtobufWriter().bytes(1, Uint8Array.of(0x00, 0x05, 1)).finish(), // bad multihash
      new ProtobufWriter().bytes(1, peer.toBytes()).bytes(1, peer.toBytes()).finish(), // repeated
      new ProtobufWriter().bytes(1, peer.toBytes()).uint(2, 1).uint(2, 2).finish(), // repeated
      new ProtobufWriter().bytes(1, peer.toBytes()).bytes(2, Uint8Array.of(1)).finish(), // type
      new ProtobufWriter().bytes(1, peer.toBytes()).uint(3, 1).finish(), // wire type
      fromHex("0a26" + toHex(peer.toBytes()).slice(0, 70)), // truncated
    ];
    for (const bytes of cases) {
      assert.throws(() => PeerRecord.decode(bytes), DecodeError, toHex(bytes));
    }
  });

  it("hands out strictly increasing sequence numbers (nanoseconds, like go)", () => {
    const a = nextPeerRecordSeq();
    const b = nextPeerRecordSeq();
    assert.ok(b > a);
    const nowNs = BigInt(Date.now()) * 1_000_000n;
    assert.ok(a <= nowNs + 1_000_000_000n && a > nowNs - 60_000_000_000n);
  });
});

describe("openPeerRecord", () => {
  it("rejects a record of another peer (signed by a different key)", async () => {
    const signer = await generateKeyPair("Ed25519");
    const victim = peerIdFromPrivateKey(await generateKeyPair("Ed25519"));
    const forged = await SignedEnvelope.seal(
      signer,
      new PeerRecord({ peerId: victim, seq: 9n, addresses: [multiaddr("/ip4/6.6.6.6/tcp/1")] }),
    );
    await assert.rejects(openPeerRecord(forged.encode()), InvalidSignatureError);
    // Naming the victim as the expected peer fails before any signature work.
    await assert.rejects(openPeerRecord(forged.encode(), victim), PeerIdMismatchError);
  });

  it("rejects a peer record signed for another domain", async () => {
    const key = await generateKeyPair("Ed25519");
    const record = new PeerRecord({ peerId: peerIdFromPrivateKey(key), seq: 1n });
    const wrong = await SignedEnvelope.sealPayload(
      key,
      "other-domain",
      PEER_RECORD_PAYLOAD_TYPE,
      record.encode(),
    );
    await assert.rejects(openPeerRecord(wrong.encode()), InvalidSignatureError);
  });

  it("rejects other payload types with DecodeError", async () => {
    const key = await generateKeyPair("Ed25519");
    const record = new PeerRecord({ peerId: peerIdFromPrivateKey(key), seq: 1n });
    for (
      const type of [Uint8Array.of(0x81, 0x06), Uint8Array.of(3), utf8Encode("/libp2p/peer-record")]
    ) {
      const env = await SignedEnvelope.sealPayload(key, PEER_RECORD_DOMAIN, type, record.encode());
      await assert.rejects(openPeerRecord(env.encode()), DecodeError);
    }
  });

  it("accepts rust-libp2p's routing-state domain and payload type, only together", async () => {
    const key = await generateKeyPair("Ed25519");
    const peer = peerIdFromPrivateKey(key);
    const payload = new PeerRecord({
      peerId: peer,
      seq: 5n,
      addresses: [multiaddr("/ip4/1.2.3.4/tcp/5")],
    })
      .encode();
    const rust = await SignedEnvelope.sealPayload(
      key,
      LEGACY_ROUTING_STATE_DOMAIN,
      LEGACY_ROUTING_STATE_PAYLOAD_TYPE,
      payload,
    );
    const { record } = await openPeerRecord(rust.encode(), peer);
    assert.equal(record.seq, 5n);
    const mixed = await SignedEnvelope.sealPayload(
      key,
      PEER_RECORD_DOMAIN,
      LEGACY_ROUTING_STATE_PAYLOAD_TYPE,
      payload,
    );
    await assert.rejects(openPeerRecord(mixed.encode()), InvalidSignatureError);
  });

  it("rejects every truncated prefix with DecodeError", async () => {
    for (let n = 0; n < GO_ENVELOPE.byteLength; n++) {
      await assert.rejects(
        openPeerRecord(GO_ENVELOPE.subarray(0, n)),
        (e: unknown) => e instanceof DecodeError,
        `prefix ${n}`,
      );
    }
  });
});
