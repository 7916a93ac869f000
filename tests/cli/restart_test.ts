/**
 * Restart safety (issue 21, must-show), with the CLI as a process on the runtime running the
 * test (Deno KV under deno, bun:sqlite under bun): start the node with `--data-dir` as a DHT
 * server, connect a peer that puts a /pk record and provides a CID to it, SIGKILL the node,
 * start it again: same peer id, no new identity, the DHT records answered to a fresh peer, and
 * the recently good peer dialled back by the node itself. Then a corrupt store file: one clear
 * error line and exit code 78 (EXIT_DATA_DIR, not a restart loop), the file left alone.
 */

import { after, describe, it } from "node:test";
import assert from "node:assert/strict";
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { concat, utf8Encode } from "../../src/bytes.ts";
import { generateKeyPair, peerIdFromPublicKey, publicKeyToProtobuf } from "../../src/keys/mod.ts";
import type { Libp2pNode } from "../../src/node/node.ts";
import { identify, type IdentifyService } from "../../protocols/identify/mod.ts";
import { type KadDHT, kadDHTWithInternals as kadDHT } from "../../protocols/kad-dht/operations.ts";
import { RECENT_PEERS_PREFIX } from "../../src/datastore/recent_peers.ts";
import { openDatastore } from "../../stores/mod.ts";
import { stopAll, testTcpNode } from "../helpers/nodes.ts";
import { CLI_RUNTIME, type CliRun, startCli } from "./cli_process.ts";

type S = { identify: IdentifyService; dht: KadDHT };

const dir = await mkdtemp(join(tmpdir(), "p2p-restart-"));
const runs: CliRun[] = [];
const nodes: Libp2pNode<S>[] = [];
after(async () => {
  for (const r of runs) await r.kill();
  await stopAll(...nodes);
  await rm(dir, { recursive: true, force: true });
});

function client(bootstrap: string): Promise<Libp2pNode<S>> {
  return testTcpNode<S>({
    services: {
      identify: identify(),
      dht: kadDHT({
        clientMode: true,
        allowPrivateAddresses: true,
        bootstrapPeers: [bootstrap],
        refreshIntervalMs: 0,
        reprovideIntervalMs: 0,
        sweepIntervalMs: 0,
      }),
    },
  }).then((n) => {
    nodes.push(n);
    return n;
  });
}

/** Poll the store (another process has it open: SQLite allows it) until `check` holds. */
async function waitForStore(dataDir: string, check: (keys: string[]) => boolean): Promise<void> {
  for (let i = 0; i < 200; i++) {
    const { datastore } = await openDatastore(dataDir);
    const keys: string[] = [];
    try {
      for await (const e of datastore.list("/")) keys.push(e.key);
    } finally {
      await datastore.close();
    }
    if (check(keys)) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error("the store never reached the expected state");
}

describe(`CLI restart safety (${CLI_RUNTIME})`, () => {
  const key = join(dir, "node.key");
  const dataDir = join(dir, "state");
  const args = [
    "--listen",
    "/ip4/127.0.0.1/tcp/0",
    "--key",
    key,
    "--data-dir",
    dataDir,
    "--dht-server",
    "--dht-private-addrs",
  ];

  it("SIGKILL, restart: same peer id, DHT records and recent peers back", async () => {
    const first = startCli(args);
    runs.push(first);
    const listening = (await first.line(/^listening \/ip4\/127\.0\.0\.1\/tcp\/\d+\/p2p\//))
      .slice("listening ".length);
    const peerId = listening.slice(listening.lastIndexOf("/p2p/") + 5);
    assert.ok(first.stdout.some((l) => l === `created Ed25519 identity ${key}`));

    // A peer connects, puts a /pk record and provides a CID through the node.
    const a = await client(listening);
    await a.services.dht.bootstrap();
    const kp = await generateKeyPair("Ed25519");
    const value = publicKeyToProtobuf(kp.publicKey);
    const recordKey = concat([utf8Encode("/pk/"), peerIdFromPublicKey(kp.publicKey).toBytes()]);
    assert.equal(await a.services.dht.put(recordKey, value), 1);
    const cid = "QmYyQSo1c1Ym7orWxLYvCrM2EmxFTANf8wXmmE7DWjhx5N";
    assert.equal(await a.services.dht.provide(cid), 1);
    // The put and the provide were acknowledged, so they are on disk; the recent peer is
    // written on identify, asynchronously: wait until it is there before the kill.
    await waitForStore(
      dataDir,
      (keys) =>
        keys.includes(`${RECENT_PEERS_PREFIX}/${a.peerId.toString()}`) &&
        keys.some((k) => k.startsWith("/dht/values/")) &&
        keys.some((k) => k.startsWith("/dht/providers/")),
    );

    first.signal("SIGKILL");
    await first.exited;
    for (const c of a.getConnections()) await c.close().catch(() => {});

    // Restart: same identity, and the node dials its recent peer `a` by itself.
    const inbound = new Promise<void>((resolve) => {
      a.addEventListener("connection:open", (e) => {
        if (e.detail.remotePeer.toString() === peerId && e.detail.direction === "inbound") {
          resolve();
        }
      });
    });
    const second = startCli(args);
    runs.push(second);
    const again = (await second.line(/^listening \/ip4\/127\.0\.0\.1\/tcp\/\d+\/p2p\//))
      .slice("listening ".length);
    assert.equal(again.slice(again.lastIndexOf("/p2p/") + 5), peerId, "same peer id");
    assert.ok(!second.stdout.some((l) => l.startsWith("created ")), second.stdout.join("\n"));
    await second.line(/^recent peers: connected 1 of 1$/);
    await inbound;

    // A fresh peer gets the record and the provider from the restarted node.
    const b = await client(again);
    await b.services.dht.bootstrap();
    assert.deepEqual(await b.services.dht.get(recordKey), value);
    const providers: string[] = [];
    for await (const p of b.services.dht.findProviders(cid)) providers.push(p.id.toString());
    assert.ok(providers.includes(a.peerId.toString()), providers.join(","));

    second.signal("SIGTERM");
    assert.equal(await second.exited, 0);
  });

  it("a corrupt store file: one clear error line, exit code 78, file left alone", async () => {
    const badDir = join(dir, "corrupt");
    const file = join(badDir, CLI_RUNTIME === "deno" ? "state.denokv" : "state.sqlite");
    await rm(badDir, { recursive: true, force: true });
    await mkdir(badDir, { recursive: true });
    const junk = utf8Encode("not a database, just some text an operator copied here\n".repeat(80));
    await writeFile(file, junk);
    const run = startCli(["--listen", "/ip4/127.0.0.1/tcp/0", "--key", key, "--data-dir", badDir]);
    runs.push(run);
    assert.equal(await run.exited, 78); // EXIT_DATA_DIR: a supervisor must not loop on it
    const line = run.stderr.find((l) => l.startsWith("error: "));
    assert.ok(line !== undefined, run.stderr.join("\n"));
    assert.match(
      line,
      /^error: data dir .*corrupt: .*state\.(denokv|sqlite) is not a (Deno KV|SQLite) database/,
    );
    assert.deepEqual(new Uint8Array(await readFile(file)), junk);
  });
});
