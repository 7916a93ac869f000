// Cross-check against js @multiformats/multiaddr 13 on randomly generated addresses: same bytes
// from the same text, same canonical text from the same bytes, in both directions.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { multiaddr as jsMultiaddr } from "@multiformats/multiaddr";
import { generateKeyPair, generateKeyPairFromSeed } from "@libp2p/crypto/keys";
import { peerIdFromPrivateKey } from "@libp2p/peer-id";
import { base64url } from "../../src/multiformats/multibase.ts";
import { toHex } from "../../src/bytes.ts";
import { multiaddr } from "../../src/multiaddr/mod.ts";

/** xorshift32: reproducible addresses (the seed is in the failure message). */
function rng(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return (s >>> 0) / 0x1_0000_0000;
  };
}

const SEED = 20260421;
const COUNT = 400;

async function peerIds(): Promise<string[]> {
  const ids: string[] = [
    // sha2-256 (RSA) peer id and an identity secp256k1 one, fixed.
    "QmcgpsyWgH8Y8ajJz1Cu72KnS5uo2Aa2LpzU7kinSupNKC",
  ];
  for (let i = 0; i < 6; i++) {
    const seed = new Uint8Array(32).fill(i + 1);
    ids.push(peerIdFromPrivateKey(await generateKeyPairFromSeed("Ed25519", seed)).toString());
  }
  ids.push(peerIdFromPrivateKey(await generateKeyPair("secp256k1")).toString());
  return ids;
}

function generate(random: () => number, ids: readonly string[]): string {
  const int = (n: number) => Math.floor(random() * n);
  const pick = <T>(xs: readonly T[]): T => xs[int(xs.length)];
  const port = () => String(pick([0, 1, 80, 443, 4001, 65535, int(65536)]));
  const label = () => {
    const chars = "abcdefghijklmnopqrstuvwxyz0123456789-";
    let s = "";
    for (let i = 0, n = 1 + int(12); i < n; i++) s += chars[int(chars.length)];
    return s;
  };
  const ip6 = () => {
    const groups = Array.from({ length: 8 }, () => random() < 0.4 ? 0 : int(0x10000));
    if (random() < 0.15) return `::ffff:${int(256)}.${int(256)}.${int(256)}.${int(256)}`;
    return groups.map((g) => g.toString(16)).join(":");
  };
  const certhash = () => {
    const digest = new Uint8Array(32).map(() => int(256));
    return "u" + base64url.baseEncode(Uint8Array.of(0x12, 0x20, ...digest));
  };
  let s = "";
  // host
  switch (int(6)) {
    case 0:
    case 1:
      s += `/ip4/${int(256)}.${int(256)}.${int(256)}.${int(256)}`;
      break;
    case 2:
    case 3:
      s += `/ip6/${ip6()}`;
      break;
    case 4:
      s += `/${pick(["dns", "dns4", "dns6"])}/${label()}.${pick(["com", "io", "example"])}`;
      break;
    default:
      s += `/memory/${label()}`;
  }
  // transport stack
  switch (int(7)) {
    case 0:
      s += `/tcp/${port()}`;
      break;
    case 1:
      s += `/tcp/${port()}/${pick(["ws", "wss", "tls/ws", "noise"])}`;
      break;
    case 2:
      s += `/tcp/${port()}/tls/sni/${label()}.com/ws`;
      break;
    case 3:
      s += `/udp/${port()}/quic-v1`;
      break;
    case 4:
      s += `/udp/${port()}/quic-v1/webtransport`;
      for (let i = 0, n = int(3); i < n; i++) s += `/certhash/${certhash()}`;
      break;
    case 5:
      s += `/udp/${port()}/webrtc-direct/certhash/${certhash()}`;
      break;
    default:
      s += `/tcp/${port()}/http`;
  }
  // peer / relay suffix
  const r = random();
  if (r < 0.5) s += `/p2p/${pick(ids)}`;
  if (r < 0.2) s += `/p2p-circuit`;
  if (r < 0.15) s += `/p2p/${pick(ids)}`;
  if (r >= 0.5 && r < 0.6) s += `/p2p/${pick(ids)}/p2p-circuit/webrtc`;
  return s;
}

describe("cross-check with @multiformats/multiaddr 13", () => {
  it(`${COUNT} random addresses: same bytes and text both ways (seed ${SEED})`, async () => {
    const ids = await peerIds();
    const random = rng(SEED);
    for (let i = 0; i < COUNT; i++) {
      const text = generate(random, ids);
      const ours = multiaddr(text);
      const theirs = jsMultiaddr(text);
      const where = `#${i} ${text}`;
      assert.equal(toHex(ours.bytes), toHex(theirs.bytes), where);
      // Canonical text: js's text from bytes (its text-input form keeps some input spelling).
      const theirsCanonical = jsMultiaddr(theirs.bytes).toString();
      assert.equal(ours.toString(), theirsCanonical, where);
      // Each side decodes the other's bytes.
      assert.ok(multiaddr(theirs.bytes).equals(ours), where);
      assert.equal(jsMultiaddr(ours.bytes).toString(), ours.toString(), where);
      // And each side parses the other's canonical text to the same bytes.
      assert.equal(toHex(jsMultiaddr(ours.toString()).bytes), toHex(ours.bytes), where);
      assert.equal(toHex(multiaddr(theirsCanonical).bytes), toHex(ours.bytes), where);
      // Components agree (js keeps the peer id spelling; compare from bytes).
      const jsComponents = jsMultiaddr(theirs.bytes).getComponents();
      assert.deepEqual(
        ours.components().map((c) => [c.code, c.name, c.value]),
        jsComponents.map((c) => [c.code, c.name, c.value]),
        where,
      );
      // The same peer id as js computes.
      const jsPeer = jsComponents.findLast((c) => c.name === "p2p" || c.name === "p2p-circuit");
      assert.equal(ours.getPeerId(), jsPeer?.name === "p2p" ? jsPeer.value : undefined, where);
    }
  });

  it("non-canonical IPv6 text gives js's bytes and canonical text", () => {
    const random = rng(SEED + 1);
    for (let i = 0; i < 200; i++) {
      const groups = Array.from(
        { length: 8 },
        () => random() < 0.5 ? 0 : Math.floor(random() * 0x10000),
      );
      // Long form with random case and zero padding.
      const long = groups.map((g) => {
        const h = g.toString(16).padStart(random() < 0.5 ? 4 : 1, "0");
        return random() < 0.5 ? h.toUpperCase() : h;
      }).join(":");
      const ours = multiaddr(`/ip6/${long}`);
      const theirs = jsMultiaddr(`/ip6/${long}`);
      assert.equal(toHex(ours.bytes), toHex(theirs.bytes), long);
      assert.equal(ours.toString(), jsMultiaddr(theirs.bytes).toString(), long);
    }
  });

  it("peer ids in CID text parse to the same bytes as js", async () => {
    const ids = await peerIds();
    const { peerIdFromString } = await import("@libp2p/peer-id");
    for (const id of ids) {
      const cidText = peerIdFromString(id).toCID().toString();
      assert.match(cidText, /^bafz/);
      assert.equal(
        toHex(multiaddr(`/p2p/${cidText}`).bytes),
        toHex(jsMultiaddr(`/p2p/${id}`).bytes),
        id,
      );
      assert.equal(multiaddr(`/p2p/${cidText}`).getPeerId(), id);
    }
  });

  it("documented divergences from js-multiaddr 13", () => {
    // http-path: js stores a leading "/" in the bytes; go-multiaddr and we store the path only.
    assert.equal(toHex(jsMultiaddr("/http-path/foo").bytes), "e103042f666f6f");
    assert.equal(toHex(multiaddr("/http-path/foo").bytes), "e10303666f6f");
    // decapsulate: js matches text (so "/tcp/123" matches inside "/tcp/1234"); we match components.
    const ma = "/ip4/1.2.3.4/tcp/1234";
    assert.equal(jsMultiaddr(ma).decapsulate("/tcp/123").toString(), "/ip4/1.2.3.4");
    assert.throws(() => multiaddr(ma).decapsulate("/tcp/123"), RangeError);
  });
});
