/**
 * Bootstrap interop over real loopback TCP with js-libp2p's `@libp2p/bootstrap` 12.0.32 (a
 * separate Deno process, bootstrap_js_peer.ts): a js node whose bootstrap list holds our node's
 * address reports us as discovered, tags us and dials us; our bootstrap() with a js node in its
 * list reports it as `peer:discovery`, tags it and connects (on the runtime running the test).
 */

import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { bootstrap, DEFAULT_BOOTSTRAP_TAG_NAME } from "../../protocols/bootstrap/mod.ts";
import { identify } from "../../protocols/identify/mod.ts";
import { peerIdFromString } from "../../src/peer_id.ts";
import { nextEvent, testTcpNode, until } from "../helpers/nodes.ts";
import { startJsCommandPeer } from "./js_command_peer.ts";

const script = new URL("./bootstrap_js_peer.ts", import.meta.url).pathname;

describe("bootstrap interop with js-libp2p", () => {
  it("js @libp2p/bootstrap with our node in its list dials us", async () => {
    const ours = await testTcpNode({ services: { identify: identify() } });
    const connected = nextEvent(ours, "peer:connect", () => true, 30_000);
    const js = await startJsCommandPeer({
      script,
      label: "bootstrap",
      args: [ours.addrs()[0].toString()],
    });
    try {
      const peer = await connected;
      assert.equal(peer.toString(), js.peerId);
      const me = ours.peerId.toString();
      await until(async () => ((await js.call("discovered")) as string[]).includes(me), 20_000);
      assert.ok(((await js.call("connections")) as string[]).includes(me));
      assert.deepEqual(await js.call("tags", { peer: me }), { bootstrap: 50 });
    } finally {
      await js.stop();
      await ours.stop();
    }
  });

  it("our bootstrap() with a js node in its list reports, tags and dials it", async () => {
    const js = await startJsCommandPeer({ script, label: "bootstrap-target" });
    const ours = await testTcpNode({
      services: { identify: identify() },
      peerDiscovery: [bootstrap({ list: [js.addrs[0]], timeoutMs: 0 })],
      start: false,
    });
    try {
      const found = nextEvent(ours, "peer:discovery", () => true, 20_000);
      await ours.start();
      const detail = await found;
      assert.equal(detail.id.toString(), js.peerId);
      const jsId = peerIdFromString(js.peerId);
      await until(() => ours.getConnections(jsId).length > 0, 20_000);
      const info = await ours.peerStore.get(jsId);
      assert.equal(info?.tags.get(DEFAULT_BOOTSTRAP_TAG_NAME)?.value, 50);
      await until(
        async () => ((await js.call("connections")) as string[]).includes(ours.peerId.toString()),
        20_000,
      );
    } finally {
      await ours.stop();
      await js.stop();
    }
  });
});
