/**
 * The CLI node as users start it (README "Set up"): `npx -y deno@2.9.6 task start -- ...` under
 * deno test, `npx -y bun@1.4.5 run start -- ...` under bun test, against js-libp2p 3 (run under
 * Deno by tests/interop/js_process.ts in both cases). Loopback only.
 */

import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { startJsPeer } from "../interop/js_process.ts";
import { CLI_RUNTIME, type CliRun, startCli } from "./cli_process.ts";

const T = { timeout: 120_000 };
let dir: string;
const running: CliRun[] = [];

function cli(args: string[]): CliRun {
  const run = startCli(args);
  running.push(run);
  return run;
}

function peerIdOf(listeningLine: string): string {
  return listeningLine.slice(listeningLine.lastIndexOf("/p2p/") + 5);
}

before(async () => {
  dir = await mkdtemp(join(tmpdir(), "p2p-edge-cli-e2e-"));
});
after(async () => {
  await Promise.all(running.map((r) => r.kill()));
  await rm(dir, { recursive: true, force: true });
});

describe(`CLI node on ${CLI_RUNTIME} (spawned through npx)`, () => {
  it(
    "js-libp2p dials it, pings it 3 times, echoes and identifies it; SIGINT stops it",
    T,
    async () => {
      const key = join(dir, "node.key");
      const node = cli(["--listen", "/ip4/127.0.0.1/tcp/0", "--key", key, "--echo"]);
      const listening = await node.line(/^listening /);
      assert.match(listening, /^listening \/ip4\/127\.0\.0\.1\/tcp\/\d+\/p2p\/12D3KooW\w+$/);
      const addr = listening.slice("listening ".length);
      const ourId = peerIdOf(listening);
      assert.equal(node.stdout[0], `created Ed25519 identity ${key}`);
      if (process.platform !== "win32") assert.equal((await stat(key)).mode & 0o777, 0o600);

      const js = startJsPeer(["--dial", addr, "--ping", "3", "--echo", "2"]);
      try {
        const jsId = String((await js.next("listening")).peerId);
        for (let i = 0; i < 3; i++) {
          const ping = await js.next("ping");
          assert.equal(ping.event, "ping", JSON.stringify(ping));
          assert.equal(typeof ping.rtt, "number");
          assert.ok(Number.isFinite(ping.rtt as number) && (ping.rtt as number) >= 0);
        }
        const echo = await js.next("echo");
        assert.deepEqual(echo, { event: "echo", ok: 2, bytes: 1024 });
        const identified = await js.next("identified");
        assert.equal(identified.event, "identified", JSON.stringify(identified));
        assert.equal(identified.peerId, ourId);
        const agent = String(identified.agentVersion);
        assert.ok(agent.startsWith("p2p-edge-libp2p/"), agent);
        assert.ok(agent.includes(`(${CLI_RUNTIME} `), agent);
        const protocols = identified.protocols as string[];
        for (const p of ["/ipfs/ping/1.0.0", "/ipfs/id/1.0.0", "/echo/1.0.0"]) {
          assert.ok(protocols.includes(p), `${p} in ${protocols}`);
        }
        assert.ok(!protocols.includes("/perf/1.0.0"), "perf is off by default");
        assert.deepEqual(identified.listenAddrs, [addr.slice(0, addr.lastIndexOf("/p2p/"))]);
        assert.equal((await js.next("done")).event, "done");

        const connected = await node.line(/^connected /);
        assert.match(
          connected,
          new RegExp(`^connected ${jsId} /ip4/127\\.0\\.0\\.1/tcp/\\d+ inbound$`),
        );
        await node.line(new RegExp(`^disconnected ${jsId} .* inbound$`));
      } finally {
        await js.stop();
      }

      node.signal("SIGINT");
      assert.equal(await node.exited, 0, node.stderr.join("\n"));
      assert.equal(node.stdout.at(-1), "stopped");
      assert.ok(!node.stderr.some((l) => l.startsWith("error")), node.stderr.join("\n"));
    },
  );

  it("keeps its identity across restarts (SIGTERM stops it too)", T, async () => {
    const key = join(dir, "persist.key");
    const ids: string[] = [];
    for (let i = 0; i < 2; i++) {
      const node = cli(["--", "--listen", "/ip4/127.0.0.1/tcp/0", "--key", key]);
      ids.push(peerIdOf(await node.line(/^listening /)));
      assert.equal(node.stdout.some((l) => l.startsWith("created ")), i === 0);
      node.signal("SIGTERM");
      assert.equal(await node.exited, 0, node.stderr.join("\n"));
      assert.equal(node.stdout.at(-1), "stopped");
    }
    assert.equal(ids[0], ids[1]);
  });

  it("--dial to a js-libp2p listener prints a ping line", T, async () => {
    const js = startJsPeer(["--listen", "/ip4/127.0.0.1/tcp/0"]);
    try {
      const listening = await js.next("listening");
      const jsId = String(listening.peerId);
      const target = (listening.addrs as string[]).find((a) => a.includes("/tcp/"))!;
      const node = cli(["--dial", target, "--exit-after-dial", "--key", join(dir, "dialer.key")]);
      assert.equal(await node.exited, 0, node.stderr.join("\n"));
      const ping = node.stdout.find((l) => l.startsWith("ping "));
      assert.ok(ping !== undefined, node.stdout.join("\n"));
      const m = /^ping (\S+) (\d+(?:\.\d+)?) ms$/.exec(ping);
      assert.ok(m !== null, ping);
      assert.equal(m[1], jsId);
      assert.ok(Number.isFinite(Number(m[2])));
      assert.match(
        node.stdout.find((l) => l.startsWith("connected "))!,
        new RegExp(`^connected ${jsId} /ip4/127\\.0\\.0\\.1/tcp/\\d+ outbound$`),
      );
      const identified = await js.next("identified");
      assert.ok(String(identified.agentVersion).startsWith("p2p-edge-libp2p/"));
    } finally {
      await js.stop();
    }
  });

  it("listens on WebSocket: js-libp2p (@libp2p/websockets) dials and pings it", T, async () => {
    const node = cli(["--listen", "/ip4/127.0.0.1/tcp/0/ws", "--key", join(dir, "ws.key")]);
    const listening = await node.line(/^listening /);
    assert.match(listening, /^listening \/ip4\/127\.0\.0\.1\/tcp\/\d+\/ws\/p2p\/12D3KooW\w+$/);
    const js = startJsPeer(["--transport", "ws", "--dial", listening.slice(10), "--ping", "1"]);
    try {
      const ping = await js.next("ping");
      assert.equal(typeof ping.rtt, "number", JSON.stringify(ping));
      await node.line(/^connected \S+ \/ip4\/127\.0\.0\.1\/tcp\/\d+\/ws inbound$/);
    } finally {
      await js.stop();
    }
    node.signal("SIGINT");
    assert.equal(await node.exited, 0, node.stderr.join("\n"));
    assert.equal(node.stdout.at(-1), "stopped");
  });

  it("--help exits 0 with the usage; an unknown flag exits 2 with one error line", T, async () => {
    const help = cli(["--help"]);
    assert.equal(await help.exited, 0);
    assert.equal(help.stdout[0], "Usage: start [options]");
    assert.ok(help.stdout.some((l) => l.includes("--dial <multiaddr>")));

    const bad = cli(["--listen", "/ip4/127.0.0.1/tcp/0", "--frobnicate"]);
    assert.equal(await bad.exited, 2);
    assert.deepEqual(bad.stdout, []);
    assert.ok(
      bad.stderr.includes("error: unknown option --frobnicate (see --help)"),
      bad.stderr.join("\n"),
    );
    assert.ok(!bad.stderr.some((l) => /^\s+at /.test(l)), "no stack trace");
  });
});
