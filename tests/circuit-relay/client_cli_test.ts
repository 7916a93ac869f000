/**
 * The CLI listens through a relay: `--listen <relay>/p2p/<relay id>/p2p-circuit` reserves on a
 * js-libp2p relay (a separate Deno process), prints the relayed address as a `listening` line
 * once reserved, and a js node reaches the CLI's echo through it. Loopback only.
 */

import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { CLI_RUNTIME, type CliRun, startCli } from "../cli/cli_process.ts";
import { type RelayJsPeer, startRelayJsPeer } from "./client_js_process.ts";

let dir: string;
const running: CliRun[] = [];
const peers: RelayJsPeer[] = [];

before(async () => {
  dir = await mkdtemp(join(tmpdir(), "p2p-edge-cli-relay-"));
});
after(async () => {
  await Promise.all(running.map((r) => r.kill()));
  await Promise.all(peers.map((p) => p.stop()));
  await rm(dir, { recursive: true, force: true });
});

describe(`CLI on ${CLI_RUNTIME}: listening through a relay`, () => {
  it("reserves on the relay, prints the relayed address, and is reached through it", {
    timeout: 120_000,
  }, async () => {
    const relay = await startRelayJsPeer(["relay"]);
    peers.push(relay);
    const cli = startCli([
      "--listen",
      "/ip4/127.0.0.1/tcp/0",
      "--listen",
      `${relay.addrs[0]}/p2p-circuit`,
      "--key",
      join(dir, "node.key"),
      "--echo",
    ]);
    running.push(cli);
    const line = await cli.line(/^listening .*\/p2p-circuit\//);
    const addr = line.slice("listening ".length);
    assert.ok(addr.startsWith(`${relay.addrs[0]}/p2p-circuit/p2p/12D3KooW`), addr);
    const js = await startRelayJsPeer(["client"]);
    peers.push(js);
    assert.equal(await js.call("echo", { addr, size: 100_000 }), 100_000);
  });
});
