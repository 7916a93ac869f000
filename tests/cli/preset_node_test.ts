/**
 * The edge preset's limits reach the node (startCliNode in-process, loopback TCP): its
 * per-IP cap (8 inbound connections per IP, EDGE_LIMITS) refuses the 9th client from 127.0.0.1,
 * where the library default (16) takes it, and so does the preset with --allow-private-addresses
 * (loopback on the allow list).
 */

import { afterEach, describe, it } from "node:test";
import assert from "node:assert/strict";
import { generateKeyPair } from "../../src/keys/mod.ts";
import type { Libp2pNode } from "../../src/node/node.ts";
import { startCliNode } from "../../app/cli/node.ts";
import { EDGE_LIMITS } from "../../app/cli/preset.ts";
import { testTcpNode } from "../helpers/nodes.ts";

const T = { timeout: 60_000 };
const started: Libp2pNode<never>[] = [];

afterEach(async () => {
  await Promise.all(started.splice(0).map((n) => n.stop().catch(() => {})));
});

async function accepted(
  preset: "edge" | undefined,
  clients: number,
  allowPrivateAddresses = false,
): Promise<number> {
  const server = await startCliNode(
    {
      listen: ["/ip4/127.0.0.1/tcp/0"],
      echo: false,
      perf: false,
      logLevel: "quiet",
      preset,
      allowPrivateAddresses,
    },
    await generateKeyPair("Ed25519"),
    { out: () => {}, err: () => {} },
  );
  started.push(server as unknown as Libp2pNode<never>);
  let ok = 0;
  for (let i = 0; i < clients; i++) {
    const client = await testTcpNode({ listen: [] });
    started.push(client as unknown as Libp2pNode<never>);
    try {
      await client.dial(server.addrs()[0]);
      ok++;
    } catch { /* refused */ }
  }
  return ok;
}

describe("--preset edge limits in the node", () => {
  it("at most maxInboundPerIp (8) connections from one IP; 16 by default", T, async () => {
    assert.equal(EDGE_LIMITS.connectionManager.maxInboundPerIp, 8);
    assert.equal(await accepted("edge", 9), 8);
    assert.equal(await accepted(undefined, 9), 9);
    // --allow-private-addresses: loopback is on the allow list (local test networks).
    assert.equal(await accepted("edge", 9, true), 9);
  });
});
