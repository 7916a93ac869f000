/**
 * The CLI's `--rendezvous` flag: parsed, and a CLI node started with it serves as a rendezvous
 * point that our clients register with and discover through (TCP on loopback).
 */

import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { parseCliArgs } from "../../app/cli/args.ts";
import { startCliNode } from "../../app/cli/node.ts";
import { generateKeyPair } from "../../src/keys/mod.ts";
import { stopAll } from "../helpers/nodes.ts";
import { rdvNode } from "./helpers.ts";

describe("cli --rendezvous", () => {
  it("parses the flag", () => {
    const cmd = parseCliArgs(["--rendezvous"]);
    assert.equal(cmd.kind === "run" && cmd.options.rendezvous, true);
    const off = parseCliArgs([]);
    assert.notEqual(off.kind === "run" && off.options.rendezvous, true);
  });

  it("serves as a rendezvous point", async () => {
    const lines: string[] = [];
    const point = await startCliNode(
      {
        listen: ["/ip4/127.0.0.1/tcp/0"],
        echo: false,
        perf: false,
        logLevel: "quiet",
        rendezvous: true,
      },
      await generateKeyPair("Ed25519"),
      { out: (l) => lines.push(l), err: (l) => lines.push(l) },
    );
    const a = await rdvNode();
    const b = await rdvNode();
    try {
      assert.ok(point.services.rendezvous?.store !== undefined);
      const addr = point.addrs()[0];
      assert.equal(await a.services.rendezvous.register("cli", addr), 7200);
      const found = await b.services.rendezvous.discover("cli", addr);
      assert.deepEqual(found.registrations.map((r) => r.id.toString()), [a.peerId.toString()]);
    } finally {
      await stopAll(point, a, b);
    }
  });
});
