// HARDENING.md mplex rows at the wire level, with a hand-driven raw peer:
// message above 1 MiB -> close; header varint above 9 bytes -> close; NewStream for an existing
// id -> close; NewStream flood -> reset beyond the stream cap. Plus the slow-reader budget.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { fromHex } from "../../src/bytes.ts";
import { LimitExceededError, StreamResetError } from "../../src/errors.ts";
import type { MuxedStream } from "../../src/muxer.ts";
import { MplexProtocolError } from "../../protocols/mplex/mod.ts";
import { MplexFlag } from "../../protocols/mplex/constants.ts";
import { rawSetup, readN } from "./helpers.ts";

describe("mplex hardening (HARDENING.md mplex row)", () => {
  it("a message above 1 MiB closes the connection before its body is read", async () => {
    const { muxer, writer, frames, closeError } = rawSetup({}, { onIncomingStream: () => {} });
    await writer.write(fromHex("000130")); // NewStream 0
    // MessageInitiator on stream 0 with length 1 MiB + 1 (varint 81 80 40) and no body at all.
    await writer.write(fromHex("02818040"));
    const err = await closeError;
    assert.ok(err instanceof MplexProtocolError, String(err));
    assert.match(err.message, /exceeds the limit of 1048576/);
    assert.equal(await frames.ended(), true);
    await muxer.closed;
    assert.equal(muxer.streams.length, 0);
  });

  it("a header varint above 9 bytes closes the connection", async () => {
    const { writer, frames, closeError } = rawSetup();
    await writer.write(fromHex("ff".repeat(9)));
    assert.ok((await closeError) instanceof MplexProtocolError);
    assert.equal(await frames.ended(), true);
  });

  it("a length varint above 9 bytes closes the connection", async () => {
    const { writer, closeError } = rawSetup();
    await writer.write(fromHex("02" + "80".repeat(9) + "01"));
    assert.ok((await closeError) instanceof MplexProtocolError);
  });

  it("the undefined flag 7 closes the connection", async () => {
    const { writer, closeError } = rawSetup();
    await writer.write(fromHex("0700"));
    assert.ok((await closeError) instanceof MplexProtocolError);
  });

  it("NewStream for an existing id closes the connection and fails its open streams", async () => {
    const streams: MuxedStream[] = [];
    const { send, closeError } = rawSetup({}, { onIncomingStream: (s) => streams.push(s) });
    await send(5, MplexFlag.NewStream);
    await send(5, MplexFlag.NewStream);
    assert.ok((await closeError) instanceof MplexProtocolError);
    assert.equal(streams.length, 1);
    await assert.rejects(streams[0].readable.getReader().read(), StreamResetError);
  });

  it("a NewStream flood is reset beyond maxInboundStreams; the honest streams keep working", async () => {
    const accepted: MuxedStream[] = [];
    const { muxer, send, frames } = rawSetup({ maxInboundStreams: 8 }, {
      onIncomingStream: (s) => accepted.push(s),
    });
    for (let id = 0; id < 200; id++) await send(id, MplexFlag.NewStream);
    // One reset per refused stream, for exactly the ids beyond the cap.
    const resets = new Set<number>();
    while (resets.size < 192) {
      const f = await frames.next();
      assert.ok(f !== undefined);
      assert.equal(f.flag, MplexFlag.ResetReceiver);
      resets.add(f.id);
    }
    assert.deepEqual(
      [...resets].sort((a, b) => a - b),
      Array.from({ length: 192 }, (_, i) => i + 8),
    );
    assert.equal(accepted.length, 8);
    assert.equal(muxer.streams.length, 8);
    // An accepted stream still carries data.
    await send(3, MplexFlag.MessageInitiator, new Uint8Array([42]));
    const reader = accepted[3].readable.getReader();
    assert.deepEqual(await readN(reader, 1), new Uint8Array([42]));
    muxer.abort();
  });

  it("a stream whose reader falls behind maxStreamBufferSize is reset (slowReaderTimeout 0)", async () => {
    const accepted: MuxedStream[] = [];
    const { muxer, send, frames } = rawSetup({
      maxMessageSize: 1024,
      maxStreamBufferSize: 4096,
      slowReaderTimeout: 0,
    }, { onIncomingStream: (s) => accepted.push(s) });
    await send(0, MplexFlag.NewStream);
    await send(1, MplexFlag.NewStream);
    for (let i = 0; i < 5; i++) await send(0, MplexFlag.MessageInitiator, new Uint8Array(1024));
    const [reset] = await frames.until((f) => f.flag === MplexFlag.ResetReceiver);
    assert.deepEqual([reset.id, reset.flag], [0, MplexFlag.ResetReceiver]);
    const err = await accepted[0].readable.getReader().read().then(
      () => undefined,
      (e: unknown) => e,
    );
    assert.ok(err instanceof StreamResetError);
    assert.ok(err.cause instanceof LimitExceededError);
    assert.equal((err.cause as LimitExceededError).limit, "maxStreamBufferSize");
    // Only that stream: the other one and the connection are fine.
    await send(1, MplexFlag.MessageInitiator, new Uint8Array([7]));
    assert.deepEqual(await readN(accepted[1].readable.getReader(), 1), new Uint8Array([7]));
    assert.equal(muxer.streams.length, 1);
    muxer.abort();
  });

  it("with a slow-reader timeout, data past the buffer waits for the reader instead", async () => {
    const accepted: MuxedStream[] = [];
    const { muxer, send, frames } = rawSetup({
      maxMessageSize: 1024,
      maxStreamBufferSize: 4096,
      slowReaderTimeout: 60_000,
    }, { onIncomingStream: (s) => accepted.push(s) });
    await send(0, MplexFlag.NewStream);
    const total = 64 * 1024;
    for (let i = 0; i < total / 1024; i++) {
      void send(0, MplexFlag.MessageInitiator, new Uint8Array(1024).fill(i & 255));
    }
    // Everything arrives, in order, without a reset, because the connection paused.
    const got = await readN(accepted[0].readable.getReader(), total);
    for (let i = 0; i < total / 1024; i++) assert.equal(got[i * 1024], i & 255);
    assert.equal(frames.chunks.length, 0); // we sent nothing back (no reset)
    muxer.abort();
  });

  it("the slow-reader timeout resets the stalled stream and the connection goes on", async () => {
    const accepted: MuxedStream[] = [];
    const { muxer, send, frames } = rawSetup({
      maxMessageSize: 1024,
      maxStreamBufferSize: 1024,
      slowReaderTimeout: 1,
    }, { onIncomingStream: (s) => accepted.push(s) });
    await send(0, MplexFlag.NewStream);
    await send(1, MplexFlag.NewStream);
    await send(0, MplexFlag.MessageInitiator, new Uint8Array(1024));
    await send(0, MplexFlag.MessageInitiator, new Uint8Array(1024));
    await frames.until((f) => f.flag === MplexFlag.ResetReceiver && f.id === 0);
    await assert.rejects(accepted[0].readable.getReader().read(), StreamResetError);
    await send(1, MplexFlag.MessageInitiator, new Uint8Array([9]));
    assert.deepEqual(await readN(accepted[1].readable.getReader(), 1), new Uint8Array([9]));
    muxer.abort();
  });

  it("messages for unknown streams are dropped without closing", async () => {
    const accepted: MuxedStream[] = [];
    const { muxer, send } = rawSetup({}, { onIncomingStream: (s) => accepted.push(s) });
    for (let i = 0; i < 100; i++) {
      await send(1000 + i, MplexFlag.MessageInitiator, new Uint8Array(10));
      await send(1000 + i, MplexFlag.ResetInitiator);
    }
    await send(0, MplexFlag.NewStream);
    await send(0, MplexFlag.MessageInitiator, new Uint8Array([1]));
    // `send` resolves once the bytes are written to the pipe, not once the muxer parsed them
    // (under CPU load the stream was not accepted yet: a flaky TypeError here).
    for (let i = 0; i < 5000 && accepted.length === 0; i++) {
      await new Promise((r) => setTimeout(r, 1));
    }
    assert.equal(accepted.length, 1, "the stream opened after the junk is accepted");
    assert.deepEqual(await readN(accepted[0].readable.getReader(), 1), new Uint8Array([1]));
    muxer.abort();
  });
});
