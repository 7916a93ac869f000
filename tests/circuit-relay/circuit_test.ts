/**
 * The relay's splice on channel pairs: bytes pass both ways unchanged, a half-close is passed
 * on, the data limit forwards exactly the limit and then resets both halves (in each direction),
 * a reset of one half resets the other, and aborting resets both.
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { channelPair } from "../../src/stream/pair.ts";
import type { ByteChannel } from "../../src/stream/channel.ts";
import { spliceCircuit } from "../../protocols/circuit-relay/circuit.ts";

function circuit() {
  const [source, relaySource] = channelPair();
  const [relayTarget, target] = channelPair();
  return { source: source.channel, target: target.channel, a: relaySource, b: relayTarget };
}

async function readN(ch: ByteChannel, n: number): Promise<number> {
  let got = 0;
  while (got < n) {
    const c = await ch.read();
    if (c === null) break;
    got += c.byteLength;
  }
  return got;
}

async function readAll(ch: ByteChannel): Promise<{ bytes: number; end: "eof" | "error" }> {
  let bytes = 0;
  try {
    for (let c = await ch.read(); c !== null; c = await ch.read()) bytes += c.byteLength;
    return { bytes, end: "eof" };
  } catch {
    return { bytes, end: "error" };
  }
}

describe("spliceCircuit", () => {
  it("carries bytes both ways and passes half-closes on", async () => {
    const { source, target, a, b } = circuit();
    const done = spliceCircuit(a.channel, b.channel);
    source.write(new Uint8Array([1, 2, 3]));
    assert.deepEqual(await target.read(), new Uint8Array([1, 2, 3]));
    target.write(new Uint8Array([4]));
    assert.deepEqual(await source.read(), new Uint8Array([4]));
    await source.closeWrite();
    assert.equal(await target.read(), null);
    // The other direction still works after one side closed.
    target.write(new Uint8Array([5, 6]));
    assert.deepEqual(await source.read(), new Uint8Array([5, 6]));
    await target.closeWrite();
    assert.equal(await source.read(), null);
    assert.deepEqual(await done, { end: "closed", sourceToTarget: 3n, targetToSource: 3n });
  });

  it("forwards exactly the data limit, then resets both halves (source to target)", async () => {
    const { source, target, a, b } = circuit();
    const done = spliceCircuit(a.channel, b.channel, { dataLimit: 100n });
    const reading = readAll(target);
    const back = readAll(source);
    for (let i = 0; i < 3; i++) {
      try {
        source.write(new Uint8Array(60));
        await source.drained();
      } catch {
        break;
      }
    }
    const got = await reading;
    assert.equal(got.bytes, 100);
    assert.equal(got.end, "error");
    assert.equal((await back).end, "error");
    const info = await done;
    assert.equal(info.end, "data-limit");
    assert.equal(info.sourceToTarget, 100n);
  });

  it("the data limit holds from target to source as well", async () => {
    const { source, target, a, b } = circuit();
    const done = spliceCircuit(a.channel, b.channel, { dataLimit: 1000n });
    const reading = readAll(source);
    try {
      for (let i = 0; i < 10; i++) {
        target.write(new Uint8Array(300));
        await target.drained();
      }
    } catch {
      // reset
    }
    const got = await reading;
    assert.equal(got.bytes, 1000);
    assert.equal(got.end, "error");
    assert.equal((await done).targetToSource, 1000n);
  });

  it("a limit reached exactly is not exceeded: the circuit goes on closing cleanly", async () => {
    const { source, target, a, b } = circuit();
    const done = spliceCircuit(a.channel, b.channel, { dataLimit: 10n });
    source.write(new Uint8Array(10));
    assert.equal(await readN(target, 10), 10);
    await source.closeWrite();
    await target.closeWrite();
    assert.equal(await target.read(), null);
    assert.equal(await source.read(), null);
    assert.equal((await done).end, "closed");
  });

  it("a reset of one half resets the other", async () => {
    const { source, target, a, b } = circuit();
    const done = spliceCircuit(a.channel, b.channel);
    const reading = readAll(target);
    source.abort(new Error("gone"));
    assert.equal((await reading).end, "error");
    assert.equal((await done).end, "reset");
  });

  it("aborting the signal resets both halves; the duration does too", async () => {
    const c1 = circuit();
    const stop = new AbortController();
    const done1 = spliceCircuit(c1.a.channel, c1.b.channel, { signal: stop.signal });
    const r1 = [readAll(c1.source), readAll(c1.target)];
    stop.abort(new Error("relay stopped"));
    assert.deepEqual((await Promise.all(r1)).map((r) => r.end), ["error", "error"]);
    assert.equal((await done1).end, "aborted");

    const c2 = circuit();
    const done2 = spliceCircuit(c2.a.channel, c2.b.channel, { durationMs: 20 });
    const r2 = [readAll(c2.source), readAll(c2.target)];
    assert.deepEqual((await Promise.all(r2)).map((r) => r.end), ["error", "error"]);
    assert.equal((await done2).end, "duration-limit");
  });
});
