/**
 * Across runtimes: the CLI started with `--rendezvous` on the other runtime (Bun under
 * `deno test`, Deno under `bun test`) is the rendezvous point; clients of ours in the test's
 * runtime register, page through discovery and unregister over loopback TCP.
 */

import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { CLI_RUNTIME, startCli } from "../cli/cli_process.ts";
import { stopAll } from "../helpers/nodes.ts";
import { rdvNode } from "./helpers.ts";

const OTHER = CLI_RUNTIME === "deno" ? "bun" : "deno";

describe(`rendezvous point on ${OTHER}, clients on ${CLI_RUNTIME}`, () => {
  it("registers, discovers with paging and unregisters", async () => {
    const dir = await mkdtemp(join(tmpdir(), "rdv-"));
    const run = startCli([
      "--rendezvous",
      "--listen",
      "/ip4/127.0.0.1/tcp/0",
      "--key",
      join(dir, "point.key"),
      "--quiet",
    ], { runtime: OTHER });
    const clients = await Promise.all([rdvNode(), rdvNode(), rdvNode()]);
    try {
      const line = await run.line(/^listening \/ip4\/127\.0\.0\.1\/tcp\/\d+\/p2p\//);
      const point = line.slice("listening ".length);
      for (const c of clients) {
        assert.equal(await c.services.rendezvous.register("cross", point), 7200);
      }
      const [a, b, c] = clients;
      const first = await c.services.rendezvous.discover("cross", point, { limit: 2 });
      const rest = await c.services.rendezvous.discover("cross", point, {
        cookie: first.cookie,
      });
      assert.equal(first.registrations.length, 2);
      assert.equal(rest.registrations.length, 1);
      assert.deepEqual(
        [...first.registrations, ...rest.registrations].map((r) => r.id.toString()).sort(),
        clients.map((n) => n.peerId.toString()).sort(),
      );
      const ra = [...first.registrations, ...rest.registrations].find((r) =>
        r.id.equals(a.peerId)
      )!;
      assert.deepEqual(
        ra.multiaddrs.map(String).sort(),
        a.addrs().map((x) => x.decapsulateCode(421).toString()).sort(),
      );
      await a.services.rendezvous.unregister("cross", point);
      const after = await b.services.rendezvous.discover("cross", point);
      assert.deepEqual(
        after.registrations.map((r) => r.id.toString()).sort(),
        [b, c].map((n) => n.peerId.toString()).sort(),
      );
    } finally {
      await stopAll(...clients);
      await run.kill();
      await rm(dir, { recursive: true, force: true });
    }
  });
});
