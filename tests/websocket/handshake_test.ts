/**
 * The sans-IO handshake codec (transports/websocket/handshake.ts): the RFC 6455 sample key, the
 * request's bytes, the response head split at every cut, and every refused answer.
 */

import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { LimitExceededError } from "../../src/errors.ts";
import { WebSocketHandshakeError } from "../../transports/websocket/errors.ts";
import {
  acceptFor,
  checkResponseHead,
  encodeUpgradeRequest,
  MAX_RESPONSE_HEAD_BYTES,
  newHandshakeKey,
  parseResponseHead,
} from "../../transports/websocket/handshake.ts";

const KEY = "dGhlIHNhbXBsZSBub25jZQ==";
const ACCEPT = "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=";
const enc = (s: string) => new TextEncoder().encode(s);

function response(lines: string[], extra = ""): Uint8Array {
  return enc(lines.join("\r\n") + "\r\n\r\n" + extra);
}

const GOOD = [
  "HTTP/1.1 101 Switching Protocols",
  "Upgrade: websocket",
  "Connection: Upgrade",
  `Sec-WebSocket-Accept: ${ACCEPT}`,
];

function check(lines: string[]): void {
  const parsed = parseResponseHead(response(lines));
  assert.ok(parsed !== undefined);
  checkResponseHead(parsed.head, ACCEPT);
}

const handshakeError = (pattern: RegExp) => (e: unknown) =>
  e instanceof WebSocketHandshakeError && pattern.test(e.message);

describe("websocket handshake codec", () => {
  it("computes Sec-WebSocket-Accept for the RFC 6455 sample key", async () => {
    assert.equal(await acceptFor(KEY), ACCEPT);
  });

  it("makes fresh 16-byte keys", () => {
    const a = newHandshakeKey();
    assert.equal(atob(a).length, 16);
    assert.notEqual(a, newHandshakeKey());
  });

  it("encodes the upgrade request", () => {
    const text = new TextDecoder().decode(
      encodeUpgradeRequest({ host: "[::1]:4001", path: "/p?q=1", key: KEY }),
    );
    assert.equal(
      text,
      "GET /p?q=1 HTTP/1.1\r\nHost: [::1]:4001\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
        `Sec-WebSocket-Key: ${KEY}\r\nSec-WebSocket-Version: 13\r\n\r\n`,
    );
    assert.throws(
      () => encodeUpgradeRequest({ host: "a\r\nX: y", path: "/", key: KEY }),
      TypeError,
    );
  });

  it("splits the head from the first frame bytes at every cut", () => {
    const head = response(GOOD);
    const bytes = new Uint8Array([...head, 0x82, 0x01, 0x41]);
    for (let cut = 0; cut < bytes.byteLength - 3; cut++) {
      assert.equal(parseResponseHead(bytes.subarray(0, cut)), undefined, `cut ${cut}`);
    }
    const parsed = parseResponseHead(bytes)!;
    assert.equal(parsed.head.status, 101);
    assert.equal(parsed.head.statusLine, GOOD[0]);
    assert.equal(parsed.head.headers.get("sec-websocket-accept"), ACCEPT);
    assert.deepEqual([...parsed.rest], [0x82, 0x01, 0x41]);
    checkResponseHead(parsed.head, ACCEPT);
  });

  it("accepts header names and values in any case, and Connection with more tokens", () => {
    check([
      "HTTP/1.1 101 OK",
      "upgrade: WebSocket",
      "CONNECTION: keep-alive, upgrade",
      `sec-websocket-accept:${ACCEPT}`,
    ]);
    check(["HTTP/1.1 101", ...GOOD.slice(1), "Server: x"]);
  });
});

describe("websocket handshake codec: refused answers", () => {
  it("quotes a status other than 101 with its line", () => {
    assert.throws(
      () => check(["HTTP/1.1 404 Not Found", "Content-Length: 0"]),
      handshakeError(/refused: "HTTP\/1\.1 404 Not Found"/),
    );
    assert.throws(() => check(["HTTP/1.1 200 OK", ...GOOD.slice(1)]), handshakeError(/200 OK/));
  });

  it("refuses a wrong or missing Sec-WebSocket-Accept", () => {
    const wrong = [...GOOD.slice(0, 3), "Sec-WebSocket-Accept: AAAAAAAAAAAAAAAAAAAAAAAAAAA="];
    assert.throws(() => check(wrong), handshakeError(/Sec-WebSocket-Accept/));
    assert.throws(() => check(GOOD.slice(0, 3)), handshakeError(/Sec-WebSocket-Accept null/));
    // Repeated accept headers join into one value that matches nothing.
    assert.throws(
      () => check([...GOOD, `Sec-WebSocket-Accept: ${ACCEPT}`]),
      WebSocketHandshakeError,
    );
  });

  it("refuses missing Upgrade/Connection headers and unoffered extensions or subprotocols", () => {
    assert.throws(() => check([GOOD[0], GOOD[2], GOOD[3]]), handshakeError(/Upgrade header/));
    assert.throws(() => check([GOOD[0], "Upgrade: h2c", GOOD[2], GOOD[3]]), handshakeError(/h2c/));
    assert.throws(() => check([GOOD[0], GOOD[1], GOOD[3]]), handshakeError(/Connection/));
    assert.throws(
      () => check([...GOOD, "Sec-WebSocket-Extensions: permessage-deflate"]),
      handshakeError(/extension/),
    );
    assert.throws(
      () => check([...GOOD, "Sec-WebSocket-Protocol: chat"]),
      handshakeError(/subprotocol/),
    );
  });

  it("refuses a malformed head", () => {
    assert.throws(() => check(["HTTP/2 101", ...GOOD.slice(1)]), handshakeError(/status line/));
    assert.throws(() => check(["SSH-2.0-OpenSSH_9.6"]), handshakeError(/status line/));
    assert.throws(() => check([...GOOD, "no colon here"]), handshakeError(/malformed header/));
    assert.throws(() => check([...GOOD, " folded: value"]), handshakeError(/malformed header/));
  });

  it("refuses a head longer than the cap, before its end arrived", () => {
    const big = enc("HTTP/1.1 101 OK\r\nX: " + "a".repeat(MAX_RESPONSE_HEAD_BYTES));
    assert.throws(() => parseResponseHead(big), LimitExceededError);
    assert.equal(parseResponseHead(big.subarray(0, MAX_RESPONSE_HEAD_BYTES - 1)), undefined);
    // A complete head past the cap is refused too (its end lies beyond the cap).
    assert.throws(
      () => parseResponseHead(response([...GOOD, "X: " + "b".repeat(9000)])),
      LimitExceededError,
    );
    assert.throws(() => parseResponseHead(enc("HTTP/1.1 101\r\n\r\n"), 8), LimitExceededError);
  });
});
