/**
 * The client's opening handshake (RFC 6455 section 4.1), sans-IO: the HTTP/1.1 upgrade request,
 * the expected `Sec-WebSocket-Accept`, and the check of the server's response head. WebCrypto
 * only (random key, SHA-1); no sockets.
 *
 * @module
 */

import { LimitExceededError } from "../../src/errors.ts";
import { WebSocketHandshakeError } from "./errors.ts";

/** The GUID appended to the key before hashing (RFC 6455 section 1.3). */
export const WEBSOCKET_GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

/**
 * Largest response head accepted, bytes (status line and headers up to the blank line). A 101
 * answer is a few hundred bytes; the cap keeps a server that never ends its head from growing our
 * buffer (HARDENING.md rule 2: every buffer a peer can grow is capped).
 */
export const MAX_RESPONSE_HEAD_BYTES = 8 * 1024;

/** What {@link encodeUpgradeRequest} needs. */
export interface UpgradeRequest {
  /** The `Host` header: host, `[v6]`, plus `:port` unless the default. */
  readonly host: string;
  /** Path and query, e.g. `/`. */
  readonly path: string;
  /** The base64 `Sec-WebSocket-Key` ({@link newHandshakeKey}). */
  readonly key: string;
}

function base64(bytes: Uint8Array): string {
  let text = "";
  for (const b of bytes) text += String.fromCharCode(b);
  return btoa(text);
}

/**
 * A fresh `Sec-WebSocket-Key`: 16 random bytes (WebCrypto), base64 (RFC 6455 section 4.1).
 *
 * @example
 * ```ts
 * import { newHandshakeKey } from "./handshake.ts";
 * newHandshakeKey().length; // 24
 * ```
 */
export function newHandshakeKey(): string {
  return base64(crypto.getRandomValues(new Uint8Array(16)));
}

/**
 * The `Sec-WebSocket-Accept` a server must answer for `key`: base64(SHA-1(key + GUID)).
 *
 * @example
 * ```ts
 * import { acceptFor } from "./handshake.ts";
 * await acceptFor("dGhlIHNhbXBsZSBub25jZQ=="); // "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="
 * ```
 */
export async function acceptFor(key: string): Promise<string> {
  const digest = await crypto.subtle.digest(
    "SHA-1",
    new TextEncoder().encode(key + WEBSOCKET_GUID),
  );
  return base64(new Uint8Array(digest));
}

/**
 * The upgrade request's bytes (no extensions, no subprotocols).
 *
 * @example
 * ```ts
 * import { encodeUpgradeRequest } from "./handshake.ts";
 * encodeUpgradeRequest({ host: "127.0.0.1:4001", path: "/", key: "dGhlIHNhbXBsZSBub25jZQ==" });
 * ```
 */
export function encodeUpgradeRequest(request: UpgradeRequest): Uint8Array {
  for (const value of [request.host, request.path, request.key]) {
    if (/[\r\n\0]/.test(value)) throw new TypeError("line break in a websocket request field");
  }
  return new TextEncoder().encode(
    `GET ${request.path} HTTP/1.1\r\n` +
      `Host: ${request.host}\r\n` +
      "Upgrade: websocket\r\n" +
      "Connection: Upgrade\r\n" +
      `Sec-WebSocket-Key: ${request.key}\r\n` +
      "Sec-WebSocket-Version: 13\r\n\r\n",
  );
}

/** A parsed response head. */
export interface ResponseHead {
  /** The status line as received, e.g. `HTTP/1.1 101 Switching Protocols`. */
  readonly statusLine: string;
  /** The status code. */
  readonly status: number;
  /** Header values by lower-case name (repeated headers joined with ", "). */
  readonly headers: ReadonlyMap<string, string>;
}

/** Where the head ends: the index just past "\r\n\r\n", or -1. */
function headEnd(bytes: Uint8Array): number {
  for (let i = 3; i < bytes.byteLength; i++) {
    if (
      bytes[i] === 0x0a && bytes[i - 1] === 0x0d && bytes[i - 2] === 0x0a && bytes[i - 3] === 0x0d
    ) return i + 1;
  }
  return -1;
}

/** A header name: RFC 9110 token characters only (section 5.6.2). */
function isToken(name: string): boolean {
  return /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/.test(name);
}

/** Whether `line` holds a control character other than horizontal tab (RFC 9110 section 5.5). */
function hasControl(line: string): boolean {
  for (let i = 0; i < line.length; i++) {
    const c = line.charCodeAt(i);
    if ((c < 0x20 && c !== 0x09) || c === 0x7f) return true;
  }
  return false;
}

/**
 * Split the response head off `received` (all bytes received so far). Undefined while the head
 * is incomplete; throws LimitExceededError once more than {@link MAX_RESPONSE_HEAD_BYTES} arrived
 * without its end, WebSocketHandshakeError for a malformed head. `rest` is what followed the
 * head: the first frame bytes.
 *
 * @example
 * ```ts
 * import { parseResponseHead } from "./handshake.ts";
 * const r = parseResponseHead(new TextEncoder().encode("HTTP/1.1 101 OK\r\nUpgrade: websocket\r\n\r\n"));
 * r?.head.status; // 101
 * ```
 */
export function parseResponseHead(
  received: Uint8Array,
  maxHeadBytes: number = MAX_RESPONSE_HEAD_BYTES,
): { head: ResponseHead; rest: Uint8Array } | undefined {
  const end = headEnd(received.subarray(0, maxHeadBytes));
  if (end < 0) {
    if (received.byteLength >= maxHeadBytes) {
      throw new LimitExceededError(
        `websocket upgrade response head longer than ${maxHeadBytes} bytes`,
        "maxResponseHeadBytes",
      );
    }
    return undefined;
  }
  // Header bytes are ISO-8859-1 text (RFC 9110 section 5.5); no obs-fold (RFC 9112 section 5.2).
  let text = "";
  for (let i = 0; i < end - 4; i++) text += String.fromCharCode(received[i]);
  const lines = text.split("\r\n");
  const statusLine = lines[0];
  const match = /^HTTP\/1\.[01] (\d{3})(?: .*)?$/.exec(statusLine);
  if (match === null) {
    throw new WebSocketHandshakeError(
      `websocket upgrade: not an HTTP/1.1 status line: ${JSON.stringify(statusLine.slice(0, 80))}`,
    );
  }
  const headers = new Map<string, string>();
  for (const line of lines.slice(1)) {
    const colon = line.indexOf(":");
    if (colon <= 0 || !isToken(line.slice(0, colon)) || hasControl(line)) {
      throw new WebSocketHandshakeError(
        `websocket upgrade: malformed header line ${JSON.stringify(line.slice(0, 80))}`,
      );
    }
    const name = line.slice(0, colon).toLowerCase();
    const value = line.slice(colon + 1).trim();
    const before = headers.get(name);
    headers.set(name, before === undefined ? value : `${before}, ${value}`);
  }
  return {
    head: { statusLine, status: Number(match[1]), headers },
    rest: received.subarray(end),
  };
}

function hasToken(value: string | undefined, token: string): boolean {
  return value !== undefined &&
    value.split(",").some((part) => part.trim().toLowerCase() === token);
}

/**
 * Check a response head against the request (RFC 6455 section 4.1, the client's checks): status
 * 101, `Upgrade: websocket`, `Connection` with the `upgrade` token, `Sec-WebSocket-Accept` equal
 * to `expectedAccept`, and no extension or subprotocol (we offered none). Throws a
 * WebSocketHandshakeError naming what is wrong (a status other than 101 is quoted with its line).
 *
 * @example
 * ```ts ignore
 * checkResponseHead(head, await acceptFor(key));
 * ```
 */
export function checkResponseHead(head: ResponseHead, expectedAccept: string): void {
  if (head.status !== 101) {
    throw new WebSocketHandshakeError(
      `websocket upgrade refused: ${JSON.stringify(head.statusLine.slice(0, 200))}`,
    );
  }
  const upgrade = head.headers.get("upgrade");
  if (upgrade === undefined || upgrade.toLowerCase() !== "websocket") {
    throw new WebSocketHandshakeError(
      `websocket upgrade: Upgrade header is ${JSON.stringify(upgrade ?? null)}, not "websocket"`,
    );
  }
  if (!hasToken(head.headers.get("connection"), "upgrade")) {
    throw new WebSocketHandshakeError('websocket upgrade: Connection header lacks "Upgrade"');
  }
  const accept = head.headers.get("sec-websocket-accept");
  if (accept !== expectedAccept) {
    throw new WebSocketHandshakeError(
      `websocket upgrade: Sec-WebSocket-Accept ${JSON.stringify(accept ?? null)} does not ` +
        "match the key sent",
    );
  }
  if (head.headers.has("sec-websocket-extensions")) {
    throw new WebSocketHandshakeError(
      "websocket upgrade: the server chose an extension not offered",
    );
  }
  if (head.headers.has("sec-websocket-protocol")) {
    throw new WebSocketHandshakeError(
      "websocket upgrade: the server chose a subprotocol not offered",
    );
  }
}
