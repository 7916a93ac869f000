/**
 * A raw circuit relay v2 client for tests: speaks HOP on a stream by hand, and a STOP handler
 * whose answer the test chooses (accept and echo, accept and sink, accept and flood, refuse).
 */
import type { Connection, Stream } from "../../src/connection.ts";
import { ByteReader } from "../../src/stream/byte_reader.ts";
import type { Libp2pNode } from "../../src/node/node.ts";
import {
  encodeFrame,
  encodeHopMessage,
  encodeStopMessage,
  HOP_PROTOCOL,
  type HopMessage,
  HopType,
  readHopMessage,
  readStopMessage,
  Status,
  STOP_PROTOCOL,
  type StopMessage,
  StopType,
} from "../../protocols/circuit-relay/codec.ts";

/** An open HOP stream after its first answer. */
export interface HopExchange {
  reply: HopMessage;
  stream: Stream;
  reader: ByteReader;
  writer: WritableStreamDefaultWriter<Uint8Array>;
}

/** Send `message` on a fresh HOP stream and read the answer. */
export async function hop(conn: Connection, message: HopMessage): Promise<HopExchange> {
  const stream = await conn.newStream(HOP_PROTOCOL, { runOnLimitedConnection: true });
  const writer = stream.writable.getWriter();
  await writer.write(encodeFrame(encodeHopMessage(message)));
  const reader = new ByteReader(stream.readable);
  const reply = await readHopMessage(reader);
  return { reply, stream, reader, writer };
}

/** Close our side of an exchange (the relay closed its own after answering). */
export async function done(x: HopExchange): Promise<void> {
  await x.writer.close().catch(() => {});
}

/** RESERVE on `conn`; the answer. */
export async function reserve(conn: Connection): Promise<HopMessage> {
  const x = await hop(conn, { type: HopType.RESERVE });
  await x.writer.close().catch(() => {});
  return x.reply;
}

/** Send `message`, read the answer's status, close our side. */
export async function hopStatus(
  conn: Connection,
  message: HopMessage,
): Promise<number | undefined> {
  const x = await hop(conn, message);
  await done(x);
  return x.reply.status;
}

/** CONNECT to `target` expecting a refusal: its status (our side closed). */
export async function connectStatus(
  conn: Connection,
  target: Libp2pNode,
): Promise<number | undefined> {
  const x = await connect(conn, target);
  await done(x);
  return x.reply.status;
}

/** CONNECT to `target` through `conn`. */
export function connect(conn: Connection, target: Libp2pNode): Promise<HopExchange> {
  return hop(conn, { type: HopType.CONNECT, peer: { id: target.peerId.toBytes(), addrs: [] } });
}

/** What a hand-written STOP handler does with a circuit. */
export type StopMode = "echo" | "sink" | "flood" | "refuse" | "silent";

/** State of {@link serveStop}. */
export interface StopServer {
  mode: StopMode;
  /** Bytes to write in "flood" mode. */
  floodBytes: number;
  /** The STOP CONNECT messages received. */
  seen: StopMessage[];
  /** Bytes received in "sink" mode, and how that circuit ended. */
  sunk: number;
  sinkEnd: Promise<"eof" | "error">;
}

/** Handle STOP on `node` by hand. */
export function serveStop(node: Libp2pNode, mode: StopMode = "echo"): StopServer {
  let endSink: (v: "eof" | "error") => void = () => {};
  const state: StopServer = {
    mode,
    floodBytes: 0,
    seen: [],
    sunk: 0,
    sinkEnd: new Promise((r) => endSink = r),
  };
  node.handle(STOP_PROTOCOL, async (stream) => {
    const reader = new ByteReader(stream.readable);
    const msg = await readStopMessage(reader);
    state.seen.push(msg);
    if (state.mode === "silent") {
      // Never answer: wait until the relay gives up on the stream.
      try {
        while (await reader.readChunk() !== undefined) { /* discard */ }
      } catch {
        // reset by the relay
      }
      return;
    }
    const writer = stream.writable.getWriter();
    if (state.mode === "refuse") {
      await writer.write(
        encodeFrame(encodeStopMessage({ type: StopType.STATUS, status: Status.CONNECTION_FAILED })),
      );
      await writer.close();
      return;
    }
    await writer.write(
      encodeFrame(encodeStopMessage({ type: StopType.STATUS, status: Status.OK })),
    );
    if (state.mode === "flood") {
      const chunk = new Uint8Array(1000).fill(7);
      try {
        for (let sent = 0; sent < state.floodBytes; sent += chunk.byteLength) {
          await writer.write(chunk);
        }
        await writer.close();
      } catch {
        // reset by the relay
      }
      return;
    }
    try {
      for (;;) {
        const c = await reader.readChunk();
        if (c === undefined) break;
        if (state.mode === "sink") state.sunk += c.byteLength;
        else await writer.write(c.slice());
      }
      if (state.mode === "sink") endSink("eof");
      await writer.close();
    } catch {
      if (state.mode === "sink") endSink("error");
    }
  }, { runOnLimitedConnection: true });
  return state;
}

/** Read from `reader` until the end or an error; the byte count and how it ended. */
export async function drain(reader: ByteReader): Promise<{ bytes: number; end: "eof" | "error" }> {
  let bytes = 0;
  try {
    for (;;) {
      const c = await reader.readChunk();
      if (c === undefined) return { bytes, end: "eof" };
      bytes += c.byteLength;
    }
  } catch {
    return { bytes, end: "error" };
  }
}
