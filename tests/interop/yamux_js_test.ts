// Interop: our yamux against js-libp2p's @chainsafe/libp2p-yamux 8 over an in-memory pipe
// (connPair), js's side wrapped by tests/interop/js_stream_adapter.ts (connection: toJsStream,
// js muxed streams: fromJsStream).
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { yamux as jsYamux } from "@chainsafe/libp2p-yamux";
import { sha256 } from "@noble/hashes/sha2.js";
import { StreamResetError } from "../../src/errors.ts";
import type { MuxedStream } from "../../src/muxer.ts";
import { connPair } from "../helpers/conn.ts";
import type { Duplex } from "../../src/stream/types.ts";
import { yamux } from "../../protocols/yamux/mod.ts";
import type { YamuxMuxer } from "../../protocols/yamux/service.ts";
import { fromJsStream, type JsMessageStreamLike, toJsStream } from "./js_stream_adapter.ts";

// js-libp2p needs Promise.withResolvers (present in Deno and Bun).
const skip = typeof (Promise as { withResolvers?: unknown }).withResolvers !== "function"
  ? "js-libp2p needs Promise.withResolvers"
  : false;

interface JsMuxer {
  createStream(options?: unknown): Promise<JsMessageStreamLike>;
  addEventListener(type: "stream", l: (evt: CustomEvent<JsMessageStreamLike>) => void): void;
  close(): Promise<void>;
  abort(err: Error): void;
  status: string;
  streams: unknown[];
}

interface Peers {
  ours: YamuxMuxer;
  js: JsMuxer;
  /** Streams js accepted (as Duplexes). */
  jsIncoming: () => Promise<Duplex & { raw: JsMessageStreamLike }>;
  /** Streams we accepted. */
  ourIncoming: () => Promise<MuxedStream>;
  dispose(): void;
}

function queue<T>(): { push(v: T): void; next(): Promise<T> } {
  const items: T[] = [];
  const waiters: ((v: T) => void)[] = [];
  return {
    push: (v) => (waiters.length > 0 ? waiters.shift()!(v) : items.push(v)),
    next: () =>
      items.length > 0
        ? Promise.resolve(items.shift()!)
        : new Promise((resolve) => waiters.push(resolve)),
  };
}

/** Our muxer with `ourDirection` on one end of a pipe, js's yamux on the other. */
function connect(
  ourDirection: "outbound" | "inbound",
  opts: { ourEcho?: boolean; jsEcho?: boolean } = {},
): Peers {
  const [a, b] = connPair();
  const ourQ = queue<MuxedStream>();
  const jsQ = queue<Duplex & { raw: JsMessageStreamLike }>();
  const ours = yamux().createStreamMuxer(a, {
    direction: ourDirection,
    onIncomingStream: (s) => {
      if (opts.ourEcho) s.readable.pipeTo(s.writable).catch(() => {});
      else ourQ.push(s);
    },
  }) as YamuxMuxer;
  const conn = toJsStream(b, { direction: ourDirection === "outbound" ? "inbound" : "outbound" });
  // deno-lint-ignore no-explicit-any
  const js = (jsYamux({ enableKeepAlive: false })() as any).createStreamMuxer(
    conn,
  ) as JsMuxer;
  js.addEventListener("stream", (evt) => {
    const raw = evt.detail;
    const d = fromJsStream(raw);
    if (opts.jsEcho) d.readable.pipeTo(d.writable).catch(() => {});
    else jsQ.push(Object.assign(d, { raw }));
  });
  return {
    ours,
    js,
    jsIncoming: jsQ.next,
    ourIncoming: ourQ.next,
    dispose() {
      ours.abort();
      try {
        js.abort(new Error("test done"));
      } catch {
        // already closed
      }
    },
  };
}

function pattern(length: number, seed: number): Uint8Array {
  const out = new Uint8Array(length);
  for (let i = 0; i < length; i++) out[i] = (i * 13 + seed) & 0xff;
  return out;
}

async function writeAll(d: Duplex, data: Uint8Array, chunk = 32 * 1024): Promise<void> {
  const w = d.writable.getWriter();
  for (let i = 0; i < data.byteLength; i += chunk) await w.write(data.slice(i, i + chunk));
  await w.close();
}

async function readAll(readable: ReadableStream<Uint8Array>): Promise<Uint8Array> {
  const parts: Uint8Array[] = [];
  let n = 0;
  for await (const c of readable) {
    parts.push(c.slice());
    n += c.byteLength;
  }
  const out = new Uint8Array(n);
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.byteLength;
  }
  return out;
}

async function jsOpen(js: JsMuxer): Promise<Duplex & { raw: JsMessageStreamLike }> {
  const raw = await js.createStream();
  return Object.assign(fromJsStream(raw), { raw });
}

describe("yamux interop with @chainsafe/libp2p-yamux 8", { skip }, () => {
  for (const dir of ["outbound", "inbound"] as const) {
    const role = dir === "outbound" ? "our dialer ↔ js listener" : "js dialer ↔ our listener";

    it(`${role}: we open, js echoes 2 MiB intact, half-close ends it`, async () => {
      const p = connect(dir, { jsEcho: true });
      try {
        const s = await p.ours.newStream();
        const data = pattern(2 * 1024 * 1024, 3);
        const [, back] = await Promise.all([writeAll(s, data), readAll(s.readable)]);
        assert.equal(back.byteLength, data.byteLength);
        assert.deepEqual(sha256(back), sha256(data));
      } finally {
        p.dispose();
      }
    });

    it(`${role}: js opens, we echo 2 MiB intact`, async () => {
      const p = connect(dir, { ourEcho: true });
      try {
        const s = await jsOpen(p.js);
        const data = pattern(2 * 1024 * 1024, 5);
        const [, back] = await Promise.all([writeAll(s, data), readAll(s.readable)]);
        assert.deepEqual(sha256(back), sha256(data));
        assert.equal(back.byteLength, data.byteLength);
      } finally {
        p.dispose();
      }
    });

    it(`${role}: 20 streams each way at once`, async () => {
      const p = connect(dir, { ourEcho: true, jsEcho: true });
      try {
        const one = async (d: Duplex, i: number): Promise<void> => {
          const data = pattern(10_000 + i, i);
          const [, back] = await Promise.all([writeAll(d, data, 1000), readAll(d.readable)]);
          assert.deepEqual(back, data);
        };
        await Promise.all([
          ...Array.from({ length: 20 }, async (_, i) => one(await p.ours.newStream(), i)),
          ...Array.from({ length: 20 }, async (_, i) => one(await jsOpen(p.js), 100 + i)),
        ]);
        // Our side freed every stream (each closed both ways).
        for (let i = 0; i < 100 && p.ours.streams.length > 0; i++) {
          await new Promise((r) => setTimeout(r, 5));
        }
        assert.equal(p.ours.streams.length, 0);
      } finally {
        p.dispose();
      }
    });
  }

  it("half-close: js closes its write side first, then still reads our reply", async () => {
    const p = connect("outbound");
    try {
      const s = await jsOpen(p.js);
      await writeAll(s, new TextEncoder().encode("question"));
      const ours = await p.ourIncoming();
      assert.equal(new TextDecoder().decode(await readAll(ours.readable)), "question");
      await writeAll(ours, new TextEncoder().encode("answer"));
      assert.equal(new TextDecoder().decode(await readAll(s.readable)), "answer");
    } finally {
      p.dispose();
    }
  });

  it("half-close: we close our write side first, js replies after reading to the end", async () => {
    const p = connect("inbound");
    try {
      const s = await p.ours.newStream();
      await writeAll(s, new TextEncoder().encode("question"));
      assert.equal(s.status, "closing");
      const theirs = await p.jsIncoming();
      assert.equal(new TextDecoder().decode(await readAll(theirs.readable)), "question");
      await writeAll(theirs, new TextEncoder().encode("answer"));
      assert.equal(new TextDecoder().decode(await readAll(s.readable)), "answer");
    } finally {
      p.dispose();
    }
  });

  it("reset: our reset fails js's read; js's abort fails our read with StreamResetError", async () => {
    const p = connect("outbound");
    try {
      const s = await p.ours.newStream();
      await s.writable.getWriter().write(new Uint8Array([1]));
      const theirs = await p.jsIncoming();
      const jr = theirs.readable.getReader();
      assert.deepEqual([...(await jr.read()).value!], [1]);
      const pending = jr.read();
      s.reset();
      await assert.rejects(pending);

      const t2 = await jsOpen(p.js);
      await t2.writable.getWriter().write(new Uint8Array([2]));
      const o2 = await p.ourIncoming();
      const or = o2.readable.getReader();
      assert.deepEqual([...(await or.read()).value!], [2]);
      const pending2 = or.read();
      t2.raw.abort(new Error("js aborts"));
      await assert.rejects(pending2, StreamResetError);
    } finally {
      p.dispose();
    }
  });

  it("js answers our RTT ping; our GoAway(0) close() ends js's muxer", async () => {
    const p = connect("outbound", { jsEcho: true });
    try {
      const s = await p.ours.newStream();
      const [, back] = await Promise.all([writeAll(s, new Uint8Array([7])), readAll(s.readable)]);
      assert.deepEqual([...back], [7]);
      assert.ok(p.ours.session.rtt !== undefined, "RTT measured from js's ping reply");
      await p.ours.close();
      for (let i = 0; i < 200 && p.js.status !== "closed"; i++) {
        await new Promise((r) => setTimeout(r, 5));
      }
      assert.equal(p.js.status, "closed");
    } finally {
      p.dispose();
    }
  });
});
