/**
 * `--metrics <host:port>` of the CLI: the flag's parsing, and an in-process run (real TCP on
 * loopback, as tests/cli/main_test.ts) that serves /metrics, /healthz, /readyz and the page on
 * the given address with the DHT and relay collectors, /readyz 503 until the --dial peer (the
 * bootstrap peer) is connected, and that stops the HTTP server with the node.
 */

import { afterEach, beforeEach, describe, it } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseCliArgs, parseHostPort } from "../../app/cli/args.ts";
import { type CliProcess, runCli } from "../../app/cli/main.ts";
import { identify } from "../../protocols/identify/mod.ts";
import { stopAll, testTcpNode, until } from "../helpers/nodes.ts";
import { parseExposition, sampleSum, sampleValue } from "./prom_parse.ts";

function fakeProcess(): CliProcess & {
  stdout: string[];
  stderr: string[];
  stop(): void;
  line(re: RegExp): Promise<string>;
} {
  let handler: ((s: string) => void) | undefined;
  const stdout: string[] = [];
  const stderr: string[] = [];
  return {
    stdout,
    stderr,
    out: (line) => stdout.push(line),
    err: (line) => stderr.push(line),
    onSignal(h) {
      handler = h;
      return () => handler = undefined;
    },
    exit() {},
    stop: () => handler?.("SIGTERM"),
    async line(re) {
      await until(() => stdout.some((l) => re.test(l)), 20_000);
      return stdout.find((l) => re.test(l))!;
    },
  };
}

describe("CLI --metrics", () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), "p2p-edge-metrics-"));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("parses host:port and [v6]:port; refuses the rest as usage errors", () => {
    assert.deepEqual(parseHostPort("127.0.0.1:8888"), { hostname: "127.0.0.1", port: 8888 });
    assert.deepEqual(parseHostPort("[::1]:0"), { hostname: "::1", port: 0 });
    assert.deepEqual(parseHostPort("localhost:9100"), { hostname: "localhost", port: 9100 });
    for (const bad of ["8888", ":8888", "127.0.0.1", "127.0.0.1:70000", "::1:80", "a b:1"]) {
      assert.throws(() => parseHostPort(bad), SyntaxError, bad);
    }
    const cmd = parseCliArgs(["--metrics", "127.0.0.1:8888"]);
    assert.equal(cmd.kind, "run");
    if (cmd.kind === "run") {
      assert.deepEqual(cmd.options.metrics, { hostname: "127.0.0.1", port: 8888 });
    }
    assert.equal(
      (parseCliArgs([]) as { options: { metrics?: unknown } }).options.metrics,
      undefined,
      "off unless given",
    );
    assert.throws(
      () => parseCliArgs(["--metrics", "1.2.3.4:1", "--metrics=1.2.3.4:2"]),
      SyntaxError,
    );
    assert.throws(() => parseCliArgs(["--metrics"]), SyntaxError);
  });

  it("serves the HTTP surface with the node; readyz waits for the --dial peer", async () => {
    const boot = await testTcpNode({ services: { identify: identify() } });
    const proc = fakeProcess();
    // The --dial peer is the bootstrap peer /readyz waits for. It is dialled right after the
    // HTTP server starts, so whether a 503 is seen first is a race; edge_http_test.ts checks
    // the 503 -> 200 step deterministically.
    const run = runCli([
      "--listen",
      "/ip4/127.0.0.1/tcp/0",
      "--key",
      join(dir, "node.key"),
      "--dht-server",
      "--dht-private-addrs",
      "--relay",
      "--relay-private-addrs",
      "--autonat",
      "--metrics",
      "127.0.0.1:0",
      "--quiet",
      "--dial",
      boot.addrs()[0].toString(),
    ], proc);
    try {
      const line = await proc.line(/^metrics http:\/\//);
      const base = line.slice("metrics ".length).replace(/\/metrics$/, "");
      assert.equal((await fetch(`${base}/healthz`)).status, 200);
      await until(async () => (await fetch(`${base}/readyz`)).status === 200, 20_000);
      const text = await (await fetch(`${base}/metrics`)).text();
      const m = parseExposition(text);
      assert.ok(sampleSum(m, "libp2p_swarm_connections_opened_total", { dir: "outbound" }) >= 1);
      assert.equal(sampleValue(m, "libp2p_relaysvc_status"), 1);
      assert.equal(sampleValue(m, "libp2p_kad_dht_server_mode"), 1);
      // AutoNAT's server counters and the node's reachability (unknown here: nobody tested us).
      assert.equal(m.get("libp2p_autonat_server_requests_total")?.type, "counter");
      assert.equal(sampleValue(m, "libp2p_autonat_server_dial_backs_total", { result: "ok" }), 0);
      assert.equal(sampleValue(m, "libp2p_autonat_reachability_status"), 0);
      assert.ok(sampleSum(m, "libp2p_transport_bytes_total", { transport: "tcp" }) > 0);
      const page = await fetch(`${base}/`);
      assert.equal(page.status, 200);
      await page.body?.cancel();
      proc.stop();
      assert.equal(await run, 0, proc.stderr.join("\n"));
      // Stopped with the node: nothing answers on the address any more.
      await assert.rejects(fetch(`${base}/healthz`));
    } finally {
      proc.stop();
      await run.catch(() => {});
      await stopAll(boot);
    }
  });

  it("a busy metrics port is a runtime error (exit 1), and the node is stopped", async () => {
    const first = fakeProcess();
    const run1 = runCli([
      "--listen",
      "/ip4/127.0.0.1/tcp/0",
      "--key",
      join(dir, "a.key"),
      "--metrics",
      "127.0.0.1:0",
    ], first);
    try {
      const url = (await first.line(/^metrics /)).slice("metrics ".length);
      const port = new URL(url).port;
      const second = fakeProcess();
      const code = await runCli([
        "--listen",
        "/ip4/127.0.0.1/tcp/0",
        "--key",
        join(dir, "b.key"),
        "--metrics",
        `127.0.0.1:${port}`,
      ], second);
      assert.equal(code, 1);
      assert.ok(second.stderr.some((l) => /^error/.test(l)), second.stderr.join("\n"));
    } finally {
      first.stop();
      await run1;
    }
  });
});
