/**
 * Reservation vouchers: seal and open, every refusal, and cross-checks with js-libp2p's
 * ReservationVoucherRecord sealed by @libp2p/peer-record both ways (same key, same bytes).
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { privateKeyFromProtobuf as jsPrivateKeyFromProtobuf } from "@libp2p/crypto/keys";
import { peerIdFromPrivateKey as jsPeerIdFromPrivateKey } from "@libp2p/peer-id";
import { RecordEnvelope } from "@libp2p/peer-record";
import { toHex } from "../../src/bytes.ts";
import { DecodeError, InvalidSignatureError } from "../../src/errors.ts";
import {
  generateKeyPair,
  peerIdFromPrivateKey,
  peerIdFromString,
  privateKeyToProtobuf,
} from "../../src/keys/mod.ts";
import { ProtobufWriter } from "../../src/protobuf.ts";
import { SignedEnvelope } from "../../src/record/envelope.ts";
import {
  openVoucher,
  ReservationVoucher,
  sealVoucher,
  VOUCHER_DOMAIN,
  VOUCHER_PAYLOAD_TYPE,
} from "../../protocols/circuit-relay/voucher.ts";
import { ReservationVoucherRecord } from "../../node_modules/@libp2p/circuit-relay-v2/dist/src/server/reservation-voucher.js";
import { ReservationVoucher as JsVoucherPb } from "../../node_modules/@libp2p/circuit-relay-v2/dist/src/pb/index.js";

async function setup() {
  const relayKey = await generateKeyPair("Ed25519");
  const peerKey = await generateKeyPair("Ed25519");
  return {
    relayKey,
    relay: peerIdFromPrivateKey(relayKey),
    peer: peerIdFromPrivateKey(peerKey),
  };
}

describe("reservation voucher", () => {
  it("encodes the payload canonically and round-trips", async () => {
    const { relay, peer } = await setup();
    const v = new ReservationVoucher({ relay, peer, expiration: 300n });
    const expected = new ProtobufWriter()
      .bytes(1, relay.toBytes())
      .bytes(2, peer.toBytes())
      .uint(3, 300)
      .finish();
    assert.equal(toHex(v.encode()), toHex(expected));
    const back = ReservationVoucher.decode(v.encode());
    assert.ok(back.relay.equals(relay) && back.peer.equals(peer));
    assert.equal(back.expiration, 300n);
    assert.equal(VOUCHER_DOMAIN, "libp2p-relay-rsvp");
    assert.deepEqual(VOUCHER_PAYLOAD_TYPE, new Uint8Array([3, 2]));
  });

  it("seals and opens, checking relay and peer", async () => {
    const { relayKey, relay, peer } = await setup();
    const sealed = await sealVoucher(relayKey, { relay, peer, expiration: 1_700_000_000n });
    const opened = await openVoucher(sealed, { relay, peer });
    assert.equal(opened.expiration, 1_700_000_000n);
    await assert.rejects(openVoucher(sealed, { relay: peer }), InvalidSignatureError);
    await assert.rejects(openVoucher(sealed, { peer: relay }), InvalidSignatureError);
  });

  it("refuses to sign for another relay", async () => {
    const { relayKey, peer } = await setup();
    await assert.rejects(
      sealVoucher(relayKey, { relay: peer, peer, expiration: 1n }),
      TypeError,
    );
  });

  it("refuses a voucher signed by someone else than the relay it names", async () => {
    const { relay, peer } = await setup();
    const otherKey = await generateKeyPair("Ed25519");
    const forged = await SignedEnvelope.seal(
      otherKey,
      new ReservationVoucher({ relay, peer, expiration: 1n }),
    );
    await assert.rejects(openVoucher(forged.encode()), InvalidSignatureError);
  });

  it("refuses a wrong domain, a wrong payload type, a tampered signature, garbage", async () => {
    const { relayKey, relay, peer } = await setup();
    const payload = new ReservationVoucher({ relay, peer, expiration: 1n }).encode();
    const wrongDomain = await SignedEnvelope.sealPayload(
      relayKey,
      "libp2p-peer-record",
      VOUCHER_PAYLOAD_TYPE,
      payload,
    );
    await assert.rejects(openVoucher(wrongDomain.encode()), InvalidSignatureError);
    const wrongType = await SignedEnvelope.sealPayload(
      relayKey,
      VOUCHER_DOMAIN,
      Uint8Array.of(3, 1),
      payload,
    );
    await assert.rejects(openVoucher(wrongType.encode()), DecodeError);
    const good = SignedEnvelope.decode(
      await sealVoucher(relayKey, { relay, peer, expiration: 1n }),
    );
    const tampered = new SignedEnvelope({
      publicKey: good.publicKey,
      payloadType: good.payloadType,
      payload: good.payload,
      signature: good.signature.map((b, i) => (i === 0 ? b ^ 1 : b)),
    });
    await assert.rejects(openVoucher(tampered.encode()), InvalidSignatureError);
    await assert.rejects(openVoucher(new Uint8Array([0xff, 0xff])), DecodeError);
    assert.throws(() => ReservationVoucher.decode(new Uint8Array([0x18, 0x01])), DecodeError);
  });
});

describe("reservation voucher vs js-libp2p", () => {
  it("same key and fields give the same envelope bytes; each side opens the other's", async () => {
    const { relayKey, relay } = await setup();
    const jsKey = jsPrivateKeyFromProtobuf(privateKeyToProtobuf(relayKey));
    const jsRelay = jsPeerIdFromPrivateKey(jsKey);
    const jsPeer = jsPeerIdFromPrivateKey(
      jsPrivateKeyFromProtobuf(privateKeyToProtobuf(await generateKeyPair("Ed25519"))),
    );
    const peer = peerIdFromString(jsPeer.toString());
    assert.equal(relay.toString(), jsRelay.toString());
    const expiration = 1_700_000_123n;

    const theirs = await RecordEnvelope.seal(
      new ReservationVoucherRecord({ relay: jsRelay, peer: jsPeer, expiration }),
      jsKey,
    );
    const ours = await sealVoucher(relayKey, { relay, peer, expiration });
    // Ed25519 signatures are deterministic: identical inputs, identical envelopes.
    assert.equal(toHex(ours), toHex(theirs.marshal()));

    const opened = await openVoucher(theirs.marshal(), { relay, peer });
    assert.equal(opened.expiration, expiration);
    const jsOpened = await RecordEnvelope.openAndCertify(ours, VOUCHER_DOMAIN);
    const decoded = JsVoucherPb.decode(jsOpened.payload);
    assert.equal(decoded.expiration, expiration);
    assert.equal(toHex(decoded.peer), toHex(peer.toBytes()));
  });
});
