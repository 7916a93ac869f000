// Interop: our mplex against js-libp2p's @libp2p/mplex 12 over an in-memory pipe, with js's
// side wrapped by tests/interop/js_stream_adapter.ts. Both roles: js opens streams to us and we
// open streams to js, on the same connection, as dialer and as listener of the connection.
//
// PROTOCOLS.md notes that js-libp2p 3.3.11's mplex fails against itself in full nodes here
// (ping timeout, echo EOF). These cases pass against our implementation; a case that cannot
// pass because of js is kept out and named at the end of this file.
//
// js side at fault, worked around: @libp2p/mplex 12 charges its "disconnectThreshold" rate
// limiter (5 per second by default) for EVERY NewStream it receives, although its own comment
// says the limit is meant for streams beyond maxInboundStreams; a peer opening more than 5
// streams in a second gets disconnected ("Too many open streams"). That is not in the spec, so
// the js muxer here gets a high disconnectThreshold.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { mplex as jsMplex } from "@libp2p/mplex";
import { utf8Decode, utf8Encode } from "../../src/bytes.ts";
import { StreamResetError } from "../../src/errors.ts";
import type { MuxedStream, StreamMuxer } from "../../src/muxer.ts";
import type { Duplex } from "../../src/stream/types.ts";
import { connPair } from "../helpers/conn.ts";
import { mplex } from "../../protocols/mplex/mod.ts";
import {
  fromJsStream,
  type JsMessageStreamLike,
  toJsStream,
} from "../interop/js_stream_adapter.ts";
import { readAll, readN } from "./helpers.ts";

// js-libp2p's types are not imported here: its muxer and streams are used through these shapes.
interface JsStream extends JsMessageStreamLike {
  id: string;
  status: string;
}
interface JsMuxer {
  createStream(): Promise<JsStream>;
  addEventListener(type: "stream", l: (evt: CustomEvent<JsStream>) => void): void;
  abort(err: Error): void;
  streams: JsStream[];
}

const jsEcho = (s: JsStream): void => {
  const d = fromJsStream(s);
  d.readable.pipeTo(d.writable).catch(() => {});
};
const ourEcho = (s: MuxedStream): void => {
  s.readable.pipeTo(s.writable).catch(() => {});
};

function setup(ourDirection: "inbound" | "outbound", onOurStream = ourEcho, onJsStream = jsEcho): {
  ours: StreamMuxer;
  js: JsMuxer;
} {
  const [a, b] = connPair();
  const jsConn = toJsStream(a, { direction: ourDirection === "inbound" ? "outbound" : "inbound" });
  const js = jsMplex({ disconnectThreshold: 10_000 })().createStreamMuxer(
    // deno-lint-ignore no-explicit-any
    jsConn as any,
  ) as unknown as JsMuxer;
  js.addEventListener("stream", (evt) => onJsStream(evt.detail));
  const ours = mplex().createStreamMuxer(b, {
    direction: ourDirection,
    onIncomingStream: onOurStream,
  });
  return { ours, js };
}

async function roundTrip(d: Duplex, payload: Uint8Array): Promise<Uint8Array> {
  const w = d.writable.getWriter();
  const reading = readAll(d.readable);
  await w.write(payload);
  await w.close();
  return await reading;
}

// These run under Deno and Bun alike (both have Promise.withResolvers, which js-libp2p needs).
for (const role of ["inbound", "outbound"] as const) {
  describe(`mplex interop with js-libp2p @libp2p/mplex (we are ${role})`, () => {
    it("we open a stream, js echoes", async () => {
      const { ours, js } = setup(role);
      const s = await ours.newStream();
      assert.equal(utf8Decode(await roundTrip(s, utf8Encode("hello js"))), "hello js");
      js.abort(new Error("done"));
    });

    it("js opens a stream, we echo", async () => {
      const { js } = setup(role);
      const d = fromJsStream(await js.createStream());
      assert.equal(utf8Decode(await roundTrip(d, utf8Encode("hello ours"))), "hello ours");
      js.abort(new Error("done"));
    });

    it("50 streams each way at once, several messages each", async () => {
      const { ours, js } = setup(role);
      const one = async (d: Duplex, i: number): Promise<void> => {
        const w = d.writable.getWriter();
        const reader = d.readable.getReader();
        for (let k = 0; k < 5; k++) {
          const msg = utf8Encode(`stream ${i} message ${k}`);
          await w.write(msg);
          assert.equal(utf8Decode(await readN(reader, msg.byteLength)), `stream ${i} message ${k}`);
        }
        await w.close();
        assert.equal((await reader.read()).done, true);
      };
      await Promise.all([
        ...Array.from({ length: 50 }, async (_, i) => one(await ours.newStream(), i)),
        ...Array.from(
          { length: 50 },
          async (_, i) => one(fromJsStream(await js.createStream()), 100 + i),
        ),
      ]);
      js.abort(new Error("done"));
    });

    it("3 MiB each way: messages above 1 MiB are split by both sides", async () => {
      const { ours, js } = setup(role);
      const big = new Uint8Array(3 * 1024 * 1024).map((_, i) => (i * 7) & 255);
      const s = await ours.newStream();
      assert.deepEqual(await roundTrip(s, big), big);
      const d = fromJsStream(await js.createStream());
      assert.deepEqual(await roundTrip(d, big), big);
      js.abort(new Error("done"));
    });

    it("half-close: we close our side, js still writes back, then closes", async () => {
      // Wrap js's stream as soon as it arrives: js emits remoteCloseWrite only once.
      const gotStream = Promise.withResolvers<Duplex>();
      const { ours, js } = setup(role, ourEcho, (st) => gotStream.resolve(fromJsStream(st)));
      const s = await ours.newStream();
      const w = s.writable.getWriter();
      await w.write(utf8Encode("ping"));
      await w.close();
      const jd = await gotStream.promise;
      assert.equal(utf8Decode(await readAll(jd.readable)), "ping"); // js sees our FIN
      const jw = jd.writable.getWriter();
      await jw.write(utf8Encode("late reply"));
      await jw.close();
      assert.equal(utf8Decode(await readAll(s.readable)), "late reply");
      js.abort(new Error("done"));
    });

    it("js resets a stream: our pending read rejects with StreamResetError", async () => {
      let jsSide!: JsStream;
      const gotStream = Promise.withResolvers<void>();
      const { ours, js } = setup(role, ourEcho, (st) => {
        jsSide = st;
        gotStream.resolve();
      });
      const s = await ours.newStream();
      const reader = s.readable.getReader();
      const pending = reader.read();
      await s.writable.getWriter().write(utf8Encode("x")); // the NewStream reaches js
      await gotStream.promise;
      jsSide.abort(new Error("js gave up"));
      await assert.rejects(pending, StreamResetError);
      js.abort(new Error("done"));
    });

    it("we reset a stream: js's stream ends with an error", async () => {
      let ourSide!: MuxedStream;
      const gotStream = Promise.withResolvers<void>();
      const { js } = setup(role, (st) => {
        ourSide = st;
        gotStream.resolve();
      });
      const jsStream = await js.createStream();
      const d = fromJsStream(jsStream);
      const reading = readAll(d.readable);
      await d.writable.getWriter().write(utf8Encode("x"));
      await gotStream.promise;
      ourSide.reset();
      await assert.rejects(reading);
      assert.notEqual(jsStream.status, "open");
      js.abort(new Error("done"));
    });
  });
}

// Not covered: the remote closing the whole connection. js's AbstractStreamMuxer ends its
// streams cleanly (EOF) when the transport closes, while ours treats that as a reset (HARDENING
// Faults: "not a clean EOF"); that is a local policy difference, not a wire disagreement.
