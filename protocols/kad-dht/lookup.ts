/**
 * Drives one {@link Query} over the network: sends the requests it hands out, feeds it the
 * answers, and streams every answer to the caller as it arrives (libp2p/specs
 * `kad-dht/README.md` §Peer routing). Time comes from an injected clock (the service passes
 * `performance.now`); one timer per query, armed at the query's `nextDeadline()`.
 *
 * @module
 */

import { abortReason } from "../../src/abort.ts";
import { AbortError, TimeoutError } from "../../src/errors.ts";
import type { KadMessage } from "./codec.ts";
import { Query, type QueryOptions, type QueryPeer, type QueryStats } from "./query.ts";

/** One answer (or failure) of a lookup, in arrival order. */
export type LookupEvent =
  | { kind: "response"; peer: QueryPeer; message: KadMessage }
  | { kind: "failure"; peer: QueryPeer; error: unknown };

/** Options of {@link runLookup}. */
export interface LookupOptions extends Omit<QueryOptions, "now"> {
  /** Send one request to `peer`; resolves with its answer. Must honour `signal`. */
  send(peer: QueryPeer, signal: AbortSignal): Promise<KadMessage>;
  /** Peers an answer lists (already filtered by the caller's address policy). */
  closerOf(message: KadMessage): QueryPeer[];
  /** Monotonic clock, ms. */
  now(): number;
  /** Cancels the lookup (the generator then throws the signal's reason). */
  signal?: AbortSignal;
}

/** What a finished lookup produced. */
export interface LookupResult {
  /** Closest peers that answered, nearest first. */
  closest: QueryPeer[];
  /** The query's counters. */
  stats: QueryStats;
}

/**
 * Run a lookup, yielding each answer and failure as it comes; the generator's return value is
 * the final {@link LookupResult}. Stopping the iteration early (break, return) cancels the
 * requests in flight.
 *
 * @example
 * ```ts
 * import { kadId, runLookup } from "@p2p-edge/libp2p/protocols/kad-dht";
 * const lookup = runLookup({
 *   target: kadId(new Uint8Array([1])),
 *   seeds: [],
 *   send: () => Promise.reject(new Error("nobody to ask")),
 *   closerOf: () => [],
 *   now: () => performance.now(),
 * });
 * for await (const event of lookup) console.log(event.kind);
 * ```
 */
export async function* runLookup(
  options: LookupOptions,
): AsyncGenerator<LookupEvent, LookupResult, undefined> {
  const { send, closerOf, now, signal } = options;
  signal?.throwIfAborted();
  const query = new Query({ ...options, now: now() });
  /** Requests in flight: their abort handle and the machine's deadline (from poll). */
  const inflight = new Map<QueryPeer, { controller: AbortController; deadline: number }>();
  /** Requests the machine expired, already reported as failures. */
  const expired = new Set<QueryPeer>();
  const events: LookupEvent[] = [];
  let wake: (() => void) | undefined;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const notify = (): void => {
    const w = wake;
    wake = undefined;
    w?.();
  };
  const onAbort = (): void => notify();
  signal?.addEventListener("abort", onAbort, { once: true });

  const pump = (): void => {
    if (timer !== undefined) clearTimeout(timer);
    timer = undefined;
    // A request past its deadline is reported now, before poll() expires it in the machine: the
    // send's own rejection may come later (or never, once the lookup has finished), and the
    // failure must not depend on which of the two deadlines fires first.
    const t = now();
    for (const [peer, { deadline }] of inflight) {
      if (deadline > t || expired.has(peer)) continue;
      expired.add(peer);
      events.push({
        kind: "failure",
        peer,
        error: new TimeoutError("no answer by the request deadline"),
      });
    }
    for (const req of query.poll(t)) {
      const controller = new AbortController();
      inflight.set(req.peer, { controller, deadline: req.deadline });
      send(req.peer, controller.signal).then(
        (message) => {
          inflight.delete(req.peer);
          if (query.finished) return;
          query.onResponse(req.peer.peerId, closerOf(message), now());
          events.push({ kind: "response", peer: req.peer, message });
          pump();
        },
        (error) => {
          inflight.delete(req.peer);
          if (query.finished) return;
          query.onFailure(req.peer.peerId, now());
          if (!expired.has(req.peer)) events.push({ kind: "failure", peer: req.peer, error });
          pump();
        },
      );
    }
    if (query.finished) {
      for (const r of inflight.values()) r.controller.abort(new AbortError("lookup finished"));
      inflight.clear();
    } else {
      const next = query.nextDeadline();
      if (next !== undefined) {
        timer = setTimeout(pump, Math.max(0, Math.ceil(next - now())));
      }
    }
    notify();
  };

  try {
    pump();
    for (;;) {
      while (events.length > 0) yield events.shift()!;
      if (signal?.aborted) throw abortReason(signal);
      if (query.finished) break;
      await new Promise<void>((resolve) => (wake = resolve));
    }
    return { closest: query.result(), stats: query.stats };
  } finally {
    signal?.removeEventListener("abort", onAbort);
    if (timer !== undefined) clearTimeout(timer);
    if (!query.finished) query.cancel(now());
    for (const r of inflight.values()) r.controller.abort(new AbortError("lookup stopped"));
    inflight.clear();
  }
}
