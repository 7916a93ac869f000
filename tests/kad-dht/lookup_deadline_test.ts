/**
 * runLookup (protocols/kad-dht/lookup.ts) reports a peer that never answers as a failure with a
 * TimeoutError once its request deadline passes, even when the lookup then finishes at once (the
 * peer was the only one) and the send itself never settles: the failure does not depend on which of
 * the machine's and the transport's deadlines fires first (a CI-only flake before).
 */

import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { TimeoutError } from "../../src/errors.ts";
import { runLookup } from "../../protocols/kad-dht/lookup.ts";
import { kadId } from "../../protocols/kad-dht/keyspace.ts";

describe("kad-dht runLookup: request deadlines", () => {
  it("a silent only peer is reported as a TimeoutError failure, and the lookup ends", async () => {
    const id = new Uint8Array([0, 1, 2, 3]);
    const events: { kind: string; error?: unknown }[] = [];
    const lookup = runLookup({
      target: kadId(new Uint8Array([9])),
      seeds: [{ peerId: id, addrs: [] }],
      peerTimeoutMs: 20,
      send: () => new Promise(() => {}), // never answers, never rejects
      closerOf: () => [],
      now: () => performance.now(),
    });
    let r = await lookup.next();
    while (!r.done) {
      events.push(r.value as { kind: string; error?: unknown });
      r = await lookup.next();
    }
    assert.equal(events.length, 1);
    assert.equal(events[0].kind, "failure");
    assert.ok(events[0].error instanceof TimeoutError, String(events[0].error));
    assert.equal(r.value.closest.length, 0);
  });
});
