/**
 * Rendezvous hardening (HARDENING.md rules 1, 4, 5, 6, 7, 8): registration floods from many
 * identities and from one, huge namespaces (refused before any signature work), oversized and
 * malformed frames, a request flood on one stream, silent streams, and DISCOVER answers that
 * stay within the message cap however large the records.
 */

import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { generateKeyPair } from "../../src/keys/mod.ts";
import type { PrivateKey } from "../../src/keys/types.ts";
import { multiaddr } from "../../src/multiaddr/mod.ts";
import { peerIdFromPublicKey } from "../../src/keys/mod.ts";
import { sealPeerRecord } from "../../src/record/mod.ts";
import { encodeUvarint } from "../../src/varint.ts";
import {
  answerRequest,
  decodeMessage,
  encodeFrame,
  encodeMessage,
  MAX_MESSAGE_BYTES,
  MAX_REGISTRATIONS_PER_PEER,
  MAX_REQUESTS_PER_STREAM,
  MessageType,
  PeerRateLimit,
  RegistrationStore,
  RENDEZVOUS_PROTOCOL_ID,
  RendezvousError,
  ResponseStatus,
} from "../../protocols/rendezvous/mod.ts";
import { outcome, stopAll, until } from "../helpers/nodes.ts";
import { lab, rawRequest, rdvNode } from "./helpers.ts";

async function keys(n: number): Promise<PrivateKey[]> {
  return await Promise.all(Array.from({ length: n }, () => generateKeyPair("Ed25519")));
}

describe("rendezvous hardening", () => {
  it("a flood of registrations from many identities stops at the total cap; refreshes still work", async () => {
    const store = new RegistrationStore({ maxRegistrations: 50 });
    const ks = await keys(80);
    const statuses: number[] = [];
    for (const k of ks) {
      const record = (await sealPeerRecord(k, [multiaddr("/ip4/10.0.0.1/tcp/1")])).encode();
      const a = await answerRequest(store, peerIdFromPublicKey(k.publicKey), {
        type: MessageType.REGISTER,
        register: { ns: "relays", signedPeerRecord: record },
      }, 0);
      statuses.push(a!.response!.registerResponse!.status);
    }
    assert.equal(statuses.filter((s) => s === ResponseStatus.OK).length, 50);
    assert.equal(statuses.filter((s) => s === ResponseStatus.E_UNAVAILABLE).length, 30);
    assert.equal(store.size, 50);
    // A registered peer can still refresh while the store is full.
    const k0 = ks[0];
    const again = await answerRequest(store, peerIdFromPublicKey(k0.publicKey), {
      type: MessageType.REGISTER,
      register: { ns: "relays", signedPeerRecord: (await sealPeerRecord(k0, [])).encode() },
    }, 1_000);
    assert.equal(again!.response!.registerResponse!.status, ResponseStatus.OK);
  });

  it("many identities over TCP: the point's total cap holds, honest refreshes pass", async () => {
    const l = await lab(6, { maxRegistrations: 4 });
    try {
      const point = l.point.addrs()[0];
      const results = await Promise.allSettled(
        l.clients.map((c) => c.services.rendezvous.register("ns", point)),
      );
      const ok = results.filter((r) => r.status === "fulfilled").length;
      assert.equal(ok, 4);
      for (const r of results) {
        if (r.status === "rejected") {
          assert.ok(r.reason instanceof RendezvousError);
          assert.equal(r.reason.status, ResponseStatus.E_UNAVAILABLE);
        }
      }
      assert.equal(l.point.services.rendezvous.stats().registrations, 4);
    } finally {
      await l.stop();
    }
  });

  it(`one peer stops at ${MAX_REGISTRATIONS_PER_PEER} registrations; others are unaffected`, async () => {
    const l = await lab(2);
    try {
      const [bad, good] = l.clients;
      const point = l.point.addrs()[0];
      let refused = 0;
      for (let i = 0; i < MAX_REGISTRATIONS_PER_PEER + 8; i++) {
        await bad.services.rendezvous.register(`ns${i}`, point).catch((e) => {
          assert.equal((e as RendezvousError).status, ResponseStatus.E_UNAVAILABLE);
          assert.match((e as RendezvousError).statusText, /registrations per peer/);
          refused++;
        });
      }
      assert.equal(refused, 8);
      assert.equal(await good.services.rendezvous.register("ns0", point), 7200);
      assert.equal(
        l.point.services.rendezvous.stats().registrations,
        MAX_REGISTRATIONS_PER_PEER + 1,
      );
    } finally {
      await l.stop();
    }
  });

  it("a peer over its request rate gets E_UNAVAILABLE until its budget refills", async () => {
    const l = await lab(2, { requestBurst: 3, requestsPerSecond: 1 });
    try {
      const [a, b] = l.clients;
      const point = l.point.addrs()[0];
      for (let i = 0; i < 3; i++) await a.services.rendezvous.discover("ns", point);
      await assert.rejects(
        a.services.rendezvous.register("ns", point),
        (e) =>
          e instanceof RendezvousError && e.status === ResponseStatus.E_UNAVAILABLE &&
          /too many requests/.test(e.statusText),
      );
      await assert.rejects(a.services.rendezvous.discover("ns", point), RendezvousError);
      assert.equal(l.point.services.rendezvous.stats().rateLimited, 2);
      // Other peers have their own budget; UNREGISTER is never refused.
      assert.equal(await b.services.rendezvous.register("ns", point), 7200);
      await a.services.rendezvous.unregister("ns", point);
      l.clock.now += 1_000; // one request regained
      assert.equal(await a.services.rendezvous.register("ns", point), 7200);
      await assert.rejects(a.services.rendezvous.register("ns", point), RendezvousError);
    } finally {
      await l.stop();
    }
  });

  it("the request budget table forgets the least recently active peer beyond its cap", () => {
    const limit = new PeerRateLimit({ burst: 1, perSecond: 1, maxPeers: 2 });
    assert.equal(limit.admit("a", 0), true);
    assert.equal(limit.admit("b", 0), true);
    assert.equal(limit.admit("a", 0), false);
    assert.equal(limit.admit("c", 0), true); // b forgotten (a was active more recently)
    assert.equal(limit.size, 2);
    assert.equal(limit.admit("a", 0), false);
    assert.equal(limit.admit("b", 0), true); // a fresh budget
  });

  it("huge namespaces are refused before any signature work", async () => {
    const l = await lab(1);
    try {
      const [a] = l.clients;
      const forged = (await sealPeerRecord(await generateKeyPair("Ed25519"), [])).encode();
      const r = await rawRequest(a, l.point, {
        type: MessageType.REGISTER,
        register: { ns: "n".repeat(4_000), signedPeerRecord: forged },
      });
      assert.equal(r.registerResponse?.status, ResponseStatus.E_INVALID_NAMESPACE);
      assert.equal(l.point.services.rendezvous.stats().notAuthorized, 0); // never verified
      const d = await rawRequest(a, l.point, {
        type: MessageType.DISCOVER,
        discover: { ns: "n".repeat(256) },
      });
      assert.equal(d.discoverResponse?.status, ResponseStatus.E_INVALID_NAMESPACE);
    } finally {
      await l.stop();
    }
  });

  it("a frame declaring 1 MiB is reset on the prefix; malformed and response-type frames reset", async () => {
    const l = await lab(1);
    try {
      const [a] = l.clients;
      for (
        const frame of [
          encodeUvarint(1024 * 1024), // prefix only: nothing else is sent or buffered
          Uint8Array.of(3, 8, 9, 9), // unknown type
          encodeFrame({
            type: MessageType.REGISTER_RESPONSE,
            registerResponse: { status: 0 },
          }),
        ]
      ) {
        const s = await a.dialProtocol(l.point.addrs()[0], RENDEZVOUS_PROTOCOL_ID);
        const w = s.writable.getWriter();
        await w.write(frame);
        const o = await outcome(s.readable);
        assert.equal(o.kind, "error");
      }
      await until(() => l.point.services.rendezvous.stats().badStreams === 3);
    } finally {
      await l.stop();
    }
  });

  it(`a flood of requests on one stream ends after ${MAX_REQUESTS_PER_STREAM}`, async () => {
    const l = await lab(1);
    try {
      const [a] = l.clients;
      const forged = (await sealPeerRecord(await generateKeyPair("Ed25519"), [])).encode();
      const frame = encodeFrame({
        type: MessageType.REGISTER,
        register: { ns: "ns", signedPeerRecord: forged },
      });
      const s = await a.dialProtocol(l.point.addrs()[0], RENDEZVOUS_PROTOCOL_ID);
      const w = s.writable.getWriter();
      // More requests than the cap; the point answers the first MAX_REQUESTS_PER_STREAM, then
      // closes its side.
      for (let i = 0; i < MAX_REQUESTS_PER_STREAM + 10; i++) w.write(frame).catch(() => {});
      const o = await outcome(s.readable);
      s.abort(new Error("test done")); // we never close our side
      const bytes = o.kind === "eof" ? o.bytes : new Uint8Array(0);
      let answers = 0;
      for (let off = 0; off < bytes.byteLength;) {
        const len = bytes[off];
        const m = decodeMessage(bytes.subarray(off + 1, off + 1 + len));
        assert.equal(m.registerResponse?.status, ResponseStatus.E_NOT_AUTHORIZED);
        answers++;
        off += 1 + len;
      }
      assert.equal(answers, MAX_REQUESTS_PER_STREAM);
      assert.equal(l.point.services.rendezvous.stats().registrations, 0);
    } finally {
      await l.stop();
    }
  });

  it("a stream that sends nothing is reset at the inactivity deadline", async () => {
    const point = await rdvNode({ server: true, timeoutMs: 200 });
    const a = await rdvNode();
    try {
      const s = await a.dialProtocol(point.addrs()[0], RENDEZVOUS_PROTOCOL_ID);
      const o = await outcome(s.readable);
      assert.equal(o.kind, "error");
    } finally {
      await stopAll(point, a);
    }
  });

  it("a DISCOVER answer stays under the message cap with the largest records, and pages", async () => {
    const store = new RegistrationStore();
    const ks = await keys(5);
    // ~7.6 KiB records: 90 long DNS addresses each; 5 peers x 32 namespaces = 160 of them.
    const addrs = Array.from(
      { length: 90 },
      (_, i) => multiaddr(`/dns4/${"h".repeat(60)}${i}.example.com/tcp/4001`),
    );
    for (const k of ks) {
      const record = (await sealPeerRecord(k, addrs)).encode();
      assert.ok(record.byteLength > 7_000 && record.byteLength <= store.maxRecordBytes);
      for (let i = 0; i < MAX_REGISTRATIONS_PER_PEER; i++) {
        const a = await answerRequest(store, peerIdFromPublicKey(k.publicKey), {
          type: MessageType.REGISTER,
          register: { ns: `ns${i}`, signedPeerRecord: record },
        }, 0);
        assert.equal(a!.response!.registerResponse!.status, ResponseStatus.OK);
      }
    }
    let cookie: Uint8Array | undefined;
    let total = 0;
    let pages = 0;
    for (;;) {
      const a = await answerRequest(
        store,
        peerIdFromPublicKey(ks[0].publicKey),
        { type: MessageType.DISCOVER, discover: { cookie } },
        0,
      );
      const response = a!.response!;
      assert.ok(encodeMessage(response).byteLength <= MAX_MESSAGE_BYTES);
      const n = response.discoverResponse!.registrations.length;
      if (n === 0) break;
      total += n;
      pages++;
      cookie = response.discoverResponse!.cookie;
    }
    assert.equal(total, 5 * MAX_REGISTRATIONS_PER_PEER);
    assert.ok(pages >= 2);
  });
});
