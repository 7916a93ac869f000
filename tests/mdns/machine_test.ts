/**
 * The sans-IO mDNS machine and records (protocols/mdns): our query and response layout, reading
 * js-libp2p- and go-libp2p-style responses, self-filtering, address filtering, and the hardening
 * caps (one response per second under a query flood, discovery rate limit, known-peer cap,
 * oversize and malformed packets).
 */

import { describe, it } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import {
  decodeDnsMessage,
  type DnsRecord,
  encodeDnsMessage,
  FLAG_AA,
  FLAG_QR,
  recordsOfType,
  TYPE_A,
  TYPE_PTR,
  TYPE_SRV,
  TYPE_TXT,
} from "../../src/dns/mod.ts";
import { type Multiaddr, multiaddr } from "../../src/multiaddr/mod.ts";
import { utf8Decode, utf8Encode } from "../../src/bytes.ts";
import { generateKeyPair } from "../../src/keys/factory.ts";
import { base58btc } from "../../src/multiformats/mod.ts";
import { bitIndex, bytes, check } from "../fuzz/fuzz.ts";
import { peerIdFromPublicKey } from "../../src/keys/peer_id_from_key.ts";
import {
  buildQuery,
  buildResponse,
  DISCOVERY_BURST,
  isAnnounceable,
  MAX_KNOWN_PEERS,
  MAX_SEND_BYTES,
  type MdnsAction,
  MdnsMachine,
  MIN_RESPONSE_INTERVAL_MS,
  readPeers,
} from "../../protocols/mdns/mod.ts";

const SERVICE = "_p2p._udp.local";

async function newId(): Promise<string> {
  return peerIdFromPublicKey((await generateKeyPair("Ed25519")).publicKey).toString();
}

/** A legacy sha2-256 peer id (Qm...) from random bytes: cheap, and valid in /p2p/. */
function shaPeerId(): string {
  const mh = new Uint8Array(34);
  mh[0] = 0x12;
  mh[1] = 0x20;
  crypto.getRandomValues(mh.subarray(2));
  return base58btc.baseEncode(mh);
}

function sends(actions: MdnsAction[]): Uint8Array[] {
  return actions.flatMap((a) => a.type === "send" ? [a.bytes] : []);
}

function peers(actions: MdnsAction[]): { peerId: string; multiaddrs: readonly Multiaddr[] }[] {
  return actions.flatMap((a) => a.type === "peer" ? [a] : []);
}

function machine(peerId: string, name: string, addrs: string[]): MdnsMachine {
  return new MdnsMachine({
    peerId,
    peerName: name,
    addresses: () => addrs.map((a) => multiaddr(a)),
  });
}

/** A response laid out like js-libp2p 12's gotQuery: PTR and one TXT per address, all answers. */
function jsStyle(peerName: string, id: string, addrs: string[]): Uint8Array {
  const instance = `${peerName}.${SERVICE}`;
  const answers: DnsRecord[] = [
    { name: SERVICE, type: TYPE_PTR, ttl: 120, data: instance },
    ...addrs.map((a): DnsRecord => ({
      name: instance,
      type: TYPE_TXT,
      ttl: 120,
      data: [utf8Encode(`dnsaddr=${a}/p2p/${id}`)],
    })),
  ];
  return encodeDnsMessage({ flags: FLAG_QR | FLAG_AA, answers });
}

/** A response laid out like go-libp2p's zeroconf RegisterProxy: PTR answer; SRV, one TXT, A extra. */
function goStyle(peerName: string, id: string, addrs: string[]): Uint8Array {
  const instance = `${peerName}.${SERVICE}.`;
  const host = `${peerName}.local.`;
  return encodeDnsMessage({
    flags: FLAG_QR | FLAG_AA,
    answers: [{ name: `${SERVICE}.`, type: TYPE_PTR, ttl: 120, data: instance }],
    additionals: [
      {
        name: instance,
        type: TYPE_SRV,
        ttl: 120,
        cacheFlush: true,
        data: { priority: 0, weight: 0, port: 4001, target: host },
      },
      {
        name: instance,
        type: TYPE_TXT,
        ttl: 120,
        cacheFlush: true,
        data: addrs.map((a) => utf8Encode(`dnsaddr=${a}/p2p/${id}`)),
      },
      { name: host, type: TYPE_A, ttl: 120, cacheFlush: true, data: "192.168.1.20" },
    ],
  });
}

describe("mdns records", () => {
  it("announces only loopback, private, link-local and documentation addresses", () => {
    const yes = [
      "/ip4/127.0.0.1/tcp/1",
      "/ip4/10.1.2.3/tcp/1",
      "/ip4/172.16.0.1/tcp/1",
      "/ip4/172.31.255.1/udp/1/quic-v1",
      "/ip4/192.168.0.9/tcp/1/ws",
      "/ip4/169.254.1.1/tcp/1",
      "/ip4/192.0.2.7/tcp/1",
      "/ip4/198.51.100.7/tcp/1",
      "/ip4/203.0.113.7/tcp/1",
      "/ip6/::1/tcp/1",
      "/ip6/fe80::1/tcp/1",
      "/ip6/fd00::5/tcp/1",
      "/ip6/2001:db8::1/tcp/1",
    ];
    const no = [
      "/ip4/8.8.8.8/tcp/1",
      "/ip4/172.32.0.1/tcp/1",
      "/ip4/100.64.0.1/tcp/1",
      "/ip4/0.0.0.0/tcp/1",
      "/ip6/::/tcp/1",
      "/ip6/2606:4700::1/tcp/1",
      "/dns4/example.com/tcp/1",
      "/ip4/10.0.0.1/tcp/1/p2p/12D3KooWD3eckifWpRn9wQpMG9R9hX3sD158z7EqHWmweQAJU5SA/p2p-circuit",
    ];
    for (const a of yes) assert.ok(isAnnounceable(multiaddr(a)), a);
    for (const a of no) assert.ok(!isAnnounceable(multiaddr(a)), a);
  });

  it("lays out our response for js and go readers", async () => {
    const id = await newId();
    const name = "p".repeat(63);
    const bytes = buildResponse({
      serviceName: SERVICE,
      peerName: name,
      peerId: id,
      addresses: [
        multiaddr("/ip4/8.8.8.8/tcp/4001"),
        multiaddr("/ip4/127.0.0.1/tcp/4001"),
        multiaddr(`/ip6/::1/tcp/4002/p2p/${id}`),
      ],
      ttl: 120,
    })!;
    const msg = decodeDnsMessage(bytes);
    assert.equal(msg.flags, FLAG_QR | FLAG_AA);
    const ptr = recordsOfType(msg.answers, TYPE_PTR);
    assert.deepEqual(ptr.map((r) => [r.name, r.data]), [[SERVICE, `${name}.${SERVICE}`]]);
    const txt = recordsOfType(msg.answers, TYPE_TXT);
    assert.equal(txt.length, 1, "one TXT record holding every address (go keeps only the last)");
    assert.deepEqual(txt[0].data.map(utf8Decode), [
      `dnsaddr=/ip4/127.0.0.1/tcp/4001/p2p/${id}`,
      `dnsaddr=/ip6/::1/tcp/4002/p2p/${id}`,
    ]);
    const srv = recordsOfType(msg.additionals, TYPE_SRV);
    assert.equal(srv[0].data.target, `${name}.local`);
    assert.equal(srv[0].data.port, 4001);
    assert.equal(recordsOfType(msg.additionals, TYPE_A)[0].name, `${name}.local`);
    // no announceable address: no response
    assert.equal(
      buildResponse({
        serviceName: SERVICE,
        peerName: name,
        peerId: id,
        addresses: [multiaddr("/ip4/1.1.1.1/tcp/1")],
        ttl: 120,
      }),
      undefined,
    );
  });

  it("keeps the response under the packet cap by dropping addresses", async () => {
    const id = await newId();
    const addresses = Array.from(
      { length: 16 },
      (_, i) =>
        multiaddr(`/ip6/fd00::${i + 1}/udp/4001/webrtc-direct/certhash/uEiD${"A".repeat(43)}`),
    );
    const bytes = buildResponse({
      serviceName: SERVICE,
      peerName: "x".repeat(63),
      peerId: id,
      addresses,
      ttl: 120,
    })!;
    assert.ok(bytes.length <= MAX_SEND_BYTES, `${bytes.length}`);
    const n = readPeers(decodeDnsMessage(bytes), SERVICE)[0].multiaddrs.length;
    assert.ok(n > 0 && n < 16, `${n} addresses kept`);
  });

  it("reads js-style and go-style responses", async () => {
    const id = await newId();
    const addrs = ["/ip4/192.168.1.20/tcp/4001", "/ip4/127.0.0.1/tcp/4001"];
    for (const bytes of [jsStyle("j".repeat(63), id, addrs), goStyle("g".repeat(40), id, addrs)]) {
      const found = readPeers(decodeDnsMessage(bytes), SERVICE);
      assert.equal(found.length, 1);
      assert.equal(found[0].peerId, id);
      assert.deepEqual(found[0].multiaddrs.map((m) => m.toString()), addrs);
    }
  });

  it("skips goodbyes, foreign services, bad strings; groups by peer id", async () => {
    const [a, b] = [await newId(), await newId()];
    const instance = `x.${SERVICE}`;
    const msg = decodeDnsMessage(encodeDnsMessage({
      flags: FLAG_QR,
      answers: [
        { name: SERVICE, type: TYPE_PTR, ttl: 120, data: instance },
        { name: "_other._udp.local", type: TYPE_PTR, ttl: 120, data: "y._other._udp.local" },
        {
          name: instance,
          type: TYPE_TXT,
          ttl: 120,
          data: [
            utf8Encode(`dnsaddr=/ip4/10.0.0.1/tcp/1/p2p/${a}`),
            utf8Encode(`dnsaddr=/ip4/10.0.0.2/tcp/1/p2p/${b}`),
            utf8Encode("dnsaddr=/not/a/multiaddr"),
            utf8Encode("dnsaddr=/ip4/10.0.0.3/tcp/1"), // no peer id
            new Uint8Array([0xff, 0xfe]),
            utf8Encode("something=else"),
          ],
        },
        {
          name: "y._other._udp.local",
          type: TYPE_TXT,
          ttl: 120,
          data: [utf8Encode(`dnsaddr=/ip4/10.0.0.9/tcp/1/p2p/${a}`)],
        },
      ],
    }));
    const found = readPeers(msg, SERVICE);
    assert.deepEqual(found.map((p) => [p.peerId, p.multiaddrs.map(String)]), [
      [a, ["/ip4/10.0.0.1/tcp/1"]],
      [b, ["/ip4/10.0.0.2/tcp/1"]],
    ]);
    const bye = decodeDnsMessage(encodeDnsMessage({
      flags: FLAG_QR,
      answers: [
        { name: SERVICE, type: TYPE_PTR, ttl: 0, data: instance },
        {
          name: instance,
          type: TYPE_TXT,
          ttl: 0,
          data: [utf8Encode(`dnsaddr=/ip4/10.0.0.1/tcp/1/p2p/${a}`)],
        },
      ],
    }));
    assert.deepEqual(readPeers(bye, SERVICE), []);
  });
});

describe("mdns machine", () => {
  it("two machines find each other through queries and responses", async () => {
    const [ida, idb] = [await newId(), await newId()];
    const a = machine(ida, "a".repeat(63), ["/ip4/127.0.0.1/tcp/1001"]);
    const b = machine(idb, "b".repeat(63), ["/ip4/127.0.0.1/tcp/1002"]);
    // the "wire": every packet reaches both machines (multicast loopback)
    const found: Record<string, string[]> = { a: [], b: [] };
    let queue = [...sends(a.start(0)), ...sends(b.start(0))];
    for (let round = 0; round < 4 && queue.length > 0; round++) {
      const next: Uint8Array[] = [];
      for (const pkt of queue) {
        for (const [n, m] of [["a", a], ["b", b]] as const) {
          const out = m.receive(pkt, 10 + round);
          next.push(...sends(out));
          found[n].push(...peers(out).map((p) => p.peerId));
        }
      }
      queue = next;
    }
    assert.deepEqual(found.a, [idb]);
    assert.deepEqual(found.b, [ida]);
    assert.equal(
      a.stats().responsesSent,
      1,
      "a answered once (its own and b's query in one window)",
    );
  });

  it("answers our own query, and a query asking for our instance or host", async () => {
    const m = machine(await newId(), "n".repeat(40), ["/ip4/10.0.0.1/tcp/1"]);
    const [q] = sends(m.start(0));
    assert.deepEqual(q, buildQuery(SERVICE));
    assert.equal(sends(m.receive(q, 1)).length, 1);
    const srvQuery = encodeDnsMessage({
      questions: [{ name: `${"n".repeat(40)}.${SERVICE}`, type: TYPE_SRV }],
    });
    assert.equal(sends(m.receive(srvQuery, 5000)).length, 1);
    const other = encodeDnsMessage({ questions: [{ name: "_http._tcp.local", type: TYPE_PTR }] });
    assert.equal(sends(m.receive(other, 10_000)).length, 0);
  });

  it("queries again every interval and stays quiet with broadcast: false", async () => {
    const m = new MdnsMachine({
      peerId: await newId(),
      peerName: "q".repeat(63),
      addresses: () => [multiaddr("/ip4/10.0.0.1/tcp/1")],
      queryIntervalMs: 10_000,
      broadcast: false,
    });
    m.start(0);
    assert.equal(m.nextWake(), 10_000);
    assert.equal(sends(m.tick(9_999)).length, 0);
    assert.equal(sends(m.tick(10_000)).length, 1);
    assert.equal(sends(m.receive(buildQuery(SERVICE), 10_001)).length, 0);
    assert.deepEqual(m.stop(), []);
  });

  it("a query flood gets at most one response per second, the rest deferred", async () => {
    const m = machine(await newId(), "f".repeat(63), ["/ip4/10.0.0.1/tcp/1"]);
    m.start(0);
    const query = buildQuery(SERVICE);
    let sent = 0;
    for (let t = 0; t < 10_000; t += 10) {
      sent += sends(m.receive(query, t)).length;
      if (m.nextWake() <= t) {
        sent += sends(m.tick(t)).filter((b) => decodeDnsMessage(b).flags & FLAG_QR).length;
      }
    }
    assert.ok(sent <= 10_000 / MIN_RESPONSE_INTERVAL_MS + 1, `${sent} responses in 10 s`);
    assert.ok(sent >= 9, `${sent}: deferred queries are still answered`);
    assert.ok(m.stats().responsesDeferred > 900);
  });

  it("known-answer suppression: a query listing our PTR gets no response", async () => {
    const name = "k".repeat(63);
    const m = machine(await newId(), name, ["/ip4/10.0.0.1/tcp/1"]);
    m.start(0);
    const knowing = encodeDnsMessage({
      questions: [{ name: SERVICE, type: TYPE_PTR }],
      answers: [{ name: SERVICE, type: TYPE_PTR, ttl: 100, data: `${name}.${SERVICE}` }],
    });
    assert.equal(sends(m.receive(knowing, 1)).length, 0);
  });

  it("ignores its own response and its own peer id under another name", async () => {
    const id = await newId();
    const m = machine(id, "s".repeat(63), ["/ip4/10.0.0.1/tcp/1"]);
    m.start(0);
    const own = sends(m.receive(buildQuery(SERVICE), 1))[0];
    assert.deepEqual(peers(m.receive(own, 2)), []);
    assert.deepEqual(peers(m.receive(jsStyle("z".repeat(63), id, ["/ip4/10.0.0.1/tcp/1"]), 3)), []);
  });

  it("reports a peer once, again when its addresses change or after a minute", async () => {
    const m = machine(await newId(), "r".repeat(63), []);
    m.start(0);
    const id = await newId();
    const one = jsStyle("o".repeat(63), id, ["/ip4/10.0.0.5/tcp/1"]);
    assert.equal(peers(m.receive(one, 1)).length, 1);
    assert.equal(peers(m.receive(one, 10_000)).length, 0);
    const moved = jsStyle("o".repeat(63), id, ["/ip4/10.0.0.6/tcp/1"]);
    assert.equal(peers(m.receive(moved, 20_000)).length, 1);
    assert.equal(peers(m.receive(moved, 30_000)).length, 0);
    assert.equal(peers(m.receive(moved, 90_000)).length, 1);
  });

  it("a flood of fake peers is rate limited and the known-peer table stays capped", async () => {
    const m = machine(await newId(), "r".repeat(63), []);
    m.start(0);
    const ids = await Promise.all(Array.from({ length: 40 }, () => newId()));
    // 40 distinct peers within one millisecond: only the burst gets through
    let reported = 0;
    for (const id of ids) {
      reported += peers(m.receive(jsStyle("x".repeat(63), id, ["/ip4/10.0.0.1/tcp/1"]), 0)).length;
    }
    assert.equal(reported, DISCOVERY_BURST);
    assert.equal(m.stats().rateLimited, 40 - DISCOVERY_BURST);
    // a long flood of distinct peers, slow enough to pass the rate limit: the table stays capped
    for (let i = 0; i < MAX_KNOWN_PEERS + 50; i++) {
      const fake = shaPeerId();
      const out = m.receive(
        jsStyle("y".repeat(63), fake, ["/ip4/10.0.0.1/tcp/1"]),
        1000 + i * 1000,
      );
      assert.equal(peers(out).length, 1);
    }
    assert.ok(m.knownPeers <= MAX_KNOWN_PEERS);
  });

  it("drops oversize, malformed and over-count packets without throwing", async () => {
    const m = machine(await newId(), "d".repeat(63), ["/ip4/10.0.0.1/tcp/1"]);
    m.start(0);
    assert.deepEqual(m.receive(new Uint8Array(9_001), 1), []);
    assert.deepEqual(m.receive(new Uint8Array([1, 2, 3]), 2), []);
    const many = encodeDnsMessage({
      questions: Array.from({ length: 65 }, (_, i) => ({ name: `q${i}.local`, type: TYPE_A })),
    });
    assert.deepEqual(m.receive(many, 3), []);
    assert.equal(m.stats().malformed, 3);
  });

  it("announces unsolicited when addresses change, within the one-per-second rule", async () => {
    let addrs: string[] = [];
    const m = new MdnsMachine({
      peerId: await newId(),
      peerName: "u".repeat(63),
      addresses: () => addrs.map((a) => multiaddr(a)),
    });
    assert.deepEqual(m.announce(0), [], "not started");
    m.start(0);
    assert.deepEqual(sends(m.announce(1)), [], "nothing announceable yet");
    addrs = ["/ip4/10.0.0.1/tcp/1"];
    const [first] = sends(m.announce(2));
    assert.equal(readPeers(decodeDnsMessage(first), SERVICE)[0].multiaddrs.length, 1);
    addrs = ["/ip4/10.0.0.1/tcp/1", "/ip4/10.0.0.2/tcp/1"];
    assert.deepEqual(sends(m.announce(3)), [], "deferred");
    assert.equal(m.nextWake(), 2 + MIN_RESPONSE_INTERVAL_MS);
    const [second] = sends(m.tick(2 + MIN_RESPONSE_INTERVAL_MS));
    assert.equal(readPeers(decodeDnsMessage(second), SERVICE)[0].multiaddrs.length, 2);
  });

  it("arbitrary packets and bit flips of a response never throw", async () => {
    const m = machine(await newId(), "z".repeat(63), ["/ip4/10.0.0.1/tcp/1"]);
    m.start(0);
    let now = 0;
    check(
      "mdns: arbitrary packets",
      fc.property(bytes(600), (packet) => {
        m.receive(packet, now += 10);
      }),
    );
    const response = goStyle("v".repeat(40), await newId(), ["/ip4/10.0.0.2/tcp/1"]);
    check(
      "mdns: bit flips of a go-style response",
      fc.property(bitIndex(response.length), (bit) => {
        const flipped = response.slice();
        flipped[bit >> 3] ^= 1 << (bit & 7);
        m.receive(flipped, now += 10);
      }),
    );
    assert.ok(m.stats().malformed > 0);
  });

  it("says goodbye with TTL 0 at stop after announcing", async () => {
    const m = machine(await newId(), "g".repeat(63), ["/ip4/10.0.0.1/tcp/1"]);
    m.start(0);
    m.receive(buildQuery(SERVICE), 1);
    const [bye] = sends(m.stop());
    const msg = decodeDnsMessage(bye);
    assert.ok(msg.answers.every((r) => r.ttl === 0));
    assert.deepEqual(readPeers(msg, SERVICE), []);
  });
});
