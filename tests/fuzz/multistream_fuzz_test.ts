/**
 * Properties of protocols/multistream: the wire codec (round trip, truncation = undefined,
 * arbitrary bytes = a MultistreamError subclass only, claimed lengths refused from the prefix
 * alone) and the sans-IO dialer/listener state machines (random message sequences only ever
 * end in their documented errors; two machines always agree on the dialer's first protocol the
 * listener supports).
 */

import { describe, it } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import {
  decodeFrame,
  decodeLsResponse,
  decodeMessage,
  DialerNegotiation,
  encodeLsResponse,
  encodeMessage,
  encodeMessages,
  InvalidHeaderError,
  ListenerNegotiation,
  LS,
  MAX_LS_RESPONSE_LENGTH,
  MAX_NEGOTIATION_ATTEMPTS,
  MAX_PROTOCOL_LENGTH,
  MessageTooLongError,
  MultistreamError,
  NA,
  PROTOCOL_ID,
  ProtocolNotSupportedError,
  TooManyAttemptsError,
  UnexpectedMessageError,
} from "../../src/multistream/mod.ts";
import { concat, utf8Encode } from "../../src/bytes.ts";
import { encodeUvarint } from "../../src/varint.ts";
import { bytes, check, only, splitAt } from "./fuzz.ts";

/** Text whose UTF-8 form (plus "\n") fits one message. */
const messageText = fc
  .string({ unit: "binary", maxLength: 40 })
  .filter((s) => utf8Encode(s).byteLength < MAX_PROTOCOL_LENGTH);
/** A protocol id usable by the state machines (non-empty, not reserved). */
const protocolId = fc
  .oneof(
    fc.constantFrom("/a", "/b", "/c", "/ipfs/ping/1.0.0", "/yamux/1.0.0"),
    fc.string({ unit: "binary", minLength: 1, maxLength: 12 }),
  )
  .filter((s) => s !== NA && s !== LS && s !== PROTOCOL_ID);

/** Decode back-to-back messages from a buffer. */
function decodeAll(input: Uint8Array): { texts: string[]; rest: number } {
  const texts: string[] = [];
  let offset = 0;
  for (;;) {
    const m = decodeMessage(input, offset);
    if (m === undefined) return { texts, rest: input.byteLength - offset };
    texts.push(m.text);
    offset += m.length;
  }
}

describe("fuzz: multistream codec", () => {
  it("messages round trip, also back to back", () => {
    check(
      "multistream/roundtrip",
      fc.property(fc.array(messageText, { maxLength: 6 }), (texts) => {
        const wire = encodeMessages(texts);
        assert.deepEqual(decodeAll(wire), { texts, rest: 0 });
        for (const t of texts) {
          const enc = encodeMessage(t);
          assert.deepEqual(decodeMessage(enc), { text: t, length: enc.byteLength });
        }
      }),
    );
  });

  it("every strict prefix of a message is undefined (need more bytes)", () => {
    check(
      "multistream/truncation",
      fc.property(messageText, (text) => {
        const enc = encodeMessage(text);
        for (let n = 0; n < enc.byteLength; n++) {
          assert.equal(decodeMessage(enc.subarray(0, n)), undefined, `prefix ${n}`);
        }
      }),
    );
  });

  it("arbitrary bytes decode, need more, or throw a MultistreamError subclass", () => {
    check(
      "multistream/arbitrary",
      fc.property(
        fc.oneof(
          bytes(40),
          bytes(30).map((b) => concat([encodeUvarint(b.byteLength), b])),
          bytes(6).map((b) => concat([encodeUvarint(MAX_PROTOCOL_LENGTH + b.byteLength + 1), b])),
        ),
        (input) => {
          const r = only([MultistreamError], () => decodeAll(input));
          const f = only([MultistreamError], () => decodeFrame(input));
          if (f.ok && f.value !== undefined) {
            assert.ok(f.value.payload.byteLength <= MAX_PROTOCOL_LENGTH);
          }
          if (r.ok) assert.ok(r.value.rest <= input.byteLength);
          const l = only([MultistreamError], () => decodeLsResponse(input));
          if (l.ok) assert.ok(l.value.length <= input.byteLength);
        },
      ),
    );
  });

  it("a length prefix above the limit throws MessageTooLongError from the prefix alone", () => {
    check(
      "multistream/claimed-length",
      fc.property(
        fc.oneof(fc.integer({ min: MAX_PROTOCOL_LENGTH + 1, max: 2 ** 31 }), fc.constant(2 ** 31)),
        fc.nat(3),
        (claimed, have) => {
          const prefix = encodeUvarint(claimed);
          // Only the prefix (and maybe a few body bytes) present: refused without waiting.
          const input = concat([prefix, new Uint8Array(have)]);
          assert.throws(() => decodeFrame(input), MessageTooLongError);
          // Even an incomplete prefix is refused once it is longer than the limit can need.
          if (prefix.byteLength > 2) {
            assert.throws(() => decodeFrame(prefix.subarray(0, 2)), MessageTooLongError);
          }
        },
      ),
    );
  });

  it("ls responses round trip within the limits", () => {
    check(
      "multistream/ls-roundtrip",
      fc.property(fc.array(messageText, { maxLength: 20 }), (protocols) => {
        const wire = encodeLsResponse(protocols);
        const frame = decodeFrame(wire, 0, MAX_LS_RESPONSE_LENGTH);
        assert.ok(frame !== undefined);
        assert.deepEqual(decodeLsResponse(frame.payload), protocols);
      }),
    );
  });
});

describe("fuzz: multistream state machines", () => {
  it("dialer: any sequence of replies ends in a protocol or a documented MultistreamError", () => {
    const reply = fc.oneof(
      fc.constantFrom(PROTOCOL_ID, NA, LS, "/a", "/b", "/c", ""),
      messageText,
    );
    check(
      "multistream/dialer-events",
      fc.property(
        fc.uniqueArray(protocolId, { minLength: 1, maxLength: 4 }),
        fc.array(reply, { maxLength: 10 }),
        (protocols, replies) => {
          const dialer = new DialerNegotiation(protocols);
          const hello = decodeAll(dialer.start());
          assert.deepEqual(hello.texts, [PROTOCOL_ID, protocols[0]]);
          for (const text of replies) {
            const r = only(
              [InvalidHeaderError, UnexpectedMessageError, ProtocolNotSupportedError],
              () => dialer.receive(text),
            );
            if (!r.ok) return;
            if (r.value.protocol !== undefined) {
              assert.ok(protocols.includes(r.value.protocol));
              assert.equal(r.value.protocol, text);
              return;
            }
            if (r.value.send !== undefined) {
              const sent = decodeAll(r.value.send).texts;
              assert.equal(sent.length, 1);
              assert.ok(protocols.includes(sent[0]));
            }
          }
        },
      ),
    );
  });

  it("listener: answers at most maxAttempts proposals, then TooManyAttemptsError", () => {
    check(
      "multistream/listener-events",
      fc.property(
        fc.uniqueArray(protocolId, { minLength: 1, maxLength: 4 }),
        fc.nat(MAX_NEGOTIATION_ATTEMPTS),
        fc.array(fc.oneof(fc.constantFrom(PROTOCOL_ID, NA, LS), protocolId, messageText), {
          maxLength: 40,
        }),
        (protocols, maxAttempts, proposals) => {
          const listener = new ListenerNegotiation(protocols, { maxAttempts });
          listener.start();
          let answered = 0;
          let first = true;
          for (const text of proposals) {
            const r = only(
              [InvalidHeaderError, TooManyAttemptsError],
              () => listener.receive(text),
            );
            if (!r.ok) {
              if (r.error instanceof InvalidHeaderError) assert.ok(first);
              else assert.equal(answered, maxAttempts);
              return;
            }
            if (first) {
              first = false;
              continue;
            }
            if (r.value.protocol !== undefined) {
              assert.ok(protocols.includes(r.value.protocol));
              assert.deepEqual(decodeAll(r.value.send!).texts, [r.value.protocol]);
              return;
            }
            answered++;
            assert.ok(answered <= maxAttempts);
            assert.equal(listener.attempts, answered);
            const sent = r.value.send!;
            if (text === LS) {
              const frame = decodeFrame(sent, 0, MAX_LS_RESPONSE_LENGTH)!;
              assert.deepEqual(decodeLsResponse(frame.payload), protocols);
            } else assert.deepEqual(decodeAll(sent).texts, [NA]);
          }
        },
      ),
    );
  });

  it("dialer and listener over a byte pipe split anywhere agree on the first common protocol", () => {
    check(
      "multistream/agreement",
      fc.property(
        fc.uniqueArray(protocolId, { minLength: 1, maxLength: 5 }),
        fc.uniqueArray(protocolId, { minLength: 1, maxLength: 5 }),
        fc.array(fc.nat(200), { maxLength: 6 }),
        (dialerProtocols, listenerProtocols, cuts) => {
          const dialer = new DialerNegotiation(dialerProtocols);
          const listener = new ListenerNegotiation(listenerProtocols);
          const expected = dialerProtocols.find((p) => listenerProtocols.includes(p));
          // Feed bytes in arbitrary chunks through a reassembly buffer, like service.ts does.
          let toListener = dialer.start();
          let toDialer = listener.start();
          let lBuf: Uint8Array = new Uint8Array(0);
          let dBuf: Uint8Array = new Uint8Array(0);
          let agreedD: string | undefined;
          let agreedL: string | undefined;
          for (let round = 0; round < 20 && agreedD === undefined; round++) {
            for (const chunk of splitAt(toListener, cuts)) {
              lBuf = concat([lBuf, chunk]);
              for (let m = decodeMessage(lBuf); m !== undefined; m = decodeMessage(lBuf)) {
                lBuf = lBuf.slice(m.length);
                const step = listener.receive(m.text);
                if (step.send) toDialer = concat([toDialer, step.send]);
                if (step.protocol) agreedL = step.protocol;
              }
            }
            toListener = new Uint8Array(0);
            for (const chunk of splitAt(toDialer, cuts)) {
              dBuf = concat([dBuf, chunk]);
              for (let m = decodeMessage(dBuf); m !== undefined; m = decodeMessage(dBuf)) {
                dBuf = dBuf.slice(m.length);
                let step;
                try {
                  step = dialer.receive(m.text);
                } catch (err) {
                  assert.ok(err instanceof ProtocolNotSupportedError);
                  assert.equal(expected, undefined);
                  return;
                }
                if (step.send) toListener = concat([toListener, step.send]);
                if (step.protocol) agreedD = step.protocol;
              }
            }
            toDialer = new Uint8Array(0);
          }
          assert.equal(agreedD, expected);
          assert.equal(agreedL, expected);
        },
      ),
    );
  });
});
