/**
 * `--log-format json`: every line the CLI prints is one JSON object with time, level, event and
 * the text line; levels follow the stream and `--verbose`. Driven in-process (real TCP on
 * loopback), as tests/cli/main_test.ts.
 */

import { afterEach, beforeEach, describe, it } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseCliArgs } from "../../app/cli/args.ts";
import { type CliProcess, runCli } from "../../app/cli/main.ts";
import { type JsonLogLine, jsonLogLine } from "../../app/cli/log.ts";
import { ping } from "../../protocols/ping/mod.ts";
import { identify } from "../../protocols/identify/mod.ts";
import { stopAll, testTcpNode } from "../helpers/nodes.ts";

function capture(): CliProcess & {
  stdout: string[];
  stderr: string[];
  signal(name: string): void;
} {
  const stdout: string[] = [];
  const stderr: string[] = [];
  let handler: ((signal: string) => void) | undefined;
  return {
    stdout,
    stderr,
    out: (l) => stdout.push(l),
    err: (l) => stderr.push(l),
    onSignal: (h) => {
      handler = h;
      return () => handler = undefined;
    },
    signal: (name) => handler?.(name),
    exit() {},
  };
}

/** Resolves once `test` holds for a captured line; rejects after `ms` (a bounded poll). */
async function lineSeen(lines: string[], test: (l: string) => boolean, ms = 20_000) {
  const until = Date.now() + ms;
  while (!lines.some(test)) {
    if (Date.now() > until) throw new Error(`no such line in:\n${lines.join("\n")}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

describe("CLI --log-format", () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), "p2p-edge-log-"));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("parses text and json; anything else is a usage error", () => {
    const run = parseCliArgs(["--log-format", "json"]);
    assert.equal(run.kind === "run" && run.options.logFormat, "json");
    assert.throws(() => parseCliArgs(["--log-format", "xml"]), SyntaxError);
    assert.throws(() => parseCliArgs(["--log-format=json", "--log-format=text"]), SyntaxError);
  });

  it("a line becomes {time, level, event, msg}", () => {
    const at = new Date(Date.UTC(2026, 0, 2, 3, 4, 5));
    assert.deepEqual(jsonLogLine("ping 12D3KooWx 0.61 ms", "out", at), {
      time: "2026-01-02T03:04:05.000Z",
      level: "info",
      event: "ping",
      msg: "ping 12D3KooWx 0.61 ms",
    });
    assert.equal(jsonLogLine("error: port in use", "err", at).level, "error");
    assert.equal(jsonLogLine("error: port in use", "err", at).event, "error");
    assert.equal(jsonLogLine("identified 12D3KooWx agent", "out", at).level, "debug");
    assert.equal(jsonLogLine("handler /x failed", "err", at).level, "debug");
  });

  it("a whole run prints JSON lines only, stdout and stderr", async () => {
    const peer = await testTcpNode({ services: { ping: ping(), identify: identify() } });
    const proc = capture();
    try {
      // The node listens and is stopped by a signal once the identify line is out: identify
      // finishes beside the ping, so with --exit-after-dial the node could stop before it.
      const run = runCli([
        "--log-format",
        "json",
        "--verbose",
        "--key",
        join(dir, "k.key"),
        "--listen",
        "/ip4/127.0.0.1/tcp/0",
        "--dial",
        peer.addrs()[0].toString(),
        "--dial",
        "/ip4/127.0.0.1/tcp/1", // refused: an error line
      ], proc);
      await lineSeen(proc.stdout, (l) => l.includes('"event":"identified"'));
      await lineSeen(proc.stderr, (l) => l.includes('"level":"error"'));
      proc.signal("SIGINT");
      assert.equal(await run, 0);
    } finally {
      await stopAll(peer);
    }
    const lines = [...proc.stdout, ...proc.stderr].map((l) => JSON.parse(l) as JsonLogLine);
    assert.ok(lines.length >= 4, proc.stdout.join("\n"));
    for (const l of lines) {
      assert.ok(!Number.isNaN(Date.parse(l.time)));
      assert.ok(["debug", "info", "error"].includes(l.level));
      assert.equal(typeof l.msg, "string");
    }
    const events = new Set(lines.map((l) => l.event));
    for (const e of ["created", "connected", "ping", "stopped"]) assert.ok(events.has(e), e);
    assert.ok(lines.some((l) => l.level === "error"), "the refused dial");
    assert.ok(lines.some((l) => l.event === "identified" && l.level === "debug"));
  });
});
