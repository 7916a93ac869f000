import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { multiaddr } from "../../src/multiaddr/mod.ts";
import { websocket } from "../../transports/websocket/mod.ts";
import { parseWebSocketAddr, webSocketMultiaddr } from "../../transports/websocket/address.ts";
import { resolveWebSocketOptions } from "../../transports/websocket/options.ts";

const PEER = "12D3KooWD3eckifWpRn9wQpMG9R9hX3sD158z7EqHWmweQAJU5SA";

describe("websocket addresses", () => {
  it("maps multiaddrs to the URLs go and js dial (path /)", () => {
    const cases: [string, string][] = [
      ["/ip4/127.0.0.1/tcp/4001/ws", "ws://127.0.0.1:4001/"],
      [`/ip4/127.0.0.1/tcp/4001/ws/p2p/${PEER}`, "ws://127.0.0.1:4001/"],
      ["/ip6/::1/tcp/4001/ws", "ws://[::1]:4001/"],
      ["/ip4/192.0.2.1/tcp/443/wss", "wss://192.0.2.1:443/"],
      ["/ip4/192.0.2.1/tcp/443/tls/ws", "wss://192.0.2.1:443/"],
      ["/dns4/example.com/tcp/443/wss", "wss://example.com:443/"],
      ["/dns6/example.com/tcp/443/tls/ws", "wss://example.com:443/"],
      [`/dns/a.example/tcp/443/tls/sni/b.example/ws/p2p/${PEER}`, "wss://b.example:443/"],
      ["/ip4/192.0.2.1/tcp/443/tls/sni/b.example/ws", "wss://b.example:443/"],
      ["/ip4/127.0.0.1/tcp/80/ws/http-path/%2Flibp2p", "ws://127.0.0.1:80/libp2p"],
      ["/ip4/127.0.0.1/tcp/80/ws/http-path/%2Fa%20b%2Fc", "ws://127.0.0.1:80/a%20b/c"],
    ];
    for (const [ma, url] of cases) assert.equal(parseWebSocketAddr(multiaddr(ma))?.url, url, ma);
    const t = parseWebSocketAddr(multiaddr("/dns/a.example/tcp/443/tls/sni/b.example/ws"))!;
    assert.deepEqual([t.family, t.host, t.port, t.secure, t.sni], [
      "dns",
      "a.example",
      443,
      true,
      "b.example",
    ]);
  });

  it("rejects what is not a websocket address", () => {
    for (
      const ma of [
        "/ip4/127.0.0.1/tcp/4001",
        "/ip4/127.0.0.1/udp/4001/ws",
        "/ip4/127.0.0.1/tcp/4001/tls",
        "/ip4/127.0.0.1/tcp/4001/tls/sni/x.example",
        "/ip4/127.0.0.1/tcp/4001/ws/p2p-circuit",
        `/ip4/127.0.0.1/tcp/4001/ws/p2p/${PEER}/p2p-circuit/p2p/${PEER}`,
        "/ip4/127.0.0.1/tcp/4001/wss/ws",
        "/memory/x",
        "/unix/%2Ftmp%2Fs/ws",
      ]
    ) assert.equal(parseWebSocketAddr(multiaddr(ma)), undefined, ma);
  });

  it("filters dialable and listenable addresses", () => {
    const t = websocket();
    const addrs = [
      "/ip4/127.0.0.1/tcp/0/ws",
      "/ip6/::/tcp/0/tls/ws",
      "/ip4/0.0.0.0/tcp/443/wss",
      "/dns4/example.com/tcp/443/wss",
      `/ip4/127.0.0.1/tcp/1/ws/p2p/${PEER}`,
      "/ip4/127.0.0.1/tcp/1/tls/sni/x.example/ws",
      "/ip4/127.0.0.1/tcp/1",
      "/ip4/127.0.0.1/udp/1/quic-v1",
    ].map(multiaddr);
    assert.deepEqual(t.dialFilter(addrs).map(String), addrs.slice(0, 6).map(String));
    assert.deepEqual(t.listenFilter(addrs).map(String), addrs.slice(0, 3).map(String));
  });

  it("builds reported addresses (tls/ws for TLS, ip6 detection)", () => {
    assert.equal(webSocketMultiaddr("127.0.0.1", 5, false).toString(), "/ip4/127.0.0.1/tcp/5/ws");
    assert.equal(webSocketMultiaddr("[::1]", 5, true).toString(), "/ip6/::1/tcp/5/tls/ws");
  });
});

describe("websocket options", () => {
  it("applies the documented defaults", () => {
    const o = resolveWebSocketOptions();
    assert.equal(o.maxPayloadLength, 4 * 1024 * 1024);
    assert.equal(o.maxBufferedIncoming, 16 * 1024 * 1024);
    assert.equal(o.bufferedAmountHighWaterMark, 1024 * 1024);
    assert.equal(o.sendMessageBytes, 256 * 1024);
    assert.equal(o.idleTimeoutSeconds, 120);
    assert.equal(o.connectTimeoutMs, 10_000);
    assert.equal(o.mount, false);
    assert.equal(resolveWebSocketOptions({ maxPayloadLength: 2048 }).sendMessageBytes, 2048);
    assert.equal(resolveWebSocketOptions({ idleTimeoutMs: 1500 }).idleTimeoutSeconds, 2);
  });

  it("rejects bad values", () => {
    assert.throws(() => websocket({ maxPayloadLength: 10 }), RangeError);
    assert.throws(() => websocket({ maxPayloadLength: 65 * 1024 * 1024 }), RangeError);
    assert.throws(() => websocket({ maxPayloadLength: 1.5e4 + 0.5 }), RangeError);
    assert.throws(() => websocket({ idleTimeoutMs: 961_000 }), RangeError);
    assert.throws(() => websocket({ idleTimeoutMs: -1 }), RangeError);
    assert.throws(() => websocket({ connectTimeoutMs: 0 }), RangeError);
    assert.throws(() => websocket({ closeTimeoutMs: -5 }), RangeError);
    assert.throws(() => websocket({ maxBufferedIncoming: 0 }), RangeError);
    assert.throws(
      () => websocket({ bufferedAmountHighWaterMark: 16 * 1024 * 1024 }),
      RangeError,
      "HWM + one message above the Bun backpressure limit",
    );
    // deno-lint-ignore no-explicit-any
    assert.throws(() => websocket({ tls: { cert: 1 } as any }), TypeError);
  });
});

describe("websocket listener selection", () => {
  it("a runtime without Deno.serve or Bun.serve (a browser) can only dial", async () => {
    const { createListenerFor } = await import("../../transports/websocket/listener.ts");
    const { WebSocketListenError } = await import("../../transports/websocket/mod.ts");
    const { webSocketServerKind } = await import("../../transports/websocket/runtime.ts");
    assert.equal(webSocketServerKind(), "Bun" in globalThis ? "bun" : "deno");
    const l = createListenerFor("none", { onConnection: () => {} }, resolveWebSocketOptions());
    await assert.rejects(
      l.listen(multiaddr("/ip4/127.0.0.1/tcp/0/ws")),
      (e: unknown) => e instanceof WebSocketListenError && /browsers can only dial/.test(e.message),
    );
    assert.deepEqual(l.getAddrs(), []);
  });
});
