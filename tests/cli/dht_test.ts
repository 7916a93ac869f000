/**
 * The CLI's DHT flags: `--dht` / `--dht-server` parse into modes, `--find-peer` and
 * `--find-providers` imply a client and print one line per result, bootstrapping off the
 * `--dial` peers (real TCP on loopback, with `--dht-private-addrs`).
 */

import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseCliArgs } from "../../app/cli/args.ts";
import { type CliProcess, runCli } from "../../app/cli/main.ts";
import type { Libp2pNode } from "../../src/node/node.ts";
import { identify, type IdentifyService } from "../../protocols/identify/mod.ts";
import { kadDHTWithInternals as kadDHT } from "../../protocols/kad-dht/operations.ts";
import type { KadDHT } from "../../protocols/kad-dht/operations.ts";
import { ping, type PingService } from "../../protocols/ping/mod.ts";
import { stopAll, testTcpNode } from "../helpers/nodes.ts";

type S = { identify: IdentifyService; ping: PingService; dht: KadDHT };

function fake(): CliProcess & { stdout: string[]; stderr: string[] } {
  const p = {
    stdout: [] as string[],
    stderr: [] as string[],
    out: (line: string) => void p.stdout.push(line),
    err: (line: string) => void p.stderr.push(line),
    onSignal: () => () => {},
    exit: () => {},
  };
  return p;
}

describe("CLI DHT flags", () => {
  it("parse into a mode; lookups imply a client", () => {
    const run = (args: string[]) => {
      const cmd = parseCliArgs(args);
      assert.equal(cmd.kind, "run");
      return cmd.kind === "run" ? cmd.options : undefined!;
    };
    assert.equal(run([]).dht, "off");
    assert.equal(run(["--dht"]).dht, "client");
    assert.equal(run(["--dht-server"]).dht, "server");
    assert.equal(run(["--dht", "--dht-server"]).dht, "server");
    const o = run(["--find-peer", "12D3KooWx", "--find-providers", "QmX", "--find-providers=QmY"]);
    assert.equal(o.dht, "client");
    assert.deepEqual(o.findPeer, ["12D3KooWx"]);
    assert.deepEqual(o.findProviders, ["QmX", "QmY"]);
    assert.throws(() => parseCliArgs(["--find-peer"]), SyntaxError);
  });

  it("--find-peer and --find-providers print one line per result", async () => {
    const make = (bootstrap: string[] = []) =>
      testTcpNode<S>({
        services: {
          identify: identify(),
          ping: ping(), // the CLI pings every --dial peer
          dht: kadDHT({
            clientMode: false,
            allowPrivateAddresses: true,
            bootstrapPeers: bootstrap,
            refreshIntervalMs: 0,
            reprovideIntervalMs: 0,
            sweepIntervalMs: 0,
          }),
        },
      });
    const server = await make();
    const provider: Libp2pNode<S> = await make([server.addrs()[0].toString()]);
    const dir = await mkdtemp(join(tmpdir(), "kad-cli-"));
    try {
      await provider.services.dht.bootstrap();
      const cid = "QmYyQSo1c1Ym7orWxLYvCrM2EmxFTANf8wXmmE7DWjhx5N";
      assert.ok(await provider.services.dht.provide(cid) >= 1);
      const proc = fake();
      const code = await runCli([
        "--listen=/ip4/127.0.0.1/tcp/0",
        `--key=${join(dir, "k")}`,
        `--dial=${server.addrs()[0]}`,
        "--dht-private-addrs",
        `--find-peer=${provider.peerId}`,
        `--find-providers=${cid}`,
        "--exit-after-dial",
        "--quiet",
      ], proc);
      assert.equal(code, 0, proc.stderr.join("\n"));
      const peerLine = proc.stdout.find((l) => l.startsWith("peer "));
      assert.ok(peerLine?.startsWith(`peer ${provider.peerId} /ip4/127.0.0.1/tcp/`), peerLine);
      const providerLines = proc.stdout.filter((l) => l.startsWith("provider "));
      assert.equal(providerLines.length, 1);
      assert.ok(providerLines[0].startsWith(`provider ${cid} ${provider.peerId} /ip4/127.0.0.1/`));

      // Not found: an error line and exit code 1.
      const missing = fake();
      const stranger = "12D3KooWQYhTNQdmr3ArTeUHRYzFg94BKyTkoWBDWez9kSCVe2Xo";
      const code2 = await runCli([
        "--listen=/ip4/127.0.0.1/tcp/0",
        `--key=${join(dir, "k2")}`,
        `--dial=${server.addrs()[0]}`,
        "--dht-private-addrs",
        `--find-peer=${stranger}`,
        "--exit-after-dial",
        "--quiet",
      ], missing);
      assert.equal(code2, 1);
      assert.ok(missing.stderr.some((l) => l.includes(`find-peer ${stranger}`)));
    } finally {
      await stopAll(provider, server);
      await rm(dir, { recursive: true, force: true });
    }
  });
});
