/**
 * mDNS over a real multicast socket: one of our nodes on Deno, one on Bun and js-libp2p's
 * `@libp2p/mdns` 12 on Node 20 (its multicast does not work under Deno, ipfs/helia#73) run as
 * three processes in a fresh network namespace whose loopback carries multicast
 * (`ip link set lo up multicast on`, `224.0.0.0/4 dev lo`), and each must report the other two
 * through `peer:discovery`, with the TCP address the other listens on; then the CLI's `--mdns`
 * on Deno and Bun, each printing a `discovered` line for the other. The namespace is removed
 * afterwards.
 *
 * Needs Linux, root and `ip` (iproute2); skipped with the reason otherwise. The js side is left
 * out (with a message) when `node` is missing. Runtimes are started by their executable paths,
 * resolved outside the namespace (inside it `npx` has no registry to ask).
 */

import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import process from "node:process";
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const ROOT = new URL("../../", import.meta.url).pathname;
const NS = `mdns${process.pid.toString(36)}`;
const WAIT_MS = 30_000;

function run(cmd: string, args: string[]): string {
  return execFileSync(cmd, args, { stdio: ["ignore", "pipe", "pipe"], timeout: 120_000 })
    .toString();
}

function hasTool(cmd: string, ...args: string[]): boolean {
  try {
    run(cmd, args);
    return true;
  } catch {
    return false;
  }
}

function unavailable(): string | false {
  if (process.platform !== "linux") return "needs Linux network namespaces";
  if (typeof process.getuid !== "function" || process.getuid() !== 0) {
    return "needs root (ip netns)";
  }
  if (!hasTool("ip", "-V")) return "`ip` (iproute2) not found";
  return false;
}

const SKIP = unavailable();
if (SKIP) console.log(`mdns netns test skipped: ${SKIP}`);

function denoExec(): string {
  const deno = (globalThis as { Deno?: { execPath(): string } }).Deno;
  if (deno !== undefined) return deno.execPath();
  return run("npx", ["-y", "deno@2.9.6", "eval", "console.log(Deno.execPath())"]).trim();
}

function bunExec(): string {
  if ("Bun" in globalThis) return process.execPath;
  return run("npx", ["-y", "bun@1.4.5", "-e", "console.log(process.execPath)"]).trim();
}

interface Peer {
  readonly label: string;
  peerId: string;
  readonly found: Map<string, string[]>;
  readonly child: ChildProcess;
  stderr: string;
  exited: boolean;
}

function startPeer(label: string, argv: string[]): Peer {
  const child = spawn("ip", ["netns", "exec", NS, ...argv], {
    cwd: ROOT,
    stdio: ["pipe", "pipe", "pipe"],
    env: { ...process.env, NO_COLOR: "1" },
  });
  const peer: Peer = { label, peerId: "", found: new Map(), child, stderr: "", exited: false };
  const decoder = new TextDecoder();
  let buffered = "";
  child.stdout!.on("data", (d: Uint8Array) => {
    buffered += decoder.decode(d);
    let nl;
    while ((nl = buffered.indexOf("\n")) >= 0) {
      const text = buffered.slice(0, nl);
      buffered = buffered.slice(nl + 1);
      let obj: Record<string, unknown>;
      try {
        obj = JSON.parse(text);
      } catch {
        // the CLI's text lines: "listening <addr>/p2p/<id>", "discovered <id> <addr>..."
        const [word, first, ...rest] = text.trim().split(" ");
        if (word === "listening" && peer.peerId === "") {
          peer.peerId = first.slice(first.lastIndexOf("/p2p/") + 5);
        }
        if (word === "discovered") peer.found.set(first, rest);
        continue;
      }
      if (obj.event === "listening") peer.peerId = String(obj.peerId);
      if (obj.event === "discovered") peer.found.set(String(obj.id), obj.addrs as string[]);
      if (obj.event === "error") peer.stderr += `${text}\n`;
    }
  });
  child.stderr!.on("data", (d: Uint8Array) => {
    peer.stderr = (peer.stderr + decoder.decode(d)).slice(-4000);
  });
  child.on("close", () => {
    peer.exited = true;
  });
  return peer;
}

async function waitFor(check: () => boolean, what: () => string): Promise<void> {
  const end = Date.now() + WAIT_MS;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out: ${what()}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe("mdns in a network namespace: Deno, Bun and js-libp2p find each other", {
  skip: SKIP,
}, () => {
  const peers: Peer[] = [];
  const keyDirs: string[] = [];

  before(() => {
    run("ip", ["netns", "add", NS]);
    run("ip", ["-n", NS, "link", "set", "lo", "up"]);
    run("ip", ["-n", NS, "link", "set", "lo", "multicast", "on"]);
    run("ip", ["-n", NS, "route", "add", "224.0.0.0/4", "dev", "lo"]);
  });

  after(async () => {
    for (const p of peers) {
      if (!p.exited) p.child.kill("SIGKILL");
    }
    await waitFor(() => peers.every((p) => p.exited), () => "peers still running").catch(
      () => {},
    );
    try {
      run("ip", ["netns", "del", NS]);
    } catch { /* gone */ }
    for (const dir of keyDirs) rmSync(dir, { recursive: true, force: true });
  });

  it("each peer reports the others with their listen addresses", async () => {
    const interval = "1000";
    peers.push(startPeer("deno", [denoExec(), "run", "-A", "tests/mdns/netns_peer.ts", interval]));
    peers.push(startPeer("bun", [bunExec(), "tests/mdns/netns_peer.ts", interval]));
    if (hasTool("node", "--version")) {
      peers.push(startPeer("js", ["node", "tests/interop/mdns_js_peer.mjs", interval]));
    } else {
      console.log("mdns netns test: `node` not found, js-libp2p side left out");
    }
    const report = (): string =>
      peers.map((p) =>
        `${p.label} ${p.peerId || "(not started)"} found [${[...p.found.keys()].join(", ")}]` +
        (p.exited ? ` exited: ${p.stderr.slice(-800)}` : "")
      ).join("\n");
    await waitFor(() => peers.every((p) => p.peerId !== "") || peers.some((p) => p.exited), report);
    assert.ok(peers.every((p) => !p.exited), report());
    await waitFor(
      () =>
        peers.every((p) => peers.every((q) => q === p || p.found.has(q.peerId))) ||
        peers.some((p) => p.exited),
      report,
    );
    for (const p of peers) {
      for (const q of peers) {
        if (q === p) continue;
        const addrs = p.found.get(q.peerId);
        assert.ok(addrs !== undefined, `${p.label} did not find ${q.label}\n${report()}`);
        assert.ok(
          addrs.some((a) => /^\/ip4\/127\.0\.0\.1\/tcp\/\d+$/.test(a)),
          `${p.label} got ${addrs} for ${q.label}`,
        );
      }
    }
    for (const p of peers) p.child.stdin!.end();
    await waitFor(() => peers.every((p) => p.exited), report);
  });

  it("the CLI's --mdns on Deno and Bun prints a discovered line for the other", async () => {
    const args = ["cli.ts", "--listen", "/ip4/127.0.0.1/tcp/0", "--mdns", "--key"];
    const dir = mkdtempSync(join(tmpdir(), "mdns-cli-"));
    keyDirs.push(dir);
    const clis = [
      startPeer("deno cli", [denoExec(), "run", "-A", ...args, join(dir, "deno.key")]),
      startPeer("bun cli", [bunExec(), ...args, join(dir, "bun.key")]),
    ];
    peers.push(...clis);
    const report = (): string =>
      clis.map((p) =>
        `${p.label} ${p.peerId || "(not started)"} found [${[...p.found.keys()].join(", ")}]` +
        (p.exited ? ` exited: ${p.stderr.slice(-800)}` : "")
      ).join("\n");
    await waitFor(
      () =>
        (clis[0].peerId !== "" && clis[1].found.has(clis[0].peerId) &&
          clis[1].peerId !== "" && clis[0].found.has(clis[1].peerId)) ||
        clis.some((p) => p.exited),
      report,
    );
    assert.ok(clis.every((p) => !p.exited), report());
    for (const [p, q] of [[clis[0], clis[1]], [clis[1], clis[0]]]) {
      assert.ok(
        p.found.get(q.peerId)!.some((a) => /^\/ip4\/127\.0\.0\.1\/tcp\/\d+$/.test(a)),
        report(),
      );
    }
    for (const p of clis) p.child.kill("SIGTERM");
    await waitFor(() => clis.every((p) => p.exited), report);
  });
});
