// Test helpers for the sans-IO yamux session: a recording event sink, a frame builder and a
// parser for the session's outbox.
import { concat } from "../../src/bytes.ts";
import { decodeHeader, encodeHeader, type FrameHeader } from "../../protocols/yamux/codec.ts";
import { HEADER_LENGTH } from "../../protocols/yamux/constants.ts";
import { resolveYamuxOptions, type YamuxOptions } from "../../protocols/yamux/options.ts";
import { type SessionEvents, YamuxSession } from "../../protocols/yamux/session.ts";
import type { MuxerMemory } from "../../src/muxer.ts";

/** A decoded outgoing frame. */
export interface Frame extends FrameHeader {
  payload?: Uint8Array;
}

/** A session plus everything it reported. */
export interface Harness {
  session: YamuxSession;
  events: string[];
  data: Map<number, Uint8Array[]>;
  errors: Error[];
  /** Decode and drain the outbox. */
  sent(): Frame[];
}

/** Build a session with recording callbacks; the initial RTT ping is drained unless `keepPing`. */
export function harness(
  client: boolean,
  options: YamuxOptions = {},
  now = 0,
  keepPing = false,
  memory?: MuxerMemory,
): Harness {
  const events: string[] = [];
  const data = new Map<number, Uint8Array[]>();
  const errors: Error[] = [];
  const ev: SessionEvents = {
    onOutput: () => {},
    onStreamOpened: (id) => events.push(`open ${id}`),
    onStreamData: (id, d) => {
      let list = data.get(id);
      if (list === undefined) data.set(id, list = []);
      list.push(d);
    },
    onStreamFin: (id) => events.push(`fin ${id}`),
    onStreamReset: (id) => events.push(`reset ${id}`),
    onSendWindow: (id) => events.push(`window ${id}`),
    onStreamFreed: (id) => events.push(`freed ${id}`),
    onAckBacklog: () => events.push("backlog"),
    onGoAway: (code) => events.push(`goaway ${code}`),
    onError: (e) => errors.push(e),
  };
  const session = new YamuxSession(client, resolveYamuxOptions(options), ev, now, memory);
  const h: Harness = {
    session,
    events,
    data,
    errors,
    sent: () => parseFrames(concat(session.outbox.take() ?? [])),
  };
  if (!keepPing) h.sent();
  return h;
}

/** Split encoded bytes into frames (Data frames carry their payload). */
export function parseFrames(bytes: Uint8Array): Frame[] {
  const out: Frame[] = [];
  let off = 0;
  while (off < bytes.byteLength) {
    const h = decodeHeader(bytes, off);
    if (h === undefined) throw new Error("truncated frame in outbox");
    off += HEADER_LENGTH;
    if (h.type === 0) {
      out.push({ ...h, payload: bytes.slice(off, off + h.length) });
      off += h.length;
    } else out.push(h);
  }
  return out;
}

/** Encode one frame; Data frames get `payload` (or `length` zero bytes). */
export function frame(
  type: number,
  flags: number,
  streamId: number,
  length: number,
  payload?: Uint8Array,
): Uint8Array {
  const head = encodeHeader({ type: type as 0, flags, streamId, length });
  if (type !== 0) return head;
  return concat([head, payload ?? new Uint8Array(length)]);
}
