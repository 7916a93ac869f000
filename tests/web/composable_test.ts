/**
 * The composable web-stream surface end to end between two of our own stacks over a plain web
 * duplex (two crossed TransformStreams): multistream-select -> `secure` (Noise) ->
 * multistream-select -> `muxDuplex` (yamux, mplex) -> streams -> multistream-select -> bytes.
 */

import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { handle, select } from "../../src/multistream/service.ts";
import { secure } from "../../protocols/noise/secure.ts";
import { muxDuplex } from "../../src/web/muxer.ts";
import { webDuplexPair } from "../../src/web/pair.ts";
import type { MuxedDuplex } from "../../src/web/types.ts";
import { yamux } from "../../protocols/yamux/mod.ts";
import { mplex } from "../../protocols/mplex/mod.ts";
import { generateKeyPair, peerIdFromPrivateKey } from "../../src/keys/mod.ts";
import { PeerIdMismatchError } from "../../src/errors.ts";
import type { Duplex } from "../../src/stream/types.ts";
import type { StreamMuxerFactory } from "../../src/muxer.ts";

const webPair = (): [Duplex, Duplex] => webDuplexPair();

async function readAll(readable: ReadableStream<Uint8Array>): Promise<Uint8Array> {
  return new Uint8Array(await new Response(readable).arrayBuffer());
}

const muxers: [string, () => StreamMuxerFactory, string][] = [
  ["yamux", () => yamux(), "/yamux/1.0.0"],
  ["mplex", () => mplex(), "/mplex/6.7.0"],
];

for (const [name, factory, id] of muxers) {
  describe(`hand-built stack over a web duplex: noise + ${name}`, () => {
    it("secures, muxes and echoes on a negotiated stream, both directions", async () => {
      const [a, b] = webPair();
      const [ka, kb] = await Promise.all([generateKeyPair("Ed25519"), generateKeyPair("Ed25519")]);

      const dialer = (async () => {
        const { stream } = await select(a, ["/noise"]);
        const sec = await secure(stream, {
          privateKey: ka,
          direction: "outbound",
          remotePeer: peerIdFromPrivateKey(kb),
        });
        const { stream: plain } = await select(sec.duplex, [id]);
        return { sec, mux: muxDuplex(plain, factory(), { direction: "outbound" }) };
      })();
      const listener = (async () => {
        const { stream } = await handle(b, ["/noise"]);
        const sec = await secure(stream, { privateKey: kb, direction: "inbound" });
        const { stream: plain } = await handle(sec.duplex, [id]);
        const incoming = Promise.withResolvers<MuxedDuplex>();
        const mux = muxDuplex(plain, factory(), {
          direction: "inbound",
          onIncomingStream: (s) => incoming.resolve(s),
        });
        return { sec, mux, incoming: incoming.promise };
      })();
      const [d, l] = await Promise.all([dialer, listener]);
      assert.ok(d.sec.remotePeer.equals(peerIdFromPrivateKey(kb)));
      assert.ok(l.sec.remotePeer.equals(peerIdFromPrivateKey(ka)));

      const stream = await d.mux.newStream();
      assert.equal(stream.direction, "outbound");
      const served = (async () => {
        const s = await l.incoming;
        assert.equal(s.direction, "inbound");
        const { stream: echo } = await handle(s, ["/echo/1.0.0"]);
        await echo.readable.pipeTo(echo.writable);
      })();
      const { stream: echo } = await select(stream, ["/echo/1.0.0"]);
      const payload = new Uint8Array(200_000).map((_, i) => (i * 13) & 0xff);
      const writing = (async () => {
        const writer = echo.writable.getWriter();
        await writer.write(payload);
        await writer.close();
      })();
      const back = await readAll(echo.readable);
      await writing;
      await served;
      assert.deepEqual(back, payload);
      await d.mux.close();
      await l.mux.closed;
    });
  });
}

describe("secure() over a web duplex", () => {
  it("fails with PeerIdMismatchError when the remote is not the expected peer", async () => {
    const [a, b] = webPair();
    const [ka, kb, other] = await Promise.all([
      generateKeyPair("Ed25519"),
      generateKeyPair("Ed25519"),
      generateKeyPair("Ed25519"),
    ]);
    const results = await Promise.allSettled([
      secure(a, { privateKey: ka, direction: "outbound", remotePeer: peerIdFromPrivateKey(other) }),
      secure(b, { privateKey: kb, direction: "inbound", handshakeTimeoutMs: 2_000 }),
    ]);
    assert.equal(results[0].status, "rejected");
    assert.ok((results[0] as PromiseRejectedResult).reason instanceof PeerIdMismatchError);
  });

  it("checks its arguments", async () => {
    const [a] = webPair();
    const privateKey = await generateKeyPair("Ed25519");
    await assert.rejects(secure(a, { privateKey, direction: "sideways" as never }), TypeError);
    assert.throws(() => muxDuplex(a, yamux(), {} as never), TypeError);
  });
});

describe("muxDuplex without onIncomingStream", () => {
  it("resets the streams the remote opens", async () => {
    const [a, b] = webPair();
    const client = muxDuplex(a, yamux(), { direction: "outbound" });
    const server = muxDuplex(b, yamux(), { direction: "inbound" });
    const stream = await client.newStream();
    const writer = stream.writable.getWriter();
    await writer.write(new Uint8Array([1]));
    await assert.rejects(stream.readable.getReader().read());
    client.abort();
    server.abort();
  });
});
