/**
 * The one public-address classifier (src/multiaddr/scope.ts) and its three users: the DHT's
 * `isPublicMultiaddr`, the relay's `publicAddressFilter` (reservation addresses) and DCUtR's
 * `isPublicAddr` answer alike for every range of the table.
 */

import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { isPublicAddress, multiaddr } from "../../src/multiaddr/mod.ts";
import { isPublicMultiaddr } from "../../protocols/kad-dht/ip_group.ts";
import { publicAddressFilter } from "../../protocols/circuit-relay/mod.ts";
import { isPublicAddr } from "../../protocols/dcutr/mod.ts";

const NOT_PUBLIC = [
  "/ip4/0.1.2.3/tcp/1",
  "/ip4/10.0.0.1/tcp/1",
  "/ip4/100.64.0.1/tcp/1", // shared address space (RFC 6598)
  "/ip4/127.0.0.1/tcp/1",
  "/ip4/169.254.1.1/tcp/1",
  "/ip4/172.16.0.1/tcp/1",
  "/ip4/172.31.255.255/tcp/1",
  "/ip4/192.0.0.8/tcp/1",
  "/ip4/192.0.2.1/tcp/1", // documentation
  "/ip4/192.88.99.1/tcp/1", // 6to4 relay anycast
  "/ip4/192.168.1.1/tcp/1",
  "/ip4/198.18.0.1/tcp/1", // benchmarking
  "/ip4/198.51.100.7/tcp/1",
  "/ip4/203.0.113.9/tcp/1",
  "/ip4/224.0.0.251/udp/5353",
  "/ip4/255.255.255.255/tcp/1",
  "/ip6/::1/tcp/1",
  "/ip6/fe80::1/tcp/1",
  "/ip6/fd00::1/tcp/1",
  "/ip6/2001:db8::1/tcp/1",
  "/ip6/::ffff:10.0.0.1/tcp/1",
  "/dns4/localhost/tcp/1",
  "/dns/app.localhost/tcp/1",
  "/unix/tmp%2Fsock",
];
const PUBLIC = [
  "/ip4/8.8.8.8/tcp/1",
  "/ip4/100.128.0.1/tcp/1",
  "/ip4/172.32.0.1/tcp/1",
  "/ip4/198.20.0.1/tcp/1",
  "/ip6/2606:4700::1111/tcp/1",
  "/ip6/::ffff:8.8.8.8/tcp/1",
  "/dns4/bootstrap.libp2p.io/tcp/443/wss",
  "/dnsaddr/bootstrap.libp2p.io",
];

describe("public addresses: one classifier", () => {
  it("classifies every range of the table", () => {
    for (const a of NOT_PUBLIC) assert.equal(isPublicAddress(multiaddr(a)), false, a);
    for (const a of PUBLIC) assert.equal(isPublicAddress(multiaddr(a)), true, a);
  });

  it("the DHT, the relay and DCUtR agree with it", () => {
    for (const a of [...NOT_PUBLIC, ...PUBLIC]) {
      const ma = multiaddr(a);
      const expected = isPublicAddress(ma);
      assert.equal(isPublicMultiaddr(ma.bytes), expected, `kad ${a}`);
      assert.equal(publicAddressFilter(ma), expected, `relay ${a}`);
      assert.equal(isPublicAddr(ma), expected, `dcutr ${a}`);
    }
  });
});
