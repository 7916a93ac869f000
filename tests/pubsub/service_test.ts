/**
 * The pubsub service with the floodsub router over the memory transport (Noise + Yamux):
 * delivery exactly once along a chain, subscription changes, a reset outbound stream is
 * replaced, a peer that never reads stays bounded (drops, then it is given up), oversized
 * frames are refused, validators reject and ignore, publish without peers, and stop releases
 * every stream and timer.
 */

import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import type { Libp2pNode } from "../../src/node/node.ts";
import type { Stream } from "../../src/connection.ts";
import { identify, type IdentifyService } from "../../protocols/identify/mod.ts";
import {
  floodsub,
  type FloodsubOptions,
  type FloodsubService,
} from "../../protocols/floodsub/mod.ts";
import { gossipsub, type GossipsubService } from "../../protocols/gossipsub/mod.ts";
import { FLOODSUB_PROTOCOL, PublishError, type PubsubClock } from "../../protocols/pubsub/mod.ts";
import { encodeRpcFrame } from "../../protocols/pubsub/rpc_codec.ts";
import { stopAll, testNode, until } from "../helpers/nodes.ts";

type S = { identify: IdentifyService; pubsub: FloodsubService };

const enc = new TextEncoder();
const dec = new TextDecoder();

function psNode(options: FloodsubOptions = {}): Promise<Libp2pNode<S>> {
  return testNode<S>({
    services: { identify: identify(), pubsub: floodsub({ heartbeatIntervalMs: 0, ...options }) },
  });
}

async function connect(a: Libp2pNode<S>, b: Libp2pNode<S>): Promise<void> {
  await a.dial(b.addrs()[0]);
  await until(() =>
    a.services.pubsub.getPeers().some((p) => p.equals(b.peerId)) &&
    b.services.pubsub.getPeers().some((p) => p.equals(a.peerId)), 10_000);
}

/** Collect the data (as text) of every `message` event of `node`. */
function inbox(node: Libp2pNode<S>): string[] {
  const got: string[] = [];
  node.services.pubsub.addEventListener("message", (e) => got.push(dec.decode(e.detail.data)));
  return got;
}

function pubsubStreams(node: Libp2pNode<S>): Stream[] {
  return node.getConnections().flatMap((c) => c.streams).filter((s) =>
    s.protocol === FLOODSUB_PROTOCOL && s.status === "open"
  );
}

describe("pubsub service (floodsub): a chain of five nodes", () => {
  const nodes: Libp2pNode<S>[] = [];
  let boxes: string[][] = [];
  before(async () => {
    for (let i = 0; i < 5; i++) nodes.push(await psNode());
    boxes = nodes.map(inbox);
    for (const n of nodes) n.services.pubsub.subscribe("chain");
    for (let i = 0; i + 1 < nodes.length; i++) await connect(nodes[i], nodes[i + 1]);
    for (let i = 0; i + 1 < nodes.length; i++) {
      await until(() => nodes[i].services.pubsub.getSubscribers("chain").length >= 1);
    }
  });
  after(() => stopAll(...nodes));

  it("every subscriber gets every message exactly once, from either end", async () => {
    const r1 = await nodes[0].services.pubsub.publish("chain", enc.encode("from-0"));
    assert.equal(r1.recipients.length, 1);
    await nodes[4].services.pubsub.publish("chain", enc.encode("from-4"));
    await until(() => boxes.slice(1).every((b) => b.includes("from-0")), 10_000);
    await until(() => boxes.slice(0, 4).every((b) => b.includes("from-4")), 10_000);
    await new Promise((r) => setTimeout(r, 100)); // room for a wrong duplicate to arrive
    for (let i = 0; i < 5; i++) {
      assert.equal(boxes[i].filter((m) => m === "from-0").length, i === 0 ? 0 : 1, `node ${i}`);
      assert.equal(boxes[i].filter((m) => m === "from-4").length, i === 4 ? 0 : 1, `node ${i}`);
    }
  });

  it("the message event carries topic, from, sequence number and id", async () => {
    const detail = new Promise<Record<string, unknown>>((resolve) =>
      nodes[1].services.pubsub.addEventListener("message", (e) => {
        if (dec.decode(e.detail.data) === "detail") resolve(e.detail as never);
      }, { once: true })
    );
    await nodes[0].services.pubsub.publish("chain", enc.encode("detail"));
    const d = await detail as {
      topic: string;
      from: { equals(o: unknown): boolean };
      sequenceNumber: bigint;
      msgId: Uint8Array;
      propagationSource: { equals(o: unknown): boolean };
      type: string;
    };
    assert.equal(d.topic, "chain");
    assert.equal(d.type, "signed");
    assert.ok(d.from.equals(nodes[0].peerId));
    assert.ok(d.propagationSource.equals(nodes[0].peerId));
    assert.equal(typeof d.sequenceNumber, "bigint");
    assert.ok(d.msgId.byteLength > 8);
  });

  it("subscription changes reach the neighbours", async () => {
    const change = new Promise<{ topic: string; subscribe: boolean }[]>((resolve) =>
      nodes[1].services.pubsub.addEventListener("subscription-change", (e) => {
        if (e.detail.peerId.equals(nodes[2].peerId)) resolve(e.detail.subscriptions);
      }, { once: true })
    );
    nodes[2].services.pubsub.subscribe("other");
    assert.deepEqual(await change, [{ topic: "other", subscribe: true }]);
    await until(() =>
      nodes[1].services.pubsub.getSubscribers("other").some((p) => p.equals(nodes[2].peerId))
    );
    nodes[2].services.pubsub.unsubscribe("other");
    await until(() => nodes[1].services.pubsub.getSubscribers("other").length === 0);
    assert.deepEqual(nodes[2].services.pubsub.getTopics(), ["chain"]);
  });
});

describe("pubsub service (floodsub): streams", () => {
  const nodes: Libp2pNode<S>[] = [];
  after(() => stopAll(...nodes));

  it("a reset outbound stream is replaced and messages flow again", async () => {
    const a = await psNode();
    const b = await psNode();
    nodes.push(a, b);
    const got = inbox(b);
    b.services.pubsub.subscribe("t");
    await connect(a, b);
    await until(() => a.services.pubsub.getSubscribers("t").length === 1);
    const outbound = pubsubStreams(a).find((s) => s.direction === "outbound")!;
    assert.ok(outbound !== undefined);
    outbound.reset();
    await until(() => a.services.pubsub.stats().streamReplacements >= 1, 10_000);
    await until(() => pubsubStreams(a).some((s) => s.direction === "outbound"), 10_000);
    await a.services.pubsub.publish("t", enc.encode("after-reset"));
    await until(() => got.includes("after-reset"), 10_000);
    // Still exactly one outbound stream each way.
    assert.equal(pubsubStreams(a).filter((s) => s.direction === "outbound").length, 1);
  });

  it("a peer that never reads is bounded: frames dropped, then it is given up", async () => {
    const cap = 64 * 1024;
    const a = await psNode({ maxOutboundBufferSize: cap, publishQueueWaitMs: 200 });
    nodes.push(a);
    // A raw peer: it announces a subscription on its own outbound stream, then never reads.
    const raw = await testNode<{ identify: IdentifyService }>({
      services: { identify: identify() },
    });
    nodes.push(raw as never);
    raw.handle(FLOODSUB_PROTOCOL, () => {/* never read */}, { idleTimeoutMs: 0 });
    const conn = await raw.dial(a.addrs()[0]);
    const s = await conn.newStream(FLOODSUB_PROTOCOL, { idleTimeoutMs: 0 });
    const w = s.writable.getWriter();
    await w.write(
      encodeRpcFrame({ subscriptions: [{ subscribe: true, topic: "t" }], messages: [] }),
    );
    await until(() => a.services.pubsub.getSubscribers("t").length === 1, 10_000);
    const big = new Uint8Array(16 * 1024);
    let dropsSeen = false;
    for (let i = 0; i < 2000 && a.services.pubsub.stats().peersGivenUp === 0; i++) {
      await a.services.pubsub.publish("t", big).catch(() => {});
      if (a.services.pubsub.stats().dropped > 0) dropsSeen = true;
      if (i % 50 === 0) await new Promise((r) => setTimeout(r, 0));
    }
    assert.ok(dropsSeen, "frames were dropped once the queue was full");
    assert.equal(a.services.pubsub.stats().peersGivenUp, 1, "the stalled peer was given up");
    assert.equal(a.services.pubsub.getPeers().length, 0);
  });

  it("a publisher faster than the link waits for room: nothing of its own is dropped", async () => {
    const a = await psNode({
      maxOutboundBufferSize: 256 * 1024,
      globalSignaturePolicy: "StrictNoSign", // no signing to slow the publisher down
    });
    const b = await psNode({ globalSignaturePolicy: "StrictNoSign" });
    nodes.push(a, b);
    let got = 0;
    b.services.pubsub.addEventListener("message", () => got++);
    b.services.pubsub.subscribe("fast");
    await connect(a, b);
    await until(() => a.services.pubsub.getSubscribers("fast").length === 1);
    const n = 200;
    const sends: Promise<unknown>[] = [];
    for (let i = 0; i < n; i++) {
      const data = new Uint8Array(64 * 1024);
      data[0] = i; // distinct content ids under StrictNoSign
      sends.push(a.services.pubsub.publish("fast", data));
    }
    const results = await Promise.all(sends) as { recipients: unknown[] }[];
    assert.ok(results.every((r) => r.recipients.length === 1));
    await until(() => got === n, 20_000);
    assert.equal(a.services.pubsub.stats().dropped, 0);
  });

  it("an oversized frame resets the inbound stream before allocation", async () => {
    const a = await psNode({ maxInboundDataLength: 1024 });
    nodes.push(a);
    const raw = await testNode<{ identify: IdentifyService }>({
      services: { identify: identify() },
    });
    nodes.push(raw as never);
    const conn = await raw.dial(a.addrs()[0]);
    const s = await conn.newStream(FLOODSUB_PROTOCOL, { idleTimeoutMs: 0 });
    const w = s.writable.getWriter();
    // A declared length of 1 GiB, and nothing after it.
    await w.write(new Uint8Array([0x80, 0x80, 0x80, 0x80, 0x04]));
    await until(() => a.services.pubsub.stats().badFrames === 1, 10_000);
  });
});

describe("pubsub service (floodsub): validation and publishing", () => {
  const nodes: Libp2pNode<S>[] = [];
  after(() => stopAll(...nodes));

  it("validators: reject and ignore are neither delivered nor forwarded", async () => {
    const a = await psNode();
    const b = await psNode();
    const c = await psNode();
    nodes.push(a, b, c);
    const gotB = inbox(b);
    const gotC = inbox(c);
    for (const n of [a, b, c]) n.services.pubsub.subscribe("v");
    b.services.pubsub.topicValidators.set("v", (_peer, msg) => {
      const text = dec.decode(msg.data);
      if (text.startsWith("bad")) return "reject";
      if (text.startsWith("meh")) return Promise.resolve("ignore");
      if (text.startsWith("throw")) throw new Error("validator failed");
      return "accept";
    });
    await connect(a, b);
    await connect(b, c);
    await until(() => a.services.pubsub.getSubscribers("v").length === 1);
    await until(() => c.services.pubsub.getSubscribers("v").length === 1);
    for (const text of ["bad-1", "meh-1", "throw-1", "good-1"]) {
      await a.services.pubsub.publish("v", enc.encode(text));
    }
    await until(() => gotC.includes("good-1"), 10_000);
    assert.deepEqual(gotB, ["good-1"]);
    assert.deepEqual(gotC, ["good-1"]);
    const v = b.services.pubsub.stats().validated;
    assert.deepEqual(v, { accept: 1, reject: 2, ignore: 1 });
  });

  it("publish with no subscribed peer throws unless allowed", async () => {
    const a = await psNode();
    const b = await psNode({ allowPublishToZeroTopicPeers: true });
    nodes.push(a, b);
    await assert.rejects(
      a.services.pubsub.publish("nobody", enc.encode("x")),
      (err) => err instanceof PublishError && err.code === "NoPeersSubscribedToTopic",
    );
    const r = await b.services.pubsub.publish("nobody", enc.encode("x"));
    assert.equal(r.recipients.length, 0);
  });

  it("emitSelf delivers our own message to us", async () => {
    const a = await psNode({ emitSelf: true, allowPublishToZeroTopicPeers: true });
    nodes.push(a);
    const got = inbox(a);
    a.services.pubsub.subscribe("self");
    await a.services.pubsub.publish("self", enc.encode("me"));
    assert.deepEqual(got, ["me"]);
  });

  it("an aborted signal rejects publish", async () => {
    const a = await psNode({ allowPublishToZeroTopicPeers: true });
    nodes.push(a);
    await assert.rejects(
      a.services.pubsub.publish("t", enc.encode("x"), { signal: AbortSignal.abort() }),
    );
  });
});

/** A clock whose timers run only when the test says so. */
class FakeClock implements PubsubClock {
  t = 0;
  readonly timers = new Map<number, { fn: () => void; every?: number; at: number }>();
  #next = 1;
  now(): number {
    return this.t;
  }
  setInterval(fn: () => void, ms: number): unknown {
    const id = this.#next++;
    this.timers.set(id, { fn, every: ms, at: this.t + ms });
    return id;
  }
  clearInterval(h: unknown): void {
    this.timers.delete(h as number);
  }
  setTimeout(fn: () => void, ms: number): unknown {
    const id = this.#next++;
    this.timers.set(id, { fn, at: this.t + ms });
    return id;
  }
  clearTimeout(h: unknown): void {
    this.timers.delete(h as number);
  }
  advance(ms: number): void {
    const end = this.t + ms;
    for (;;) {
      let due: [number, { fn: () => void; every?: number; at: number }] | undefined;
      for (const e of this.timers) if (e[1].at <= end && (!due || e[1].at < due[1].at)) due = e;
      if (due === undefined) break;
      this.t = due[1].at;
      if (due[1].every === undefined) this.timers.delete(due[0]);
      else due[1].at += due[1].every;
      due[1].fn();
    }
    this.t = end;
  }
}

describe("pubsub service (floodsub): heartbeat and stop", () => {
  it("the heartbeat runs on the injected clock; stop clears timers and streams", async () => {
    const clock = new FakeClock();
    const a = await psNode({ clock, heartbeatIntervalMs: 1000, heartbeatInitialDelayMs: 100 });
    const b = await psNode();
    try {
      let beats = 0;
      const router = a.services.pubsub.router;
      const original = router.heartbeat.bind(router);
      router.heartbeat = (now: number) => {
        beats++;
        original(now);
      };
      clock.advance(100);
      assert.equal(beats, 1);
      clock.advance(3000);
      assert.equal(beats, 4);
      b.services.pubsub.subscribe("t");
      await connect(a, b);
      await until(() => pubsubStreams(a).length === 2 && pubsubStreams(b).length === 2, 10_000);
      // The service alone stops: the connection stays, the pubsub streams go.
      a.services.pubsub.stop();
      assert.equal(clock.timers.size, 0, "no timer left");
      assert.equal(a.getConnections(b.peerId).length, 1);
      clock.advance(5000);
      assert.equal(beats, 4);
      assert.equal(a.services.pubsub.getPeers().length, 0);
      await until(() => pubsubStreams(a).length === 0 && pubsubStreams(b).length === 0, 10_000);
    } finally {
      await stopAll(a, b);
    }
  });
});

describe("pubsub service (gossipsub): eight nodes of ours in a ring with chords", () => {
  type G = { identify: IdentifyService; pubsub: GossipsubService };
  const nodes: Libp2pNode<G>[] = [];
  const boxes: string[][] = [];
  before(async () => {
    for (let i = 0; i < 8; i++) {
      const node = await testNode<G>({
        services: {
          identify: identify(),
          pubsub: gossipsub({ heartbeatIntervalMs: 100, allowPublishToZeroTopicPeers: true }),
        },
      });
      const got: string[] = [];
      node.services.pubsub.addEventListener("message", (e) => got.push(dec.decode(e.detail.data)));
      node.services.pubsub.subscribe("g");
      nodes.push(node);
      boxes.push(got);
    }
    for (let i = 0; i < 8; i++) await nodes[i].dial(nodes[(i + 1) % 8].addrs()[0]);
    await nodes[0].dial(nodes[4].addrs()[0]);
    await nodes[2].dial(nodes[6].addrs()[0]);
    await until(() => nodes.every((n) => n.services.pubsub.getMeshPeers("g").length >= 2), 10_000);
  });
  after(() => stopAll(...nodes));

  it("meshes form and every message arrives exactly once", async () => {
    for (let i = 0; i < 8; i++) {
      await nodes[i].services.pubsub.publish("g", enc.encode(`g-${i}`));
    }
    const all = (i: number): string[] =>
      [...Array(8).keys()].filter((j) => j !== i).map((j) => `g-${j}`);
    await until(() => boxes.every((b, i) => all(i).every((x) => b.includes(x))), 10_000);
    await new Promise((r) => setTimeout(r, 300));
    for (let i = 0; i < 8; i++) assert.equal(boxes[i].length, 7, `node ${i}: ${boxes[i]}`);
    assert.ok(nodes[0].services.pubsub.getScore(nodes[1].peerId) >= 0);
  });
});
