/**
 * HARDENING.md "transport" row: idle sockets from many source addresses at once (each under its
 * per-address caps) must not keep an honest peer out. Over real TCP on loopback: a flood of
 * sockets that connect and never send a byte, from more 127.0.0.0/8 source addresses than the
 * node has pending-upgrade slots, re-opened as the node closes them. While it runs, honest dials
 * (from our node, and from js-libp2p) get in, and one address that opens too many sockets is
 * still refused by its per-address cap.
 *
 * node:net's `connect({ localAddress })` binds the source address (Deno.connect cannot); Deno
 * and Bun both support it. Every loop is bounded in count and time, and every socket is
 * destroyed at the end.
 */

import { describe, it } from "node:test";
import assert from "node:assert/strict";
import net from "node:net";
import { createNode, type Libp2pNode } from "../../src/node/node.ts";
import type { Connection } from "../../src/connection.ts";
import { yamux } from "../../protocols/yamux/mod.ts";
import { noise } from "../../protocols/noise/mod.ts";
import { ping } from "../../protocols/ping/mod.ts";
import { identify } from "../../protocols/identify/mod.ts";
import { tcp } from "../../transports/tcp/mod.ts";
import { until } from "../helpers/nodes.ts";
import { startJsPeer } from "../interop/js_process.ts";
import { detectUnhandled, sleep } from "./helpers.ts";

/** Pending-upgrade slots of the node under test (the default 64 scaled down for 2 cores; above the per-address cap of 16, so the two limits are told apart). */
const SLOTS = 20;
/** Flood source addresses: twice the slots, so per-address caps cannot stop the flood. */
const SOURCES = 40;
/** Sockets each source keeps open (far under the per-address cap of 16 and burst of 10). */
const PER_SOURCE = 2;
/** Pause before a closed flood socket is re-opened, ms (keeps the loop from spinning). */
const REOPEN_MS = 100;
/** Hard bounds of the flood: sockets opened in all, and its duration, ms. */
const MAX_FLOOD_SOCKETS = 20_000;
const MAX_FLOOD_MS = 60_000;
/** Honest dials from our node made while the flood holds every slot. */
const HONEST_DIALS = 5;
/** Dials each honest peer may make (a reset dialer dials again). */
const HONEST_ATTEMPTS = 3;
const TIMEOUT = { timeout: 120_000 };

/** A flood of silent sockets from `sources` loopback addresses, kept up until `stop()`. */
function flood(port: number, sources: string[], perSource: number): {
  stop: () => Promise<void>;
  opened: () => number;
  received: () => number;
} {
  const live = new Set<net.Socket>();
  let opened = 0;
  let received = 0;
  let running = true;
  const started = Date.now();
  const timers = new Set<ReturnType<typeof setTimeout>>();
  const open = (source: string): void => {
    if (!running || opened >= MAX_FLOOD_SOCKETS || Date.now() - started > MAX_FLOOD_MS) return;
    opened++;
    const socket = net.connect({ host: "127.0.0.1", port, localAddress: source });
    live.add(socket);
    socket.on("data", (d: Uint8Array) => {
      received += d.byteLength;
    });
    socket.on("error", () => {});
    socket.on("close", () => {
      live.delete(socket);
      const t = setTimeout(() => {
        timers.delete(t);
        open(source);
      }, REOPEN_MS);
      timers.add(t);
    });
  };
  for (const source of sources) for (let i = 0; i < perSource; i++) open(source);
  return {
    opened: () => opened,
    received: () => received,
    async stop(): Promise<void> {
      running = false;
      for (const t of timers) clearTimeout(t);
      timers.clear();
      for (const s of live) s.destroy();
      await until(() => live.size === 0, 5000).catch(() => {});
      for (const t of timers) clearTimeout(t);
    },
  };
}

/** Open `count` silent sockets from `source`; resolves with how many the node ended at once. */
async function burst(port: number, source: string, count: number): Promise<{
  sockets: net.Socket[];
  closed: () => number;
}> {
  const sockets: net.Socket[] = [];
  let closed = 0;
  await Promise.all(
    Array.from({ length: count }, () =>
      new Promise<void>((resolve) => {
        const s = net.connect({ host: "127.0.0.1", port, localAddress: source }, () => resolve());
        s.on("error", () => resolve());
        s.on("close", () => {
          closed++;
          resolve();
        });
        sockets.push(s);
      })),
  );
  return { sockets, closed: () => closed };
}

async function honestNode(): Promise<Libp2pNode> {
  return await createNode({
    transports: [tcp()],
    connectionEncrypters: [noise()],
    streamMuxers: [yamux()],
  });
}

describe("hardening: idle-socket flood from many loopback addresses (TCP)", () => {
  it("honest peers get in while silent sockets hold every slot", TIMEOUT, async () => {
    const unhandled = detectUnhandled();
    const b = await createNode({
      transports: [tcp()],
      connectionEncrypters: [noise()],
      streamMuxers: [yamux()],
      listen: ["/ip4/127.0.0.1/tcp/0"],
      services: { ping: ping(), identify: identify() },
      // Default per-address limits (16 sockets, 10/s, burst 10) and upgrade deadline (10 s).
      connectionManager: { maxPendingInbound: SLOTS },
    });
    const port = Number(b.addrs()[0].toString().split("/")[4]);
    let attack: ReturnType<typeof flood> | undefined;
    let single: Awaited<ReturnType<typeof burst>> | undefined;
    const honest: Libp2pNode[] = [];
    try {
      // One address that opens more than its cap: 10 (the burst) are admitted, the rest refused
      // at once, before any byte is read.
      single = await burst(port, "127.0.3.1", 14);
      await until(() => single!.closed() >= 4, 5000);
      assert.equal(b.stats().manager.pendingInbound, 10, "per-address burst admitted");
      await sleep(1100); // the bucket refills (10/s); the per-address socket cap now binds
      const more = await burst(port, "127.0.3.1", 10);
      await until(() => more.closed() >= 4, 5000);
      single.sockets.push(...more.sockets);
      assert.equal(b.stats().manager.pendingInbound, 16, "16 from one address at most");
      for (const s of single.sockets) s.destroy();
      await until(() => b.stats().pendingUpgrades === 0, 5000);

      const sources = Array.from({ length: SOURCES }, (_, i) => `127.0.1.${i + 1}`);
      attack = flood(port, sources, PER_SOURCE);
      for (let i = 0; i < HONEST_DIALS; i++) {
        // Dial only while the flood holds every pending slot.
        await until(() => b.stats().pendingUpgrades >= SLOTS, 10_000);
        const a = await honestNode();
        honest.push(a);
        // An honest socket is safe from eviction until (SLOTS - 1) newer flood sockets arrived:
        // at the flood's admitted rate (10/s per source x 40 sources) about 50 ms to negotiate
        // its security protocol. A loaded machine can miss that, and a dialer that is reset
        // dials again, as real dialers do: each honest peer gets in within HONEST_ATTEMPTS.
        let conn: Connection | undefined;
        for (let attempt = 1; conn === undefined; attempt++) {
          try {
            conn = await a.dial(b.addrs()[0]);
          } catch (err) {
            if (attempt >= HONEST_ATTEMPTS) throw err;
          }
        }
        assert.equal(conn.status, "open", `honest dial ${i} during the flood`);
        await a.stop();
      }

      // js-libp2p dials us during the flood too, and pings.
      await until(() => b.stats().pendingUpgrades >= SLOTS, 10_000);
      // Like our dialers above, a js dialer that is reset dials again (a fresh process each time).
      for (let attempt = 1;; attempt++) {
        const js = startJsPeer(["--dial", b.addrs()[0].toString(), "--ping", "1"]);
        try {
          const r = await js.next("ping");
          if (r.event !== "ping" && attempt < HONEST_ATTEMPTS) continue;
          assert.equal(r.event, "ping", String(r.message));
          break;
        } finally {
          await js.stop();
        }
      }
      assert.ok(attack.opened() > SOURCES * PER_SOURCE, "the flood re-opened sockets");
      // Newcomers took the slots of silent sockets (connection_manager.ts admitInbound).
      assert.ok((b.stats().manager.evictedInbound ?? 0) > 0, "silent sockets were evicted");
      assert.equal(attack.received(), 0, "no silent socket got a byte");
      await attack.stop();
      await until(() => b.stats().pendingUpgrades === 0, 15_000);
      assert.equal(b.stats().manager.pendingInbound, 0);
      assert.deepEqual(unhandled.errors, []);
    } finally {
      unhandled.stop();
      await attack?.stop();
      for (const s of single?.sockets ?? []) s.destroy();
      for (const a of honest) await a.stop();
      await b.stop();
    }
  });
});
