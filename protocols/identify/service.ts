/**
 * The identify and identify/push service: answers `/ipfs/id/1.0.0`, identifies every new
 * connection, pushes our changes, and keeps what peers report in the peer store. The only
 * identify file that touches streams and timers.
 *
 * @module
 */

import { abortReason, type DeadlineSignal, deadlineSignal, raceSignal } from "../../src/abort.ts";
import type { Connection, Stream } from "../../src/connection.ts";
import { DecodeError, LimitExceededError } from "../../src/errors.ts";
import { publicKeyToProtobuf } from "../../src/keys/mod.ts";
import { type Multiaddr, withoutPeerId } from "../../src/multiaddr/mod.ts";
import type { Libp2pNode, ServiceFactory, Startable } from "../../src/node/node.ts";
import { IDENTIFY_CAPABILITY } from "../../src/node/services.ts";
import { sealPeerRecord } from "../../src/record/mod.ts";
import { ByteReader } from "../../src/stream/byte_reader.ts";
import type { AbortOptions } from "../../src/stream/types.ts";
import { defaultAgentVersion } from "./agent.ts";
import {
  checkMessageLength,
  decodeIdentify,
  encodeIdentifyFrame,
  fitIdentify,
  type IdentifyMessage,
  mergeIdentify,
} from "./codec.ts";
import {
  DEFAULT_IDENTIFY_MAX_INBOUND_STREAMS,
  DEFAULT_IDENTIFY_TIMEOUT_MS,
  DEFAULT_PROTOCOL_VERSION,
  DEFAULT_PUSH_DEBOUNCE_MS,
  IDENTIFY_PROTOCOL_ID,
  IDENTIFY_PUSH_PROTOCOL_ID,
  MAX_IDENTIFY_MESSAGE_BYTES,
  MAX_IDENTIFY_MESSAGES,
  MAX_IDENTIFY_WRITE_BYTES,
  MAX_OBSERVED_ADDRS,
  MAX_PUSH_CONCURRENCY,
  MAX_TRAILING_BYTES,
  MAX_VERSION_LENGTH,
} from "./constants.ts";
import { consumeIdentify, type IdentifyResult } from "./consume.ts";

/** Options of {@link identify}; each field with its default. */
export interface IdentifyOptions {
  /** agentVersion we send. Default `p2p-edge-libp2p/0.1.0 (deno|bun <version>)`. */
  agentVersion?: string;
  /** protocolVersion we send. Default `ipfs/0.1.0`. */
  protocolVersion?: string;
  /** Deadline of one identify, reply or push, ms. Default 5,000. */
  timeoutMs?: number;
  /** Inbound identify (and, separately, push) streams per connection. Default 2. */
  maxInboundStreams?: number;
  /** Identify every new connection (both directions). Default true. */
  runOnConnectionOpen?: boolean;
  /** Push our changes (protocols, addresses) to connected peers. Default true. */
  runOnSelfUpdate?: boolean;
  /** Delay gathering changes into one push, ms. Default 1,000. */
  pushDebounceMs?: number;
  /** Largest message body read, bytes. Default 8 KiB (go-libp2p's limit). */
  maxMessageBytes?: number;
  /** Most observed addresses remembered. Default 32. */
  maxObservedAddrs?: number;
  /** Receives diagnostics (dropped entries, failed exchanges). Default: discarded. */
  log?: (message: string, error?: unknown) => void;
}

/** The identify service as `node.services.identify`. */
export interface IdentifyService extends Startable {
  /** Ask the peer of `connection` who it is; the answer is also stored in the peer store. */
  identify(connection: Connection, options?: AbortOptions): Promise<IdentifyResult>;
  /** Push our current information to every connected peer that supports push, now. */
  push(options?: AbortOptions): Promise<void>;
  /** Our addresses as peers reported them (observedAddr), most recently reported last. */
  observedAddrs(): Multiaddr[];
}

/**
 * identify and identify/push as a node service.
 *
 * @example
 * ```ts
 * import { createNode } from "@p2p-edge/libp2p";
 * import { identify } from "@p2p-edge/libp2p/protocols/identify";
 * import { memory } from "@p2p-edge/libp2p/transports/memory";
 * import { noise } from "@p2p-edge/libp2p/protocols/noise";
 * import { yamux } from "@p2p-edge/libp2p/protocols/yamux";
 * const node = await createNode({
 *   transports: [memory()],
 *   connectionEncrypters: [noise()],
 *   streamMuxers: [yamux()],
 *   services: { identify: identify({ agentVersion: "my-app/1.0.0" }) },
 * });
 * node.addEventListener("peer:identify", (e) => console.log(e.detail.agentVersion));
 * await node.stop();
 * ```
 */
export function identify(options: IdentifyOptions = {}): ServiceFactory<IdentifyService> {
  const resolved = resolveOptions(options);
  // js-libp2p's capability names: services that need identify declare them as dependencies.
  return Object.assign((node: Libp2pNode) => new Identify(node, resolved), {
    serviceCapabilities: [IDENTIFY_CAPABILITY, IDENTIFY_PUSH_CAPABILITY],
  });
}

/** Capability of identify/push (js-libp2p's name). */
export const IDENTIFY_PUSH_CAPABILITY = "@libp2p/identify-push";

type Resolved = Required<Omit<IdentifyOptions, "log">> & Pick<IdentifyOptions, "log">;

function resolveOptions(o: IdentifyOptions): Resolved {
  const r: Resolved = {
    agentVersion: o.agentVersion ?? defaultAgentVersion(),
    protocolVersion: o.protocolVersion ?? DEFAULT_PROTOCOL_VERSION,
    timeoutMs: o.timeoutMs ?? DEFAULT_IDENTIFY_TIMEOUT_MS,
    maxInboundStreams: o.maxInboundStreams ?? DEFAULT_IDENTIFY_MAX_INBOUND_STREAMS,
    runOnConnectionOpen: o.runOnConnectionOpen ?? true,
    runOnSelfUpdate: o.runOnSelfUpdate ?? true,
    pushDebounceMs: o.pushDebounceMs ?? DEFAULT_PUSH_DEBOUNCE_MS,
    maxMessageBytes: o.maxMessageBytes ?? MAX_IDENTIFY_MESSAGE_BYTES,
    maxObservedAddrs: o.maxObservedAddrs ?? MAX_OBSERVED_ADDRS,
    log: o.log,
  };
  for (
    const [name, v] of [["agentVersion", r.agentVersion], [
      "protocolVersion",
      r.protocolVersion,
    ]] as const
  ) {
    if (typeof v !== "string" || v.length > MAX_VERSION_LENGTH) {
      throw new TypeError(`${name} must be a string of at most ${MAX_VERSION_LENGTH} characters`);
    }
  }
  if (!(r.timeoutMs > 0)) throw new RangeError("timeoutMs must be > 0");
  if (!(r.pushDebounceMs >= 0)) throw new RangeError("pushDebounceMs must be >= 0");
  for (
    const [name, v] of [
      ["maxInboundStreams", r.maxInboundStreams],
      ["maxMessageBytes", r.maxMessageBytes],
      ["maxObservedAddrs", r.maxObservedAddrs],
    ] as const
  ) {
    if (!Number.isInteger(v) || v < 1) throw new RangeError(`${name} must be a positive integer`);
  }
  return r;
}

class Identify implements IdentifyService {
  readonly #node: Libp2pNode;
  readonly #o: Resolved;
  readonly #observed = new Map<string, Multiaddr>();
  #lifetime = new AbortController();
  #started = false;
  #record: { key: string; envelope: Promise<Uint8Array | undefined> } | undefined;
  #publicKey: Uint8Array | undefined;
  #pushTimer: ReturnType<typeof setTimeout> | undefined;
  #pushing: Promise<void> | undefined;
  #pushAgain = false;

  constructor(node: Libp2pNode, options: Resolved) {
    this.#node = node;
    this.#o = options;
  }

  start(): void {
    if (this.#started) return;
    this.#started = true;
    this.#lifetime = new AbortController();
    // identify runs on limited (relayed) connections too, as in js-libp2p: topologies and
    // DCUtR need the protocols and observed addresses of relayed peers.
    const opts = { maxInboundStreams: this.#o.maxInboundStreams, runOnLimitedConnection: true };
    this.#node.handle(IDENTIFY_PROTOCOL_ID, (s) => this.#reply(s), opts);
    this.#node.handle(IDENTIFY_PUSH_PROTOCOL_ID, (s) => this.#receivePush(s), opts);
    this.#node.addEventListener("connection:open", this.#onConnection);
    this.#node.addEventListener("self:peer:update", this.#onSelfUpdate);
  }

  stop(): void {
    if (!this.#started) return;
    this.#started = false;
    this.#node.removeEventListener("connection:open", this.#onConnection);
    this.#node.removeEventListener("self:peer:update", this.#onSelfUpdate);
    this.#node.unhandle(IDENTIFY_PROTOCOL_ID);
    this.#node.unhandle(IDENTIFY_PUSH_PROTOCOL_ID);
    if (this.#pushTimer !== undefined) clearTimeout(this.#pushTimer);
    this.#pushTimer = undefined;
    this.#pushAgain = false;
    this.#lifetime.abort(new DOMException("identify stopped", "AbortError"));
  }

  observedAddrs(): Multiaddr[] {
    return [...this.#observed.values()];
  }

  async identify(connection: Connection, options?: AbortOptions): Promise<IdentifyResult> {
    const d = deadlineSignal(this.#o.timeoutMs, this.#signal(options?.signal), "identify");
    let stream: Stream | undefined;
    try {
      stream = await connection.newStream(IDENTIFY_PROTOCOL_ID, {
        signal: d.signal,
        negotiationTimeoutMs: this.#o.timeoutMs,
        runOnLimitedConnection: true,
      });
      abortOnSignal(stream, d.signal);
      const s = stream;
      return await raceSignal(
        (async () => {
          const { messages, ended } = await this.#read(s);
          if (!ended) {
            s.abort(new LimitExceededError("too many identify messages", "MAX_IDENTIFY_MESSAGES"));
          } else await s.close();
          if (messages.length === 0) {
            throw new DecodeError("identify stream ended without a message");
          }
          return await this.#consume(connection, messages);
        })(),
        d.signal,
      );
    } catch (err) {
      stream?.abort(err);
      throw err;
    } finally {
      d.clear();
    }
  }

  async push(options?: AbortOptions): Promise<void> {
    const targets: Connection[] = [];
    const seen = new Set<string>();
    for (const conn of this.#node.getConnections()) {
      const key = conn.remotePeer.toString();
      if (conn.status !== "open" || seen.has(key)) continue;
      seen.add(key);
      const info = await this.#node.peerStore.get(conn.remotePeer);
      if (info?.protocols.includes(IDENTIFY_PUSH_PROTOCOL_ID)) targets.push(conn);
    }
    // At most MAX_PUSH_CONCURRENCY pushes in flight (go and js use the same bound).
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < targets.length) await this.#pushTo(targets[next++], options?.signal);
    };
    await Promise.all(
      Array.from({ length: Math.min(MAX_PUSH_CONCURRENCY, targets.length) }, worker),
    );
  }

  /** Inbound `/ipfs/id/1.0.0`: send our message, half-close, wait for the remote to close. */
  async #reply(stream: Stream): Promise<void> {
    const d = this.#guard(stream, "identify reply");
    try {
      await raceSignal(
        (async () => {
          const frame = encodeIdentifyFrame(await this.#message(stream.connection));
          const writer = stream.writable.getWriter();
          await writer.write(frame);
          await writer.close();
          await drain(stream.readable);
        })(),
        d.signal,
      );
    } catch (err) {
      stream.abort(err);
      this.#log(`identify reply to ${stream.remotePeer.toString()} failed`, err);
    } finally {
      d.clear();
    }
  }

  /** Inbound `/ipfs/id/push/1.0.0`: read the message(s), update the peer store. */
  async #receivePush(stream: Stream): Promise<void> {
    const d = this.#guard(stream, "identify push");
    try {
      await raceSignal(
        (async () => {
          const { messages, ended } = await this.#read(stream);
          if (!ended) {
            stream.abort(
              new LimitExceededError("too many identify messages", "MAX_IDENTIFY_MESSAGES"),
            );
          } else await stream.close();
          if (messages.length > 0) await this.#consume(stream.connection, messages);
        })(),
        d.signal,
      );
    } catch (err) {
      stream.abort(err);
      this.#log(`identify push from ${stream.remotePeer.toString()} rejected`, err);
    } finally {
      d.clear();
    }
  }

  async #pushTo(conn: Connection, signal: AbortSignal | undefined): Promise<void> {
    const d = deadlineSignal(this.#o.timeoutMs, this.#signal(signal), "identify push");
    let stream: Stream | undefined;
    try {
      stream = await conn.newStream(IDENTIFY_PUSH_PROTOCOL_ID, {
        signal: d.signal,
        negotiationTimeoutMs: this.#o.timeoutMs,
        runOnLimitedConnection: true,
      });
      abortOnSignal(stream, d.signal);
      const s = stream;
      await raceSignal(
        (async () => {
          const frame = encodeIdentifyFrame(await this.#message(conn));
          const writer = s.writable.getWriter();
          await writer.write(frame);
          await writer.close();
          await drain(s.readable);
        })(),
        d.signal,
      );
    } catch (err) {
      stream?.abort(err);
      this.#log(`identify push to ${conn.remotePeer.toString()} failed`, err);
    } finally {
      d.clear();
    }
  }

  /** Read up to MAX_IDENTIFY_MESSAGES length-prefixed messages; `ended` when EOF was seen. */
  async #read(stream: Stream): Promise<{ messages: IdentifyMessage[]; ended: boolean }> {
    const reader = new ByteReader(stream.readable);
    const messages: IdentifyMessage[] = [];
    let dropped = 0;
    try {
      while (messages.length < MAX_IDENTIFY_MESSAGES) {
        // EOF between messages is the normal end; inside a prefix it is a truncation (thrown by
        // readUvarint).
        if (await reader.atEnd()) return { messages, ended: true };
        const length = await reader.readUvarint();
        checkMessageLength(length, this.#o.maxMessageBytes);
        const decoded = decodeIdentify(await reader.readExactly(length));
        dropped += decoded.droppedListenAddrs + decoded.droppedProtocols;
        messages.push(decoded.message);
      }
      return { messages, ended: false };
    } finally {
      if (dropped > 0) {
        this.#log(`ignored ${dropped} listen addresses/protocols of ${stream.remotePeer} (caps)`);
      }
    }
  }

  async #consume(conn: Connection, messages: IdentifyMessage[]): Promise<IdentifyResult> {
    const peer = conn.remotePeer;
    const stored = await this.#node.peerStore.get(peer);
    const { result, update } = await consumeIdentify(
      mergeIdentify(messages),
      peer,
      stored?.peerRecordSeq,
    );
    const record = result.signedPeerRecord;
    if (record !== undefined && !record.accepted) {
      this.#log(`ignored a signed peer record of ${peer} with seq ${record.seq} (not newer)`);
    }
    const info = await this.#node.peerStore.patch(peer, update);
    if (result.observedAddr !== undefined) {
      this.#observe(result.observedAddr);
      // Through a relay the peer sees the relay's side, not ours: not an observation of us.
      if (!conn.limited) {
        this.#node.addressManager.addObservedAddr(result.observedAddr, {
          peer,
          remoteAddr: conn.remoteAddr,
        });
      }
    }
    this.#node.dispatch("peer:identify", {
      peerId: peer,
      protocols: [...info.protocols],
      agentVersion: info.agentVersion,
      protocolVersion: info.protocolVersion,
      listenAddrs: [...info.addresses],
      connection: conn,
    });
    return result;
  }

  /** Our identify message for `conn`, trimmed to what every implementation reads. */
  async #message(conn: Connection): Promise<IdentifyMessage> {
    const addrs = this.#node.getMultiaddrs().map((a) => withoutPeerId(a));
    this.#publicKey ??= publicKeyToProtobuf(this.#node.privateKey.publicKey);
    const fitted = fitIdentify({
      publicKey: this.#publicKey,
      listenAddrs: addrs.map((a) => a.bytes),
      protocols: this.#node.getProtocols(),
      observedAddr: conn.remoteAddr.bytes,
      protocolVersion: this.#o.protocolVersion,
      agentVersion: this.#o.agentVersion,
      signedPeerRecord: await this.#signedRecord(addrs),
    }, MAX_IDENTIFY_WRITE_BYTES);
    if (
      fitted.droppedListenAddrs + fitted.droppedProtocols > 0 || fitted.droppedSignedPeerRecord
    ) {
      this.#log(
        `identify message trimmed to ${MAX_IDENTIFY_WRITE_BYTES} bytes: dropped ` +
          `${fitted.droppedListenAddrs} addresses, ${fitted.droppedProtocols} protocols` +
          (fitted.droppedSignedPeerRecord ? " and the signed peer record" : ""),
      );
    }
    return fitted.message;
  }

  /** Our signed peer record for these addresses, sealed again (new seq) when they change. */
  #signedRecord(addrs: Multiaddr[]): Promise<Uint8Array | undefined> {
    if (addrs.length === 0) return Promise.resolve(undefined);
    const key = addrs.map(String).join("\n");
    if (this.#record?.key !== key) {
      const envelope = sealPeerRecord(this.#node.privateKey, addrs).then(
        (e) => e.encode(),
        (err) => {
          this.#log("sealing our peer record failed", err);
          this.#record = undefined;
          return undefined;
        },
      );
      this.#record = { key, envelope };
    }
    return this.#record.envelope;
  }

  #observe(addr: Multiaddr): void {
    const key = addr.toString();
    this.#observed.delete(key);
    this.#observed.set(key, addr);
    while (this.#observed.size > this.#o.maxObservedAddrs) {
      this.#observed.delete(this.#observed.keys().next().value as string);
    }
  }

  readonly #onConnection = (event: CustomEvent<Connection>): void => {
    if (!this.#o.runOnConnectionOpen) return;
    const conn = event.detail;
    this.identify(conn).catch((err) => {
      this.#log(`identify of ${conn.remotePeer.toString()} failed`, err);
    });
  };

  readonly #onSelfUpdate = (): void => {
    if (!this.#o.runOnSelfUpdate || !this.#started || this.#pushTimer !== undefined) return;
    this.#pushTimer = setTimeout(() => {
      this.#pushTimer = undefined;
      if (this.#pushing !== undefined) {
        this.#pushAgain = true; // one more round once the current one finished
        return;
      }
      this.#pushing = this.push().finally(() => {
        this.#pushing = undefined;
        if (this.#pushAgain) {
          this.#pushAgain = false;
          this.#onSelfUpdate();
        }
      });
    }, this.#o.pushDebounceMs);
  };

  /** The service lifetime, combined with a caller's signal. */
  #signal(signal: AbortSignal | undefined): AbortSignal {
    return signal === undefined
      ? this.#lifetime.signal
      : AbortSignal.any([signal, this.#lifetime.signal]);
  }

  /** A deadline for an inbound stream; reaching it (or stopping) aborts the stream. */
  #guard(stream: Stream, what: string): DeadlineSignal {
    const d = deadlineSignal(this.#o.timeoutMs, this.#lifetime.signal, what);
    abortOnSignal(stream, d.signal);
    return d;
  }

  #log(message: string, error?: unknown): void {
    try {
      this.#o.log?.(message, error);
    } catch { /* a failing logger must not break the protocol */ }
  }
}

function abortOnSignal(stream: Stream, signal: AbortSignal): void {
  if (signal.aborted) stream.abort(abortReason(signal));
  else signal.addEventListener("abort", () => stream.abort(abortReason(signal)), { once: true });
}

/** Read and discard until EOF; more than MAX_TRAILING_BYTES is a protocol violation. */
async function drain(readable: ReadableStream<Uint8Array>): Promise<void> {
  let total = 0;
  for await (const chunk of readable) {
    total += chunk.byteLength;
    if (total > MAX_TRAILING_BYTES) {
      throw new LimitExceededError(
        `more than ${MAX_TRAILING_BYTES} unexpected bytes on an identify stream`,
        "MAX_TRAILING_BYTES",
      );
    }
  }
}
