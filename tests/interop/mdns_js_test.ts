/**
 * mDNS wire interop with js-libp2p without sockets (no root needed): js `@libp2p/mdns` 12's own
 * record code (`gotQuery`, `queryLAN`, `gotResponse`) and the dns-packet codec its multicast-dns
 * socket uses run on Node 20 (tests/interop/mdns_js_wire.mjs; js's multicast does not work under
 * Deno, ipfs/helia#73). Checked both ways: our decoder and machine read js's response and answer
 * js's query; js reads our response and answers our query. The same over real multicast is in
 * tests/mdns/netns_test.ts (root). Skipped when `node` is missing.
 */

import { describe, it } from "node:test";
import assert from "node:assert/strict";
import process from "node:process";
import { execFileSync } from "node:child_process";
import { fromHex, toHex } from "../../src/bytes.ts";
import { decodeDnsMessage, FLAG_AA, FLAG_QR } from "../../src/dns/mod.ts";
import { multiaddr } from "../../src/multiaddr/mod.ts";
import { generateKeyPair } from "../../src/keys/factory.ts";
import { peerIdFromPublicKey } from "../../src/keys/peer_id_from_key.ts";
import { buildQuery, MdnsMachine, readPeers } from "../../protocols/mdns/mod.ts";

const ROOT = new URL("../../", import.meta.url).pathname;
const SERVICE = "_p2p._udp.local";

function nodeVersion(): string | undefined {
  try {
    return execFileSync("node", ["--version"]).toString().trim();
  } catch {
    return undefined;
  }
}

const NODE = nodeVersion();
if (NODE === undefined) console.log("mdns js wire interop skipped: `node` not found");

async function newId(): Promise<string> {
  return peerIdFromPublicKey((await generateKeyPair("Ed25519")).publicKey).toString();
}

describe("mdns wire interop with js-libp2p @libp2p/mdns 12", { skip: NODE === undefined }, () => {
  it("each side reads the other's response and answers the other's query", async () => {
    const [ours, js] = [await newId(), await newId()];
    const machine = new MdnsMachine({
      peerId: ours,
      peerName: "o".repeat(63),
      addresses: () => [
        multiaddr("/ip4/127.0.0.1/tcp/4101"),
        multiaddr("/ip4/10.0.0.7/tcp/4101"),
        multiaddr("/ip4/1.2.3.4/tcp/4101"), // public: never announced
      ],
    });
    const [query] = machine.start(0);
    assert.equal(query.type, "send");
    const ourQuery = query.type === "send" ? query.bytes : new Uint8Array();
    const answer = machine.receive(ourQuery, 1)[0];
    const ourResponse = answer?.type === "send" ? answer.bytes : new Uint8Array();
    assert.ok(ourResponse.length > 0);

    const out = JSON.parse(
      execFileSync("node", [
        "tests/interop/mdns_js_wire.mjs",
        toHex(ourResponse),
        toHex(ourQuery),
        js,
      ], {
        cwd: ROOT,
        env: { ...process.env, NO_COLOR: "1" },
        timeout: 60_000,
      }).toString(),
    );

    // js reads our response: our id and exactly our announceable addresses
    assert.deepEqual(out.oursParsed, {
      id: ours,
      multiaddrs: ["/ip4/127.0.0.1/tcp/4101", "/ip4/10.0.0.7/tcp/4101"],
    });
    // js answers our query
    assert.equal(out.answersOurQuery, true);

    // we read js's response (PTR + one TXT per address, all in answers)
    const jsResponse = decodeDnsMessage(fromHex(out.jsResponse));
    assert.equal(jsResponse.flags & (FLAG_QR | FLAG_AA), FLAG_QR | FLAG_AA);
    const found = readPeers(jsResponse, SERVICE);
    assert.deepEqual(found.map((p) => [p.peerId, p.multiaddrs.map(String)]), [
      [js, ["/ip4/192.168.1.5/tcp/4001"]],
    ]);
    const reported = machine.receive(fromHex(out.jsResponse), 2);
    assert.deepEqual(reported.map((a) => a.type === "peer" ? a.peerId : a.type), [js]);

    // js's query is the same PTR question as ours, and our machine answers it
    assert.deepEqual(decodeDnsMessage(fromHex(out.jsQuery)).questions, [
      { name: SERVICE, type: 12, class: 1 },
    ]);
    assert.equal(out.jsQuery, toHex(buildQuery(SERVICE)));
    const reply = machine.receive(fromHex(out.jsQuery), 5_000);
    assert.equal(reply.length, 1);
    assert.equal(reply[0].type, "send");
  });
});
