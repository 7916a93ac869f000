/**
 * Properties of protocols/yamux: the header codec (round trip, truncation, arbitrary bytes ->
 * YamuxProtocolError only) and the sans-IO session driven by random frame sequences, garbage
 * and local commands in any order: nothing ever throws out of `receive`, a protocol violation
 * fails the session with YamuxProtocolError (GoAway code 1, never a masked internal error) and
 * queues GoAway(1), and every count stays within its cap.
 */

import { describe, it } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import {
  LimitExceededError,
  StreamClosedError,
  StreamResetError,
  TimeoutError,
} from "../../src/errors.ts";
import { concat } from "../../src/bytes.ts";
import { YamuxProtocolError } from "../../protocols/yamux/mod.ts";
import { decodeHeader, encodeHeader, type FrameHeader } from "../../protocols/yamux/codec.ts";
import { Flag, FrameType, GoAwayCode, HEADER_LENGTH } from "../../protocols/yamux/constants.ts";
import { resolveYamuxOptions } from "../../protocols/yamux/options.ts";
import { MAX_WINDOW } from "../../protocols/yamux/constants.ts";
import { type SessionEvents, YamuxSession } from "../../protocols/yamux/session.ts";
import { bytes, check, only, splitAt } from "./fuzz.ts";

const u32 = fc.nat({ max: 0xffff_ffff });
const headerArb: fc.Arbitrary<FrameHeader> = fc.record({
  type: fc.constantFrom(0, 1, 2, 3) as fc.Arbitrary<FrameHeader["type"]>,
  flags: fc.nat({ max: 0xffff }),
  streamId: u32,
  length: u32,
}).map((h) => ({ ...h }));

describe("fuzz: yamux codec", () => {
  it("headers round trip; fewer than 12 bytes need more", () => {
    check(
      "yamux/header-roundtrip",
      fc.property(headerArb, fc.nat(HEADER_LENGTH - 1), bytes(8), (h, cut, tail) => {
        const enc = encodeHeader(h);
        assert.equal(enc.byteLength, HEADER_LENGTH);
        assert.deepEqual(decodeHeader(concat([enc, tail])), h);
        assert.equal(decodeHeader(enc.subarray(0, cut)), undefined);
        assert.deepEqual(decodeHeader(concat([tail, enc]), tail.byteLength), h);
      }),
    );
  });

  it("arbitrary bytes decode or throw YamuxProtocolError (bad version, unknown type)", () => {
    check(
      "yamux/header-arbitrary",
      fc.property(bytes(20), (input) => {
        const r = only([YamuxProtocolError], () => decodeHeader(input));
        if (input.byteLength < HEADER_LENGTH) assert.deepEqual(r, { ok: true, value: undefined });
        else assert.equal(r.ok, input[0] === 0 && input[1] <= 3);
      }),
    );
  });
});

// ------------------------------------------------------------------------------------------------

const OPTIONS = resolveYamuxOptions({
  maxStreams: 4,
  maxAckBacklog: 3,
  maxPendingPingReplies: 2,
  maxStreamWindow: 512 * 1024,
  perConnectionBudget: 1024 * 1024 + 128 * 1024,
  keepAliveIntervalMs: 1000,
  pingTimeoutMs: 500,
  maxMessageSize: 1024,
});

type Action =
  | { kind: "frame"; spec: FrameSpec }
  | { kind: "garbage"; bytes: Uint8Array }
  | { kind: "open" }
  | { kind: "write"; pick: number; n: number }
  | { kind: "closeWrite"; pick: number }
  | { kind: "reset"; pick: number }
  | { kind: "consume"; pick: number; n: number }
  | { kind: "closeRead"; pick: number }
  | { kind: "tick"; dt: number }
  | { kind: "drain" };

/**
 * Where a generated frame points: a stream id of the remote's parity (it may open those), of
 * ours, stream 0, or any u32. Resolved when the frame is built, once the side is known, so that
 * most frames are plausible and the session lives long enough to reach deep states.
 */
type IdChoice = { kind: "remote" | "local"; k: number } | { kind: "zero" } | {
  kind: "any";
  v: number;
};
const idChoice: fc.Arbitrary<IdChoice> = fc.oneof(
  { weight: 8, arbitrary: fc.nat(2).map((k) => ({ kind: "remote" as const, k })) },
  { weight: 2, arbitrary: fc.nat(2).map((k) => ({ kind: "local" as const, k })) },
  { weight: 1, arbitrary: fc.constant({ kind: "zero" as const }) },
  { weight: 1, arbitrary: u32.map((v) => ({ kind: "any" as const, v })) },
);
const flags = fc.oneof(
  { weight: 4, arbitrary: fc.constant(0) },
  { weight: 3, arbitrary: fc.constant(Flag.SYN) },
  { weight: 2, arbitrary: fc.constant(Flag.ACK) },
  { weight: 2, arbitrary: fc.constant(Flag.FIN) },
  { weight: 1, arbitrary: fc.constant(Flag.RST) },
  {
    weight: 1,
    arbitrary: fc.subarray([Flag.SYN, Flag.ACK, Flag.FIN, Flag.RST]).map((f) =>
      f.reduce((a, b) => a | b, 0)
    ),
  },
  { weight: 1, arbitrary: fc.nat({ max: 0xffff }) },
);

/** A remote frame, built for a client or server session. */
type FrameSpec =
  | { t: "data"; flags: number; id: IdChoice; payload: Uint8Array; claim?: number }
  | { t: "window"; flags: number; id: IdChoice; length: number }
  | { t: "session"; type: 2 | 3; flags: number; id: IdChoice; length: number }
  | { t: "raw"; bytes: Uint8Array };

const frameSpec: fc.Arbitrary<FrameSpec> = fc.oneof(
  {
    weight: 6,
    arbitrary: fc.record({ flags, id: idChoice, payload: bytes(300) }).map((r) => ({
      t: "data" as const,
      ...r,
    })),
  },
  {
    // A Data header claiming more than follows: the rest of the input becomes its payload.
    weight: 1,
    arbitrary: fc.record({
      flags,
      id: idChoice,
      payload: bytes(20),
      claim: fc.oneof(
        { weight: 4, arbitrary: fc.nat(400) },
        { weight: 1, arbitrary: fc.nat(600 * 1024) },
        { weight: 1, arbitrary: u32 },
      ),
    }).map((r) => ({ t: "data" as const, ...r })),
  },
  {
    weight: 5,
    arbitrary: fc.record({
      flags,
      id: idChoice,
      length: fc.oneof({ weight: 5, arbitrary: fc.nat(300 * 1024) }, { weight: 1, arbitrary: u32 }),
    }).map((r) => ({ t: "window" as const, ...r })),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      type: fc.constantFrom(2 as const, 2 as const, 2 as const, 3 as const),
      flags,
      id: fc.oneof({ weight: 10, arbitrary: fc.constant({ kind: "zero" as const }) }, {
        weight: 1,
        arbitrary: idChoice,
      }),
      length: u32,
    }).map((r) => ({ t: "session" as const, ...r })),
  },
  {
    // Bad version or unknown type.
    weight: 1,
    arbitrary: fc.oneof(
      fc.tuple(fc.integer({ min: 1, max: 255 }), bytes(11, 11)).map(([v, rest]) =>
        concat([Uint8Array.of(v), rest])
      ),
      fc.tuple(fc.integer({ min: 4, max: 255 }), bytes(10, 10)).map(([t, rest]) =>
        concat([Uint8Array.of(0, t), rest])
      ),
    ).map((b) => ({ t: "raw" as const, bytes: b })),
  },
);

function resolveId(id: IdChoice, client: boolean): number {
  switch (id.kind) {
    case "zero":
      return 0;
    case "any":
      return id.v;
    case "remote":
      return (client ? 2 : 1) + 2 * id.k;
    case "local":
      return (client ? 1 : 2) + 2 * id.k;
  }
}

function buildFrame(spec: FrameSpec, client: boolean): Uint8Array {
  switch (spec.t) {
    case "raw":
      return spec.bytes;
    case "data":
      return concat([
        encodeHeader({
          type: 0,
          flags: spec.flags,
          streamId: resolveId(spec.id, client),
          length: spec.claim ?? spec.payload.byteLength,
        }),
        spec.payload,
      ]);
    case "window":
      return encodeHeader({
        type: 1,
        flags: spec.flags,
        streamId: resolveId(spec.id, client),
        length: spec.length,
      });
    case "session":
      return encodeHeader({
        type: spec.type,
        flags: spec.flags,
        streamId: resolveId(spec.id, client),
        length: spec.length,
      });
  }
}

const action: fc.Arbitrary<Action> = fc.oneof(
  { weight: 10, arbitrary: frameSpec.map((spec) => ({ kind: "frame" as const, spec })) },
  { weight: 1, arbitrary: bytes(30).map((b) => ({ kind: "garbage" as const, bytes: b })) },
  { weight: 2, arbitrary: fc.constant({ kind: "open" as const }) },
  {
    weight: 2,
    arbitrary: fc.record({ pick: fc.nat(), n: fc.nat(3000) }).map((r) => ({
      kind: "write" as const,
      ...r,
    })),
  },
  { weight: 1, arbitrary: fc.nat().map((pick) => ({ kind: "closeWrite" as const, pick })) },
  { weight: 1, arbitrary: fc.nat().map((pick) => ({ kind: "reset" as const, pick })) },
  {
    weight: 2,
    arbitrary: fc.record({ pick: fc.nat(), n: fc.nat(300 * 1024) }).map((r) => ({
      kind: "consume" as const,
      ...r,
    })),
  },
  { weight: 1, arbitrary: fc.nat().map((pick) => ({ kind: "closeRead" as const, pick })) },
  { weight: 1, arbitrary: fc.nat(1500).map((dt) => ({ kind: "tick" as const, dt })) },
  { weight: 2, arbitrary: fc.constant({ kind: "drain" as const }) },
);

/** Decode an outbox into frame headers (payloads skipped). */
function outFrames(parts: Uint8Array[] | undefined): FrameHeader[] {
  const bytes = concat(parts ?? []);
  const out: FrameHeader[] = [];
  for (let off = 0; off < bytes.byteLength;) {
    const h = decodeHeader(bytes, off);
    assert.ok(h !== undefined, "truncated frame in the outbox");
    out.push(h);
    off += HEADER_LENGTH + (h.type === FrameType.Data ? h.length : 0);
  }
  assert.ok(out.length > 0 || bytes.byteLength === 0);
  return out;
}

interface Run {
  session: YamuxSession;
  log: string[];
  errors: Error[];
  live: Set<number>;
}

function newRun(client: boolean): Run {
  const log: string[] = [];
  const errors: Error[] = [];
  const live = new Set<number>();
  const ev: SessionEvents = {
    onOutput: () => {},
    onStreamOpened: (id) => {
      live.add(id);
      log.push(`open ${id}`);
    },
    onStreamData: (id, d) => log.push(`data ${id} ${d.byteLength}`),
    onStreamFin: (id) => log.push(`fin ${id}`),
    onStreamReset: (id) => log.push(`reset ${id}`),
    onSendWindow: (id) => log.push(`window ${id}`),
    onStreamFreed: (id) => {
      live.delete(id);
      log.push(`freed ${id}`);
    },
    onAckBacklog: () => log.push("backlog"),
    onGoAway: (code) => log.push(`goaway ${code}`),
    onError: (e) => {
      errors.push(e);
      log.push(`error ${e.constructor.name}`);
    },
  };
  return { session: new YamuxSession(client, OPTIONS, ev, 0), log, errors, live };
}

/** Invariants that hold after every step. */
function checkInvariants(run: Run): void {
  const s = run.session;
  assert.ok(s.streamCount <= 2 * OPTIONS.maxStreams, `streamCount ${s.streamCount}`);
  assert.equal(s.streamCount, run.live.size);
  let inbound = 0;
  for (const id of run.live) {
    const st = s.stream(id);
    assert.ok(st !== undefined);
    if (!st.outbound) inbound++;
    assert.ok(st.recvCredit >= 0 && st.recvCredit <= st.recvMax, `recvCredit ${st.recvCredit}`);
    assert.ok(st.sendWindow >= 0 && st.sendWindow <= MAX_WINDOW);
    assert.ok(st.buffered >= 0);
    assert.ok(st.recvMax <= OPTIONS.maxStreamWindow);
  }
  assert.ok(inbound <= OPTIONS.maxStreams);
  assert.ok(s.advertisedWindow <= OPTIONS.perConnectionBudget, `advertised ${s.advertisedWindow}`);
  assert.ok(s.ackBacklog >= 0 && s.ackBacklog <= OPTIONS.maxAckBacklog);
  assert.ok(s.outbox.pingReplies <= OPTIONS.maxPendingPingReplies);
  for (const e of run.errors) {
    if (e instanceof YamuxProtocolError) {
      // An InternalError code means an exception escaped the parser: a bug, not a peer's fault.
      assert.equal(e.code, GoAwayCode.ProtocolError, `internal error: ${String(e.cause)}`);
    } else assert.ok(e instanceof TimeoutError, `unexpected session error ${e}`);
  }
  assert.ok(run.errors.length <= 1);
}

function pick(run: Run, n: number): number | undefined {
  const ids = [...run.live];
  return ids.length === 0 ? undefined : ids[n % ids.length];
}

describe("fuzz: yamux session", () => {
  it("random frames, garbage and local commands: no throw, typed failure with GoAway(1), caps hold", () => {
    check(
      "yamux/session-events",
      fc.property(
        fc.boolean(),
        fc.array(action, { maxLength: 40, size: "max" }),
        fc.array(fc.nat(400), { maxLength: 3 }),
        (client, actions, cuts) => {
          const run = newRun(client);
          const s = run.session;
          let now = 0;
          let sawGoAway = false;
          const drain = () => {
            for (const f of outFrames(s.outbox.take())) {
              if (f.type === FrameType.GoAway) {
                sawGoAway = true;
                assert.equal(f.streamId, 0);
              }
            }
          };
          for (const a of actions) {
            switch (a.kind) {
              case "frame":
              case "garbage": {
                const input = a.kind === "frame" ? buildFrame(a.spec, client) : a.bytes;
                for (const chunk of splitAt(input, cuts)) s.receive(chunk, now);
                break;
              }
              case "open": {
                const r = only([StreamClosedError, LimitExceededError], () => s.openStream(now));
                if (r.ok) run.live.add(r.value);
                break;
              }
              case "write": {
                const id = pick(run, a.pick);
                if (id !== undefined) {
                  only(
                    [StreamResetError, StreamClosedError],
                    () => s.write(id, new Uint8Array(a.n)),
                  );
                }
                break;
              }
              case "closeWrite": {
                const id = pick(run, a.pick);
                if (id !== undefined) s.closeWrite(id);
                break;
              }
              case "reset": {
                const id = pick(run, a.pick);
                if (id !== undefined) s.resetStream(id);
                break;
              }
              case "consume": {
                const id = pick(run, a.pick);
                if (id !== undefined) s.consume(id, a.n, now);
                break;
              }
              case "closeRead": {
                const id = pick(run, a.pick);
                if (id !== undefined) s.closeRead(id, now);
                break;
              }
              case "tick":
                now += a.dt;
                s.tick(now);
                break;
              case "drain":
                drain();
                break;
            }
            checkInvariants(run);
          }
          const failure = s.failure;
          drain();
          if (failure instanceof YamuxProtocolError) {
            assert.ok(sawGoAway, "protocol error without a GoAway frame");
            assert.ok(s.localGoAway);
            // A failed session ignores further input and opens nothing.
            s.receive(
              encodeHeader({ type: 1, flags: Flag.SYN, streamId: client ? 2 : 1, length: 0 }),
              now,
            );
            assert.throws(() => s.openStream(now), StreamClosedError);
          }
        },
      ),
    );
  });

  it("the same bytes fed whole or split anywhere produce the same events and output", () => {
    check(
      "yamux/session-chunking",
      fc.property(
        fc.boolean(),
        fc.array(frameSpec, { maxLength: 12 }),
        fc.array(fc.nat(3000), { maxLength: 10 }),
        (client, frames, cuts) => {
          const input = concat(frames.map((f) => buildFrame(f, client)));
          const whole = newRun(client);
          whole.session.receive(input, 0);
          const split = newRun(client);
          for (const chunk of splitAt(input, cuts)) split.session.receive(chunk, 0);
          // Data may be delivered in more pieces when split: compare per-stream totals.
          const norm = (log: string[]) => {
            const out: string[] = [];
            for (const e of log) {
              const m = /^data (\d+) (\d+)$/.exec(e);
              const last = out[out.length - 1];
              const lm = last === undefined ? null : /^data (\d+) (\d+)$/.exec(last);
              if (m && lm && lm[1] === m[1]) out[out.length - 1] = `data ${m[1]} ${+lm[2] + +m[2]}`;
              else if (!m || m[2] !== "0") out.push(e);
            }
            return out;
          };
          assert.deepEqual(norm(split.log), norm(whole.log));
          assert.equal(split.session.failure?.message, whole.session.failure?.message);
          assert.deepEqual(
            outFrames(split.session.outbox.take()),
            outFrames(whole.session.outbox.take()),
          );
          checkInvariants(whole);
          checkInvariants(split);
        },
      ),
    );
  });

  it("a flood of inbound SYNs never holds more than maxStreams inbound streams", () => {
    check(
      "yamux/syn-flood",
      fc.property(fc.boolean(), fc.integer({ min: 5, max: 200 }), (client, n) => {
        const run = newRun(client);
        const first = client ? 2 : 1;
        const frames: Uint8Array[] = [];
        for (let k = 0; k < n; k++) {
          frames.push(
            encodeHeader({ type: 1, flags: Flag.SYN, streamId: first + 2 * k, length: 0 }),
          );
        }
        run.session.receive(concat(frames), 0);
        checkInvariants(run);
        assert.equal(run.session.streamCount, OPTIONS.maxStreams);
        const out = outFrames(run.session.outbox.take());
        const rst = out.filter((f) => f.type === FrameType.WindowUpdate && f.flags & Flag.RST);
        assert.equal(rst.length, n - OPTIONS.maxStreams);
        assert.equal(run.session.failure, undefined);
      }),
      { scale: 0.25 },
    );
  });

  it("a ping flood whose replies are never taken queues at most maxPendingPingReplies", () => {
    check(
      "yamux/ping-flood",
      fc.property(fc.integer({ min: 1, max: 500 }), u32, (n, opaque) => {
        const run = newRun(true);
        run.session.outbox.take();
        const ping = encodeHeader({ type: 2, flags: Flag.SYN, streamId: 0, length: opaque });
        run.session.receive(concat(new Array(n).fill(ping)), 0);
        checkInvariants(run);
        const replies = outFrames(run.session.outbox.take()).filter((f) =>
          f.type === FrameType.Ping
        );
        assert.equal(replies.length, Math.min(n, OPTIONS.maxPendingPingReplies));
        for (const r of replies) assert.deepEqual([r.flags, r.length], [Flag.ACK, opaque]);
      }),
      { scale: 0.25 },
    );
  });
});
