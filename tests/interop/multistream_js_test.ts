// Interop: our multistream-select against js-libp2p's @libp2p/multistream-select 7.x over an
// in-memory pipe (duplexPair), with js's side wrapped by tests/interop/js_stream_adapter.ts.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import * as mss from "@libp2p/multistream-select";
import { concat, utf8Decode, utf8Encode } from "../../src/bytes.ts";
import { duplexPair } from "../../src/stream/pair.ts";
import { handle, ls, ProtocolNotSupportedError, select } from "../../src/multistream/mod.ts";
import { readN, writeChunks } from "../multistream/helpers.ts";
import { fromJsStream, type JsStreamAdapter, toJsStream } from "./js_stream_adapter.ts";

/** Collect `n` bytes from a js stream's message events. */
async function jsRead(stream: JsStreamAdapter, n: number): Promise<Uint8Array> {
  const parts: Uint8Array[] = [];
  let got = 0;
  for await (const chunk of stream) {
    parts.push(chunk);
    got += chunk.byteLength;
    if (got >= n) break;
  }
  return concat(parts);
}

describe("multistream interop with js-libp2p @libp2p/multistream-select", () => {
  it("js dialer -> our listener: first proposal rejected, second accepted, data both ways", async () => {
    const [a, b] = duplexPair();
    const js = toJsStream(a);
    const [jsProtocol, ours] = await Promise.all([
      mss.select(js, ["/x/2.0.0", "/x/1.0.0"]),
      handle(b, ["/x/1.0.0"]),
    ]);
    assert.equal(jsProtocol, "/x/1.0.0");
    assert.equal(ours.protocol, "/x/1.0.0");

    js.send(utf8Encode("from js"));
    assert.equal(utf8Decode(await readN(ours.stream.readable, 7)), "from js");
    await writeChunks(ours.stream, [utf8Encode("from us")]);
    assert.equal(utf8Decode(await jsRead(js, 7)), "from us");
    js.abort(new Error("done"));
  });

  it("our dialer (several protocols) -> js listener", async () => {
    const [a, b] = duplexPair();
    const js = toJsStream(b, { direction: "inbound" });
    const [ours, jsProtocol] = await Promise.all([
      select(a, ["/y/2.0.0", "/y/1.0.0"]),
      mss.handle(js, ["/y/1.0.0", "/z/1.0.0"]),
    ]);
    assert.equal(ours.protocol, "/y/1.0.0");
    assert.equal(jsProtocol, "/y/1.0.0");
    await writeChunks(ours.stream, [utf8Encode("ping")]);
    assert.equal(utf8Decode(await jsRead(js, 4)), "ping");
    js.send(utf8Encode("pong"));
    assert.equal(utf8Decode(await readN(ours.stream.readable, 4)), "pong");
    js.abort(new Error("done"));
  });

  it("our lazy dialer -> js listener: the app's first bytes ride behind the proposal", async () => {
    const [a, b] = duplexPair();
    const ours = await select(a, ["/lazy/1.0.0"]);
    await writeChunks(ours.stream, [utf8Encode("early data")]);
    const js = toJsStream(b, { direction: "inbound" });
    assert.equal(await mss.handle(js, ["/lazy/1.0.0"]), "/lazy/1.0.0");
    // js unwraps the bytes it read past the proposal back into the stream
    assert.equal(utf8Decode(await jsRead(js, 10)), "early data");
    js.send(utf8Encode("reply"));
    assert.equal(utf8Decode(await readN(ours.stream.readable, 5)), "reply");
    js.abort(new Error("done"));
  });

  it("our lazy dialer, protocol unsupported by js: first read fails, js listener fails", async () => {
    const [a, b] = duplexPair();
    const js = toJsStream(b, { direction: "inbound" });
    const jsResult = mss.handle(js, ["/other/1.0.0"]).then(() => undefined, (e) => e);
    const ours = await select(a, ["/lazy/1.0.0"]);
    await assert.rejects(ours.stream.readable.getReader().read(), ProtocolNotSupportedError);
    // we aborted our writable: js's pending read fails instead of hanging
    assert.ok((await jsResult) instanceof Error);
  });

  it("js dialer with nothing we support: js gets its error; ours ends when js aborts", async () => {
    const [a, b] = duplexPair();
    const js = toJsStream(a);
    const oursResult = handle(b, ["/mine/1.0.0"]).then(() => undefined, (e) => e);
    await assert.rejects(mss.select(js, ["/theirs/1.0.0"]), (e: Error) => {
      return e.name === "UnsupportedProtocolError";
    });
    js.abort(new Error("js gave up"));
    assert.ok((await oursResult) instanceof Error);
  });

  it("our ls against the js listener (same list layout)", async () => {
    const [a, b] = duplexPair();
    const js = toJsStream(b, { direction: "inbound" });
    const jsResult = mss.handle(js, ["/a/1.0.0", "/b/1.0.0"]).then(() => undefined, (e) => e);
    assert.deepEqual(await ls(a, { timeoutMs: 5_000 }), ["/a/1.0.0", "/b/1.0.0"]);
    a.abort(new Error("done"));
    assert.ok((await jsResult) instanceof Error);
  });

  it("fromJsStream(toJsStream(x)) carries bytes both ways and half-closes", async () => {
    const [a, b] = duplexPair();
    const wrapped = fromJsStream(toJsStream(a));
    await writeChunks(wrapped, [utf8Encode("abc")]);
    assert.equal(utf8Decode(await readN(b.readable, 3)), "abc");
    await writeChunks(b, [utf8Encode("xyz")]);
    await b.close();
    const reader = wrapped.readable.getReader();
    const first = await reader.read();
    assert.equal(utf8Decode(first.value!), "xyz");
    assert.equal((await reader.read()).done, true);
    await wrapped.writable.close();
  });

  it("our select/handle over js-wrapped-back streams (both adapters in the path)", async () => {
    const [a, b] = duplexPair();
    const left = fromJsStream(toJsStream(a));
    const right = fromJsStream(toJsStream(b, { direction: "inbound" }));
    const [d, l] = await Promise.all([select(left, ["/q", "/p"]), handle(right, ["/p"])]);
    assert.equal(d.protocol, "/p");
    assert.equal(l.protocol, "/p");
    await writeChunks(d.stream, [utf8Encode("hi")]);
    assert.equal(utf8Decode(await readN(l.stream.readable, 2)), "hi");
  });
});
