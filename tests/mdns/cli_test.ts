/**
 * The CLI's `--mdns` flag: parsed as a boolean, and turned into an mDNS discovery service next to
 * `--bootstrap`'s (the netns test runs the CLI itself on both runtimes).
 */

import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { parseCliArgs } from "../../app/cli/args.ts";
import { cliDiscovery } from "../../app/cli/node.ts";

describe("CLI --mdns", () => {
  it("parses and adds the mdns discovery service", () => {
    const cmd = parseCliArgs(["--mdns", "--listen", "/ip4/127.0.0.1/tcp/0"]);
    assert.equal(cmd.kind, "run");
    if (cmd.kind !== "run") return;
    assert.equal(cmd.options.mdns, true);
    assert.equal(cliDiscovery(cmd.options).peerDiscovery?.length, 1);
    const both = cliDiscovery({
      mdns: true,
      bootstrap: ["/ip4/127.0.0.1/tcp/1/p2p/12D3KooWD3eckifWpRn9wQpMG9R9hX3sD158z7EqHWmweQAJU5SA"],
    });
    assert.equal(both.peerDiscovery?.length, 2);
    assert.equal(cliDiscovery({}).peerDiscovery, undefined);
    assert.throws(() => parseCliArgs(["--mdns=yes"]), SyntaxError);
  });
});
