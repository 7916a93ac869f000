/**
 * The rendezvous service (libp2p/specs rendezvous/README.md): a client (`register`,
 * `unregister`, `discover` against a rendezvous point) and, with `{ server: true }`, a
 * rendezvous point serving `/rendezvous/1.0.0` from a {@link RegistrationStore}.
 *
 * A client request is one stream: the request, the response (none for UNREGISTER), close. The
 * server answers up to {@link MAX_REQUESTS_PER_STREAM} requests per stream in order, with an
 * inactivity deadline; anything malformed or unexpected resets the stream (HARDENING.md rule 5).
 * Discovered registrations are verified (the signed peer record must be valid; its signer is
 * the registration's peer) and reported through the node's discovery path (`node.discovery`:
 * the peer store, the node's `peer:discovery` event, dials below the connection target) and as
 * this service's `peer` event.
 *
 * @module
 */

import { clampDelay, deadlineSignal, raceSignal } from "../../src/abort.ts";
import type { Stream } from "../../src/connection.ts";
import type { Multiaddr } from "../../src/multiaddr/mod.ts";
import type { Libp2pNode, ServiceFactory } from "../../src/node/node.ts";
import { checkMaxInboundStreams, ProtocolHandler } from "../../src/node/protocol_handler.ts";
import { TypedEventTarget } from "../../src/node/events.ts";
import type { PeerId } from "../../src/peer_id.ts";
import { openPeerRecord, sealPeerRecord } from "../../src/record/mod.ts";
import { ByteReader, UnexpectedEOFError } from "../../src/stream/byte_reader.ts";
import { idleTimer } from "../../src/stream/idle.ts";
import type { AbortOptions } from "../../src/stream/types.ts";
import { decodeMessage, encodeFrame, type RendezvousMessage } from "./codec.ts";
import {
  DEFAULT_REQUEST_BURST,
  DEFAULT_REQUESTS_PER_SECOND,
  DEFAULT_TIMEOUT_MS,
  MAX_INBOUND_STREAMS,
  MAX_MESSAGE_BYTES,
  MAX_RATE_LIMITED_PEERS,
  MAX_REQUEST_BYTES,
  MAX_REQUESTS_PER_STREAM,
  MessageType,
  RENDEZVOUS_PROTOCOL_ID,
  ResponseStatus,
  UNREGISTER_CLOSE_WAIT_MS,
} from "./constants.ts";
import { RendezvousError } from "./errors.ts";
import { answerRequest, type ServedRequest, unavailable } from "./server.ts";
import { PeerRateLimit } from "./rate_limit.ts";
import { namespaceProblem, RegistrationStore } from "./store.ts";
import type {
  RendezvousDiscoverOptions,
  RendezvousDiscoverResult,
  RendezvousEvents,
  RendezvousOptions,
  RendezvousPoint,
  RendezvousRegisterOptions,
  RendezvousRegistration,
  RendezvousService,
  RendezvousStats,
} from "./types.ts";

/**
 * Rendezvous as a node service (`services: { rendezvous: rendezvous() }`): a client, and with
 * `{ server: true }` a rendezvous point too.
 *
 * @example
 * ```ts
 * import { createNode } from "@p2p-edge/libp2p";
 * import { rendezvous } from "@p2p-edge/libp2p/protocols/rendezvous";
 * import { tcp } from "@p2p-edge/libp2p/transports/tcp";
 * import { noise } from "@p2p-edge/libp2p/protocols/noise";
 * import { yamux } from "@p2p-edge/libp2p/protocols/yamux";
 * const init = { transports: [tcp()], connectionEncrypters: [noise()], streamMuxers: [yamux()] };
 * const point = await createNode({ ...init, listen: ["/ip4/127.0.0.1/tcp/0"],
 *   services: { rendezvous: rendezvous({ server: true }) } });
 * const a = await createNode({ ...init, listen: ["/ip4/127.0.0.1/tcp/0"],
 *   services: { rendezvous: rendezvous() } });
 * await a.services.rendezvous.register("chat", point.addrs()[0]);
 * const { registrations } = await a.services.rendezvous.discover("chat", point.addrs()[0]);
 * console.log(registrations.map((r) => r.id.toString()));
 * await a.stop();
 * await point.stop();
 * ```
 */
export function rendezvous(options: RendezvousOptions = {}): ServiceFactory<RendezvousService> {
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  if (!(timeoutMs > 0)) throw new RangeError("timeoutMs must be > 0");
  checkMaxInboundStreams(options.maxInboundStreams ?? MAX_INBOUND_STREAMS);
  // Build the server's parts once here so that bad options throw at configuration time.
  if (options.server === true) {
    new RegistrationStore(options);
    new PeerRateLimit({
      burst: options.requestBurst ?? DEFAULT_REQUEST_BURST,
      perSecond: options.requestsPerSecond ?? DEFAULT_REQUESTS_PER_SECOND,
      maxPeers: MAX_RATE_LIMITED_PEERS,
    });
  }
  const build = (node: Libp2pNode): RendezvousService => new Rendezvous(node, options, timeoutMs);
  return Object.assign(build, {
    serviceCapabilities: Object.freeze(["@libp2p/rendezvous", "@libp2p/peer-discovery"]),
  });
}

class Rendezvous extends TypedEventTarget<RendezvousEvents> implements RendezvousService {
  readonly #node: Libp2pNode;
  readonly #timeoutMs: number;
  readonly #now: () => number;
  readonly #handler: ProtocolHandler | undefined;
  readonly store: RegistrationStore | undefined;
  #sweep: ReturnType<typeof setTimeout> | undefined;
  #started = false;
  readonly #stats = {
    registered: 0,
    refused: 0,
    notAuthorized: 0,
    discovers: 0,
    badStreams: 0,
    rateLimited: 0,
    invalidDiscovered: 0,
  };
  readonly #limit: PeerRateLimit | undefined;

  constructor(node: Libp2pNode, options: RendezvousOptions, timeoutMs: number) {
    super();
    this.#node = node;
    this.#timeoutMs = timeoutMs;
    this.#now = options.now ?? Date.now;
    if (options.server === true) {
      this.store = new RegistrationStore(options);
      this.#limit = new PeerRateLimit({
        burst: options.requestBurst ?? DEFAULT_REQUEST_BURST,
        perSecond: options.requestsPerSecond ?? DEFAULT_REQUESTS_PER_SECOND,
        maxPeers: MAX_RATE_LIMITED_PEERS,
      });
      this.#handler = new ProtocolHandler(
        node,
        RENDEZVOUS_PROTOCOL_ID,
        "rendezvous",
        options.maxInboundStreams ?? MAX_INBOUND_STREAMS,
        (s) => this.#serve(s),
      );
    }
  }

  start(): void {
    this.#started = true;
    this.#handler?.start();
  }

  stop(): void {
    this.#started = false;
    this.#handler?.stop();
    clearTimeout(this.#sweep);
    this.#sweep = undefined;
  }

  stats(): RendezvousStats {
    return { registrations: this.store?.size ?? 0, ...this.#stats };
  }

  async register(
    namespace: string,
    rendezvousPeer: RendezvousPoint,
    options: RendezvousRegisterOptions = {},
  ): Promise<number> {
    checkNamespace(namespace);
    const ttl = options.ttl;
    if (ttl !== undefined && !(Number.isSafeInteger(ttl) && ttl > 0)) {
      throw new RangeError("ttl must be a positive integer (seconds)");
    }
    const addrs = this.#node.addressManager.getAddresses().map(withoutP2p);
    const envelope = await sealPeerRecord(this.#node.privateKey, addrs, { signal: options.signal });
    const answer = await this.#exchange(rendezvousPeer, {
      type: MessageType.REGISTER,
      register: {
        ns: namespace,
        signedPeerRecord: envelope.encode(),
        ttl: ttl === undefined ? undefined : BigInt(ttl),
      },
    }, options);
    const r = answer?.registerResponse;
    if (answer?.type !== MessageType.REGISTER_RESPONSE || r === undefined) {
      throw new RendezvousError(ResponseStatus.E_INTERNAL_ERROR, "unexpected answer to REGISTER");
    }
    if (r.status !== ResponseStatus.OK) throw new RendezvousError(r.status, r.statusText);
    return r.ttl === undefined ? ttl ?? 0 : Number(r.ttl);
  }

  async unregister(
    namespace: string,
    rendezvousPeer: RendezvousPoint,
    options: AbortOptions = {},
  ): Promise<void> {
    checkNamespace(namespace);
    await this.#exchange(rendezvousPeer, {
      type: MessageType.UNREGISTER,
      unregister: { ns: namespace },
    }, options);
  }

  async discover(
    namespace: string | undefined,
    rendezvousPeer: RendezvousPoint,
    options: RendezvousDiscoverOptions = {},
  ): Promise<RendezvousDiscoverResult> {
    const ns = namespace ?? "";
    if (ns !== "") checkNamespace(ns);
    const limit = options.limit;
    if (limit !== undefined && !(Number.isSafeInteger(limit) && limit > 0)) {
      throw new RangeError("limit must be a positive integer");
    }
    const answer = await this.#exchange(rendezvousPeer, {
      type: MessageType.DISCOVER,
      discover: {
        ns: ns === "" ? undefined : ns,
        limit: limit === undefined ? undefined : BigInt(limit),
        cookie: options.cookie,
      },
    }, options);
    const d = answer?.discoverResponse;
    if (answer?.type !== MessageType.DISCOVER_RESPONSE || d === undefined) {
      throw new RendezvousError(ResponseStatus.E_INTERNAL_ERROR, "unexpected answer to DISCOVER");
    }
    if (d.status !== ResponseStatus.OK) throw new RendezvousError(d.status, d.statusText);
    const registrations: RendezvousRegistration[] = [];
    for (const reg of d.registrations) {
      if (ns !== "" && reg.ns !== ns) {
        this.#stats.invalidDiscovered++;
        continue;
      }
      try {
        const { record } = await openPeerRecord(reg.signedPeerRecord, undefined, {
          signal: options.signal,
        });
        registrations.push({
          id: record.peerId,
          multiaddrs: [...record.addresses],
          namespace: reg.ns,
          ttl: reg.ttl === undefined ? 0 : Number(reg.ttl),
        });
      } catch {
        options.signal?.throwIfAborted();
        this.#stats.invalidDiscovered++;
      }
    }
    for (const r of registrations) this.#report(r);
    return { registrations, cookie: d.cookie ?? new Uint8Array(0) };
  }

  /**
   * A discovered peer (not ourselves): through the node's discovery path (peer store with
   * source "discovered", `peer:discovery`, dialled while the node is below its connection
   * target), and out as this service's `peer` event.
   */
  #report(r: RendezvousRegistration): void {
    if (r.id.equals(this.#node.peerId)) return;
    this.#node.discovery.report({ id: r.id, multiaddrs: r.multiaddrs }).catch(() => {});
    this.dispatch("peer", { id: r.id, multiaddrs: r.multiaddrs });
  }

  /** One client exchange on a new stream: the request, then the answer unless UNREGISTER. */
  async #exchange(
    point: RendezvousPoint,
    request: RendezvousMessage,
    options: AbortOptions,
  ): Promise<RendezvousMessage | undefined> {
    const target = dialTarget(point);
    const d = deadlineSignal(this.#timeoutMs, options.signal, "rendezvous");
    let stream: Stream | undefined;
    try {
      const conn = await this.#node.dial(target, { signal: d.signal });
      stream = await conn.newStream(RENDEZVOUS_PROTOCOL_ID, { signal: d.signal });
      const s = stream;
      d.signal.addEventListener("abort", () => s.abort(d.signal.reason), { once: true });
      const writer = s.writable.getWriter();
      const reader = new ByteReader(s.readable);
      await raceSignal(writer.write(encodeFrame(request)), d.signal);
      let answer: RendezvousMessage | undefined;
      if (request.type !== MessageType.UNREGISTER) {
        const bytes = await raceSignal(reader.readLengthPrefixed(MAX_MESSAGE_BYTES), d.signal);
        answer = decodeMessage(bytes);
      }
      await raceSignal(writer.close(), d.signal);
      if (request.type === MessageType.UNREGISTER) {
        // UNREGISTER has no answer; our point closes after it applied it, so waiting for that
        // close orders a later DISCOVER after it. Bounded: a point that keeps the stream open
        // (or resets it) does not fail the call.
        const wait = deadlineSignal(UNREGISTER_CLOSE_WAIT_MS, d.signal, "rendezvous unregister");
        try {
          await raceSignal(reader.readChunk(), wait.signal).catch(() => undefined);
        } finally {
          wait.clear();
        }
      }
      return answer;
    } catch (err) {
      stream?.abort(err);
      throw err;
    } finally {
      d.clear();
    }
  }

  /** Serve one inbound stream: requests in order until EOF, the cap or the idle deadline. */
  async #serve(stream: Stream): Promise<void> {
    const store = this.store!;
    const sender = stream.connection.remotePeer;
    const idle = idleTimer(this.#timeoutMs, this.#handler!.signal, "rendezvous stream");
    idle.signal.addEventListener("abort", () => stream.abort(idle.signal.reason), { once: true });
    const reader = new ByteReader(stream.readable);
    const writer = stream.writable.getWriter();
    try {
      for (let n = 0; n < MAX_REQUESTS_PER_STREAM; n++) {
        let bytes: Uint8Array;
        try {
          bytes = await reader.readLengthPrefixed(MAX_REQUEST_BYTES);
        } catch (err) {
          if (err instanceof UnexpectedEOFError && reader.buffered === 0) break;
          throw err;
        }
        idle.touch();
        const message = decodeMessage(bytes);
        const now = this.#now();
        // UNREGISTER only frees state: never refused.
        const limited = message.type !== MessageType.UNREGISTER &&
          !this.#limit!.admit(sender.toString(), now);
        if (limited) this.#stats.rateLimited++;
        const answer = limited
          ? unavailable(message, "too many requests, retry later")
          : await answerRequest(store, sender, message, now);
        if (answer === undefined) {
          throw new RendezvousError(ResponseStatus.E_INTERNAL_ERROR, "not a request");
        }
        this.#count(answer.served);
        if (answer.response !== undefined) await writer.write(encodeFrame(answer.response));
        idle.touch();
        this.#scheduleSweep();
      }
      await writer.close();
      // At the request cap the peer may still be sending: discard it rather than buffer it.
      stream.closeRead();
    } catch (err) {
      this.#stats.badStreams++;
      stream.abort(err);
    } finally {
      idle.clear();
    }
  }

  #count(served: ServedRequest): void {
    switch (served.kind) {
      case "registered":
        this.#stats.registered++;
        break;
      case "refused":
        this.#stats.refused++;
        if (served.status === ResponseStatus.E_NOT_AUTHORIZED) this.#stats.notAuthorized++;
        break;
      case "discovered":
      case "discover-refused":
        this.#stats.discovers++;
        break;
    }
  }

  /** Drop expired registrations when the next one expires (memory, not correctness: every
   * store operation expires first). */
  #scheduleSweep(): void {
    const store = this.store;
    if (store === undefined || !this.#started) return;
    clearTimeout(this.#sweep);
    this.#sweep = undefined;
    const next = store.nextExpiry();
    if (next === undefined) return;
    this.#sweep = setTimeout(() => {
      this.#sweep = undefined;
      store.expire(this.#now());
      this.#scheduleSweep();
    }, clampDelay(Math.max(1_000, next - this.#now())));
  }
}

function checkNamespace(namespace: string): void {
  if (typeof namespace !== "string") throw new TypeError("namespace must be a string");
  const bad = namespaceProblem(namespace);
  if (bad !== undefined) throw new RangeError(bad);
}

/** The dial target of a rendezvous point; a multiaddr must name the peer (`/p2p/<id>`). */
function dialTarget(point: RendezvousPoint): PeerId | string | Multiaddr {
  if (typeof point === "string") {
    if (point.startsWith("/") && !/\/p2p\/[^/]+$/.test(point)) {
      throw new TypeError("a rendezvous point multiaddr must end in /p2p/<peer id>");
    }
    return point;
  }
  if ("getPeerId" in point && typeof point.getPeerId === "function") {
    if (point.getPeerId() === undefined) {
      throw new TypeError("a rendezvous point multiaddr must end in /p2p/<peer id>");
    }
  }
  return point;
}

function withoutP2p(addr: Multiaddr): Multiaddr {
  const codes = addr.protoCodes();
  return codes[codes.length - 1] === 421 ? addr.decapsulateCode(421) : addr;
}
