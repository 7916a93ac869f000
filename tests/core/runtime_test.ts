import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { dialableHosts, interfaceAddresses } from "../../src/runtime.ts";

describe("dialableHosts", () => {
  const ifaces = () => [
    { address: "127.0.0.1", family: "IPv4" },
    { address: "192.0.2.5", family: 4 },
    { address: "::1", family: "IPv6" },
    { address: "fe80::1", family: "IPv6" },
    { address: "2001:db8::5", family: 6 },
    { address: "127.0.0.1", family: "IPv4" },
  ];

  it("expands 0.0.0.0 to the IPv4 interface addresses, once each", () => {
    assert.deepEqual(dialableHosts("0.0.0.0", ifaces), ["127.0.0.1", "192.0.2.5"]);
  });

  it("expands :: to the IPv6 ones, without link-local addresses", () => {
    assert.deepEqual(dialableHosts("::", ifaces), ["::1", "2001:db8::5"]);
  });

  it("keeps a concrete host, and the wildcard when interfaces cannot be read", () => {
    assert.deepEqual(dialableHosts("127.0.0.1", ifaces), ["127.0.0.1"]);
    assert.deepEqual(dialableHosts("0.0.0.0", () => undefined), ["0.0.0.0"]);
  });

  it("reads this machine's interfaces (loopback included) when permitted", () => {
    const list = interfaceAddresses();
    if (list === undefined) return; // not permitted here: nothing to check
    assert.ok(list.some((i) => i.address === "127.0.0.1"));
  });
});
