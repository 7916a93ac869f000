// HARDENING.md, multistream rows: bad first message, oversized length, missing newline, invalid
// UTF-8 (each a distinct error, closed before buffering more than the limit); endless
// unsupported proposals end at the attempt cap; silence hits the deadline; abort leaks nothing.
// Deno's test sanitizers (ops, resources) stay on: a leaked timer fails these tests there.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { concat, toHex, utf8Encode } from "../../src/bytes.ts";
import { AbortError, ProtocolNegotiationError, TimeoutError } from "../../src/errors.ts";
import { duplexPair } from "../../src/stream/pair.ts";
import {
  encodeMessage,
  encodeMessages,
  handle,
  InvalidHeaderError,
  InvalidUtf8Error,
  MAX_NEGOTIATION_ATTEMPTS,
  MessageTooLongError,
  MissingNewlineError,
  type MultistreamError,
  PROTOCOL_ID,
  select,
  TooManyAttemptsError,
} from "../../src/multistream/mod.ts";
import {
  chunkSource,
  collector,
  readN,
  trackListeners,
  trackTimers,
  writeChunks,
} from "./helpers.ts";

const HEADER = encodeMessage(PROTOCOL_ID);

/** Run handle() over scripted input that stays open (silence) after the chunks. */
async function handleScripted(chunks: Uint8Array[], options: { maxAttempts?: number } = {}) {
  const source = chunkSource(chunks, { open: true });
  const sink = collector();
  const error = await handle({ readable: source.readable, writable: sink.writable }, ["/p"], {
    // A long deadline: if a case waited for more bytes instead of failing at once, it would end
    // in a TimeoutError, which the class assertions below reject.
    timeoutMs: 60_000,
    ...options,
  }).then(() => undefined, (e) => e);
  return { error, source, sink };
}

describe("multistream hardening: malformed first messages, each a distinct error", () => {
  it("first message is not /multistream/1.0.0", async () => {
    const { error, source, sink } = await handleScripted([encodeMessage("/p")]);
    assert.ok(error instanceof InvalidHeaderError);
    assert.equal(error.reason, "invalid-header");
    // torn down: our read side cancelled, our write side aborted with the error
    assert.equal(source.cancelled(), error);
    assert.equal(sink.aborted(), error);
  });

  it("a dialer that gets a bad header fails with InvalidHeaderError", async () => {
    const source = chunkSource([encodeMessages(["/multistream/2.0.0", "/p"])]);
    const sink = collector();
    await assert.rejects(
      select({ readable: source.readable, writable: sink.writable }, ["/q", "/p"]),
      InvalidHeaderError,
    );
  });

  it("a length prefix of 1025 fails at once, before any body is read", async () => {
    // 1025 = uvarint 0x81 0x08, then silence: nothing of the body is ever requested.
    const { error, source } = await handleScripted([new Uint8Array([0x81, 0x08])]);
    assert.ok(error instanceof MessageTooLongError, `got ${error}`);
    assert.equal(error.reason, "too-long");
    assert.equal(source.pulls(), 1, "no read beyond the prefix");
  });

  it("a 1025-byte message after the header fails on its prefix, body never pulled", async () => {
    const body = new Uint8Array(1025).fill(0x61);
    body[1024] = 0x0a;
    const { error, source } = await handleScripted([
      HEADER,
      new Uint8Array([0x81, 0x08]),
      body, // offered but must never be pulled
    ]);
    assert.ok(error instanceof MessageTooLongError);
    assert.equal(source.pulls(), 2);
  });

  it("a message without its trailing newline", async () => {
    const { error } = await handleScripted([HEADER, new Uint8Array([0x02, 0x2f, 0x70])]);
    assert.ok(error instanceof MissingNewlineError);
    assert.equal(error.reason, "missing-newline");
  });

  it("invalid UTF-8", async () => {
    const { error } = await handleScripted([HEADER, new Uint8Array([0x03, 0xc3, 0x28, 0x0a])]);
    assert.ok(error instanceof InvalidUtf8Error);
    assert.equal(error.reason, "invalid-utf8");
  });

  it("the four cases are four distinct classes and reasons", async () => {
    const errors = await Promise.all([
      handleScripted([encodeMessage("/p")]),
      handleScripted([new Uint8Array([0x81, 0x08])]),
      handleScripted([HEADER, new Uint8Array([0x02, 0x2f, 0x70])]),
      handleScripted([HEADER, new Uint8Array([0x03, 0xc3, 0x28, 0x0a])]),
    ]);
    const list = errors.map((e) => e.error as MultistreamError);
    for (const e of list) assert.ok(e instanceof ProtocolNegotiationError);
    assert.equal(new Set(list.map((e) => e.constructor)).size, 4);
    assert.equal(new Set(list.map((e) => e.reason)).size, 4);
  });
});

describe("multistream hardening: endless unsupported proposals", () => {
  function endless(): { readable: ReadableStream<Uint8Array>; sent: () => number } {
    let i = 0;
    const readable = new ReadableStream<Uint8Array>({
      pull(controller) {
        controller.enqueue(i === 0 ? HEADER : encodeMessage(`/nope/${i}`));
        i++;
      },
    }, { highWaterMark: 0 });
    return { readable, sent: () => i };
  }

  it(`ends at MAX_NEGOTIATION_ATTEMPTS (${MAX_NEGOTIATION_ATTEMPTS}) na answers`, async () => {
    const source = endless();
    const sink = collector();
    const err = await handle({ readable: source.readable, writable: sink.writable }, ["/p"])
      .then(() => undefined, (e) => e);
    assert.ok(err instanceof TooManyAttemptsError, `got ${err}`);
    const na = toHex(encodeMessage("na"));
    const expected = toHex(HEADER) + na.repeat(MAX_NEGOTIATION_ATTEMPTS);
    assert.equal(toHex(sink.bytes()), expected);
    assert.equal(sink.aborted(), err, "write side aborted so the caller resets");
  });

  it("honours a custom maxAttempts", async () => {
    const source = endless();
    const sink = collector();
    await assert.rejects(
      handle({ readable: source.readable, writable: sink.writable }, ["/p"], { maxAttempts: 3 }),
      TooManyAttemptsError,
    );
    assert.equal(source.sent(), 1 + 4);
  });
});

describe("multistream hardening: deadlines and aborts", () => {
  it("silence: the listener's deadline fires", async () => {
    const [, b] = duplexPair();
    await assert.rejects(handle(b, ["/p"], { timeoutMs: 50 }), TimeoutError);
  });

  it("silence: the dialer's deadline fires", async () => {
    const [a] = duplexPair();
    await assert.rejects(select(a, ["/p", "/q"], { timeoutMs: 50 }), TimeoutError);
  });

  it("silence: a lazy select's first read hits the deadline", async () => {
    const [a] = duplexPair();
    const dialed = await select(a, ["/p"], { timeoutMs: 50 });
    const reader = dialed.stream.readable.getReader();
    await assert.rejects(reader.read(), TimeoutError);
  });

  it("a length prefix then silence hits the deadline, not a hang", async () => {
    const source = chunkSource([HEADER, new Uint8Array([0x05, 0x2f])], { open: true });
    const sink = collector();
    await assert.rejects(
      handle({ readable: source.readable, writable: sink.writable }, ["/p"], { timeoutMs: 50 }),
      TimeoutError,
    );
    assert.ok(source.cancelled() instanceof TimeoutError);
  });

  it("abort mid-negotiation: AbortError, remote sees the stream fail", async () => {
    const [a, b] = duplexPair();
    const controller = new AbortController();
    const handled = handle(b, ["/p"], { signal: controller.signal }).then(
      () => undefined,
      (e) => e,
    );
    // The listener answers the dialer's header with its own: the negotiation is under way.
    const w = a.writable.getWriter();
    await w.write(HEADER);
    w.releaseLock();
    assert.equal(toHex(await readN(a.readable, HEADER.byteLength)), toHex(HEADER));
    controller.abort();
    const err = await handled;
    assert.ok(err instanceof AbortError, `got ${err}`);
    // the listener aborted its writable: the dialer's read side errors
    await assert.rejects(a.readable.getReader().read());
  });

  it("abort mid-negotiation on the dialer side", async () => {
    const [a, b] = duplexPair();
    const controller = new AbortController();
    const dialed = select(a, ["/p", "/q"], { signal: controller.signal });
    await readN(b.readable, concat([HEADER, encodeMessage("/p")]).byteLength);
    controller.abort(new Error("user gave up"));
    await assert.rejects(dialed, (e) => e instanceof Error && e.message === "user gave up");
  });

  it("an already aborted signal fails at once with AbortError", async () => {
    const [a, b] = duplexPair();
    const controller = new AbortController();
    controller.abort();
    await assert.rejects(handle(b, ["/p"], { signal: controller.signal }), AbortError);
    await assert.rejects(select(a, ["/p"], { signal: controller.signal }), AbortError);
    await assert.rejects(select(a, ["/p", "/q"], { signal: controller.signal }), AbortError);
  });

  it("rejects a non-positive timeout as a bad argument", async () => {
    const [a] = duplexPair();
    await assert.rejects(select(a, ["/p"], { timeoutMs: 0 }), RangeError);
    await assert.rejects(select(a, ["/p", "/q"], { lazy: true }), RangeError);
    assert.equal(utf8Encode("x").byteLength, 1);
  });
});

describe("multistream hardening: nothing left behind after a negotiation settles", () => {
  it("success, failure, timeout and abort release every timer and signal listener", async () => {
    const timers = trackTimers();
    try {
      const outer = new AbortController(); // a long-lived signal, e.g. the node's shutdown
      const listeners = trackListeners(outer.signal);
      const signal = outer.signal;

      // success, eager and lazy
      {
        const [a, b] = duplexPair();
        await Promise.all([select(a, ["/q", "/p"], { signal }), handle(b, ["/p"], { signal })]);
        assert.equal(timers.live(), 0);
        assert.equal(listeners(), 0);
        const [c, d] = duplexPair();
        const lazy = await select(c, ["/p"], { signal });
        assert.equal(timers.live(), 0, "no deadline runs before the first read");
        const handled = await handle(d, ["/p"], { signal });
        await writeChunks(handled.stream, [utf8Encode("x")]);
        await readN(lazy.stream.readable, 1);
        assert.equal(timers.live(), 0);
        assert.equal(listeners(), 0);
      }
      // protocol failure
      {
        const source = chunkSource([encodeMessage("/bad")], { open: true });
        const sink = collector();
        await assert.rejects(
          handle({ readable: source.readable, writable: sink.writable }, ["/p"], { signal }),
          InvalidHeaderError,
        );
        assert.equal(timers.live(), 0);
        assert.equal(listeners(), 0);
      }
      // timeout
      {
        const [, b] = duplexPair();
        await assert.rejects(handle(b, ["/p"], { signal, timeoutMs: 20 }), TimeoutError);
        assert.equal(timers.live(), 0);
        assert.equal(listeners(), 0);
      }
      // abort (a per-negotiation signal)
      {
        const [, b] = duplexPair();
        const c = new AbortController();
        const p = handle(b, ["/p"], { signal: c.signal });
        c.abort();
        await assert.rejects(p, AbortError);
        assert.equal(timers.live(), 0);
      }
    } finally {
      timers.restore();
    }
  });
});

describe("multistream hardening: cleanup does not wait on the source", () => {
  it("a failed negotiation rejects and releases its deadline even if cancelling hangs", async () => {
    const timers = trackTimers();
    try {
      // A source whose cancel never settles (a muxed stream's reader may wait on its muxer).
      const readable = new ReadableStream<Uint8Array>({ cancel: () => new Promise(() => {}) });
      const writable = new WritableStream<Uint8Array>();
      const controller = new AbortController();
      const pending = handle({ readable, writable }, ["/p"], {
        signal: controller.signal,
        timeoutMs: 10_000,
      });
      controller.abort();
      await assert.rejects(pending, AbortError);
      assert.equal(timers.live(), 0, "the 10 s negotiation deadline was released");
    } finally {
      timers.restore();
    }
  });
});
