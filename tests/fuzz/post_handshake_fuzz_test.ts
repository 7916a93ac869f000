/**
 * Post-handshake fuzz: two real Noise sessions over connPair; the victim side runs a Yamux
 * (or mplex) muxer whose inbound streams go through multistream-select to an echo handler (the way the
 * node wires handlers); the attacker side writes random, partly well-formed Yamux frames as
 * plaintext through its encrypting Noise channel, then half-closes or aborts.
 *
 * Every run must end with the victim's session closed, its close reason undefined or a library
 * error (never TypeError/RangeError or a foreign error), a GoAway with the error's code on the
 * wire when it was a protocol error, no stream left behind, and no unhandled rejection or
 * uncaught exception anywhere in the process (the detectors below record them; Deno's and Bun's
 * test runners also fail the running test on one, so a leak fails either way).
 */

import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import process from "node:process";
import fc from "fast-check";
import { concat } from "../../src/bytes.ts";
import { Libp2pError } from "../../src/errors.ts";
import { generateKeyPair, type PrivateKey } from "../../src/keys/mod.ts";
import { connPair } from "../helpers/conn.ts";
import type { SecuredConnection as Secured } from "../../src/security.ts";
import type { WebConnection } from "../helpers/conn.ts";
type SecuredConnection = WebConnection<Secured>;
import type { MuxedStream } from "../../src/muxer.ts";
import { NoiseEncrypter, type NoiseInit } from "../../protocols/noise/service.ts";
import { type WebEncrypter, webEncrypter } from "../helpers/conn.ts";
const noise = (init: NoiseInit): WebEncrypter => webEncrypter(new NoiseEncrypter(init));
import { yamux, YamuxProtocolError } from "../../protocols/yamux/mod.ts";
import { decodeHeader, encodeHeader } from "../../protocols/yamux/codec.ts";
import { Flag, FrameType, HEADER_LENGTH } from "../../protocols/yamux/constants.ts";
import { encodeMessages, handle, PROTOCOL_ID } from "../../src/multistream/mod.ts";
import { mplex } from "../../protocols/mplex/mod.ts";
import { encodeMessage as encodeMplex } from "../../protocols/mplex/codec.ts";
import { MplexFlag } from "../../protocols/mplex/constants.ts";
import type { StreamMuxerFactory } from "../../src/muxer.ts";
import { bytes, check, splitAt } from "./fuzz.ts";

const ECHO = "/echo/1.0.0";

// ---- process-wide detectors ----------------------------------------------------------------

const leaks: unknown[] = [];
const onRejection = (reason: unknown): void => void leaks.push(reason);
const onWebRejection = (e: Event): void => {
  e.preventDefault();
  leaks.push((e as PromiseRejectionEvent).reason);
};
const onWebError = (e: Event): void => {
  e.preventDefault();
  leaks.push((e as ErrorEvent).error);
};
const hasWebEvents = typeof globalThis.addEventListener === "function" && "Deno" in globalThis;

function installDetectors(): void {
  if (hasWebEvents) {
    globalThis.addEventListener("unhandledrejection", onWebRejection);
    globalThis.addEventListener("error", onWebError);
  } else {
    process.on("unhandledRejection", onRejection);
    process.on("uncaughtException", onRejection);
  }
}

function removeDetectors(): void {
  if (hasWebEvents) {
    globalThis.removeEventListener("unhandledrejection", onWebRejection);
    globalThis.removeEventListener("error", onWebError);
  } else {
    process.off("unhandledRejection", onRejection);
    process.off("uncaughtException", onRejection);
  }
}

/** Let pending rejections surface (unhandled-rejection events fire after a macrotask). */
function settle(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 5));
}

// ---- attacker input ------------------------------------------------------------------------

/** A frame the attacker (the dialler: odd stream ids) sends, mostly plausible. */
const attackerFrame: fc.Arbitrary<Uint8Array> = fc.oneof(
  {
    // Data on one of our streams, sometimes opening it, carrying multistream or junk.
    weight: 6,
    arbitrary: fc.record({
      id: fc.constantFrom(1, 1, 3, 5, 2, 0),
      flags: fc.constantFrom(0, 0, Flag.SYN, Flag.FIN, Flag.RST, Flag.ACK, 0xffff),
      payload: fc.oneof(
        bytes(200),
        fc.constant(encodeMessages([PROTOCOL_ID, ECHO])),
        fc.constant(encodeMessages([PROTOCOL_ID, "/nope/1.0.0", "ls"])),
        bytes(40).map((b) => concat([encodeMessages([PROTOCOL_ID, ECHO]), b])),
      ),
      claim: fc.option(fc.oneof(fc.nat(1000), fc.nat({ max: 0xffff_ffff })), { nil: undefined }),
    }).map(({ id, flags, payload, claim }) =>
      concat([
        encodeHeader({ type: 0, flags, streamId: id, length: claim ?? payload.byteLength }),
        payload,
      ])
    ),
  },
  {
    weight: 4,
    arbitrary: fc.record({
      id: fc.constantFrom(1, 3, 5, 2, 0, 7),
      flags: fc.constantFrom(Flag.SYN, Flag.SYN, 0, Flag.FIN, Flag.RST, Flag.ACK),
      length: fc.oneof(fc.nat(256 * 1024), fc.nat({ max: 0xffff_ffff })),
    }).map(({ id, flags, length }) => encodeHeader({ type: 1, flags, streamId: id, length })),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      type: fc.constantFrom(2, 2, 3) as fc.Arbitrary<2 | 3>,
      id: fc.constantFrom(0, 0, 0, 1),
      flags: fc.constantFrom(Flag.SYN, Flag.ACK, 0),
      length: fc.nat({ max: 0xffff_ffff }),
    }).map(({ type, id, flags, length }) => encodeHeader({ type, flags, streamId: id, length })),
  },
  { weight: 1, arbitrary: bytes(24) },
);

/** Two streams opened properly and asking for echo: a good start for deeper states. */
const HONEST_PREFIX = concat([
  encodeHeader({ type: 1, flags: Flag.SYN, streamId: 1, length: 0 }),
  encodeHeader({ type: 0, flags: 0, streamId: 1, length: 0 }),
  (() => {
    const m = encodeMessages([PROTOCOL_ID, ECHO]);
    return concat([encodeHeader({ type: 0, flags: 0, streamId: 1, length: m.byteLength }), m]);
  })(),
  encodeHeader({ type: 1, flags: Flag.SYN, streamId: 3, length: 0 }),
]);

/** An mplex message from the attacker: stream ids 0-3, any flag, multistream or junk data. */
const mplexFrame: fc.Arbitrary<Uint8Array> = fc.oneof(
  {
    weight: 8,
    arbitrary: fc.record({
      id: fc.nat(3),
      flag: fc.integer({ min: 0, max: 6 }) as fc.Arbitrary<0 | 1 | 2 | 3 | 4 | 5 | 6>,
      data: fc.oneof(bytes(200), fc.constant(encodeMessages([PROTOCOL_ID, ECHO]))),
    }).map(({ id, flag, data }) => encodeMplex(id, flag, data)),
  },
  // Headers with a flag of 7 or a length above the limit, and plain junk.
  { weight: 1, arbitrary: fc.nat(100).map((id) => Uint8Array.of((id << 3) | 7, 0)) },
  {
    weight: 1,
    arbitrary: fc.nat(3).map((id) => Uint8Array.of(id << 3 | 2, 0xff, 0xff, 0xff, 0x0f)),
  },
  { weight: 1, arbitrary: bytes(24) },
);

const MPLEX_PREFIX = concat([
  encodeMplex(0, MplexFlag.NewStream, new TextEncoder().encode("0")),
  encodeMplex(0, MplexFlag.MessageInitiator, encodeMessages([PROTOCOL_ID, ECHO])),
  encodeMplex(1, MplexFlag.NewStream, new Uint8Array(0)),
]);

// ---- one run -------------------------------------------------------------------------------

let keyA: PrivateKey;
let keyB: PrivateKey;

async function securePair(): Promise<[SecuredConnection, SecuredConnection]> {
  const [a, b] = connPair();
  return await Promise.all([
    noise({ privateKey: keyA }).secureOutbound(a),
    noise({ privateKey: keyB }).secureInbound(b),
  ]);
}

/** Parse the victim's output (well-formed yamux frames, possibly cut at the end). */
function framesOf(output: Uint8Array): { type: number; length: number }[] {
  const out: { type: number; length: number }[] = [];
  for (let off = 0; off + HEADER_LENGTH <= output.byteLength;) {
    const h = decodeHeader(output, off);
    assert.ok(h !== undefined);
    out.push({ type: h.type, length: h.length });
    off += HEADER_LENGTH + (h.type === FrameType.Data ? h.length : 0);
  }
  return out;
}

function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  return Promise.race([
    p.finally(() => clearTimeout(timer)),
    new Promise<T>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${what} did not finish within ${ms} ms`)), ms);
    }),
  ]);
}

async function attack(
  kind: "yamux" | "mplex",
  honest: boolean,
  frames: Uint8Array[],
  cuts: number[],
  ending: "close" | "abort" | "linger",
): Promise<void> {
  const [attacker, victim] = await securePair();
  const handlers: Promise<unknown>[] = [];
  let closeReason: { error?: Error } | undefined;
  let closeCount = 0;
  const factory: StreamMuxerFactory = kind === "yamux"
    ? yamux({ keepAliveIntervalMs: 0, goAwayTimeoutMs: 100 })
    : mplex({
      maxInboundStreams: 3,
      maxMessageSize: 4096,
      maxStreamBufferSize: 4096,
      slowReaderTimeout: 200,
    });
  const muxer = factory.createStreamMuxer(victim, {
    direction: "inbound",
    onIncomingStream: (stream: MuxedStream) => {
      // What the node's registrar does: negotiate, run the handler, reset on failure.
      handlers.push(
        handle(stream, [ECHO], { timeoutMs: 1000 })
          .then(({ stream: s }) => s.readable.pipeTo(s.writable))
          .catch(() => stream.reset()),
      );
    },
    onClose: (error?: Error) => {
      closeCount++;
      closeReason = { error };
    },
  });

  // Everything the victim writes back, until it closes or aborts the connection.
  const output: Uint8Array[] = [];
  const reading = (async () => {
    try {
      for await (const chunk of attacker.readable) output.push(chunk);
    } catch {
      // aborted by the victim: expected after a protocol error
    }
  })();

  const prefix = kind === "yamux" ? HONEST_PREFIX : MPLEX_PREFIX;
  const wire = concat([honest ? prefix : new Uint8Array(0), ...frames]);
  const writer = attacker.writable.getWriter();
  try {
    for (const chunk of splitAt(wire, cuts)) await writer.write(chunk);
    if (ending === "close") await writer.close();
  } catch {
    // the victim closed the connection under us
  }
  // Over connPair the abort reason reaches the victim's reads unchanged, as a transport's own
  // error would: it may be the session's close reason (or its cause).
  const gone = new Error("attacker went away");
  if (ending === "abort") attacker.abort(gone);
  if (ending === "linger") {
    // Give the victim time to react to what it got, then leave (closing our side).
    await settle();
    await writer.close().catch(() => {});
  }

  await withTimeout(muxer.closed, 5000, "victim session");
  await withTimeout(reading, 5000, "attacker reader");
  await withTimeout(Promise.allSettled(handlers), 5000, "stream handlers");
  attacker.abort();
  await settle();

  assert.equal(closeCount, 1, "onClose must run exactly once");
  const error = closeReason?.error;
  if (error !== undefined && error !== gone && error.cause !== gone) {
    assert.ok(error instanceof Libp2pError, `session ended with a foreign error: ${error.stack}`);
  }
  if (kind === "yamux" && error instanceof YamuxProtocolError && ending !== "abort") {
    const goAway = framesOf(concat(output)).filter((f) => f.type === FrameType.GoAway);
    assert.ok(goAway.some((f) => f.length === error.code), "protocol error without GoAway(code)");
  }
  assert.equal(muxer.streams.length, 0, "streams left behind");
}

describe("fuzz: post-handshake (Noise -> Yamux -> multistream -> echo)", () => {
  before(async () => {
    keyA = await generateKeyPair("Ed25519");
    keyB = await generateKeyPair("Ed25519");
    installDetectors();
  });
  after(() => removeDetectors());

  it("random frames through a real Noise channel end in a typed close, never a leak", async () => {
    await check(
      "post-handshake/yamux",
      fc.asyncProperty(
        fc.boolean(),
        fc.array(attackerFrame, { maxLength: 12, size: "max" }),
        fc.array(fc.nat(2000), { maxLength: 5 }),
        fc.constantFrom("close" as const, "abort" as const, "linger" as const),
        async (honest, frames, cuts, ending) => {
          leaks.length = 0;
          await attack("yamux", honest, frames, cuts, ending);
          assert.deepEqual(leaks, [], "unhandled rejection or uncaught exception");
        },
      ),
      { scale: 0.15, timeout: 20_000 },
    );
  });

  const mplexProperty = (name: string, endings: ("close" | "abort" | "linger")[]) =>
    check(
      name,
      fc.asyncProperty(
        fc.boolean(),
        fc.array(mplexFrame, { maxLength: 12, size: "max" }),
        fc.array(fc.nat(2000), { maxLength: 5 }),
        fc.constantFrom(...endings),
        async (honest, frames, cuts, ending) => {
          leaks.length = 0;
          await attack("mplex", honest, frames, cuts, ending);
          assert.deepEqual(leaks, [], "unhandled rejection or uncaught exception");
        },
      ),
      { scale: 0.15, timeout: 20_000 },
    );

  it("random mplex messages through a real Noise channel end in a typed close, never a leak", async () => {
    await mplexProperty("post-handshake/mplex", ["close", "linger"]);
  });

  // Regression: an abort while the mplex writer was writing used to close the session with the
  // raw web-streams TypeError (found under Bun with FUZZ_SEED=1511648038: honest prefix, no
  // frames, attacker aborts); it is now a ConnectionClosedError with that cause.
  it("random mplex messages, then the attacker aborts: typed close reason", async () => {
    await mplexProperty("post-handshake/mplex-abort", ["abort"]);
  });

  it("an honest echo still works over the same kind of channel (the harness can succeed)", async () => {
    const [attacker, victim] = await securePair();
    const muxer = yamux({ keepAliveIntervalMs: 0 }).createStreamMuxer(victim, {
      direction: "inbound",
      onIncomingStream: (stream: MuxedStream) => {
        handle(stream, [ECHO])
          .then(({ stream: s }) => s.readable.pipeTo(s.writable))
          .catch(() => stream.reset());
      },
    });
    const writer = attacker.writable.getWriter();
    const hello = encodeMessages([PROTOCOL_ID, ECHO]);
    await writer.write(concat([
      encodeHeader({ type: 1, flags: Flag.SYN, streamId: 1, length: 0 }),
      encodeHeader({ type: 0, flags: Flag.FIN, streamId: 1, length: hello.byteLength + 3 }),
      hello,
      Uint8Array.of(7, 8, 9),
    ]));
    // Read until the echoed bytes (after the two multistream replies) and the FIN arrive.
    const reader = attacker.readable.getReader();
    let got: Uint8Array = new Uint8Array(0);
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      got = concat([got, value]);
      const frames = framesWithPayload(got).filter((f) => f.streamId === 1);
      const payload = concat(frames.filter((f) => f.type === 0).map((f) => f.payload));
      if (frames.some((f) => f.flags & Flag.FIN)) {
        assert.deepEqual(payload.subarray(payload.byteLength - 3), Uint8Array.of(7, 8, 9));
        break;
      }
    }
    reader.releaseLock();
    await writer.close();
    await muxer.closed;
    attacker.abort();
  });
});

function framesWithPayload(output: Uint8Array) {
  const out: { type: number; flags: number; streamId: number; payload: Uint8Array }[] = [];
  for (let off = 0; off + HEADER_LENGTH <= output.byteLength;) {
    const h = decodeHeader(output, off)!;
    const n = h.type === FrameType.Data ? h.length : 0;
    if (off + HEADER_LENGTH + n > output.byteLength) break;
    out.push({ ...h, payload: output.subarray(off + HEADER_LENGTH, off + HEADER_LENGTH + n) });
    off += HEADER_LENGTH + n;
  }
  return out;
}
