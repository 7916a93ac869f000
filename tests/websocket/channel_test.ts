/**
 * The WebSocket connection's `channel` (transports/websocket/channel.ts): messages become channel
 * chunks once, with no web stream in between; writes above the high-water mark wait in the
 * channel; closeWrite is a full close (no half-close on a WebSocket).
 */

import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { multiaddr } from "../../src/multiaddr/mod.ts";
import type { ByteChannel } from "../../src/stream/channel.ts";
import type { RawConnection } from "../../src/transport.ts";
import { websocket, type WebSocketOptions } from "../../transports/websocket/mod.ts";

async function pair(options: WebSocketOptions = {}): Promise<{
  client: RawConnection;
  server: RawConnection;
  close(): Promise<void>;
}> {
  const transport = websocket(options);
  let accept!: (c: RawConnection) => void;
  const accepted = new Promise<RawConnection>((r) => (accept = r));
  const listener = transport.createListener({ onConnection: (c) => accept(c) });
  await listener.listen(multiaddr("/ip4/127.0.0.1/tcp/0/ws"));
  const client = await transport.dial(listener.getAddrs()[0]);
  const server = await accepted;
  return { client, server, close: () => listener.close() };
}

function channelOf(conn: RawConnection): ByteChannel {
  const channel = (conn as unknown as { channel?: ByteChannel }).channel;
  assert.ok(channel !== undefined, "a WebSocket connection carries `channel`");
  return channel;
}

async function readBytes(channel: ByteChannel, n: number): Promise<number> {
  let got = 0;
  while (got < n) {
    const chunk = await channel.read();
    if (chunk === null) break;
    got += chunk.byteLength;
  }
  return got;
}

describe("websocket: the connection's channel", () => {
  it("carries bytes both ways on the connection's own channel", async () => {
    const { client, server, close } = await pair();
    try {
      const c = channelOf(client);
      const s = channelOf(server);
      assert.equal(client.channel, c); // what the upgrader takes: no stream adapter
      c.write(new Uint8Array(100_000).fill(1));
      await c.drained();
      assert.equal(await readBytes(s, 100_000), 100_000);
      s.write(new Uint8Array([1, 2, 3]));
      assert.deepEqual(await c.read(), new Uint8Array([1, 2, 3]));
      // A full close: the server's reads end, then ours when its Close comes back.
      await c.closeWrite();
      assert.equal(await s.read(), null);
      assert.equal(await c.read(), null);
    } finally {
      client.abort();
      server.abort();
      await close();
    }
  });

  it("keeps writes above the high-water mark in the channel until the peer reads", async () => {
    const hwm = 64 * 1024;
    const { client, server, close } = await pair({ bufferedAmountHighWaterMark: hwm });
    try {
      const c = channelOf(client);
      const s = channelOf(server);
      const chunk = new Uint8Array(64 * 1024);
      for (let i = 0; i < 64; i++) c.write(chunk); // 4 MiB at once, nobody reading yet
      const buffered = (client as unknown as { bufferedAmount: number }).bufferedAmount;
      assert.ok(buffered <= hwm + chunk.byteLength, `send buffer ${buffered} <= mark + a chunk`);
      const drained = c.drained();
      assert.equal(await readBytes(s, 64 * chunk.byteLength), 64 * chunk.byteLength);
      await drained;
    } finally {
      client.abort();
      server.abort();
      await close();
    }
  });
});
