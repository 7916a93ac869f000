/**
 * node.peerRouting / node.contentRouting over fake routers: no router is a clear error, the
 * first router to find a peer wins, one router's failure does not fail an announcement,
 * providers from several routers arrive each once.
 */

import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { Libp2pError } from "../../src/errors.ts";
import { generateKeyPair, peerIdFromPrivateKey } from "../../src/keys/mod.ts";
import { multiaddr } from "../../src/multiaddr/mod.ts";
import type { PeerId } from "../../src/peer_id.ts";
import {
  CONTENT_ROUTER,
  type ContentRouter,
  ContentRouting,
  NoRoutersError,
  PEER_ROUTER,
  type PeerRouter,
  PeerRouting,
  type RoutedPeer,
} from "../../src/node/routing.ts";

const somePeer = async (): Promise<PeerId> =>
  peerIdFromPrivateKey(await generateKeyPair("Ed25519"));
const routed = (id: PeerId): RoutedPeer => ({
  id,
  multiaddrs: [multiaddr("/ip4/192.0.2.1/tcp/1")],
});

function contentRouter(
  providers: RoutedPeer[],
  fail = false,
): ContentRouter & { provided: number } {
  const r = {
    provided: 0,
    provide() {
      if (fail) return Promise.reject(new Error("router down"));
      r.provided++;
      return Promise.resolve();
    },
    async *findProviders() {
      for (const p of providers) yield p;
    },
    put: () => fail ? Promise.reject(new Error("router down")) : Promise.resolve(),
    get: () =>
      fail ? Promise.reject(new Error("router down")) : Promise.resolve(new Uint8Array([7])),
  };
  return r;
}

describe("node routing facades", () => {
  it("no routers: NoRoutersError", async () => {
    const id = await somePeer();
    await assert.rejects(new PeerRouting({ other: {} }).findPeer(id), NoRoutersError);
    await assert.rejects(new ContentRouting({}).provide("Qm"), NoRoutersError);
  });

  it("findPeer: the first router that finds the peer wins; one router's error is its own", async () => {
    const id = await somePeer();
    const failing: PeerRouter = { findPeer: () => Promise.reject(new RangeError("nope")) };
    const finding: PeerRouter = { findPeer: (p) => Promise.resolve(routed(p)) };
    const both = new PeerRouting({ a: { [PEER_ROUTER]: failing }, b: { [PEER_ROUTER]: finding } });
    assert.ok((await both.findPeer(id)).id.equals(id));
    await assert.rejects(
      new PeerRouting({ a: { [PEER_ROUTER]: failing } }).findPeer(id),
      RangeError,
    );
    const none = new PeerRouting({ a: { [PEER_ROUTER]: failing }, b: { [PEER_ROUTER]: failing } });
    await assert.rejects(none.findPeer(id), Libp2pError);
  });

  it("content: announcements survive one router failing; providers arrive each once", async () => {
    const [p1, p2] = [await somePeer(), await somePeer()];
    const a = contentRouter([routed(p1), routed(p2)]);
    const b = contentRouter([routed(p2), routed(p1)]);
    const down = contentRouter([], true);
    const routing = new ContentRouting({
      a: { [CONTENT_ROUTER]: a },
      down: { [CONTENT_ROUTER]: down },
      b: { [CONTENT_ROUTER]: b },
    });
    await routing.provide("Qm");
    assert.equal(a.provided + b.provided, 2);
    const found: string[] = [];
    for await (const p of routing.findProviders("Qm")) found.push(p.id.toString());
    assert.deepEqual(found, [p1.toString(), p2.toString()]);
    assert.deepEqual(await routing.get(new Uint8Array([1])), new Uint8Array([7]));
    await assert.rejects(
      new ContentRouting({ down: { [CONTENT_ROUTER]: down } }).put(
        new Uint8Array(1),
        new Uint8Array(1),
      ),
      /router down/,
    );
  });
});
