/**
 * Properties of protocols/mplex: the message codec (round trip, every prefix "need more bytes",
 * arbitrary bytes -> MplexProtocolError only, oversized lengths and varints refused from the
 * header alone) and the sans-IO session under random remote messages and local commands
 * (only MplexProtocolError escapes `receive`; stream counts, buffers and pending resets stay
 * within their caps; the buffered total always equals the sum over live streams).
 */

import { describe, it } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { LimitExceededError, StreamClosedError, StreamResetError } from "../../src/errors.ts";
import { concat } from "../../src/bytes.ts";
import { encodeUvarint } from "../../src/varint.ts";
import { MplexProtocolError } from "../../protocols/mplex/mod.ts";
import {
  decodeHeader,
  decodeMessage,
  encodedLength,
  encodeMessage,
} from "../../protocols/mplex/codec.ts";
import {
  MAX_MESSAGE_SIZE,
  MAX_PENDING_RESETS,
  MAX_VARINT_BYTES,
  MplexFlag,
  type MplexFlagValue,
} from "../../protocols/mplex/constants.ts";
import {
  type MplexLimits,
  MplexSession,
  type MplexStreamState,
} from "../../protocols/mplex/session.ts";
import { bytes, check, only, splitAt } from "./fuzz.ts";

const flagArb = fc.integer({ min: 0, max: 6 }) as fc.Arbitrary<MplexFlagValue>;
const idArb = fc.oneof(fc.nat(10), fc.nat(2 ** 31), fc.integer({ min: 0, max: 2 ** 50 - 2 }));

/** Decode back-to-back messages. */
function decodeAll(input: Uint8Array): { ids: number[]; rest: number } {
  const ids: number[] = [];
  let offset = 0;
  for (;;) {
    const m = decodeMessage(input, offset);
    if (m === undefined) return { ids, rest: input.byteLength - offset };
    ids.push(m.message.id);
    offset += m.length;
  }
}

describe("fuzz: mplex codec", () => {
  it("messages round trip; encodedLength is exact", () => {
    check(
      "mplex/roundtrip",
      fc.property(idArb, flagArb, bytes(200), bytes(6), (id, flag, data, tail) => {
        const enc = encodeMessage(id, flag, data);
        assert.equal(enc.byteLength, encodedLength(id, flag, data.byteLength));
        const d = decodeMessage(concat([enc, tail]));
        assert.ok(d !== undefined);
        assert.deepEqual(d.message, { id, flag, data });
        assert.equal(d.length, enc.byteLength);
      }),
    );
  });

  it("every strict prefix of a message needs more bytes", () => {
    check(
      "mplex/truncation",
      fc.property(idArb, flagArb, bytes(40), (id, flag, data) => {
        const enc = encodeMessage(id, flag, data);
        for (let n = 0; n < enc.byteLength; n++) {
          assert.equal(decodeMessage(enc.subarray(0, n)), undefined, `prefix ${n}`);
        }
      }),
    );
  });

  it("arbitrary bytes decode, need more, or throw MplexProtocolError", () => {
    check(
      "mplex/arbitrary",
      fc.property(bytes(60), (input) => {
        const r = only([MplexProtocolError], () => decodeAll(input));
        if (r.ok) assert.ok(r.value.rest >= 0);
      }),
    );
  });

  it("lengths above the limit and varints above 9 bytes fail from the header alone", () => {
    check(
      "mplex/limits",
      fc.property(
        fc.oneof(fc.integer({ min: MAX_MESSAGE_SIZE + 1, max: 2 ** 31 }), fc.constant(2 ** 31)),
        fc.nat(7),
        bytes(4),
        (claimed, header, body) => {
          const input = concat([encodeUvarint(header), encodeUvarint(claimed), body]);
          assert.throws(() => decodeHeader(input), MplexProtocolError);
          assert.throws(() => decodeMessage(input), MplexProtocolError);
          // A smaller caller limit applies too.
          const small = concat([encodeUvarint(header), encodeUvarint(65), body]);
          assert.throws(() => decodeMessage(small, 0, 64), MplexProtocolError);
          // Ten continuation bytes in either varint.
          const long = new Uint8Array(MAX_VARINT_BYTES + 1).fill(0x80);
          assert.throws(() => decodeHeader(long), MplexProtocolError);
          assert.throws(
            () => decodeHeader(concat([Uint8Array.of(0x08), long])),
            MplexProtocolError,
          );
        },
      ),
      { scale: 0.25 },
    );
  });
});

// ------------------------------------------------------------------------------------------------

const LIMITS: MplexLimits = {
  maxInboundStreams: 3,
  maxOutboundStreams: 3,
  maxMessageSize: 1024,
  maxStreamBufferSize: 256,
  maxSessionBufferSize: 512,
  slowReaderTimeout: 1000,
};

type Action =
  | { kind: "remote"; id: number; flag: MplexFlagValue; data: Uint8Array }
  | { kind: "open" }
  | { kind: "write"; pick: number; n: number }
  | { kind: "closeWrite"; pick: number }
  | { kind: "closeRead"; pick: number }
  | { kind: "reset"; pick: number }
  | { kind: "consume"; pick: number; n: number };

const action: fc.Arbitrary<Action> = fc.oneof(
  {
    weight: 10,
    arbitrary: fc.record({
      id: fc.oneof({ weight: 8, arbitrary: fc.nat(4) }, { weight: 1, arbitrary: idArb }),
      flag: flagArb,
      data: bytes(200),
    }).map((r) => ({ kind: "remote" as const, ...r })),
  },
  { weight: 2, arbitrary: fc.constant({ kind: "open" as const }) },
  {
    weight: 2,
    arbitrary: fc.record({ pick: fc.nat(), n: fc.nat(2000) }).map((r) => ({
      kind: "write" as const,
      ...r,
    })),
  },
  { weight: 1, arbitrary: fc.nat().map((pick) => ({ kind: "closeWrite" as const, pick })) },
  { weight: 1, arbitrary: fc.nat().map((pick) => ({ kind: "closeRead" as const, pick })) },
  { weight: 1, arbitrary: fc.nat().map((pick) => ({ kind: "reset" as const, pick })) },
  {
    weight: 2,
    arbitrary: fc.record({ pick: fc.nat(), n: fc.nat(300) }).map((r) => ({
      kind: "consume" as const,
      ...r,
    })),
  },
);

function checkInvariants(session: MplexSession, freed: Set<MplexStreamState>): void {
  assert.ok(session.inboundCount <= LIMITS.maxInboundStreams);
  assert.ok(session.outboundCount <= LIMITS.maxOutboundStreams);
  assert.ok(session.buffered >= 0 && session.buffered <= LIMITS.maxSessionBufferSize);
  assert.ok(session.pendingResets <= MAX_PENDING_RESETS);
  let sum = 0;
  for (const st of session.streams()) {
    assert.ok(!st.freed && !freed.has(st), "a freed stream is still in the table");
    assert.ok(st.buffered >= 0 && st.buffered <= LIMITS.maxStreamBufferSize);
    sum += st.buffered;
  }
  assert.equal(session.buffered, sum, "session buffer total drifted from its streams");
}

describe("fuzz: mplex session", () => {
  it("random messages and commands: only MplexProtocolError escapes; caps and totals hold", () => {
    check(
      "mplex/session-events",
      fc.property(fc.array(action, { maxLength: 50, size: "max" }), (actions) => {
        const sent: { id: number; flag: MplexFlagValue }[] = [];
        const freed = new Set<MplexStreamState>();
        const session = new MplexSession(LIMITS, {
          send: (id, flag) => {
            sent.push({ id, flag });
            return Promise.resolve();
          },
          onFree: (st) => freed.add(st),
        });
        const pick = (n: number): MplexStreamState | undefined => {
          const all = session.streams();
          return all.length === 0 ? undefined : all[n % all.length];
        };
        for (const a of actions) {
          switch (a.kind) {
            case "remote": {
              const r = only(
                [MplexProtocolError],
                () => session.receive({ id: a.id, flag: a.flag, data: a.data }),
              );
              if (!r.ok) {
                // Only NewStream for an open id (or a reset flood) closes the session.
                assert.equal(a.flag, MplexFlag.NewStream);
                checkInvariants(session, freed);
                return;
              }
              const ev = r.value;
              if (ev?.type === "blocked") {
                assert.ok(!session.fits(ev.stream, a.data.byteLength));
                const reset = session.overflow(ev.stream, a.data.byteLength);
                assert.equal(reset.type, "local-reset");
                assert.ok(
                  reset.type === "local-reset" && reset.error instanceof LimitExceededError,
                );
              }
              if (ev?.type === "inbound") assert.equal(ev.stream.initiator, false);
              break;
            }
            case "open":
              only([LimitExceededError, StreamClosedError], () => session.openStream());
              break;
            case "write": {
              const st = pick(a.pick);
              if (st !== undefined) {
                only(
                  [StreamResetError, StreamClosedError, RangeError],
                  () => session.write(st, new Uint8Array(a.n)),
                );
              }
              break;
            }
            case "closeWrite": {
              const st = pick(a.pick);
              if (st !== undefined) session.closeWrite(st);
              break;
            }
            case "closeRead": {
              const st = pick(a.pick);
              if (st !== undefined) session.closeRead(st);
              break;
            }
            case "reset": {
              const st = pick(a.pick);
              if (st !== undefined) session.reset(st);
              break;
            }
            case "consume": {
              const st = pick(a.pick);
              if (st !== undefined) session.consumed(st, a.n);
              break;
            }
          }
          checkInvariants(session, freed);
        }
        // Everything sent is a well-formed message.
        for (const m of sent) assert.ok(m.flag >= 0 && m.flag <= 6);
        session.resetAll();
        assert.equal(session.size, 0);
        assert.equal(session.buffered, 0);
      }),
    );
  });

  it("a NewStream flood: at most maxInboundStreams accepted, the rest reset, then the session closes", () => {
    check(
      "mplex/newstream-flood",
      fc.property(fc.integer({ min: 4, max: 64 }), (n) => {
        let resets = 0;
        const session = new MplexSession(LIMITS, {
          send: (_id, flag) => {
            if (flag === MplexFlag.ResetReceiver) resets++;
            // Never taken by the connection: pending resets only grow.
            return new Promise<void>(() => {});
          },
        });
        for (let id = 0; id < n; id++) {
          session.receive({ id, flag: MplexFlag.NewStream, data: new Uint8Array(0) });
        }
        assert.equal(session.inboundCount, LIMITS.maxInboundStreams);
        assert.equal(resets, n - LIMITS.maxInboundStreams);
        assert.equal(session.pendingResets, resets);
        // NewStream for an id in use is a protocol error.
        assert.throws(
          () => session.receive({ id: 0, flag: MplexFlag.NewStream, data: new Uint8Array(0) }),
          MplexProtocolError,
        );
        // Past MAX_PENDING_RESETS unread resets the session gives up.
        let thrown: unknown;
        for (let id = n; id < n + MAX_PENDING_RESETS + 1 && thrown === undefined; id++) {
          try {
            session.receive({ id, flag: MplexFlag.NewStream, data: new Uint8Array(0) });
          } catch (err) {
            thrown = err;
          }
        }
        assert.ok(thrown instanceof MplexProtocolError);
        assert.ok(session.pendingResets <= MAX_PENDING_RESETS + 1);
      }),
      { scale: 0.05 },
    );
  });

  it("decode + session over a byte stream split anywhere behaves like whole messages", () => {
    check(
      "mplex/stream-chunking",
      fc.property(
        fc.array(
          fc.record({ id: fc.nat(4), flag: flagArb, data: bytes(100) }),
          { maxLength: 20 },
        ),
        fc.array(fc.nat(3000), { maxLength: 8 }),
        (messages, cuts) => {
          const wire = concat(messages.map((m) => encodeMessage(m.id, m.flag, m.data)));
          let buffer: Uint8Array = new Uint8Array(0);
          const seen: { id: number; flag: number; data: Uint8Array }[] = [];
          for (const chunk of splitAt(wire, cuts)) {
            buffer = concat([buffer, chunk]);
            for (let m = decodeMessage(buffer); m !== undefined; m = decodeMessage(buffer)) {
              seen.push({ ...m.message, data: m.message.data.slice() });
              buffer = buffer.slice(m.length);
            }
          }
          assert.equal(buffer.byteLength, 0);
          assert.deepEqual(seen, messages.map((m) => ({ ...m })));
        },
      ),
    );
  });
});
