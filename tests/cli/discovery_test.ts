/**
 * The CLI's discovery flags: `--bootstrap` (repeatable, dnsaddr allowed) and `--dns-server`
 * parse; a CLI node bootstrapping off `/dnsaddr/<name>` resolved by a local DNS server on
 * 127.0.0.1 prints one `discovered <peer id> <multiaddr...>` line and connects (real TCP).
 */

import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseCliArgs } from "../../app/cli/args.ts";
import { type CliProcess, runCli } from "../../app/cli/main.ts";
import { cliDiscovery } from "../../app/cli/node.ts";
import { startDnsServer } from "../helpers/dns_server.ts";
import { testTcpNode, until } from "../helpers/nodes.ts";

function fake(): CliProcess & { stdout: string[]; stderr: string[]; stop(): void } {
  let handler: ((signal: string) => void) | undefined;
  const p = {
    stdout: [] as string[],
    stderr: [] as string[],
    out: (line: string) => void p.stdout.push(line),
    err: (line: string) => void p.stderr.push(line),
    onSignal: (h: (signal: string) => void) => {
      handler = h;
      return () => {};
    },
    exit: () => {},
    stop: () => handler?.("SIGINT"),
  };
  return p;
}

describe("CLI discovery flags", () => {
  it("--bootstrap repeats, --dns-server once", () => {
    const cmd = parseCliArgs([
      "--bootstrap",
      "/dnsaddr/a.test",
      "--bootstrap=/ip4/192.0.2.1/tcp/1/p2p/QmNnooDu7bfjPFoTZYxMNLWUQJyrVwtbZg5gBMjTezGAJN",
      "--dns-server=127.0.0.1:5353",
    ]);
    assert.equal(cmd.kind, "run");
    if (cmd.kind !== "run") return;
    assert.equal(cmd.options.bootstrap?.length, 2);
    assert.equal(cmd.options.dnsServer, "127.0.0.1:5353");
    assert.throws(
      () => parseCliArgs(["--dns-server=1.1.1.1", "--dns-server=8.8.8.8"]),
      SyntaxError,
    );
    assert.throws(() => parseCliArgs(["--bootstrap"]), SyntaxError);
    assert.throws(() => cliDiscovery({ dnsServer: "dns.example" }), /invalid --dns-server/);
    assert.throws(() => cliDiscovery({ bootstrap: ["/ip4/192.0.2.1/tcp/1"] }), /names no peer/);
  });

  it("bootstraps off /dnsaddr through --dns-server and prints discovered lines", async () => {
    const peer = await testTcpNode();
    const dns = await startDnsServer({
      txt: { "_dnsaddr.boot.test": peer.addrs().map((a) => `dnsaddr=${a}`) },
    });
    const dir = await mkdtemp(join(tmpdir(), "disc-cli-"));
    const proc = fake();
    try {
      const running = runCli([
        "--listen=/ip4/127.0.0.1/tcp/0",
        `--key=${join(dir, "k")}`,
        "--bootstrap=/dnsaddr/boot.test",
        `--dns-server=${dns.udp}`,
      ], proc);
      await until(() => proc.stdout.some((l) => l.startsWith(`connected ${peer.peerId}`)), 10_000);
      const lines = proc.stdout.filter((l) => l.startsWith("discovered "));
      assert.ok(lines.length >= 1, proc.stdout.join("\n"));
      assert.equal(lines[0], `discovered ${peer.peerId} ${peer.addrs().map(String).join(" ")}`);
      assert.ok(dns.queries >= 1);
      proc.stop();
      assert.equal(await running, 0, proc.stderr.join("\n"));
    } finally {
      proc.stop();
      await peer.stop();
      await dns.close();
      await rm(dir, { recursive: true, force: true });
    }
  });
});
