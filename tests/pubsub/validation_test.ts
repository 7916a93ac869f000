/**
 * The validation pipeline: signature policy first, per-topic validators (sync and async),
 * exceptions as reject, a timeout on injected timers (no sleeps), the in-flight caps over all
 * topics and per topic (HARDENING.md rule 7), caller aborts, and the counters.
 */

import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { utf8Encode } from "../../src/bytes.ts";
import { generateKeyPair } from "../../src/keys/mod.ts";
import { MessageAuthor } from "../../protocols/pubsub/signing.ts";
import {
  DEFAULT_MAX_VALIDATIONS_IN_FLIGHT,
  DEFAULT_MAX_VALIDATIONS_PER_TOPIC,
  type TopicValidator,
  ValidationPipeline,
  type ValidationTimers,
} from "../../protocols/pubsub/validation.ts";
import type { PubsubMessage, ValidationResult } from "../../protocols/pubsub/types.ts";

class FakeTimers implements ValidationTimers {
  readonly pending = new Map<number, { callback: () => void; ms: number }>();
  created = 0;
  #next = 1;
  setTimeout(callback: () => void, ms: number): unknown {
    this.created++;
    const id = this.#next++;
    this.pending.set(id, { callback, ms });
    return id;
  }
  clearTimeout(handle: unknown): void {
    this.pending.delete(handle as number);
  }
  fireAll(): void {
    const due = [...this.pending.values()];
    this.pending.clear();
    for (const t of due) t.callback();
  }
}

/** A promise the test settles by hand. */
function manual(): { promise: Promise<ValidationResult>; resolve: (r: ValidationResult) => void } {
  let resolve!: (r: ValidationResult) => void;
  const promise = new Promise<ValidationResult>((r) => (resolve = r));
  return { promise, resolve };
}

const flush = () => new Promise<void>((r) => setTimeout(r, 0));
const msg = (topic = "t", data = [1]): PubsubMessage => ({ topic, data: new Uint8Array(data) });

describe("ValidationPipeline", () => {
  it("defaults: StrictSign, go's in-flight caps", () => {
    const p = new ValidationPipeline();
    assert.equal(p.policy, "StrictSign");
    assert.equal(DEFAULT_MAX_VALIDATIONS_IN_FLIGHT, 8192);
    assert.equal(DEFAULT_MAX_VALIDATIONS_PER_TOPIC, 1024);
    assert.throws(() => new ValidationPipeline({ timeoutMs: 2 ** 31 }), RangeError);
    assert.throws(() => new ValidationPipeline({ maxInFlight: 0 }), RangeError);
  });

  it("checks the signature policy before any validator", async () => {
    let called = 0;
    const p = new ValidationPipeline({ policy: "StrictSign" });
    p.setValidator("t", () => (called++, "accept"));
    assert.deepEqual(await p.validate(msg(), "peer"), {
      result: "reject",
      reason: "signature",
      signature: "missing-from",
    });
    assert.equal(called, 0);
    const author = new MessageAuthor({ privateKey: await generateKeyPair("Ed25519") });
    const signed = await author.build("t", utf8Encode("x"));
    assert.deepEqual(await p.validate(signed, "peer"), { result: "accept", reason: "accepted" });
    assert.equal(called, 1);
    const s = p.stats;
    assert.equal(s.badSignature, 1);
    assert.equal(s.rejected, 1);
    assert.equal(s.accepted, 1);
  });

  it("passes validator results through; no validator accepts; sync ones use no timer", async () => {
    const timers = new FakeTimers();
    const p = new ValidationPipeline({ policy: "StrictNoSign", timers });
    assert.deepEqual(await p.validate(msg("none"), "peer"), {
      result: "accept",
      reason: "no-validator",
    });
    const seen: [string, string][] = [];
    for (const r of ["accept", "reject", "ignore"] as const) {
      p.setValidator("t", (topic, _m, peer) => (seen.push([topic, peer]), r));
      assert.equal((await p.validate(msg(), "peerA")).result, r);
    }
    assert.deepEqual(seen[0], ["t", "peerA"]);
    assert.equal(timers.created, 0);
    p.setValidator("t", () => Promise.resolve("ignore" as const));
    assert.deepEqual(await p.validate(msg(), "p"), { result: "ignore", reason: "validator" });
    assert.equal(timers.created, 1);
    assert.equal(timers.pending.size, 0); // cleared once answered
    assert.equal(p.removeValidator("t"), true);
    assert.equal(p.getValidator("t"), undefined);
  });

  it("an exception, a rejected promise or a bad value is a reject", async () => {
    const p = new ValidationPipeline({ policy: "StrictNoSign", timers: new FakeTimers() });
    const cases: [TopicValidator, string][] = [
      [() => {
        throw new Error("boom");
      }, "threw"],
      [() => Promise.reject(new Error("boom")), "threw"],
      [() => "yes" as unknown as ValidationResult, "bad-result"],
      [() => Promise.resolve(undefined as unknown as ValidationResult), "bad-result"],
    ];
    for (const [validator, reason] of cases) {
      p.setValidator("t", validator);
      assert.deepEqual(await p.validate(msg(), "p"), { result: "reject", reason });
    }
    assert.equal(p.stats.threw, 2);
    assert.equal(p.inFlight, 0);
  });

  it("a validator that never answers is ignored at the timeout and its signal aborts", async () => {
    const timers = new FakeTimers();
    const p = new ValidationPipeline({ policy: "StrictNoSign", timers, timeoutMs: 1234 });
    let signal: AbortSignal | undefined;
    p.setValidator("t", (_t, _m, _p, s) => {
      signal = s;
      return new Promise<ValidationResult>(() => {});
    });
    const pending = p.validate(msg(), "p");
    await flush();
    assert.equal(p.inFlight, 1);
    assert.deepEqual([...timers.pending.values()].map((t) => t.ms), [1234]);
    assert.equal(signal?.aborted, false);
    timers.fireAll();
    assert.deepEqual(await pending, { result: "ignore", reason: "timeout" });
    assert.equal(signal?.aborted, true);
    assert.equal(p.inFlight, 0);
    assert.equal(p.stats.timedOut, 1);
  });

  it("over the in-flight cap: ignore at once without running the validator, counted", async () => {
    const p = new ValidationPipeline({
      policy: "StrictNoSign",
      timers: new FakeTimers(),
      maxInFlight: 3,
      maxInFlightPerTopic: 2,
    });
    const gates: ReturnType<typeof manual>[] = [];
    let calls = 0;
    const hold: TopicValidator = () => {
      calls++;
      const g = manual();
      gates.push(g);
      return g.promise;
    };
    p.setValidator("a", hold);
    p.setValidator("b", hold);
    const a1 = p.validate(msg("a"), "p");
    const a2 = p.validate(msg("a"), "p");
    await flush();
    // Per-topic cap: a third "a" is throttled; "b" still runs.
    assert.deepEqual(await p.validate(msg("a"), "p"), { result: "ignore", reason: "throttled" });
    const b1 = p.validate(msg("b"), "p");
    await flush();
    assert.equal(p.inFlight, 3);
    // Global cap.
    assert.deepEqual(await p.validate(msg("b"), "p"), { result: "ignore", reason: "throttled" });
    assert.equal(calls, 3);
    for (const g of gates) g.resolve("accept");
    assert.deepEqual((await Promise.all([a1, a2, b1])).map((o) => o.result), [
      "accept",
      "accept",
      "accept",
    ]);
    assert.equal(p.inFlight, 0);
    assert.equal(p.stats.throttled, 2);
    assert.equal(p.stats.ignored, 2);
    // Slots are free again.
    const again = p.validate(msg("a"), "p");
    await flush();
    gates[3].resolve("reject");
    assert.deepEqual(await again, { result: "reject", reason: "validator" });
  });

  it("a caller abort ends the wait with ignore", async () => {
    const p = new ValidationPipeline({ policy: "StrictNoSign", timers: new FakeTimers() });
    p.setValidator("t", () => new Promise<ValidationResult>(() => {}));
    const controller = new AbortController();
    const pending = p.validate(msg(), "p", { signal: controller.signal });
    await flush();
    controller.abort();
    assert.deepEqual(await pending, { result: "ignore", reason: "aborted" });
    assert.equal(p.inFlight, 0);
    assert.deepEqual(await p.validate(msg(), "p", { signal: controller.signal }), {
      result: "ignore",
      reason: "aborted",
    });
  });
});
