/**
 * Upgrader + self-upgrading connections (WebTransport): streams the remote opens while
 * `selfUpgrade` is still running (the muxer exists, the Connection does not yet) are handed to
 * the Connection once it exists instead of being reset, up to MAX_EARLY_INBOUND_STREAMS.
 *
 * Found by tests/browser: Chromium opens its first libp2p stream right after sending Noise
 * message 3, and the Deno listener used to reset it when it arrived before the server's side of
 * the upgrade returned (a ping failing with "stream ended during multistream-select").
 */

import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { MAX_EARLY_INBOUND_STREAMS, Upgrader } from "../../src/upgrader.ts";
import type { StreamHandlerRegistry } from "../../src/connection.ts";
import type { MuxedStream, MuxedStreamStatus, StreamMuxer } from "../../src/muxer.ts";
import type { RawConnection, SelfUpgradeOptions } from "../../src/transport.ts";
import type { WebConnection } from "../helpers/conn.ts";
import { connPair } from "../helpers/conn.ts";
import { channelPair } from "../../src/stream/pair.ts";
import type { ByteChannel } from "../../src/stream/channel.ts";
import { generateKeyPair, peerIdFromPrivateKey } from "../../src/keys/mod.ts";
import { multiaddr } from "../../src/multiaddr/mod.ts";
import { HandshakeError } from "../../src/errors.ts";
import { yamux } from "../../protocols/yamux/mod.ts";
import { select } from "../../src/multistream/mod.ts";
import { NoiseEncrypter } from "../../protocols/noise/service.ts";

const PROTOCOL = "/test/early/1.0.0";

/** An inbound stream over one end of a duplex pair; counts resets. */
class FakeStream implements MuxedStream {
  readonly id: string;
  readonly direction = "inbound" as const;
  readonly timeline = { open: Date.now() };
  readonly readable: ReadableStream<Uint8Array>;
  readonly writable: WritableStream<Uint8Array>;
  readonly channel: ByteChannel;
  status: MuxedStreamStatus = "open";
  readonly lastActivity = performance.now();
  readonly closed: Promise<void> = new Promise(() => {});
  resets = 0;
  readonly #end: WebConnection;

  constructor(id: number, end: WebConnection) {
    this.id = String(id);
    this.#end = end;
    this.readable = end.readable;
    this.writable = end.writable;
    this.channel = end.channel;
  }

  close(): Promise<void> {
    return this.#end.close();
  }

  closeRead(): void {}

  reset(): void {
    this.abort(new Error("reset"));
  }

  abort(reason?: unknown): void {
    if (this.status === "reset") return;
    this.resets++;
    this.status = "reset";
    this.#end.abort(reason);
  }
}

function fakeMuxer(): StreamMuxer {
  return {
    protocol: "/fake-native",
    streams: [],
    newStream: () => Promise.reject(new Error("not used")),
    close: () => Promise.resolve(),
    abort: () => {},
    closed: new Promise(() => {}),
  };
}

interface Remote {
  /** The remote ends of the early streams, in order. */
  ends: WebConnection[];
  streams: FakeStream[];
}

/** A raw connection whose selfUpgrade opens `count` inbound streams before it returns. */
async function selfUpgrading(
  count: number,
  fail?: Error,
): Promise<{ raw: RawConnection; remote: Remote }> {
  const remoteKey = await generateKeyPair("Ed25519");
  const remote: Remote = { ends: [], streams: [] };
  const raw: RawConnection = {
    channel: channelPair()[0].channel,
    remoteAddr: multiaddr("/ip4/127.0.0.1/udp/1/quic-v1/webtransport"),
    close: () => Promise.resolve(),
    abort: () => {},
    selfUpgrade: async (options: SelfUpgradeOptions) => {
      for (let i = 0; i < count; i++) {
        const [local, far] = connPair();
        const stream = new FakeStream(i, local);
        remote.ends.push(far);
        remote.streams.push(stream);
        options.muxerInit.onIncomingStream!(stream);
      }
      // The rest of the handshake takes a while: a macrotask, as real verification would.
      await new Promise((r) => setTimeout(r, 1));
      if (fail !== undefined) throw fail;
      return {
        remotePeer: peerIdFromPrivateKey(remoteKey),
        remotePublicKey: remoteKey.publicKey,
        encryption: "/noise",
        muxer: fakeMuxer(),
      };
    },
  };
  return { raw, remote };
}

async function upgrader(handled: string[]): Promise<Upgrader> {
  const privateKey = await generateKeyPair("Ed25519");
  const registry: StreamHandlerRegistry = {
    protocols: () => [PROTOCOL],
    get: (protocol) =>
      protocol === PROTOCOL
        ? {
          handler: async (stream) => {
            handled.push(stream.protocol);
            const w = stream.writable.getWriter();
            await w.write(new Uint8Array([42]));
            await w.close();
          },
          options: {},
        }
        : undefined,
  };
  return new Upgrader({
    encrypters: [new NoiseEncrypter({ privateKey })],
    muxers: [yamux()],
    registry,
    privateKey,
    negotiationTimeoutMs: 2000,
  });
}

describe("upgrader: streams opened during a self-upgrade", () => {
  it("a stream that arrives before the Connection exists reaches its handler", async () => {
    const handled: string[] = [];
    const up = await upgrader(handled);
    const { raw, remote } = await selfUpgrading(1);
    const conn = await up.upgradeInbound(raw);
    assert.equal(conn.multiplexer, "/fake-native");
    assert.equal(remote.streams[0].resets, 0);
    const negotiated = await select(remote.ends[0], [PROTOCOL]);
    assert.equal(negotiated.protocol, PROTOCOL);
    const reader = negotiated.stream.readable.getReader();
    const { value } = await reader.read();
    assert.deepEqual(value, new Uint8Array([42]));
    assert.deepEqual(handled, [PROTOCOL]);
    assert.equal(remote.streams[0].resets, 0);
    // The fake muxer never reports closure: only abort() releases the connection's inactivity
    // watch, which otherwise re-arms its timer every 15 s for 60 s (in Bun's single process
    // it then showed up in other files' timer checks).
    assert.equal(conn.guardedStreams, 1);
    conn.abort();
    assert.equal(conn.guardedStreams, 0);
  });

  it(`holds at most ${MAX_EARLY_INBOUND_STREAMS} early streams; the rest are reset`, async () => {
    const handled: string[] = [];
    const up = await upgrader(handled);
    const { raw, remote } = await selfUpgrading(MAX_EARLY_INBOUND_STREAMS + 3);
    const conn = await up.upgradeInbound(raw);
    const resets = remote.streams.map((s) => s.resets);
    assert.deepEqual(
      resets.slice(0, MAX_EARLY_INBOUND_STREAMS),
      Array(MAX_EARLY_INBOUND_STREAMS).fill(0),
    );
    assert.deepEqual(resets.slice(MAX_EARLY_INBOUND_STREAMS), [1, 1, 1]);
    // The held ones are served: negotiate on the last held one.
    const last = remote.ends[MAX_EARLY_INBOUND_STREAMS - 1];
    assert.equal((await select(last, [PROTOCOL])).protocol, PROTOCOL);
    for (const end of remote.ends) end.abort(new Error("test over"));
    conn.abort();
    assert.equal(conn.guardedStreams, 0);
  });

  it("early streams are reset when the self-upgrade fails", async () => {
    const up = await upgrader([]);
    const { raw, remote } = await selfUpgrading(2, new HandshakeError("bad signature"));
    await assert.rejects(up.upgradeInbound(raw), HandshakeError);
    assert.deepEqual(remote.streams.map((s) => s.resets), [1, 1]);
  });
});
