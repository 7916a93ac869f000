/**
 * Byte channels (src/stream/channel.ts): connections carry their channel as a typed member, the
 * one conversion of a web duplex into a channel, fresh web streams at the API edge, the prefix
 * replay after a handshake, and abort.
 */

import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { toHex } from "../../src/bytes.ts";
import {
  channelReadable,
  channelWritable,
  prefixChannel,
  streamChannel,
  streamConnection,
} from "../../src/stream/channel.ts";
import { channelPair, duplexPair } from "../../src/stream/pair.ts";

describe("byte channels", () => {
  it("a channel pair carries bytes and half-closes", async () => {
    const [a, b] = channelPair();
    a.channel.write(Uint8Array.of(1, 2, 3));
    await a.channel.drained();
    assert.equal(toHex((await b.channel.read())!), "010203");
    await a.close();
    assert.equal(await b.channel.read(), null, "close ends the other side's reading");
    b.channel.write(Uint8Array.of(4)); // the other direction goes on
    assert.equal(toHex((await a.channel.read())!), "04");
  });

  it("streamChannel converts a web duplex once: reads and writes go through its streams", async () => {
    const [a, b] = duplexPair();
    const adapted = streamChannel(a);
    assert.ok(a.readable.locked && a.writable.locked, "its streams are taken");
    const other = streamChannel(b);
    adapted.write(Uint8Array.of(4));
    await adapted.drained();
    assert.equal(toHex((await other.read())!), "04");
    await adapted.closeWrite();
    assert.equal(await other.read(), null);
  });

  it("streamConnection: close ends the writing side, then closes the duplex", async () => {
    const order: string[] = [];
    const { readable, writable } = new TransformStream<Uint8Array, Uint8Array>();
    const conn = streamConnection({
      readable,
      writable,
      close: () => {
        order.push("duplex closed");
        return Promise.resolve();
      },
    });
    conn.channel.write(Uint8Array.of(1));
    const first = conn.channel.read();
    await conn.close();
    order.push("close returned");
    assert.deepEqual(order, ["duplex closed", "close returned"]);
    assert.equal(toHex((await first)!), "01");
    assert.equal(await conn.channel.read(), null, "FIN after the queued writes");
  });

  it("channelReadable/channelWritable are fresh, undisturbed web streams over a channel", async () => {
    const [a, b] = channelPair();
    const readable = channelReadable(b.channel);
    const writable = channelWritable(a.channel);
    const writer = writable.getWriter();
    await writer.write(new TextEncoder().encode('{"x":1}'));
    await writer.close();
    assert.deepEqual(await new Response(readable).json(), { x: 1 });
  });

  it("prefixChannel replays the buffered bytes first, then reads the channel", async () => {
    const [a, b] = channelPair();
    const inner = a.channel;
    assert.equal(prefixChannel(inner, []), inner, "nothing to replay: the channel itself");
    assert.equal(prefixChannel(inner, [new Uint8Array(0)]), inner, "empty chunks do not count");
    const ch = prefixChannel(inner, [Uint8Array.of(7), Uint8Array.of(8)]);
    const peer = b.channel;
    peer.write(Uint8Array.of(9));
    assert.equal(toHex((await ch.read())!), "07");
    assert.equal(toHex((await ch.read())!), "08");
    assert.equal(toHex((await ch.read())!), "09");
    ch.write(Uint8Array.of(5)); // writes go straight through
    assert.equal(toHex((await peer.read())!), "05");
    const cancelled = prefixChannel(channelPair()[0].channel, [Uint8Array.of(1)]);
    cancelled.cancelRead();
    assert.equal(await cancelled.read(), null, "cancelling drops the replay too");
  });

  it("abort fails both directions on both ends", async () => {
    const [a, b] = channelPair();
    const ours = a.channel;
    const theirs = b.channel;
    const pending = theirs.read();
    const reason = new Error("cut");
    ours.abort(reason);
    await assert.rejects(pending, (e) => e === reason);
    await assert.rejects(ours.read(), (e) => e === reason);
    assert.throws(() => ours.write(Uint8Array.of(1)), (e) => e === reason);
    assert.throws(() => theirs.write(Uint8Array.of(1)), (e) => e === reason);
    await assert.rejects(ours.drained(), (e) => e === reason);
  });
});
