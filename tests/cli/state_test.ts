/**
 * The CLI's data dir, in-process (runCli): the identity in the key file and in the store must
 * agree (a different key file is exit code 78 naming both peers; a missing key file is written
 * back from the store), the relay settings of the last run are compared, and a store of a
 * newer schema is refused with exit code 78.
 */

import { after, describe, it } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type CliProcess, EXIT_DATA_DIR, runCli } from "../../app/cli/main.ts";
import { generateKeyPair, privateKeyToProtobuf } from "../../src/keys/mod.ts";
import { DATASTORE_SCHEMA_KEY } from "../../src/datastore/schema.ts";
import { openDatastore } from "../../stores/mod.ts";

const dir = await mkdtemp(join(tmpdir(), "p2p-cli-state-"));
after(() => rm(dir, { recursive: true, force: true }));

type Fake = CliProcess & { stdout: string[]; stderr: string[]; stop(): void };

function fake(onLine?: (line: string, p: Fake) => void): Fake {
  let handler: ((s: string) => void) | undefined;
  const p: Fake = {
    stdout: [],
    stderr: [],
    out: (line) => {
      p.stdout.push(line);
      onLine?.(line, p);
    },
    err: (line) => void p.stderr.push(line),
    onSignal: (h) => {
      handler = h;
      return () => handler = undefined;
    },
    exit: () => {},
    stop: () => handler?.("SIGINT"),
  };
  return p;
}

/** Run the CLI until it listens, then stop it; resolves with the process and the code. */
async function runOnce(args: string[]): Promise<{ p: Fake; code: number }> {
  const p = fake((line, self) => {
    if (line.startsWith("listening ")) queueMicrotask(() => self.stop());
  });
  const code = await runCli(["--listen", "/ip4/127.0.0.1/tcp/0", ...args], p);
  return { p, code };
}

function peerOf(p: Fake): string {
  const line = p.stdout.find((l) => l.startsWith("listening "))!;
  return line.slice(line.lastIndexOf("/p2p/") + 5);
}

describe("CLI data dir", () => {
  it("key file and store agree; a missing key file is restored; another key is refused", async () => {
    const key = join(dir, "a.key");
    const data = join(dir, "a.data");
    const first = await runOnce(["--key", key]); // default data dir: a.data next to a.key
    assert.equal(first.code, 0, first.p.stderr.join("\n"));
    assert.equal(first.p.stdout[0], `created Ed25519 identity ${key}`);
    const peer = peerOf(first.p);

    await rm(key);
    const restored = await runOnce(["--key", key, "--data-dir", data]);
    assert.equal(restored.code, 0, restored.p.stderr.join("\n"));
    assert.ok(restored.p.stdout.some((l) => l.startsWith(`restored identity ${key} from `)));
    assert.equal(peerOf(restored.p), peer);

    await writeFile(key, privateKeyToProtobuf(await generateKeyPair("Ed25519")));
    const other = await runOnce(["--key", key, "--data-dir", data]);
    assert.equal(other.code, EXIT_DATA_DIR);
    assert.equal(other.p.stderr.length, 1);
    assert.match(
      other.p.stderr[0],
      /^error: key file .* \(peer 12D3KooW\w+\) and data dir .* hold different identities/,
    );
    assert.ok(other.p.stderr[0].includes(peer));
  });

  it("prints how the relay settings changed since the last run", async () => {
    const key = join(dir, "r.key");
    const a = await runOnce(["--key", key]);
    assert.equal(a.code, 0);
    assert.ok(!a.p.stdout.some((l) => l.startsWith("relay settings changed")));
    const b = await runOnce(["--key", key, "--relay"]);
    assert.equal(b.code, 0);
    assert.ok(
      b.p.stdout.includes("relay settings changed since the last run: relay off -> on"),
      b.p.stdout.join("\n"),
    );
  });

  it("a store of a newer schema is refused with exit code 78 and left alone", async () => {
    const key = join(dir, "n.key");
    const data = join(dir, "n.data");
    assert.equal((await runOnce(["--key", key, "--data-dir", data])).code, 0);
    const newer = new TextEncoder().encode(
      JSON.stringify({ format: "p2p-edge-libp2p/datastore", version: 99 }),
    );
    const { datastore } = await openDatastore(data);
    await datastore.put(DATASTORE_SCHEMA_KEY, newer);
    await datastore.close();
    const run = await runOnce(["--key", key, "--data-dir", data]);
    assert.equal(run.code, EXIT_DATA_DIR);
    assert.match(run.p.stderr[0], /schema version 99, written by a newer release/);
    // Still version 99: nothing rewrote the marker.
    await assert.rejects(openDatastore(data), /schema version 99/);
  });
});
