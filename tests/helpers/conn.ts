/**
 * Test plumbing for the channel contracts: in-memory connections that also offer web streams
 * (built on first access from their channel), and encrypters whose results do the same, so that
 * tests can drive a layer through its channel and inspect bytes through streams.
 *
 * @module
 */

import type { ConnectionEncrypter, SecuredConnection, SecureOptions } from "../../src/security.ts";
import {
  type ByteChannel,
  type ChannelConnection,
  channelReadable,
  channelWritable,
  streamConnection,
} from "../../src/stream/channel.ts";
import { channelPair } from "../../src/stream/pair.ts";
import type { Duplex } from "../../src/stream/types.ts";

/** A connection with web streams over its channel (built on first access). */
export type WebConnection<T extends ChannelConnection = ChannelConnection> = T & Duplex;

/**
 * `conn` with `readable`/`writable` getters over its channel (memoized); a connection that has
 * web streams of its own (a WebSocket connection) is returned as it is.
 */
export function web<T extends ChannelConnection>(conn: T): WebConnection<T> {
  if ("readable" in conn && "writable" in conn) return conn as WebConnection<T>;
  let readable: ReadableStream<Uint8Array> | undefined;
  let writable: WritableStream<Uint8Array> | undefined;
  Object.defineProperties(conn, {
    readable: { get: () => readable ??= channelReadable(conn.channel), configurable: true },
    writable: { get: () => writable ??= channelWritable(conn.channel), configurable: true },
  });
  return conn as WebConnection<T>;
}

/** Two connected in-memory connections, each with web streams over its channel. */
export function connPair(
  options: { highWaterMark?: number } = {},
): [WebConnection, WebConnection] {
  const [a, b] = channelPair(options);
  return [web(a), web(b)];
}

/** A connection from anything a test has: a connection as it is, a web duplex converted once. */
export function asConnection(
  conn: ChannelConnection | (Duplex & { close?(): Promise<void>; abort?(r?: unknown): void }),
): ChannelConnection {
  return "channel" in conn && (conn as { channel?: ByteChannel }).channel !== undefined
    ? conn as ChannelConnection
    : streamConnection(conn as Duplex);
}

/** An encrypter taking connections or web duplexes, whose results offer web streams. */
export interface WebEncrypter {
  readonly protocol: string;
  secureOutbound(
    conn: ChannelConnection | Duplex,
    options?: SecureOptions,
  ): Promise<WebConnection<SecuredConnection>>;
  secureInbound(
    conn: ChannelConnection | Duplex,
    options?: SecureOptions,
  ): Promise<WebConnection<SecuredConnection>>;
}

/** See {@link WebEncrypter}. */
export function webEncrypter(encrypter: ConnectionEncrypter): WebEncrypter {
  return {
    protocol: encrypter.protocol,
    async secureOutbound(conn, options) {
      return web(await encrypter.secureOutbound(asConnection(conn), options));
    },
    async secureInbound(conn, options) {
      return web(await encrypter.secureInbound(asConnection(conn), options));
    },
  };
}
