// mplex muxer behaviour over an in-memory pipe: stream semantics (src/muxer.ts), parsing across
// chunk boundaries, write splitting and coalescing, and the HARDENING.md fault rows.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { concat, fromHex } from "../../src/bytes.ts";
import {
  ConnectionClosedError,
  LimitExceededError,
  StreamClosedError,
  StreamResetError,
} from "../../src/errors.ts";
import type { MuxedStream } from "../../src/muxer.ts";
import { connPair } from "../helpers/conn.ts";
import { mplex, MPLEX_PROTOCOL_ID } from "../../protocols/mplex/mod.ts";
import { encodedLength, encodeMessage } from "../../protocols/mplex/codec.ts";
import { MAX_MESSAGE_SIZE, MplexFlag } from "../../protocols/mplex/constants.ts";
import { mplexLimits } from "../../protocols/mplex/service.ts";
import { pair, rawSetup, readAll, readN, tick } from "./helpers.ts";

const echo = (s: MuxedStream): void => {
  s.readable.pipeTo(s.writable).catch(() => {});
};

describe("mplex muxer", () => {
  it("opens streams both ways and echoes; ids and directions follow js-libp2p", async () => {
    const { client, server } = pair({}, echo);
    assert.equal(client.protocol, MPLEX_PROTOCOL_ID);
    const s = await client.newStream();
    assert.equal(s.id, "i1"); // the dialer numbers its streams 1, 3, 5, ... (spec)
    assert.equal(s.direction, "outbound");
    const w = s.writable.getWriter();
    await w.write(new Uint8Array([1, 2, 3]));
    await w.close();
    assert.deepEqual(await readAll(s.readable), new Uint8Array([1, 2, 3]));
    assert.equal(server.streams.length, 0); // freed on both sides once both closed
    assert.equal(client.streams.length, 0);
    assert.equal(s.status, "closed");
    assert.ok(s.timeline.close !== undefined);
  });

  it("inbound streams are named r<n>; the listener numbers its streams 0, 2, 4, ...", async () => {
    const got: MuxedStream[] = [];
    const { client, server } = pair({}, (st) => got.push(st), () => {});
    const out = await client.newStream();
    await tick();
    assert.equal(got[0].id, "r1");
    assert.equal(got[0].direction, "inbound");
    const serverOut = await server.newStream();
    assert.equal(serverOut.id, "i0");
    assert.equal((await client.newStream()).id, "i3");
    const a = out.writable.getWriter();
    const b = serverOut.writable.getWriter();
    await a.write(new Uint8Array([0xa]));
    await b.write(new Uint8Array([0xb]));
    assert.deepEqual(await readN(got[0].readable.getReader(), 1), new Uint8Array([0xa]));
    client.abort();
  });

  it("parses messages split at every byte boundary", async () => {
    const accepted: MuxedStream[] = [];
    const { muxer, writer } = rawSetup({}, { onIncomingStream: (st) => accepted.push(st) });
    const payload = new Uint8Array(300).map((_, i) => i & 255);
    const wire = concat([
      encodeMessage(0, MplexFlag.NewStream, new Uint8Array([0x30])),
      encodeMessage(0, MplexFlag.MessageInitiator, payload.subarray(0, 200)),
      encodeMessage(0, MplexFlag.MessageInitiator, new Uint8Array(0)),
      encodeMessage(1 << 20, MplexFlag.NewStream),
      encodeMessage(0, MplexFlag.MessageInitiator, payload.subarray(200)),
      encodeMessage(0, MplexFlag.CloseInitiator),
    ]);
    for (let i = 0; i < wire.byteLength; i++) await writer.write(wire.subarray(i, i + 1));
    assert.deepEqual(await readAll(accepted[0].readable), payload);
    assert.equal(accepted[1].id, `r${1 << 20}`);
    muxer.abort();
  });

  it("splits writes larger than maxMessageSize", async () => {
    const { muxer, frames } = rawSetup({ maxMessageSize: 1024, maxStreamBufferSize: 4096 });
    const s = await muxer.newStream();
    const w = s.writable.getWriter();
    await w.write(new Uint8Array(5000));
    const got = await frames.until((f) =>
      f.flag === MplexFlag.MessageInitiator && f.data.byteLength < 1024
    );
    assert.deepEqual(got.map((f) => [f.flag, f.data.byteLength]), [
      [MplexFlag.NewStream, 1],
      [MplexFlag.MessageInitiator, 1024],
      [MplexFlag.MessageInitiator, 1024],
      [MplexFlag.MessageInitiator, 1024],
      [MplexFlag.MessageInitiator, 1024],
      [MplexFlag.MessageInitiator, 904],
    ]);
    muxer.abort();
  });

  it("coalesces frames produced in the same tick into one write", async () => {
    const { muxer, frames } = rawSetup();
    for (let i = 0; i < 10; i++) void muxer.newStream();
    const got = await frames.until((f) => f.id === 18); // the listener's ids: 0, 2, ..., 18
    assert.equal(got.length, 10);
    assert.equal(frames.chunks.length, 1);
    const expected = got.reduce(
      (n, f) => n + encodedLength(f.id, f.flag, f.data.byteLength),
      0,
    );
    assert.equal(frames.chunks[0].byteLength, expected);
    muxer.abort();
  });

  it("write resolves and the caller may reuse its buffer: bytes were copied", async () => {
    const { client } = pair({}, echo);
    const s = await client.newStream();
    const w = s.writable.getWriter();
    const buf = new Uint8Array([1, 2, 3]);
    await w.write(buf);
    buf.fill(9);
    await w.close();
    assert.deepEqual(await readAll(s.readable), new Uint8Array([1, 2, 3]));
  });

  it("half-close: reads go on after the local close, writes reject, freed when both closed", async () => {
    let remote!: MuxedStream;
    const { client, server } = pair({}, (st) => remote = st);
    const s = await client.newStream();
    await s.close(); // FIN before anything was written
    assert.equal(s.status, "closing");
    await assert.rejects(s.writable.getWriter().write(new Uint8Array([1])), StreamClosedError);
    await tick();
    assert.deepEqual(await readAll(remote.readable), new Uint8Array(0)); // remote sees EOF
    assert.equal(client.streams.length, 1); // not freed: the remote may still write
    const rw = remote.writable.getWriter();
    await rw.write(new Uint8Array([4, 5]));
    const reader = s.readable.getReader();
    assert.deepEqual(await readN(reader, 2), new Uint8Array([4, 5]));
    await rw.close();
    assert.equal((await reader.read()).done, true);
    assert.equal(client.streams.length, 0);
    assert.equal(server.streams.length, 0);
    assert.equal(s.status, "closed");
  });

  it("close() with a writer held waits for the write in flight; later writes throw StreamClosedError", async () => {
    let remote!: MuxedStream;
    const { client } = pair({}, (st) => remote = st);
    const s = await client.newStream();
    const w = s.writable.getWriter();
    const written = w.write(new Uint8Array([7]));
    await s.close();
    await written;
    await assert.rejects(w.write(new Uint8Array([8])), StreamClosedError);
    assert.deepEqual(await readAll(remote.readable), new Uint8Array([7]));
    client.abort();
  });

  it("close() is idempotent", async () => {
    const { client } = pair({}, () => {});
    const s = await client.newStream();
    await s.close();
    await s.close();
    assert.equal(s.status, "closing");
    client.abort();
  });

  it("a remote reset rejects a pending read and later writes with StreamResetError", async () => {
    let remote!: MuxedStream;
    const { client } = pair({}, (st) => remote = st);
    const s = await client.newStream();
    const reader = s.readable.getReader();
    const pending = reader.read();
    await tick();
    remote.reset();
    await assert.rejects(pending, StreamResetError);
    await assert.rejects(s.writable.getWriter().write(new Uint8Array([1])), StreamResetError);
    assert.equal(s.status, "reset");
    assert.equal(client.streams.length, 0);
    await assert.rejects(remote.readable.getReader().read(), StreamResetError); // local side too
  });

  it("abort(reason) shows the reason locally and a reset remotely", async () => {
    let remote!: MuxedStream;
    const { client } = pair({}, (st) => remote = st);
    const s = await client.newStream();
    await tick();
    const reason = new Error("app gave up");
    s.abort(reason);
    await assert.rejects(s.readable.getReader().read(), (e) => e === reason);
    await assert.rejects(remote.readable.getReader().read(), StreamResetError);
  });

  it("writable.abort() resets the stream", async () => {
    let remote!: MuxedStream;
    const { client } = pair({}, (st) => remote = st);
    const s = await client.newStream();
    await tick();
    await s.writable.abort(new Error("stop"));
    await assert.rejects(remote.readable.getReader().read(), StreamResetError);
    assert.equal(s.status, "reset");
  });

  it("closeRead drops data; the remote can still be written to", async () => {
    let remote!: MuxedStream;
    const { client } = pair({}, (st) => remote = st);
    const s = await client.newStream();
    await tick();
    s.closeRead();
    const rw = remote.writable.getWriter();
    await rw.write(new Uint8Array(10)); // dropped, no error
    const w = s.writable.getWriter();
    await w.write(new Uint8Array([3]));
    assert.deepEqual(await readN(remote.readable.getReader(), 1), new Uint8Array([3]));
    client.abort();
  });

  it("a remote stream nobody handles is reset; a throwing handler aborts it", async () => {
    const { muxer, send, frames } = rawSetup({}, { onIncomingStream: undefined });
    await send(0, MplexFlag.NewStream);
    const [f] = await frames.until(() => true);
    assert.deepEqual([f.id, f.flag], [0, MplexFlag.ResetReceiver]);
    assert.equal(muxer.streams.length, 0);
    muxer.abort();
    const t = rawSetup({}, {
      onIncomingStream: () => {
        throw new Error("handler broke");
      },
    });
    await t.send(4, MplexFlag.NewStream);
    const [g] = await t.frames.until(() => true);
    assert.deepEqual([g.id, g.flag], [4, MplexFlag.ResetReceiver]);
    t.muxer.abort();
  });

  it("newStream rejects at maxOutboundStreams and after close", async () => {
    const { client } = pair({ maxOutboundStreams: 2 }, echo);
    await client.newStream();
    await client.newStream();
    await assert.rejects(client.newStream(), LimitExceededError);
    const ac = new AbortController();
    ac.abort();
    await assert.rejects(client.newStream({ signal: ac.signal }));
    client.abort();
    await assert.rejects(client.newStream(), ConnectionClosedError);
  });

  it("close() waits for open streams to finish, then closes the connection", async () => {
    const { client, server } = pair({}, echo);
    const s = await client.newStream();
    let closed = false;
    const closing = client.close().then(() => closed = true);
    await tick();
    assert.equal(closed, false);
    await assert.rejects(client.newStream(), StreamClosedError);
    const w = s.writable.getWriter();
    await w.write(new Uint8Array([1]));
    await w.close();
    assert.deepEqual(await readAll(s.readable), new Uint8Array([1]));
    await closing;
    await client.closed;
    await server.closed; // the server saw the connection end with no stream open
  });

  it("close({ signal }) resets the remaining streams when the signal aborts", async () => {
    const { client } = pair({}, () => {});
    const s = await client.newStream();
    const ac = new AbortController();
    const closing = client.close({ signal: ac.signal });
    ac.abort();
    await closing;
    await assert.rejects(s.readable.getReader().read(), StreamResetError);
    assert.equal(client.streams.length, 0);
  });

  it("validates options", () => {
    assert.equal(mplexLimits().maxMessageSize, MAX_MESSAGE_SIZE);
    assert.equal(mplexLimits().maxInboundStreams, 1024);
    assert.throws(() => mplex({ maxInboundStreams: 0 }), RangeError);
    assert.throws(() => mplex({ maxInboundStreams: 1.5 }), TypeError);
    assert.throws(() => mplex({ maxMessageSize: 32 * 1024 * 1024 }), RangeError);
    assert.throws(() => mplex({ maxMessageSize: 2048, maxStreamBufferSize: 1024 }), RangeError);
    assert.throws(
      () => mplex({ maxStreamBufferSize: 8 << 20, maxSessionBufferSize: 4 << 20 }),
      RangeError,
    );
    assert.throws(() => mplex({ slowReaderTimeout: -1 }), RangeError);
    assert.throws(() => mplex({ maxOutboundStreams: "3" as unknown as number }), TypeError);
    assert.equal(mplexLimits({ maxMessageSize: 8 << 20 }).maxStreamBufferSize, 8 << 20);
  });
});

describe("mplex faults (HARDENING.md, Faults)", () => {
  it("connection destroyed mid-transfer with 64 streams: every stream rejects with a reset error", async () => {
    const remotes: MuxedStream[] = [];
    const { client, server, a } = pair({}, (st) => remotes.push(st));
    let clientError: Error | undefined;
    const streams = await Promise.all(Array.from({ length: 64 }, () => client.newStream()));
    const writers = streams.map((s) => s.writable.getWriter());
    await Promise.all(writers.map((w) => w.write(new Uint8Array(1000))));
    await tick();
    assert.equal(remotes.length, 64);
    const reads = streams.map((s) => s.readable.getReader().read());
    const remoteReads = remotes.map((s) => readAll(s.readable));
    a.abort(new Error("socket destroyed"));
    const results = await Promise.allSettled([...reads, ...remoteReads]);
    for (const r of results) {
      assert.equal(r.status, "rejected");
      assert.ok((r as PromiseRejectedResult).reason instanceof StreamResetError);
    }
    // Writes fail with the same class.
    await assert.rejects(writers[0].write(new Uint8Array(1)), StreamResetError);
    await client.closed;
    await server.closed;
    assert.equal(client.streams.length, 0);
    assert.equal(server.streams.length, 0);
    void clientError;
    // The peer can reconnect: a new pipe works.
    const again = pair({}, echo);
    const s = await again.client.newStream();
    const w = s.writable.getWriter();
    await w.write(new Uint8Array([5]));
    await w.close();
    assert.deepEqual(await readAll(s.readable), new Uint8Array([5]));
  });

  it("the remote ending the connection with streams open is a reset, not EOF", async () => {
    const accepted: MuxedStream[] = [];
    const { writer, send, closeError } = rawSetup({}, {
      onIncomingStream: (s) => accepted.push(s),
    });
    await send(0, MplexFlag.NewStream);
    await send(0, MplexFlag.MessageInitiator, new Uint8Array([1]));
    // `send` resolves once the pipe took the bytes, not once the muxer parsed them.
    for (let i = 0; i < 5000 && accepted.length === 0; i++) {
      await new Promise((r) => setTimeout(r, 1));
    }
    assert.equal(accepted.length, 1);
    await writer.close();
    assert.ok((await closeError) instanceof ConnectionClosedError);
    // Like a reset, the failure drops what was queued (spec, "Resetting a stream").
    await assert.rejects(accepted[0].readable.getReader().read(), StreamResetError);
  });

  it("the remote ending the connection with no stream open ends the session cleanly", async () => {
    const { writer, muxer, closeError } = rawSetup();
    await writer.close();
    assert.equal(await closeError, undefined);
    await muxer.closed;
  });

  it("muxer.abort() resets every stream and reports the reason", async () => {
    const errors: (Error | undefined)[] = [];
    const [a, b] = connPair();
    mplex().createStreamMuxer(b, { direction: "inbound", onIncomingStream: echo });
    const m = mplex().createStreamMuxer(a, {
      direction: "outbound",
      onClose: (e) => errors.push(e),
    });
    const s = await m.newStream();
    const reason = new Error("shutting down");
    m.abort(reason);
    const err = await s.readable.getReader().read().then(() => undefined, (e: unknown) => e);
    assert.ok(err instanceof StreamResetError);
    assert.equal(err.cause, reason);
    assert.deepEqual(errors, [reason]);
    m.abort(); // idempotent
    assert.equal(errors.length, 1);
  });

  it("a pending write rejects when the stream is reset while the connection is full", async () => {
    // A raw peer that never reads: our writes fill the pipe and then wait.
    const { muxer, send } = rawSetup({}, { onIncomingStream: () => {} });
    const s = await muxer.newStream();
    const w = s.writable.getWriter();
    let failed: unknown;
    const writing = (async () => {
      try {
        for (;;) await w.write(new Uint8Array(64 * 1024));
      } catch (e) {
        failed = e;
      }
    })();
    await tick();
    await tick();
    await send(0, MplexFlag.ResetReceiver, undefined);
    await writing;
    assert.ok(failed instanceof StreamResetError);
    muxer.abort();
  });

  it("raw bytes after the header stay views of the received chunk (no reassembly copy)", async () => {
    const accepted: MuxedStream[] = [];
    const { muxer, writer } = rawSetup({}, { onIncomingStream: (s) => accepted.push(s) });
    const chunk = concat([
      fromHex("0000"),
      encodeMessage(0, MplexFlag.MessageInitiator, new Uint8Array(100)),
    ]);
    await writer.write(chunk);
    const { value } = await accepted[0].readable.getReader().read();
    // The pipe hands the muxer one copy of `chunk`: the payload is a view into that copy, not
    // a 100-byte buffer of its own.
    assert.equal(value!.byteLength, 100);
    assert.equal(value!.buffer.byteLength, chunk.byteLength);
    muxer.abort();
  });
});
