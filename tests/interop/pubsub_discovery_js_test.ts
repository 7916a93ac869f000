/**
 * Pubsub peer discovery interop over real loopback TCP with js-libp2p
 * (`@libp2p/pubsub-peer-discovery` 12.0.0 on `@libp2p/gossipsub` 17.1.1, a separate Deno
 * process): our node A and the js node each connect only to our hub node B (gossipsub +
 * pubsubPeerDiscovery, on the runtime running the test); each reads the other's signed
 * announcement on `_peer-discovery._p2p._pubsub`, forwarded by B, and reports the other's listen
 * address through its node's `peer:discovery` event. (js fires `peer:discovery` only for peers new
 * to its peer store, so js must learn of A from the announcement alone.)
 */

import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import type { Libp2pNode } from "../../src/node/node.ts";
import { multiaddr } from "../../src/multiaddr/mod.ts";
import { identify } from "../../protocols/identify/mod.ts";
import { gossipsub } from "../../protocols/gossipsub/mod.ts";
import { pubsubPeerDiscovery } from "../../protocols/pubsub-peer-discovery/mod.ts";
import { stopAll, testTcpNode, until } from "../helpers/nodes.ts";
import { type JsCommandPeer, startJsCommandPeer } from "./js_command_peer.ts";

describe("pubsub peer discovery with js-libp2p", () => {
  let ours: Libp2pNode;
  let hub: Libp2pNode;
  let js: JsCommandPeer;
  const seen = new Map<string, string[]>();
  const node = (): Promise<Libp2pNode> =>
    testTcpNode({
      // No dials of discovered peers: js must learn of A from the announcement alone.
      connectionManager: { minConnections: 0 },
      services: {
        identify: identify(),
        pubsub: gossipsub({
          allowPublishToZeroTopicPeers: true,
          scoreParams: { IPColocationFactorWhitelist: ["127.0.0.1"] },
        }),
        discovery: pubsubPeerDiscovery({ interval: 1000, dial: false }),
      },
    } as never);

  before(async () => {
    [ours, hub] = await Promise.all([node(), node()]);
    ours.addEventListener("peer:discovery", (e) => {
      seen.set(e.detail.id.toString(), e.detail.multiaddrs.map(String));
    });
    js = await startJsCommandPeer({
      script: new URL("./pubsub_discovery_js_peer.ts", import.meta.url).pathname,
      label: "pubsub-discovery",
    });
    await ours.dial(hub.addrs()[0]);
    await hub.dial(multiaddr(js.addrs[0]));
  });

  after(async () => {
    await js?.stop();
    await stopAll(ours, hub);
  });

  it("our node reads js's announcement: js's id and listen address", async () => {
    await until(() => seen.has(js.peerId), 20_000);
    const jsTcp = js.addrs[0].split("/p2p/")[0];
    assert.ok(seen.get(js.peerId)!.some((a) => a.startsWith(jsTcp)), seen.get(js.peerId)!.join());
  });

  it("js reads ours: our id and listen address", async () => {
    const ourTcp = ours.addrs()[0].toString().split("/p2p/")[0];
    let found: { id: string; addrs: string[] } | undefined;
    await until(async () => {
      const list = await js.call("discovered") as { id: string; addrs: string[] }[];
      found = list.find((p) => p.id === ours.peerId.toString());
      return found !== undefined && found.addrs.some((a) => a.startsWith(ourTcp));
    }, 20_000);
    assert.ok(found!.addrs.some((a) => a.startsWith(ourTcp)), found!.addrs.join());
    assert.ok(
      !ours.getConnections().some((c) => c.remotePeer.toString() === js.peerId),
      "A and js never connected: the announcement came through the hub",
    );
  });
});
