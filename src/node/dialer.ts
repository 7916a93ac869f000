/**
 * Dialling: try a peer's addresses with small, bounded parallelism; the first connection that
 * upgrades wins and the other attempts are aborted (late winners are closed).
 *
 * @module
 */

import { abortReason, deadlineSignal } from "../abort.ts";
import type { Connection } from "../connection.ts";
import { Libp2pError } from "../errors.ts";
import {
  defaultResolver,
  type Multiaddr,
  type MultiaddrResolver,
  needsResolution,
} from "../multiaddr/mod.ts";
import type { PeerId } from "../peer_id.ts";
import type { AbortOptions } from "../stream/types.ts";
import type { Transport } from "../transport.ts";
import type { Upgrader } from "../upgrader.ts";
import { type ConnectionGater, gate } from "./gater.ts";

/**
 * No address of a peer could be dialled. `errors` holds each attempt's failure.
 *
 * @example
 * ```ts
 * import { DialError } from "@p2p-edge/libp2p";
 * const err = new DialError("all dials failed", []);
 * console.log(err.errors.length); // 0
 * ```
 */
export class DialError extends Libp2pError {
  /** One error per failed address. */
  readonly errors: readonly Error[];
  /** Create a dial error carrying each attempt's failure. */
  constructor(message: string, errors: readonly Error[], options?: ErrorOptions) {
    super(message, options ?? (errors.length > 0 ? { cause: errors[0] } : undefined));
    this.errors = errors;
  }
}

/** Dialler limits. */
export interface DialerOptions {
  /** Addresses of one peer dialled at once. Default 2 (1 to 16). */
  addressConcurrency?: number;
  /** Deadline for one whole dial (all addresses), ms. Default 30 s. */
  dialTimeoutMs?: number;
  /**
   * Called with each address that failed to dial (not those cut short because another address
   * connected first): metrics and the status page's recent errors. Default none.
   */
  onAddressError?: (addr: Multiaddr, error: Error) => void;
}

/**
 * Dials addresses through the node's transports and upgrader.
 *
 * @example
 * ```ts
 * import { Dialer, Upgrader } from "@p2p-edge/libp2p";
 * declare const upgrader: Upgrader;
 * const dialer = new Dialer([], upgrader, { addressConcurrency: 2 });
 * ```
 */
export class Dialer {
  readonly #transports: readonly Transport[];
  readonly #upgrader: Upgrader;
  readonly #concurrency: number;
  readonly #timeoutMs: number;
  readonly #gater: ConnectionGater | undefined;
  readonly #resolver: MultiaddrResolver;
  readonly #onError: ((addr: Multiaddr, error: Error) => void) | undefined;

  /**
   * Validate options. `gater.denyDial` is asked before each address is dialled; `resolver`
   * expands `/dnsaddr` (and `/dns*` when it resolves them) before dialling.
   */
  constructor(
    transports: readonly Transport[],
    upgrader: Upgrader,
    options: DialerOptions = {},
    gater?: ConnectionGater,
    resolver: MultiaddrResolver = defaultResolver,
  ) {
    const concurrency = options.addressConcurrency ?? 2;
    if (!Number.isInteger(concurrency) || concurrency < 1 || concurrency > 16) {
      throw new RangeError("addressConcurrency must be an integer from 1 to 16");
    }
    const timeout = options.dialTimeoutMs ?? 30_000;
    if (!(timeout > 0)) throw new RangeError("dialTimeoutMs must be positive");
    this.#transports = transports;
    this.#upgrader = upgrader;
    this.#concurrency = concurrency;
    this.#timeoutMs = timeout;
    this.#gater = gater;
    this.#resolver = resolver;
    this.#onError = options.onAddressError;
  }

  /** The transport that can dial `addr`, if any. */
  transportFor(addr: Multiaddr): Transport | undefined {
    return this.#transports.find((t) => t.dialFilter([addr]).length > 0);
  }

  /**
   * Dial `addrs` (all of one peer, or one address of an unknown peer) and return the first
   * connection that upgrades.
   */
  async dial(
    addrs: readonly Multiaddr[],
    remotePeer: PeerId | undefined,
    options?: AbortOptions,
  ): Promise<Connection> {
    const deadline = deadlineSignal(this.#timeoutMs, options?.signal, "dial");
    const errors: Error[] = [];
    let dialable: Multiaddr[];
    try {
      const resolved = await this.#resolve(addrs, remotePeer, deadline.signal, errors);
      dialable = resolved.filter((a) => this.transportFor(a) !== undefined);
    } catch (err) {
      deadline.clear();
      throw err;
    }
    if (dialable.length === 0) {
      deadline.clear();
      const why = errors.length > 0 ? `: ${errors.map((e) => e.message).join("; ")}` : "";
      throw new DialError(
        `no transport can dial ${addrs.map(String).join(", ") || "(no addresses)"}${why}`,
        errors,
      );
    }
    const losers = new AbortController();
    const signal = AbortSignal.any([deadline.signal, losers.signal]);
    let winner: Connection | undefined;
    let next = 0;
    const worker = async (): Promise<void> => {
      while (winner === undefined && next < dialable.length && !signal.aborted) {
        const addr = dialable[next++];
        try {
          const conn = await this.#dialOne(addr, remotePeer, signal);
          if (winner === undefined) {
            winner = conn;
            // Only when other attempts may still run (an error's stack trace is not free).
            if (dialable.length > 1) {
              losers.abort(new Libp2pError("another address connected first"));
            }
          } else {
            conn.abort();
          }
        } catch (err) {
          if (winner === undefined) {
            const error = err instanceof Error ? err : new Error(String(err));
            errors.push(error);
            this.#onError?.(addr, error);
          }
        }
      }
    };
    try {
      await Promise.all(
        Array.from({ length: Math.min(this.#concurrency, dialable.length) }, worker),
      );
    } finally {
      deadline.clear();
    }
    if (winner !== undefined) return winner;
    if (deadline.signal.aborted) throw abortReason(deadline.signal);
    throw new DialError(
      `could not dial ${remotePeer?.toString() ?? dialable[0].toString()}: ${
        errors.map((e) => e.message).join("; ")
      }`,
      errors,
    );
  }

  /**
   * Expand names (`/dnsaddr`, `/dns*` when the resolver does them); a failed resolution is
   * one error in `errors`. Results naming another peer than `remotePeer` are dropped.
   */
  async #resolve(
    addrs: readonly Multiaddr[],
    remotePeer: PeerId | undefined,
    signal: AbortSignal,
    errors: Error[],
  ): Promise<Multiaddr[]> {
    if (!addrs.some((a) => needsResolution(a))) return [...addrs];
    const out: Multiaddr[] = [];
    const seen = new Set<string>();
    const want = remotePeer?.toString();
    for (const addr of addrs) {
      let found: Multiaddr[];
      if (!needsResolution(addr)) {
        found = [addr];
      } else {
        try {
          found = await this.#resolver(addr, { signal });
        } catch (err) {
          if (signal.aborted) throw abortReason(signal);
          errors.push(err instanceof Error ? err : new Error(String(err)));
          continue;
        }
      }
      for (const f of found) {
        const named = f.getPeerId();
        if (want !== undefined && named !== undefined && named !== want) continue;
        const key = f.toString();
        if (seen.has(key)) continue;
        seen.add(key);
        out.push(f);
      }
    }
    return out;
  }

  async #dialOne(
    addr: Multiaddr,
    remotePeer: PeerId | undefined,
    signal: AbortSignal,
  ): Promise<Connection> {
    const transport = this.transportFor(addr)!;
    const denied = await gate(this.#gater, "denyDial", addr);
    if (denied !== undefined) throw denied;
    signal.throwIfAborted();
    // Transports accept a trailing /p2p/<id> (circuit addresses need the whole address).
    const raw = await transport.dial(addr, { signal });
    return await this.#upgrader.upgradeOutbound(raw, { remotePeer, signal });
  }
}
