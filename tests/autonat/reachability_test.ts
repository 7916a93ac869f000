/** The sans-IO confidence machine and the rate limiter (injected time). */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { RateLimiter, ReachabilityTracker } from "../../protocols/autonat/mod.ts";

const X = "/ip4/1.2.3.4/tcp/1";
const Y = "/ip4/1.2.3.4/tcp/2";

describe("ReachabilityTracker", () => {
  it("decides public after 3 successes from distinct servers, not from one server", () => {
    const t = new ReachabilityTracker();
    t.setAddresses([X]);
    for (let i = 0; i < 5; i++) t.record(X, "same", "success", i);
    assert.equal(t.state(X), "unknown");
    assert.equal(t.confidence(X), 1);
    assert.equal(t.canAsk(X, "same", 10), false);
    t.record(X, "b", "success", 11);
    assert.equal(t.state(X), "unknown");
    assert.equal(t.record(X, "c", "success", 12), true);
    assert.equal(t.state(X), "public");
    assert.equal(t.overall(), "public");
  });

  it("decides private after 3 failures; mixed results stay unknown", () => {
    const t = new ReachabilityTracker();
    t.setAddresses([X, Y]);
    for (const s of ["a", "b", "c"]) t.record(X, s, "failure", 0);
    assert.equal(t.state(X), "private");
    assert.equal(t.overall(), "private");
    for (const s of ["a", "b"]) t.record(Y, s, "success", 0);
    t.record(Y, "c", "failure", 0);
    assert.equal(t.state(Y), "unknown");
    // One public address makes the node public.
    for (const s of ["d", "e"]) t.record(Y, s, "success", 0);
    assert.equal(t.state(Y), "public");
    assert.equal(t.overall(), "public");
  });

  it("keeps a window: old votes fall out, and a decided address is due again later", () => {
    const t = new ReachabilityTracker({ reprobeIntervalMs: 1000 });
    t.setAddresses([X]);
    for (const s of ["a", "b", "c"]) t.record(X, s, "success", 0);
    assert.equal(t.due(X, 500), false);
    assert.equal(t.due(X, 1000), true);
    assert.equal(t.canAsk(X, "a", 1000), true);
    for (const s of ["d", "e", "f", "g", "h"]) t.record(X, s, "failure", 2000);
    assert.equal(t.state(X), "private");
  });

  it("forgets addresses no longer ours and ignores results for unknown ones", () => {
    const t = new ReachabilityTracker();
    t.setAddresses([X]);
    assert.equal(t.record(Y, "a", "success", 0), false);
    t.setAddresses([Y]);
    assert.deepEqual(t.addresses(), [Y]);
    assert.equal(t.overall(), "unknown");
  });
});

describe("RateLimiter", () => {
  it("caps per key and in total within the window", () => {
    const r = new RateLimiter({ perKey: 2, total: 3, windowMs: 60_000 });
    assert.equal(r.admit("a", 0), true);
    assert.equal(r.admit("a", 1), true);
    assert.equal(r.admit("a", 2), false);
    assert.equal(r.admit("b", 3), true);
    assert.equal(r.admit("c", 4), false);
    assert.equal(r.admit("c", 60_001), true);
  });
});
