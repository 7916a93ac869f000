/**
 * Typed service dependencies (issue 16 section 5): a factory declares what it provides and what
 * it needs; the node fails at creation when a dependency is missing or the dependencies form a
 * cycle; services are built and started in dependency order and stopped in reverse; plain
 * `services: { name: factory }` keeps working.
 */

import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { defineService, type Libp2pNode, type ServiceFactory } from "../../src/node/node.ts";
import {
  IDENTIFY_CAPABILITY,
  orderServices,
  ServiceDependencyError,
} from "../../src/node/services.ts";
import { identify } from "../../protocols/identify/mod.ts";
import { ping } from "../../protocols/ping/mod.ts";
import { stopAll, testNode } from "../helpers/nodes.ts";

/** A service that logs build/start/stop into `log`. */
function logged(
  name: string,
  log: string[],
  meta: { capabilities?: string[]; dependencies?: string[] } = {},
): ServiceFactory<{ name: string }> {
  return defineService((node: Libp2pNode) => {
    // Dependencies are built first: visible on node.services already.
    for (const dep of meta.dependencies ?? []) {
      if (!(dep in node.services) && !dep.startsWith("@")) throw new Error(`${dep} not built`);
    }
    log.push(`build ${name}`);
    return {
      name,
      start: () => void log.push(`start ${name}`),
      stop: () => void log.push(`stop ${name}`),
    };
  }, meta);
}

describe("service dependencies", () => {
  it("build and start in dependency order, stop in reverse", async () => {
    const log: string[] = [];
    const node = await testNode({
      services: {
        dht: logged("dht", log, { dependencies: ["@libp2p/identify", "store"] }),
        store: logged("store", log),
        id: logged("id", log, { capabilities: [IDENTIFY_CAPABILITY] }),
      },
    });
    await node.stop();
    // dht needs id (by capability) and store (by name), in that order.
    assert.deepEqual(log, [
      "build id",
      "build store",
      "build dht",
      "start id",
      "start store",
      "start dht",
      "stop dht",
      "stop store",
      "stop id",
    ]);
  });

  it("a missing dependency fails node creation with a clear error", async () => {
    const kad = defineService(() => ({}), { dependencies: [IDENTIFY_CAPABILITY] });
    await assert.rejects(
      testNode({ services: { kad } }),
      (err: Error) =>
        err instanceof ServiceDependencyError && /kad needs @libp2p\/identify/.test(err.message),
    );
    // identify() provides it.
    const node = await testNode({ services: { kad, identify: identify() } });
    await stopAll(node);
  });

  it("a cycle is an error naming the cycle", () => {
    const a = defineService(() => ({}), { capabilities: ["A"], dependencies: ["B"] });
    const b = defineService(() => ({}), { capabilities: ["B"], dependencies: ["c"] });
    const c = defineService(() => ({}), { dependencies: ["A"] });
    assert.throws(
      () => orderServices({ a, b, c }),
      (err: Error) => err instanceof ServiceDependencyError && /a -> b -> c -> a/.test(err.message),
    );
  });

  it("plain factories (no metadata) keep the declaration order", async () => {
    assert.deepEqual(orderServices({ x: () => 1, y: () => 2 }), ["x", "y"]);
    const node = await testNode({ services: { ping: ping(), identify: identify() } });
    try {
      assert.ok(node.services.ping !== undefined && node.services.identify !== undefined);
    } finally {
      await stopAll(node);
    }
  });
});
