/**
 * The CLI's run driven in-process through a fake CliProcess (real TCP on loopback): exit codes,
 * output lines, key handling, dials, signals. tests/cli/cli_e2e_test.ts runs the real process.
 */

import { afterEach, beforeEach, describe, it } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createServer, type Server } from "node:net";
import process from "node:process";
import { type CliProcess, DUPLICATE_SIGNAL_WINDOW_MS, runCli } from "../../app/cli/main.ts";
import {
  describeError,
  errorLine,
  formatRtt,
  loadOrCreateKey,
  parseAddr,
} from "../../app/cli/node.ts";
import { privateKeyToProtobuf } from "../../src/keys/mod.ts";

interface FakeProcess extends CliProcess {
  stdout: string[];
  stderr: string[];
  exits: number[];
  clock: number;
  signal(name: string): void;
  /** Resolves when a stdout line matching `re` appears. */
  line(re: RegExp): Promise<string>;
}

function fakeProcess(): FakeProcess {
  let handler: ((s: string) => void) | undefined;
  const waiters: { re: RegExp; resolve(l: string): void }[] = [];
  const p: FakeProcess = {
    stdout: [],
    stderr: [],
    exits: [],
    clock: 0,
    out(line) {
      p.stdout.push(line);
      for (const w of [...waiters]) {
        if (w.re.test(line)) {
          waiters.splice(waiters.indexOf(w), 1);
          w.resolve(line);
        }
      }
    },
    err(line) {
      p.stderr.push(line);
    },
    onSignal(h) {
      handler = h;
      return () => handler = undefined;
    },
    exit(code) {
      p.exits.push(code);
    },
    now: () => p.clock,
    signal(name) {
      handler?.(name);
    },
    line(re) {
      const found = p.stdout.find((l) => re.test(l));
      if (found !== undefined) return Promise.resolve(found);
      return new Promise((resolve) => waiters.push({ re, resolve }));
    },
  };
  return p;
}

const LOOPBACK = "/ip4/127.0.0.1/tcp/0";
let dir: string;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "p2p-edge-cli-"));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe("runCli", () => {
  it("--help prints the usage and exits 0", async () => {
    const p = fakeProcess();
    assert.equal(await runCli(["--help"], p), 0);
    assert.match(p.stdout.join("\n"), /^Usage: start \[options\]/);
    assert.deepEqual(p.stderr, []);
  });

  it("an unknown flag is one error line and exit code 2", async () => {
    const p = fakeProcess();
    assert.equal(await runCli(["--", "--nope"], p), 2);
    assert.deepEqual(p.stderr, ["error: unknown option --nope (see --help)"]);
    assert.deepEqual(p.stdout, []);
  });

  it("listens, prints one line per address with /p2p, stops on SIGINT with 'stopped'", async () => {
    const p = fakeProcess();
    const key = join(dir, "node.key");
    const run = runCli(["--listen", LOOPBACK, "--listen", LOOPBACK, "--key", key], p);
    await p.line(/^listening /);
    const listening = p.stdout.filter((l) => l.startsWith("listening "));
    assert.equal(listening.length, 2);
    const id = /\/p2p\/(\w+)$/.exec(listening[0])![1];
    for (const l of listening) {
      assert.match(l, /^listening \/ip4\/127\.0\.0\.1\/tcp\/\d+\/p2p\/12D3KooW\w+$/);
      assert.ok(l.endsWith(`/p2p/${id}`));
    }
    assert.equal(p.stdout[0], `created Ed25519 identity ${key}`);
    p.signal("SIGINT");
    assert.equal(await run, 0);
    assert.equal(p.stdout.at(-1), "stopped");
    assert.deepEqual(p.stderr, []);
    assert.deepEqual(p.exits, []);
  });

  it("keeps the identity: a second run loads the same key and peer id", async () => {
    const key = join(dir, "node.key");
    const ids: string[] = [];
    for (let i = 0; i < 2; i++) {
      const p = fakeProcess();
      const run = runCli(["--listen", LOOPBACK, "--key", key], p);
      const line = await p.line(/^listening /);
      ids.push(line.slice(line.lastIndexOf("/") + 1));
      assert.equal(p.stdout.some((l) => l.startsWith("created ")), i === 0);
      p.signal("SIGTERM");
      assert.equal(await run, 0);
    }
    assert.equal(ids[0], ids[1]);
    if (process.platform !== "win32") assert.equal((await stat(key)).mode & 0o777, 0o600);
  });

  it("--dial connects and pings; both sides log the connection; --exit-after-dial exits 0", async () => {
    const server = fakeProcess();
    const serverRun = runCli(["--listen", LOOPBACK, "--key", join(dir, "a.key")], server);
    const addr = (await server.line(/^listening /)).slice("listening ".length);
    const serverId = addr.slice(addr.lastIndexOf("/") + 1);

    const client = fakeProcess();
    const code = await runCli(
      ["--dial", addr, "--exit-after-dial", "--key", join(dir, "b.key"), "--verbose"],
      client,
    );
    assert.equal(code, 0, client.stderr.join("\n"));
    // No --listen with --exit-after-dial: no listener.
    assert.equal(client.stdout.filter((l) => l.startsWith("listening")).length, 0);
    const ping = client.stdout.find((l) => l.startsWith("ping "));
    assert.ok(ping !== undefined, client.stdout.join("\n"));
    const m = /^ping (\S+) (\d+(?:\.\d+)?) ms$/.exec(ping)!;
    assert.equal(m[1], serverId);
    assert.ok(Number.isFinite(Number(m[2])));
    assert.ok(
      client.stdout.some((l) =>
        new RegExp(
          `^connected ${serverId} /ip4/127\\.0\\.0\\.1/tcp/\\d+ outbound /noise /yamux/1\\.0\\.0$`,
        )
          .test(l)
      ),
      client.stdout.join("\n"),
    );
    assert.equal(client.stdout.at(-1), "stopped");

    const inbound = await server.line(/^connected /);
    assert.match(inbound, /^connected 12D3KooW\w+ \/ip4\/127\.0\.0\.1\/tcp\/\d+ inbound$/);
    await server.line(/^disconnected .* inbound$/);
    server.signal("SIGINT");
    assert.equal(await serverRun, 0);
  });

  it("--verbose reports identify results with the agent version and protocols", async () => {
    const server = fakeProcess();
    const serverRun = runCli(
      ["--listen", LOOPBACK, "--key", join(dir, "a.key"), "--verbose", "--echo", "--perf"],
      server,
    );
    const addr = (await server.line(/^listening /)).slice("listening ".length);
    const client = fakeProcess();
    const clientRun = runCli(
      ["--listen", LOOPBACK, "--dial", addr, "--key", join(dir, "b.key"), "--verbose"],
      client,
    );
    const identified = await client.line(/^identified /);
    assert.match(identified, /agent "p2p-edge-libp2p\/[^"]+"/);
    for (const proto of ["/ipfs/id/1.0.0", "/ipfs/ping/1.0.0", "/echo/1.0.0", "/perf/1.0.0"]) {
      assert.ok(identified.includes(proto), identified);
    }
    await client.line(/^ping /);
    // The client serves neither echo nor perf (off by default).
    const back = await server.line(/^identified /);
    assert.ok(back.includes("/ipfs/ping/1.0.0") && !back.includes("/echo/1.0.0"), back);
    client.signal("SIGINT");
    server.signal("SIGINT");
    assert.deepEqual(await Promise.all([clientRun, serverRun]), [0, 0]);
  });

  it("--announce/--append-announce/--no-announce decide what peers learn", async () => {
    const server = fakeProcess();
    const serverRun = runCli(
      [
        "--listen",
        LOOPBACK,
        "--key",
        join(dir, "a.key"),
        "--verbose",
        "--announce",
        "/ip4/203.0.113.5/tcp/4001",
        "--announce",
        "/ip4/203.0.113.6/tcp/4001",
        "--append-announce",
        "/dns4/example.com/tcp/443/wss",
        "--no-announce",
        "/ip4/203.0.113.6/tcp/4001",
      ],
      server,
    );
    const addr = (await server.line(/^listening /)).slice("listening ".length);
    const announcing = await server.line(/^announcing /);
    assert.match(announcing, /^announcing \/ip4\/203\.0\.113\.5\/tcp\/4001\/p2p\/\w+,/);
    assert.ok(!announcing.includes("203.0.113.6"), announcing);
    const client = fakeProcess();
    const clientRun = runCli(
      ["--listen", LOOPBACK, "--dial", addr, "--key", join(dir, "b.key"), "--verbose"],
      client,
    );
    const identified = await client.line(/^identified /);
    // The peer store holds the address the client dialled and those the server announced.
    assert.ok(
      identified.endsWith(",/ip4/203.0.113.5/tcp/4001,/dns4/example.com/tcp/443/wss"),
      identified,
    );
    assert.ok(!identified.includes("203.0.113.6"), identified);
    client.signal("SIGINT");
    server.signal("SIGINT");
    assert.deepEqual(await Promise.all([clientRun, serverRun]), [0, 0]);
  });

  it("--quiet prints only listening lines, ping results and errors", async () => {
    const server = fakeProcess();
    const serverRun = runCli(
      ["--listen", LOOPBACK, "--key", join(dir, "a.key"), "--quiet"],
      server,
    );
    const addr = (await server.line(/^listening /)).slice("listening ".length);
    const client = fakeProcess();
    const code = await runCli(
      ["--dial", addr, "--dial", "/ip4/127.0.0.1/tcp/1", "--exit-after-dial", "--quiet"].concat(
        ["--key", join(dir, "b.key")],
      ),
      client,
    );
    assert.equal(code, 1); // the second dial failed
    assert.equal(client.stdout.length, 1, client.stdout.join("\n"));
    assert.match(client.stdout[0], /^ping 12D3KooW\w+ [\d.]+ ms$/);
    assert.equal(client.stderr.length, 1);
    assert.match(client.stderr[0], /^error: dial \/ip4\/127\.0\.0\.1\/tcp\/1: /);
    assert.ok(!client.stderr[0].includes("\n    at "), "no stack without --verbose");
    server.signal("SIGINT");
    assert.equal(await serverRun, 0);
    assert.equal(server.stdout.length, 1);
    assert.match(server.stdout[0], /^listening /);
  });

  it(
    "WebTransport on Deno: prints the address with its certhash; another CLI dials and pings it",
    { skip: "Bun" in globalThis ? "Bun has no WebTransport/QUIC API" : false },
    async () => {
      const server = fakeProcess();
      const serverRun = runCli(
        ["--listen", "/ip4/127.0.0.1/udp/0/quic-v1/webtransport", "--key", join(dir, "a.key")],
        server,
      );
      const line = await server.line(/^listening /);
      assert.match(
        line,
        /^listening \/ip4\/127\.0\.0\.1\/udp\/\d+\/quic-v1\/webtransport(\/certhash\/u[\w-]+)+\/p2p\/12D3KooW\w+$/,
      );
      const client = fakeProcess();
      const code = await runCli(
        ["--dial", line.slice(10), "--exit-after-dial", "--key", join(dir, "b.key")],
        client,
      );
      assert.equal(code, 0, client.stderr.join("\n"));
      assert.ok(client.stdout.some((l) => /^ping 12D3KooW\w+ [\d.]+ ms$/.test(l)));
      server.signal("SIGINT");
      assert.equal(await serverRun, 0);
    },
  );

  it("WebTransport on Bun: listening fails with one clear error line, exit code 1", {
    skip: "Bun" in globalThis ? false : "Deno has WebTransport",
  }, async () => {
    const p = fakeProcess();
    const code = await runCli(
      ["--listen", "/ip4/127.0.0.1/udp/0/quic-v1/webtransport", "--key", join(dir, "k")],
      p,
    );
    assert.equal(code, 1);
    assert.match(p.stderr[0], /^error: WebTransport is not available on this runtime/);
  });

  it("a port in use is one error line and exit code 1", async () => {
    const blocker: Server = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, "127.0.0.1", resolve));
    const port = (blocker.address() as { port: number }).port;
    try {
      const p = fakeProcess();
      const code = await runCli(
        ["--listen", `/ip4/127.0.0.1/tcp/${port}`, "--key", join(dir, "k")],
        p,
      );
      assert.equal(code, 1);
      assert.equal(p.stderr.length, 1, p.stderr.join("\n"));
      assert.match(p.stderr[0], /^error: .*(in use|EADDRINUSE)/i);
      assert.ok(!p.stdout.some((l) => l.startsWith("listening")));
    } finally {
      await new Promise((resolve) => blocker.close(resolve));
    }
  });

  it("--verbose adds the stack to runtime errors", async () => {
    const p = fakeProcess();
    const code = await runCli([
      "--listen",
      "/ip4/1.2.3/tcp/1",
      "--key",
      join(dir, "k"),
      "--verbose",
    ], p);
    assert.equal(code, 1);
    assert.match(p.stderr[0], /^error: invalid --listen address \/ip4\/1\.2\.3\/tcp\/1: /);
    assert.match(p.stderr[0], /\n\s+at /);
  });

  it("a malformed multiaddr or one no transport takes is exit code 1", async () => {
    for (const addr of ["/ip4/1.2.3/tcp/1", "not-an-addr", "/ip4/127.0.0.1/udp/0"]) {
      const p = fakeProcess();
      assert.equal(await runCli(["--listen", addr, "--key", join(dir, "k")], p), 1, addr);
      assert.equal(p.stderr.length, 1);
      assert.match(p.stderr[0], /^error: /);
      assert.ok(!p.stderr[0].includes("\n"), p.stderr[0]);
    }
  });

  it("an unreadable or invalid key file is exit code 1 and is left alone", async () => {
    const garbage = join(dir, "garbage.key");
    await writeFile(garbage, new Uint8Array([1, 2, 3]));
    const p = fakeProcess();
    assert.equal(await runCli(["--listen", LOOPBACK, "--key", garbage], p), 1);
    assert.match(p.stderr[0], /^error: key file .*garbage\.key holds no valid private key/);
    assert.deepEqual(new Uint8Array(await readFile(garbage)), new Uint8Array([1, 2, 3]));

    const q = fakeProcess();
    assert.equal(await runCli(["--listen", LOOPBACK, "--key", dir], q), 1); // a directory
    assert.match(q.stderr[0], /^error: cannot read key file /);

    const r = fakeProcess();
    assert.equal(await runCli(["--key", join(dir, "missing", "k")], r), 1);
    assert.match(r.stderr[0], /^error: cannot create key file /);
  });

  it("a repeated signal inside the window is the same stop; a later one forces exit", async () => {
    const p = fakeProcess();
    const run = runCli(["--listen", LOOPBACK, "--key", join(dir, "k")], p);
    await p.line(/^listening /);
    p.signal("SIGTERM");
    p.clock += DUPLICATE_SIGNAL_WINDOW_MS - 1;
    p.signal("SIGTERM"); // deno task's forwarded copy
    assert.deepEqual(p.exits, []);
    p.signal("SIGINT"); // a different signal always counts
    assert.deepEqual(p.exits, [130]);
    p.clock += 1;
    p.signal("SIGTERM");
    assert.deepEqual(p.exits, [130, 143]);
    assert.match(p.stderr[0], /^error: SIGINT again: exiting without a graceful stop$/);
    assert.equal(await run, 0); // the fake exit does not exit: the graceful stop completes
  });

  it("a signal during start-up stops before listening", async () => {
    const p = fakeProcess();
    const run = runCli(["--listen", LOOPBACK, "--key", join(dir, "k")], p);
    p.signal("SIGINT");
    assert.equal(await run, 0);
    assert.ok(!p.stdout.some((l) => l.startsWith("listening")));
    assert.equal(p.stdout.at(-1), "stopped");
  });
});

describe("cli helpers", () => {
  it("loadOrCreateKey creates once (0600), then loads the same key", async () => {
    const path = join(dir, "id.key");
    const a = await loadOrCreateKey(path);
    const b = await loadOrCreateKey(path);
    assert.equal(a.created, true);
    assert.equal(b.created, false);
    assert.deepEqual(privateKeyToProtobuf(b.key), privateKeyToProtobuf(a.key));
    assert.deepEqual(new Uint8Array(await readFile(path)), privateKeyToProtobuf(a.key));
  });

  it("loadOrCreateKey refuses an oversized file before parsing it", async () => {
    const path = join(dir, "big.key");
    await writeFile(path, new Uint8Array(64 * 1024));
    await assert.rejects(loadOrCreateKey(path), /larger than/);
  });

  it("parseAddr names the flag", () => {
    assert.equal(parseAddr("--dial", "/ip4/127.0.0.1/tcp/1").toString(), "/ip4/127.0.0.1/tcp/1");
    assert.throws(
      () => parseAddr("--dial", "/ip4/x"),
      /^CliError: invalid --dial address \/ip4\/x: /,
    );
  });

  it("describeError joins the cause chain once; errorLine adds the stack on request", () => {
    const inner = new Error("refused");
    assert.equal(describeError(new Error("dial failed", { cause: inner })), "dial failed: refused");
    assert.equal(describeError(new Error("x: refused", { cause: inner })), "x: refused");
    assert.equal(describeError("text"), "text");
    const os = Object.assign(new Error("Failed to listen"), { code: "EADDRINUSE" });
    assert.equal(
      describeError(new Error("listen", { cause: os })),
      "listen: Failed to listen (EADDRINUSE)",
    );
    assert.equal(describeError(undefined), "unknown error");
    assert.equal(errorLine("p ", new Error("m"), false), "error: p m");
    assert.match(errorLine("", new Error("m"), true), /^error: m\nError: m\n\s+at /);
  });

  it("formatRtt", () => {
    assert.equal(formatRtt(0.4213), "0.42");
    assert.equal(formatRtt(12.345), "12.35");
    assert.equal(formatRtt(123.4), "123");
  });
});
