/**
 * Stream-muxer conformance suite: written once, run against every muxer (yamux, mplex). Each
 * case connects two sessions over connPair() and checks bytes, errors and counters against the
 * stream semantics documented in src/muxer.ts. Muxer-agnostic: only the StreamMuxerFactory
 * contract is used.
 */

import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { sha256 } from "@noble/hashes/sha2.js";
import { ConnectionClosedError, StreamClosedError, StreamResetError } from "../../src/errors.ts";
import type { MuxedStream, StreamMuxer, StreamMuxerFactory } from "../../src/muxer.ts";
import { connPair } from "../helpers/conn.ts";
import type { WebConnection } from "../helpers/conn.ts";

/** Options for {@link runMuxerSuite}. */
export interface MuxerSuiteOptions {
  /** Bytes of the one-way large transfer (default 64 MiB). */
  largeTransferBytes?: number;
  /** Streams × messages of the load case (default 1000 × 100). */
  loadStreams?: number;
  /** Echo messages per stream in the load case (default 100). */
  loadMessages?: number;
}

interface Pair {
  client: StreamMuxer;
  server: StreamMuxer;
  /** Next stream the server accepted. */
  accept(): Promise<MuxedStream>;
  /** Next stream the client accepted (opened by the server). */
  acceptOnClient(): Promise<MuxedStream>;
  conns: [WebConnection, WebConnection];
  clientClose: Promise<Error | undefined>;
  serverClose: Promise<Error | undefined>;
  /** Abort both sessions (test cleanup). */
  dispose(): Promise<void>;
}

function queue<T>(): { push(v: T): void; next(): Promise<T> } {
  const items: T[] = [];
  const waiters: ((v: T) => void)[] = [];
  return {
    push(v) {
      const w = waiters.shift();
      if (w) w(v);
      else items.push(v);
    },
    next() {
      const v = items.shift();
      if (v !== undefined) return Promise.resolve(v);
      return new Promise((resolve) => waiters.push(resolve));
    },
  };
}

function connect(
  factory: StreamMuxerFactory,
  onServerStream?: (s: MuxedStream) => void,
): Pair {
  const conns = connPair();
  const serverQ = queue<MuxedStream>();
  const clientQ = queue<MuxedStream>();
  let clientDone!: (e: Error | undefined) => void;
  let serverDone!: (e: Error | undefined) => void;
  const clientClose = new Promise<Error | undefined>((r) => (clientDone = r));
  const serverClose = new Promise<Error | undefined>((r) => (serverDone = r));
  const client = factory.createStreamMuxer(conns[0], {
    direction: "outbound",
    onIncomingStream: (s) => clientQ.push(s),
    onClose: (e) => clientDone(e),
  });
  const server = factory.createStreamMuxer(conns[1], {
    direction: "inbound",
    onIncomingStream: onServerStream ?? ((s) => serverQ.push(s)),
    onClose: (e) => serverDone(e),
  });
  return {
    client,
    server,
    conns,
    clientClose,
    serverClose,
    accept: serverQ.next,
    acceptOnClient: clientQ.next,
    async dispose() {
      client.abort();
      server.abort();
      await Promise.all([client.closed, server.closed]);
    },
  };
}

function echo(s: MuxedStream): void {
  s.readable.pipeTo(s.writable).catch(() => {});
}

function pattern(length: number, seed: number): Uint8Array {
  const out = new Uint8Array(length);
  for (let i = 0; i < length; i++) out[i] = (i * 31 + seed) & 0xff;
  return out;
}

async function readAll(readable: ReadableStream<Uint8Array>): Promise<Uint8Array> {
  const chunks: Uint8Array[] = [];
  let total = 0;
  for await (const c of readable) {
    chunks.push(c.slice());
    total += c.byteLength;
  }
  const out = new Uint8Array(total);
  let o = 0;
  for (const c of chunks) {
    out.set(c, o);
    o += c.byteLength;
  }
  return out;
}

/** Read exactly `n` bytes (across chunk boundaries) from a locked reader. */
async function readExactly(
  reader: ReadableStreamDefaultReader<Uint8Array>,
  n: number,
  carry: { rest: Uint8Array | undefined },
): Promise<Uint8Array> {
  const out = new Uint8Array(n);
  let o = 0;
  while (o < n) {
    let chunk = carry.rest;
    carry.rest = undefined;
    if (chunk === undefined) {
      const r = await reader.read();
      if (r.done) throw new Error(`stream ended after ${o} of ${n} bytes`);
      chunk = r.value;
    }
    const take = Math.min(n - o, chunk.byteLength);
    out.set(chunk.subarray(0, take), o);
    o += take;
    if (take < chunk.byteLength) carry.rest = chunk.subarray(take);
  }
  return out;
}

async function writeAll(s: MuxedStream, data: Uint8Array, chunk = 16 * 1024): Promise<void> {
  const w = s.writable.getWriter();
  for (let i = 0; i < data.byteLength; i += chunk) await w.write(data.slice(i, i + chunk));
  await w.close();
}

const isResetClass = (e: unknown): boolean =>
  e instanceof StreamResetError || e instanceof ConnectionClosedError;

/** Resolve after the event loop went idle for a few turns (for "has the writer stalled?"). */
function settle(ms = 20): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

async function waitFor(cond: () => boolean, what: string, turns = 500): Promise<void> {
  for (let i = 0; i < turns; i++) {
    if (cond()) return;
    await settle(5);
  }
  assert.fail(`timed out waiting for ${what}`);
}

/**
 * Register the muxer conformance cases for `factory` under `describe(name)`.
 *
 * @example
 * ```ts
 * import { runMuxerSuite } from "./muxer_suite.ts";
 * import { yamux } from "../../protocols/yamux/mod.ts";
 * runMuxerSuite("yamux", () => yamux());
 * ```
 */
export function runMuxerSuite(
  name: string,
  factory: () => StreamMuxerFactory,
  options: MuxerSuiteOptions = {},
): void {
  const largeBytes = options.largeTransferBytes ?? 64 * 1024 * 1024;
  const loadStreams = options.loadStreams ?? 1000;
  const loadMessages = options.loadMessages ?? 100;

  describe(`muxer conformance: ${name}`, () => {
    it("opens a stream and the remote accepts it, both directions", async () => {
      const p = connect(factory());
      try {
        const s = await p.client.newStream();
        assert.equal(s.direction, "outbound");
        const w = s.writable.getWriter();
        await w.write(new TextEncoder().encode("hello"));
        const remote = await p.accept();
        assert.equal(remote.direction, "inbound");
        const r = remote.readable.getReader();
        const { value } = await r.read();
        assert.equal(new TextDecoder().decode(value), "hello");
        // And the other way: the server opens, the client accepts.
        const s2 = await p.server.newStream();
        await s2.writable.getWriter().write(new Uint8Array([42]));
        const remote2 = await p.acceptOnClient();
        const r2 = await remote2.readable.getReader().read();
        assert.deepEqual([...r2.value!], [42]);
        assert.equal(p.client.streams.length, 2);
        assert.equal(p.server.streams.length, 2);
        assert.notEqual(s.id, s2.id);
        assert.equal(p.client.protocol, p.server.protocol);
      } finally {
        await p.dispose();
      }
    });

    it("echoes data and ends the stream on both sides", async () => {
      const p = connect(factory(), echo);
      try {
        const s = await p.client.newStream();
        const data = pattern(100_000, 1);
        const [, back] = await Promise.all([writeAll(s, data, 7_000), readAll(s.readable)]);
        assert.deepEqual(back, data);
        await waitFor(() => p.client.streams.length === 0, "client streams freed");
        await waitFor(() => p.server.streams.length === 0, "server streams freed");
        assert.equal(s.status, "closed");
        assert.ok(s.timeline.close !== undefined && s.timeline.close >= s.timeline.open);
      } finally {
        await p.dispose();
      }
    });

    it("carries many concurrent streams without mixing their bytes", async () => {
      const p = connect(factory(), echo);
      try {
        await Promise.all(Array.from({ length: 50 }, async (_, i) => {
          const s = await p.client.newStream();
          const data = pattern(5_000 + i * 100, i);
          const [, back] = await Promise.all([writeAll(s, data, 1_000), readAll(s.readable)]);
          assert.deepEqual(back, data, `stream ${i}`);
        }));
        await waitFor(() => p.server.streams.length === 0, "server streams freed");
        assert.equal(p.client.streams.length, 0);
      } finally {
        await p.dispose();
      }
    });

    it("half-close: local close first, still reads until the remote closes", async () => {
      const p = connect(factory());
      try {
        const s = await p.client.newStream();
        await writeAll(s, new TextEncoder().encode("request"));
        assert.equal(s.status, "closing");
        const remote = await p.accept();
        const req = await readAll(remote.readable); // ends: client half-closed
        assert.equal(new TextDecoder().decode(req), "request");
        assert.equal(remote.status, "closing");
        await writeAll(remote, new TextEncoder().encode("response"));
        const res = await readAll(s.readable);
        assert.equal(new TextDecoder().decode(res), "response");
        await waitFor(() => s.status === "closed" && remote.status === "closed", "both closed");
        assert.equal(p.client.streams.length, 0);
        assert.equal(p.server.streams.length, 0);
      } finally {
        await p.dispose();
      }
    });

    it("half-close: remote closes first, the local side still writes", async () => {
      const p = connect(factory());
      try {
        const s = await p.client.newStream();
        const w = s.writable.getWriter();
        await w.write(new Uint8Array([1]));
        const remote = await p.accept();
        const rr = remote.readable.getReader();
        assert.deepEqual([...(await rr.read()).value!], [1]);
        await remote.close(); // server half-closes first
        assert.deepEqual(await readAll(s.readable), new Uint8Array(0));
        // The client can still write after the remote's FIN.
        await w.write(new Uint8Array([2, 3]));
        await w.close();
        const rest: number[] = [];
        for (;;) {
          const { done, value } = await rr.read();
          if (done) break;
          rest.push(...value);
        }
        assert.deepEqual(rest, [2, 3]);
        await waitFor(
          () => p.client.streams.length === 0 && p.server.streams.length === 0,
          "freed",
        );
      } finally {
        await p.dispose();
      }
    });

    it("writing after close() rejects with StreamClosedError; after writable.close() it rejects", async () => {
      const p = connect(factory());
      try {
        const s = await p.client.newStream();
        await s.close();
        await s.close(); // idempotent
        await assert.rejects(s.writable.getWriter().write(new Uint8Array([1])), StreamClosedError);
        const s2 = await p.client.newStream();
        const w2 = s2.writable.getWriter();
        await w2.close();
        await assert.rejects(w2.write(new Uint8Array([1])));
      } finally {
        await p.dispose();
      }
    });

    it("a local reset fails the remote's pending read with StreamResetError", async () => {
      const p = connect(factory());
      try {
        const s = await p.client.newStream();
        await s.writable.getWriter().write(new Uint8Array([1]));
        const remote = await p.accept();
        const r = remote.readable.getReader();
        await r.read();
        const pending = r.read();
        s.reset();
        assert.equal(s.status, "reset");
        await assert.rejects(pending, StreamResetError);
        await assert.rejects(
          remote.writable.getWriter().write(new Uint8Array([1])),
          StreamResetError,
        );
        await assert.rejects(s.readable.getReader().read(), StreamResetError);
        await waitFor(() => remote.status === "reset", "remote status reset");
        await waitFor(
          () => p.client.streams.length === 0 && p.server.streams.length === 0,
          "freed",
        );
      } finally {
        await p.dispose();
      }
    });

    it("a remote reset during a read rejects the read; abort(reason) shows the reason locally", async () => {
      const p = connect(factory());
      try {
        const s = await p.client.newStream();
        const w = s.writable.getWriter();
        await w.write(new Uint8Array([1]));
        const remote = await p.accept();
        const read = s.readable.getReader().read();
        const reason = new Error("local reason");
        remote.abort(reason);
        await assert.rejects(read, StreamResetError);
        await assert.rejects(remote.readable.getReader().read(), (e: unknown) => e === reason);
        await assert.rejects(w.write(new Uint8Array([1])), StreamResetError);
        await waitFor(
          () => p.client.streams.length === 0 && p.server.streams.length === 0,
          "freed",
        );
      } finally {
        await p.dispose();
      }
    });

    it("a slow reader stops the sender (backpressure), then all bytes arrive intact", async () => {
      const p = connect(factory());
      try {
        const total = 16 * 1024 * 1024;
        const data = pattern(total, 7);
        const s = await p.client.newStream();
        let written = 0;
        const writing = (async () => {
          const w = s.writable.getWriter();
          for (let i = 0; i < total; i += 64 * 1024) {
            await w.write(data.subarray(i, i + 64 * 1024));
            written = i + 64 * 1024;
          }
          await w.close();
        })();
        const remote = await p.accept();
        // Wait until the writer stops making progress while nobody reads.
        let last = -1;
        while (written !== last) {
          last = written;
          await settle(30);
        }
        assert.ok(written < total, `writer should stall, wrote ${written} of ${total}`);
        const back = await readAll(remote.readable);
        await writing;
        assert.equal(back.byteLength, total);
        assert.deepEqual(sha256(back), sha256(data));
      } finally {
        await p.dispose();
      }
    });

    it(`1 connection × ${loadStreams} streams × ${loadMessages} echo messages`, async () => {
      const p = connect(factory(), echo);
      try {
        await Promise.all(Array.from({ length: loadStreams }, async (_, i) => {
          const s = await p.client.newStream();
          const w = s.writable.getWriter();
          const r = s.readable.getReader();
          const carry = { rest: undefined as Uint8Array | undefined };
          for (let m = 0; m < loadMessages; m++) {
            const msg = pattern(32, i * 7 + m);
            await w.write(msg);
            assert.deepEqual(await readExactly(r, 32, carry), msg);
          }
          await w.close();
          assert.equal((await r.read()).done, true);
        }));
        await waitFor(
          () => p.client.streams.length === 0 && p.server.streams.length === 0,
          "freed",
        );
      } finally {
        await p.dispose();
      }
    });

    it(`transfers ${largeBytes / 1024 / 1024} MiB one way intact`, async () => {
      const p = connect(factory());
      try {
        const s = await p.client.newStream();
        const chunk = 256 * 1024;
        const sender = sha256.create();
        const writing = (async () => {
          const w = s.writable.getWriter();
          for (let i = 0; i < largeBytes; i += chunk) {
            const c = pattern(Math.min(chunk, largeBytes - i), i / chunk);
            sender.update(c);
            await w.write(c);
          }
          await w.close();
        })();
        const remote = await p.accept();
        const receiver = sha256.create();
        let got = 0;
        for await (const c of remote.readable) {
          receiver.update(c);
          got += c.byteLength;
        }
        await writing;
        assert.equal(got, largeBytes);
        assert.deepEqual(receiver.digest(), sender.digest());
      } finally {
        await p.dispose();
      }
    });

    it("stream counts return to zero after close, reset and abort", async () => {
      const p = connect(factory(), echo);
      try {
        const a = await p.client.newStream();
        const b = await p.client.newStream();
        const c = await p.client.newStream();
        await a.writable.getWriter().write(new Uint8Array([1]));
        await a.close();
        await readAll(a.readable);
        b.reset();
        c.abort(new Error("x"));
        await waitFor(() => p.client.streams.length === 0 && p.server.streams.length === 0, "zero");
      } finally {
        await p.dispose();
      }
    });

    it("close() with open streams waits for them, then ends both sessions", async () => {
      const p = connect(factory());
      try {
        const s = await p.client.newStream();
        await s.writable.getWriter().write(new Uint8Array([1]));
        const remote = await p.accept();
        let closed = false;
        const closing = p.client.close().then(() => (closed = true));
        await settle();
        assert.equal(closed, false, "close() waits for the open stream");
        await assert.rejects(p.client.newStream());
        // Finish the stream from both sides; close() completes.
        const rr = remote.readable.getReader();
        await rr.read();
        await remote.close();
        await s.close();
        await closing;
        assert.equal(await p.clientClose, undefined);
        await p.server.closed;
        assert.equal(await p.serverClose, undefined);
        assert.equal(p.client.streams.length, 0);
        assert.equal(p.server.streams.length, 0);
      } finally {
        await p.dispose();
      }
    });

    it("close() whose signal aborts resets the streams still open", async () => {
      const p = connect(factory());
      try {
        const s = await p.client.newStream();
        await s.writable.getWriter().write(new Uint8Array([1]));
        const remote = await p.accept();
        const read = remote.readable.getReader();
        await read.read();
        const ac = new AbortController();
        const closing = p.client.close({ signal: ac.signal });
        ac.abort();
        await closing;
        await assert.rejects(read.read(), isResetClass);
        await p.server.closed;
        assert.equal(p.server.streams.length, 0);
        assert.equal(p.client.streams.length, 0);
      } finally {
        await p.dispose();
      }
    });

    it("abort() fails every stream on both sides with a reset-class error", async () => {
      const p = connect(factory());
      try {
        const local = await Promise.all(Array.from({ length: 8 }, () => p.client.newStream()));
        for (const s of local) await s.writable.getWriter().write(new Uint8Array([1]));
        const remote = await Promise.all(local.map(() => p.accept()));
        const reads = remote.map((s) => s.readable.getReader());
        for (const r of reads) await r.read();
        const pending = reads.map((r) => r.read());
        p.client.abort(new Error("bye"));
        for (const s of local) await assert.rejects(s.readable.getReader().read());
        for (const r of pending) await assert.rejects(r, isResetClass);
        await p.server.closed;
        assert.ok((await p.serverClose) instanceof Error);
        assert.equal(p.client.streams.length, 0);
        assert.equal(p.server.streams.length, 0);
      } finally {
        await p.dispose();
      }
    });

    it("connection destroyed mid-transfer with 64 streams: every stream rejects with a reset error", async () => {
      const p = connect(factory(), echo);
      try {
        const streams = await Promise.all(Array.from({ length: 64 }, () => p.client.newStream()));
        // Over an in-memory pipe the echo loops never yield to timers, so the "socket" is
        // destroyed from inside the transfer, once every stream has made some progress.
        let roundTrips = 0;
        const results = streams.map(async (s, i) => {
          const w = s.writable.getWriter();
          const r = s.readable.getReader();
          const carry = { rest: undefined as Uint8Array | undefined };
          for (;;) {
            await w.write(pattern(1000, i));
            await readExactly(r, 1000, carry);
            if (++roundTrips === 64 * 5) p.conns[0].abort(new Error("socket destroyed"));
          }
        });
        for (const r of results) await assert.rejects(r, isResetClass);
        assert.ok((await p.clientClose) instanceof Error);
        assert.ok((await p.serverClose) instanceof Error);
        assert.equal(p.client.streams.length, 0);
        assert.equal(p.server.streams.length, 0);
        await assert.rejects(p.client.newStream());
      } finally {
        await p.dispose();
      }
    });
  });
}
