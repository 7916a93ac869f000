/**
 * The transport conformance suite over TCP loopback, IPv4 and IPv6. The same file runs the Deno
 * adapter under `deno test` and the Bun adapter under `bun test` (tcp() picks by feature
 * detection).
 */

import { describe, it } from "node:test";
import { multiaddr } from "../../src/multiaddr/mod.ts";
import { tcp } from "../../transports/tcp/mod.ts";
import { runTransportSuite } from "../conformance/transport_suite.ts";
import { ipv6LoopbackSkipReason } from "./helpers.ts";

runTransportSuite("tcp ipv4 loopback", () => ({
  transport: tcp(),
  listenAddr: multiaddr("/ip4/127.0.0.1/tcp/0"),
}));

const v6skip = await ipv6LoopbackSkipReason();
if (v6skip === undefined) {
  runTransportSuite("tcp ipv6 loopback", () => ({
    transport: tcp(),
    listenAddr: multiaddr("/ip6/::1/tcp/0"),
  }));
} else {
  describe("transport conformance: tcp ipv6 loopback", () => {
    it("runs over ::1", { skip: v6skip }, () => {});
  });
}
