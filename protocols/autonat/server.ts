/**
 * The AutoNAT server (v2 `/libp2p/autonat/2/dial-request` and v1 `/libp2p/autonat/1.0.0`).
 *
 * v2 (libp2p/specs `autonat/autonat-v2.md` §Server): of the requested addresses we dial back
 * exactly one, the first we may dial (a direct IP address, public unless
 * `allowPrivateAddresses`), on a fresh connection, and send the client's nonce on
 * `/libp2p/autonat/2/dial-back`. When that address's IP is not the requester's observed IP we
 * first demand dial data (amplification defence, spec §Amplification attack prevention): the
 * client must send `dialDataBytes` before we dial anyone.
 *
 * v1 (`autonat-v1.md`): we dial only the requester's addresses whose IP is its observed IP
 * (never a third party), as the requester's peer id, and answer OK with the address that worked.
 *
 * Both: requests over relayed or limited connections are refused; requests are rate-limited
 * globally, per peer and in concurrency per peer; every exchange has a deadline
 * (HARDENING.md rule 5); frames are bounded before they are buffered (rule 1).
 *
 * @module
 */

import { type Connection, type Stream, streamChannelOf } from "../../src/connection.ts";
import { TimeoutError } from "../../src/errors.ts";
import { type Multiaddr, multiaddr } from "../../src/multiaddr/mod.ts";
import type { Libp2pNode } from "../../src/node/node.ts";
import { peerIdFromBytes } from "../../src/peer_id.ts";
import { ByteReader } from "../../src/stream/byte_reader.ts";
import type { ByteChannel } from "../../src/stream/channel.ts";
import {
  decodeV1Message,
  encodeV1Message,
  MAX_V1_MESSAGE_BYTES,
  V1_PROTOCOL,
  V1Status,
  V1Type,
} from "./codec_v1.ts";
import {
  decodeDialBackResponse,
  decodeV2Message,
  DIAL_BACK_PROTOCOL,
  DIAL_REQUEST_PROTOCOL,
  DialStatus,
  encodeDialBack,
  encodeV2Message,
  frame,
  MAX_V2_MESSAGE_BYTES,
  ResponseStatus,
  type V2Message,
} from "./codec_v2.ts";
import {
  type AutoNATOptions,
  DEFAULT_DIAL_BACK_STREAM_TIMEOUT_MS,
  DEFAULT_DIAL_DATA_BYTES,
  DEFAULT_DIAL_TIMEOUT_MS,
  DEFAULT_MAX_CONCURRENT_PER_PEER,
  DEFAULT_MAX_DIAL_DATA_REQUESTS_PER_MINUTE,
  DEFAULT_MAX_REQUESTS_PER_MINUTE,
  DEFAULT_MAX_REQUESTS_PER_PEER_PER_MINUTE,
  DEFAULT_REQUEST_TIMEOUT_MS,
  ipOf,
  isCircuit,
  MAX_DIAL_DATA_BYTES_SERVER,
  MAX_V1_DIAL_ADDRS,
  testable,
  withoutPeer,
} from "./options.ts";
import { RateLimiter } from "./reachability.ts";

/** Inbound request streams at once per connection, per protocol (js: 2). */
const MAX_INBOUND_STREAMS = 2;

/** What the server counted. */
export interface AutoNATServerStats {
  /** Requests read (v2 and v1). */
  requests: number;
  /** Refused by a rate limit, concurrency cap or relayed connection. */
  rejected: number;
  /** No requested address could be dialled. */
  refused: number;
  /** Dial data demanded. */
  dialDataRequested: number;
  /** Dial backs that reached the client and got its answer (v2), or a connection (v1). */
  dialBacksOk: number;
  /** Dial backs that failed. */
  dialBacksFailed: number;
  /** Malformed or unexpected messages. */
  malformed: number;
}

/**
 * The AutoNAT server; {@link autoNAT} builds it inside the service.
 *
 * @example
 * ```ts
 * import { autoNAT } from "@p2p-edge/libp2p/protocols/autonat";
 * const service = autoNAT({ client: false }); // services: { identify: identify(), autonat: service }
 * ```
 */
export class AutoNATServer {
  readonly #node: Libp2pNode;
  readonly #allowPrivate: boolean;
  readonly #dialData: number;
  readonly #timeout: number;
  readonly #dialTimeout: number;
  readonly #maxConcurrent: number;
  readonly #now: () => number;
  readonly #requests: RateLimiter;
  readonly #dialDataLimiter: RateLimiter;
  readonly #active = new Map<string, number>();
  #lifetime = new AbortController();
  readonly #stats: AutoNATServerStats = {
    requests: 0,
    rejected: 0,
    refused: 0,
    dialDataRequested: 0,
    dialBacksOk: 0,
    dialBacksFailed: 0,
    malformed: 0,
  };

  /** Prefer {@link autoNAT}; throws RangeError for a `dialDataBytes` out of range. */
  constructor(node: Libp2pNode, options: AutoNATOptions = {}) {
    this.#node = node;
    this.#allowPrivate = options.allowPrivateAddresses ?? false;
    this.#dialData = options.dialDataBytes ?? DEFAULT_DIAL_DATA_BYTES;
    if (
      !Number.isInteger(this.#dialData) || this.#dialData < 1 ||
      this.#dialData > MAX_DIAL_DATA_BYTES_SERVER
    ) {
      throw new RangeError(
        `dialDataBytes must be an integer from 1 to ${MAX_DIAL_DATA_BYTES_SERVER}`,
      );
    }
    this.#timeout = options.timeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
    this.#dialTimeout = options.dialTimeoutMs ?? DEFAULT_DIAL_TIMEOUT_MS;
    this.#maxConcurrent = options.maxConcurrentPerPeer ?? DEFAULT_MAX_CONCURRENT_PER_PEER;
    this.#now = options.now ?? Date.now;
    this.#requests = new RateLimiter({
      perKey: options.maxRequestsPerPeerPerMinute ?? DEFAULT_MAX_REQUESTS_PER_PEER_PER_MINUTE,
      total: options.maxRequestsPerMinute ?? DEFAULT_MAX_REQUESTS_PER_MINUTE,
      windowMs: 60_000,
    });
    const dd = options.maxDialDataRequestsPerMinute ?? DEFAULT_MAX_DIAL_DATA_REQUESTS_PER_MINUTE;
    this.#dialDataLimiter = new RateLimiter({ perKey: dd, total: dd, windowMs: 60_000 });
  }

  /** Counters. */
  stats(): AutoNATServerStats {
    return { ...this.#stats };
  }

  /** Serve both protocols. */
  start(): void {
    this.#lifetime = new AbortController();
    this.#node.handle(DIAL_REQUEST_PROTOCOL, (s) => this.#serve(s, (c, r) => this.#v2(s, c, r)), {
      maxInboundStreams: MAX_INBOUND_STREAMS,
    });
    this.#node.handle(V1_PROTOCOL, (s) => this.#serve(s, (c, r) => this.#v1(s, c, r)), {
      maxInboundStreams: MAX_INBOUND_STREAMS,
    });
  }

  /** Stop serving; exchanges in flight are aborted. */
  stop(): void {
    this.#node.unhandle(DIAL_REQUEST_PROTOCOL);
    this.#node.unhandle(V1_PROTOCOL);
    this.#lifetime.abort(new Error("AutoNAT server stopped"));
  }

  /** Deadline, concurrency cap and cleanup around one request. */
  async #serve(
    stream: Stream,
    run: (channel: ByteChannel, reader: ByteReader) => Promise<void>,
  ): Promise<void> {
    const channel = streamChannelOf(stream);
    const peer = stream.connection.remotePeer.toString();
    const active = this.#active.get(peer) ?? 0;
    if (active >= this.#maxConcurrent) {
      this.#stats.rejected++;
      channel.abort(new Error("too many concurrent AutoNAT requests"));
      return;
    }
    this.#active.set(peer, active + 1);
    const timer = setTimeout(
      () => channel.abort(new TimeoutError("AutoNAT request deadline passed")),
      this.#timeout,
    );
    const onStop = (): void => channel.abort(this.#lifetime.signal.reason);
    this.#lifetime.signal.addEventListener("abort", onStop, { once: true });
    try {
      await run(channel, new ByteReader(channel));
    } catch (err) {
      channel.abort(err);
    } finally {
      clearTimeout(timer);
      this.#lifetime.signal.removeEventListener("abort", onStop);
      const n = (this.#active.get(peer) ?? 1) - 1;
      if (n <= 0) this.#active.delete(peer);
      else this.#active.set(peer, n);
    }
  }

  /** Whether a request over `conn` may be served now (relay refusal and rate limits). */
  #admit(conn: Connection): boolean {
    if (conn.limited || isCircuit(conn.remoteAddr)) return false;
    return this.#requests.admit(conn.remotePeer.toString(), this.#now());
  }

  async #v2(stream: Stream, channel: ByteChannel, reader: ByteReader): Promise<void> {
    const conn = stream.connection;
    let request: V2Message;
    try {
      request = decodeV2Message(await reader.readLengthPrefixed(MAX_V2_MESSAGE_BYTES));
    } catch (err) {
      this.#stats.malformed++;
      throw err;
    }
    if (request.type !== "dialRequest") {
      this.#stats.malformed++;
      throw new Error(`unexpected AutoNAT v2 ${request.type}`);
    }
    this.#stats.requests++;
    const respond = async (status: number, addrIdx = 0, dialStatus = 0): Promise<void> => {
      channel.write(frame(encodeV2Message({ type: "dialResponse", status, addrIdx, dialStatus })));
      await finish(channel);
    };
    if (!this.#admit(conn)) {
      this.#stats.rejected++;
      return await respond(ResponseStatus.E_REQUEST_REJECTED);
    }
    let index = -1;
    let target: Multiaddr | undefined;
    for (let i = 0; i < request.addrs.length && target === undefined; i++) {
      try {
        const a = withoutPeer(multiaddr(request.addrs[i]));
        if (testable(a, this.#allowPrivate)) {
          index = i;
          target = a;
        }
      } catch {
        // Not a multiaddr we can read: not dialable.
      }
    }
    if (target === undefined) {
      this.#stats.refused++;
      return await respond(ResponseStatus.E_DIAL_REFUSED);
    }
    if (ipOf(target) !== ipOf(conn.remoteAddr)) {
      // Someone else's IP: the requester pays in bytes first (spec §Amplification attack
      // prevention), and only so many such requests a minute are accepted.
      if (!this.#dialDataLimiter.admit("all", this.#now())) {
        this.#stats.rejected++;
        return await respond(ResponseStatus.E_REQUEST_REJECTED);
      }
      this.#stats.dialDataRequested++;
      channel.write(frame(encodeV2Message({
        type: "dialDataRequest",
        addrIdx: index,
        numBytes: BigInt(this.#dialData),
      })));
      await channel.drained();
      let received = 0;
      while (received < this.#dialData) {
        const m = decodeV2Message(await reader.readLengthPrefixed(MAX_V2_MESSAGE_BYTES));
        if (m.type !== "dialDataResponse") {
          this.#stats.malformed++;
          throw new Error(`expected dial data, got ${m.type}`);
        }
        received += m.data.byteLength;
      }
    }
    const dialStatus = await this.#dialBack(target, request.nonce);
    await respond(ResponseStatus.OK, index, dialStatus);
  }

  /** Dial `addr` on a fresh connection and deliver the nonce; the connection is closed after. */
  async #dialBack(addr: Multiaddr, nonce: bigint): Promise<number> {
    let conn: Connection;
    try {
      conn = await this.#node.dial(addr, {
        signal: AbortSignal.any([AbortSignal.timeout(this.#dialTimeout), this.#lifetime.signal]),
      });
    } catch {
      this.#stats.dialBacksFailed++;
      return DialStatus.E_DIAL_ERROR;
    }
    try {
      const signal = AbortSignal.any([
        AbortSignal.timeout(DEFAULT_DIAL_BACK_STREAM_TIMEOUT_MS),
        this.#lifetime.signal,
      ]);
      const stream = await conn.newStream(DIAL_BACK_PROTOCOL, { signal });
      const channel = streamChannelOf(stream);
      const onAbort = (): void => channel.abort(signal.reason);
      signal.addEventListener("abort", onAbort, { once: true });
      try {
        channel.write(frame(encodeDialBack(nonce)));
        await channel.drained();
        // Our side stays open until the answer is read (go's order). With our FIN sent right
        // after the nonce, js reset the dial-back stream in 1 of 7 runs (cause not found).
        const status = decodeDialBackResponse(
          await new ByteReader(channel).readLengthPrefixed(MAX_V2_MESSAGE_BYTES),
        );
        await channel.closeWrite().catch(() => {});
        channel.cancelRead();
        if (status !== 0) throw new Error(`dial-back answered ${status}`);
      } finally {
        signal.removeEventListener("abort", onAbort);
      }
      this.#stats.dialBacksOk++;
      return DialStatus.OK;
    } catch {
      this.#stats.dialBacksFailed++;
      return DialStatus.E_DIAL_BACK_ERROR;
    } finally {
      await conn.close().catch(() => conn.abort());
    }
  }

  async #v1(stream: Stream, channel: ByteChannel, reader: ByteReader): Promise<void> {
    const conn = stream.connection;
    let request;
    try {
      request = decodeV1Message(await reader.readLengthPrefixed(MAX_V1_MESSAGE_BYTES));
    } catch (err) {
      this.#stats.malformed++;
      throw err;
    }
    const respond = async (
      status: number,
      statusText?: string,
      addr?: Multiaddr,
    ): Promise<void> => {
      const response = { status, statusText, addr: addr?.bytes };
      channel.write(
        frame(encodeV1Message({ type: V1Type.DIAL_RESPONSE, response }), MAX_V1_MESSAGE_BYTES),
      );
      await finish(channel);
    };
    if (request.type !== V1Type.DIAL || request.peer === undefined) {
      this.#stats.malformed++;
      return await respond(V1Status.E_BAD_REQUEST, "expected DIAL");
    }
    this.#stats.requests++;
    try {
      if (
        request.peer.id === undefined || !peerIdFromBytes(request.peer.id).equals(conn.remotePeer)
      ) {
        this.#stats.malformed++;
        return await respond(V1Status.E_BAD_REQUEST, "peer id mismatch");
      }
    } catch {
      this.#stats.malformed++;
      return await respond(V1Status.E_BAD_REQUEST, "bad peer id");
    }
    if (!this.#admit(conn)) {
      this.#stats.rejected++;
      return await respond(V1Status.E_DIAL_REFUSED, "too many requests");
    }
    // Only the requester's own IP (spec: never dial a third party for v1).
    const observed = ipOf(conn.remoteAddr);
    const targets: Multiaddr[] = [];
    for (const bytes of request.peer.addrs) {
      if (targets.length >= MAX_V1_DIAL_ADDRS) break;
      try {
        const a = withoutPeer(multiaddr(bytes));
        if (testable(a, this.#allowPrivate) && ipOf(a) === observed) targets.push(a);
      } catch {
        // Unreadable address: skipped.
      }
    }
    if (targets.length === 0) {
      this.#stats.refused++;
      return await respond(V1Status.E_DIAL_REFUSED, "no dialable addresses");
    }
    for (const addr of targets) {
      let back: Connection;
      try {
        back = await this.#node.dial(addr, {
          signal: AbortSignal.any([AbortSignal.timeout(this.#dialTimeout), this.#lifetime.signal]),
        });
      } catch {
        continue;
      }
      const same = back.remotePeer.equals(conn.remotePeer);
      await back.close().catch(() => back.abort());
      if (same) {
        this.#stats.dialBacksOk++;
        return await respond(V1Status.OK, undefined, addr);
      }
    }
    this.#stats.dialBacksFailed++;
    await respond(V1Status.E_DIAL_ERROR, "dial failed");
  }
}

async function finish(channel: ByteChannel): Promise<void> {
  await channel.drained();
  await channel.closeWrite();
  channel.cancelRead();
}
