/**
 * The CLI's `--relay`: parsed, and the node it starts serves HOP and grants reservations (with
 * loopback addresses under `--relay-private-addrs`, none without).
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { parseCliArgs } from "../../app/cli/args.ts";
import { startCliNode } from "../../app/cli/node.ts";
import { generateKeyPair } from "../../src/keys/mod.ts";
import { HOP_PROTOCOL, Status } from "../../protocols/circuit-relay/codec.ts";
import { stopAll, testTcpNode } from "../helpers/nodes.ts";
import { reserve } from "./relay_client.ts";

const quiet = { out: () => {}, err: () => {} };

describe("CLI --relay", () => {
  it("parses --relay and --relay-private-addrs", () => {
    const cmd = parseCliArgs(["--relay", "--relay-private-addrs"]);
    assert.ok(cmd.kind === "run" && cmd.options.relay && cmd.options.relayPrivateAddrs);
    const plain = parseCliArgs([]);
    assert.ok(plain.kind === "run" && plain.options.relay !== true);
    assert.throws(() => parseCliArgs(["--relay", "--relay"]), SyntaxError);
  });

  for (const privateAddrs of [true, false]) {
    it(`serves relay v2${privateAddrs ? " with loopback addresses" : ""}`, async () => {
      const node = await startCliNode(
        {
          listen: ["/ip4/127.0.0.1/tcp/0"],
          echo: false,
          perf: false,
          logLevel: "quiet",
          relay: true,
          relayPrivateAddrs: privateAddrs,
        },
        await generateKeyPair("Ed25519"),
        quiet,
      );
      const client = await testTcpNode({ listen: [] });
      try {
        assert.ok(node.getProtocols().includes(HOP_PROTOCOL));
        const reply = await reserve(await client.dial(node.addrs()[0]));
        assert.equal(reply.status, Status.OK);
        assert.equal(reply.reservation!.addrs.length > 0, privateAddrs);
        assert.equal(node.services.relay?.stats().reservations, 1);
      } finally {
        await stopAll(node, client);
      }
    });
  }
});
