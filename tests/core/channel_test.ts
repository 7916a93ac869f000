/**
 * Byte channels (src/stream/channel.ts): the hand-over rules between a connection's channel and
 * its lazily built web streams, the prefix replay after a handshake, the stream adapter, and
 * layered closing.
 */

import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { toHex } from "../../src/bytes.ts";
import {
  channelDuplex,
  layeredClose,
  prefixChannel,
  takeChannel,
  takeOwnChannel,
} from "../../src/stream/channel.ts";
import { duplexPair } from "../../src/stream/pair.ts";

describe("byte channels", () => {
  it("a channel-backed duplex hands its channel once; its streams then throw", () => {
    const [a] = duplexPair();
    const channel = takeOwnChannel(a);
    assert.ok(channel !== undefined);
    assert.equal(takeOwnChannel(a), undefined, "only once");
    assert.throws(() => a.readable, TypeError);
    assert.throws(() => a.writable, TypeError);
  });

  it("once a stream was built, the channel is not handed out; takeChannel adapts the streams", async () => {
    const [a, b] = duplexPair();
    const writer = a.writable.getWriter();
    assert.equal(takeOwnChannel(a), undefined);
    await writer.write(Uint8Array.of(1, 2, 3));
    writer.releaseLock();
    const other = takeChannel(b);
    assert.equal(toHex((await other.read())!), "010203");
    // a's streams exist (its writable is free again): takeChannel reads and writes through them.
    const adapted = takeChannel(a);
    adapted.write(Uint8Array.of(4));
    await adapted.drained();
    assert.equal(toHex((await other.read())!), "04");
    await adapted.closeWrite();
    assert.equal(await other.read(), null);
  });

  it("prefixChannel replays the buffered bytes first, then reads the channel", async () => {
    const [a, b] = duplexPair();
    const inner = takeChannel(a);
    assert.equal(prefixChannel(inner, []), inner, "nothing to replay: the channel itself");
    assert.equal(prefixChannel(inner, [new Uint8Array(0)]), inner, "empty chunks do not count");
    const ch = prefixChannel(inner, [Uint8Array.of(7), Uint8Array.of(8)]);
    const peer = takeChannel(b);
    peer.write(Uint8Array.of(9));
    assert.equal(toHex((await ch.read())!), "07");
    assert.equal(toHex((await ch.read())!), "08");
    assert.equal(toHex((await ch.read())!), "09");
    ch.write(Uint8Array.of(5)); // writes go straight through
    assert.equal(toHex((await peer.read())!), "05");
    const cancelled = prefixChannel(takeChannel(duplexPair()[0]), [Uint8Array.of(1)]);
    cancelled.cancelRead();
    assert.equal(await cancelled.read(), null, "cancelling drops the replay too");
  });

  it("abort fails both directions on both ends", async () => {
    const [a, b] = duplexPair();
    const ours = takeChannel(a);
    const theirs = takeChannel(b);
    const pending = theirs.read();
    const reason = new Error("cut");
    ours.abort(reason);
    await assert.rejects(pending, (e) => e === reason);
    await assert.rejects(ours.read(), (e) => e === reason);
    assert.throws(() => ours.write(Uint8Array.of(1)), (e) => e === reason);
    assert.throws(() => theirs.write(Uint8Array.of(1)), (e) => e === reason);
    await assert.rejects(ours.drained(), (e) => e === reason);
  });

  it("layeredClose waits for the writable's flush, then closes the layer below", async () => {
    const [a, b] = duplexPair();
    const inner = takeChannel(a);
    const order: string[] = [];
    const below = {
      readable: new ReadableStream<Uint8Array>(),
      writable: new WritableStream<Uint8Array>(),
      close: () => {
        order.push("below closed");
        return Promise.resolve();
      },
      abort: () => {},
    };
    const conn = channelDuplex(inner, layeredClose(inner, below));
    const writer = conn.writable.getWriter();
    const queued = [writer.write(Uint8Array.of(1)), writer.write(Uint8Array.of(2))];
    writer.releaseLock();
    await conn.close();
    order.push("close returned");
    await Promise.all(queued);
    const peer = takeChannel(b);
    assert.equal(toHex((await peer.read())!), "01");
    assert.equal(toHex((await peer.read())!), "02");
    assert.equal(await peer.read(), null, "FIN after the queued writes");
    assert.deepEqual(order, ["below closed", "close returned"]);
  });
});
