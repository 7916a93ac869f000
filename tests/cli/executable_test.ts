/**
 * The single executable (`deno task build:bun`, tools/build_bun.ts): `bun build --compile`
 * offline into a temporary folder, then the executable runs by itself: `--version` (with the
 * commit compiled in), `--print-config` from the environment, and a start on loopback with
 * `--preset edge` stopped by SIGTERM. Runs under deno test and bun test alike (the build
 * always uses Bun); the size is logged.
 */

import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { execFileSync, spawn } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { buildBun } from "../../tools/build_bun.ts";

const T = { timeout: 180_000 };
const ROOT = new URL("../../", import.meta.url).pathname;
let dir: string;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), "p2p-edge-exe-"));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe("single executable (bun build --compile)", () => {
  it(
    "builds offline, prints its version, starts --preset edge and stops on SIGTERM",
    T,
    async () => {
      const exe = join(dir, "p2p-edge-libp2p");
      const size = buildBun(exe, ROOT);
      console.log(`executable ${size} bytes (${(size / 1024 ** 2).toFixed(1)} MiB)`);
      assert.ok(size > 0);

      const env: Record<string, string | undefined> = { ...process.env, NO_COLOR: "1" };
      for (const k of Object.keys(env)) if (k.startsWith("P2P_EDGE_")) delete env[k];
      const version = execFileSync(exe, ["--version"], { env }).toString().trim();
      assert.match(version, /^p2p-edge-libp2p \d+\.\d+\.\d+ \(bun \d+\.\d+\.\d+\)/);
      let commit = "";
      try {
        commit = execFileSync("git", ["rev-parse", "--short", "HEAD"], { cwd: ROOT }).toString()
          .trim();
      } catch { /* no git: no commit */ }
      if (commit !== "") assert.ok(version.endsWith(` commit ${commit}`), version);

      const printed = execFileSync(exe, ["--print-config"], {
        env: { ...env, P2P_EDGE_PRESET: "edge", P2P_EDGE_BOOTSTRAP: "/dnsaddr/a.example" },
      }).toString();
      const config = JSON.parse(printed);
      assert.equal(config.preset, "edge");
      assert.deepEqual(config.bootstrap, ["/dnsaddr/a.example"]);

      const child = spawn(exe, [
        "--preset",
        "edge",
        "--allow-private-addresses",
        "--listen",
        "/ip4/127.0.0.1/tcp/0",
        "--key",
        join(dir, "node.key"),
      ], { env, stdio: ["ignore", "pipe", "pipe"] });
      const lines: string[] = [];
      let stderr = "";
      child.stderr.on("data", (d) => stderr += d);
      const exited = new Promise<number | null>((resolve) => child.on("close", resolve));
      const listening = new Promise<string>((resolve, reject) => {
        let buf = "";
        child.stdout.on("data", (d) => {
          buf += d;
          let i: number;
          while ((i = buf.indexOf("\n")) >= 0) {
            const line = buf.slice(0, i);
            buf = buf.slice(i + 1);
            lines.push(line);
            if (line.startsWith("listening ")) resolve(line);
          }
        });
        exited.then((code) => reject(new Error(`exited ${code} before listening: ${stderr}`)));
      });
      try {
        assert.match(
          await listening,
          /^listening \/ip4\/127\.0\.0\.1\/tcp\/\d+\/p2p\/12D3KooW\w+$/,
        );
      } finally {
        // process.kill, not child.kill: Deno's child_process reports a child it was asked to
        // kill as killed by the signal (code null) even when the child exits 0 on its own.
        process.kill(child.pid!, "SIGTERM");
      }
      assert.equal(await exited, 0, stderr);
      assert.equal(lines.at(-1), "stopped");
    },
  );
});
