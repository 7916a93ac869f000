/** The CLI's `--autonat`: parsed, and the node it starts serves AutoNAT v2 and v1. */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { parseCliArgs } from "../../app/cli/args.ts";
import { startCliNode } from "../../app/cli/node.ts";
import { generateKeyPair } from "../../src/keys/mod.ts";
import { multiaddr } from "../../src/multiaddr/mod.ts";
import { DialStatus, ResponseStatus, V1_PROTOCOL } from "../../protocols/autonat/mod.ts";
import { stopAll, testTcpNode } from "../helpers/nodes.ts";
import { receiveDialBacks, requestV2 } from "./raw.ts";

const quiet = { out: () => {}, err: () => {} };

describe("CLI --autonat", () => {
  it("parses --autonat and --autonat-private-addrs", () => {
    const cmd = parseCliArgs(["--autonat"]);
    assert.ok(cmd.kind === "run" && cmd.options.autonat && !cmd.options.autonatPrivateAddrs);
    const p = parseCliArgs(["--autonat-private-addrs"]);
    assert.ok(p.kind === "run" && p.options.autonat && p.options.autonatPrivateAddrs);
    const plain = parseCliArgs([]);
    assert.ok(plain.kind === "run" && plain.options.autonat !== true);
  });

  it("serves AutoNAT v2 (dial-back on loopback with --autonat-private-addrs) and v1", async () => {
    const node = await startCliNode(
      {
        listen: ["/ip4/127.0.0.1/tcp/0"],
        echo: false,
        perf: false,
        logLevel: "quiet",
        autonat: true,
        autonatPrivateAddrs: true,
      },
      await generateKeyPair("Ed25519"),
      quiet,
    );
    const client = await testTcpNode();
    try {
      assert.ok(node.getProtocols().includes(V1_PROTOCOL));
      const nonces = receiveDialBacks(client);
      const conn = await client.dial(node.addrs()[0]);
      const addr = client.addrs()[0].decapsulateCode(421).toString();
      const r = await requestV2(conn, [multiaddr(addr).bytes], 3n);
      assert.deepEqual(r.messages.at(-1), {
        type: "dialResponse",
        status: ResponseStatus.OK,
        addrIdx: 0,
        dialStatus: DialStatus.OK,
      });
      assert.deepEqual(nonces, [3n]);
    } finally {
      await stopAll(node, client);
    }
  });
});
