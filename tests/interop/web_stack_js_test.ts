/**
 * The composable web-stream surface against js-libp2p: a connection assembled by hand, layer by
 * layer, over a plain WebSocket (the global `WebSocket` of Deno and Bun) to a js-libp2p 3.x node
 * listening on @libp2p/websockets (tests/interop/js_peer.ts --transport ws):
 * multistream -> `secure` (Noise) -> multistream -> `muxDuplex` (yamux) -> a stream ->
 * multistream -> /ipfs/ping/1.0.0 and /echo/1.0.0. This is README's "assembled by hand" example.
 */

import { afterEach, describe, it } from "node:test";
import assert from "node:assert/strict";
import { select } from "../../src/multistream/service.ts";
import { secure } from "../../protocols/noise/secure.ts";
import { yamux } from "../../protocols/yamux/mod.ts";
import { muxDuplex } from "../../src/web/muxer.ts";
import { generateKeyPair } from "../../src/keys/mod.ts";
import { multiaddr } from "../../src/multiaddr/mod.ts";
import type { Duplex } from "../../src/stream/types.ts";
import { startJsPeer } from "./js_process.ts";

/** A WebSocket as a web duplex: binary messages in, chunks out (README shows the same). */
async function webSocketDuplex(
  url: string,
): Promise<Duplex & { close(): Promise<void>; abort(): void }> {
  const ws = new WebSocket(url);
  ws.binaryType = "arraybuffer";
  await new Promise((resolve, reject) => {
    ws.onopen = resolve;
    ws.onerror = () => reject(new Error(`cannot connect to ${url}`));
  });
  let open = true; // the readable is open: not closed, errored or cancelled yet
  const readable = new ReadableStream<Uint8Array>({
    start(controller) {
      ws.onmessage = (e) => open && controller.enqueue(new Uint8Array(e.data as ArrayBuffer));
      ws.onclose = () => open && (open = false, controller.close());
      ws.onerror = () => open && (open = false, controller.error(new Error("WebSocket failed")));
    },
    cancel: () => {
      open = false;
      ws.close();
    },
  });
  const writable = new WritableStream<Uint8Array>({
    write: (chunk) => ws.send(chunk),
    close: () => ws.close(),
  });
  return { readable, writable, close: () => Promise.resolve(ws.close()), abort: () => ws.close() };
}

/** Read exactly `n` bytes from `readable` (then release it). */
async function readExactly(readable: ReadableStream<Uint8Array>, n: number): Promise<Uint8Array> {
  const reader = readable.getReader();
  const out = new Uint8Array(n);
  let got = 0;
  while (got < n) {
    const { value, done } = await reader.read();
    if (done) throw new Error(`stream ended after ${got} of ${n} bytes`);
    out.set(value.subarray(0, n - got), got);
    got += value.byteLength;
  }
  reader.releaseLock();
  return out;
}

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

describe("a connection assembled by hand from the web-stream layers, against js-libp2p", () => {
  it(
    "WebSocket -> multistream -> noise -> multistream -> yamux -> ping and echo",
    { timeout: 60_000 },
    async () => {
      const js = startJsPeer(["--listen", "/ip4/127.0.0.1/tcp/0/ws", "--transport", "ws"]);
      cleanups.push(() => js.stop());
      const listening = await js.next("listening");
      assert.equal(listening.event, "listening", String(listening.message));
      const addr = multiaddr((listening.addrs as string[])[0]);
      const port = addr.components().find((c) => c.name === "tcp")!.value;

      const ws = await webSocketDuplex(`ws://127.0.0.1:${port}`);
      cleanups.push(() => ws.abort());
      const privateKey = await generateKeyPair("Ed25519");

      // 1. multistream-select "/noise" on the raw WebSocket bytes
      const { stream: raw } = await select(ws, ["/noise"]);
      // 2. the Noise handshake: plaintext duplex and the proven remote peer
      const { duplex: secured, remotePeer } = await secure(raw, {
        privateKey,
        direction: "outbound",
      });
      assert.equal(remotePeer.toString(), listening.peerId);
      // 3. multistream-select the muxer inside the encrypted channel, 4. run yamux over it
      const { stream: plain } = await select(secured, ["/yamux/1.0.0"]);
      const mux = muxDuplex(plain, yamux(), { direction: "outbound" });
      cleanups.push(() => mux.abort());

      // 5. a stream, multistream-select ping on it, one ping
      const { stream: pingStream } = await select(await mux.newStream(), ["/ipfs/ping/1.0.0"]);
      const payload = crypto.getRandomValues(new Uint8Array(32));
      const writer = pingStream.writable.getWriter();
      await writer.write(payload);
      assert.deepEqual(await readExactly(pingStream.readable, 32), payload);
      await writer.close();

      // 6. a second stream: 100 KB through js's echo handler
      const { stream: echo } = await select(await mux.newStream(), ["/echo/1.0.0"]);
      const data = new Uint8Array(100_000).map((_, i) => (i * 7) & 0xff);
      const echoWriter = echo.writable.getWriter();
      const writing = echoWriter.write(data);
      assert.deepEqual(await readExactly(echo.readable, data.byteLength), data);
      await writing;
      await echoWriter.close();

      await mux.close();
    },
  );
});
