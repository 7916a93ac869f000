/**
 * Name resolution for multiaddrs. {@link dnsMultiaddrResolver} expands `/dnsaddr/<host>`
 * through the TXT records of `_dnsaddr.<host>` (entries `dnsaddr=<multiaddr>`, recursively,
 * keeping only results with the input's `/p2p/<id>`; specs `addressing/README.md` §dnsaddr)
 * and, when asked, turns `/dns`, `/dns4`, `/dns6` into `/ip4` / `/ip6` for dialling. Every
 * lookup goes through an injected {@link DnsResolver} (the node option `dns`), so tests and the
 * CLI's `--dns-server` decide where queries go.
 *
 * Hostile or broken DNS is bounded (HARDENING.md rule 4 and rule 8): a recursion depth, a
 * total of lookups, a total of results, records per answer and characters per record, and one
 * deadline for the whole resolution. A dnsaddr chain that never ends stops at the first cap
 * reached.
 *
 * @module
 */

import { abortReason, deadlineSignal } from "../abort.ts";
import { Libp2pError } from "../errors.ts";
import { type Multiaddr, multiaddr } from "./multiaddr.ts";
import {
  CODE_DNS,
  CODE_DNS4,
  CODE_DNS6,
  CODE_DNSADDR,
  CODE_HTTPS,
  CODE_P2P,
  CODE_SNI,
  CODE_TLS,
  CODE_WSS,
} from "./protocols.ts";

/**
 * Turns one multiaddr into the addresses to dial. A resolver for `/dnsaddr/<name>` looks up the
 * TXT records of `_dnsaddr.<name>` and returns their multiaddrs (recursively, with a depth and
 * count limit, keeping only those whose `/p2p` matches the input's); one for `/dns*` may return
 * the `/ip4`/`/ip6` forms. Addresses it cannot or need not resolve come back as `[ma]`.
 * Honours `signal` (rejecting with its reason when aborted).
 *
 * @example
 * ```ts
 * import { type MultiaddrResolver, multiaddr } from "@p2p-edge/libp2p";
 * const fixed: MultiaddrResolver = (ma) =>
 *   Promise.resolve(ma.protoNames()[0] === "dnsaddr" ? [multiaddr("/ip4/1.2.3.4/tcp/4001")] : [ma]);
 * ```
 */
export type MultiaddrResolver = (
  ma: Multiaddr,
  options?: { signal?: AbortSignal },
) => Promise<Multiaddr[]>;

/**
 * A DNS client: the node option `dns`. `resolveTxt` answers the TXT records of a name, each as
 * its character-strings (node:dns and `Deno.resolveDns` shape); `resolve4` / `resolve6` the A /
 * AAAA addresses as text. A name without records resolves to `[]` or rejects.
 *
 * @example
 * ```ts
 * import type { DnsResolver } from "@p2p-edge/libp2p";
 * const zone: Record<string, string[][]> = {
 *   "_dnsaddr.example.org": [["dnsaddr=/ip4/192.0.2.1/tcp/4001"]],
 * };
 * const dns: DnsResolver = { resolveTxt: (name) => Promise.resolve(zone[name] ?? []) };
 * ```
 */
export interface DnsResolver {
  /** TXT records of `name`, each as its list of character-strings. */
  resolveTxt(name: string, options?: { signal?: AbortSignal }): Promise<string[][]>;
  /** IPv4 addresses (A records) of `name`. */
  resolve4?(name: string, options?: { signal?: AbortSignal }): Promise<string[]>;
  /** IPv6 addresses (AAAA records) of `name`. */
  resolve6?(name: string, options?: { signal?: AbortSignal }): Promise<string[]>;
}

/** Deepest chain of `/dnsaddr` names followed: go-libp2p's `maxDNSAddrDepth`-class cap (4). */
export const DEFAULT_DNSADDR_MAX_DEPTH = 4;
/** Most addresses one resolution returns (go-libp2p swarm: 100 resolved addresses). */
export const DEFAULT_DNSADDR_MAX_RESULTS = 100;
/** Most DNS lookups of one resolution: bounds the fan-out of a tree of dnsaddr names (rule 4). */
export const DEFAULT_DNS_MAX_LOOKUPS = 32;
/** Deadline of one whole resolution, ms (HARDENING.md rule 8). */
export const DEFAULT_DNS_TIMEOUT_MS = 10_000;
/** TXT records of one answer looked at; the rest are ignored (a huge answer, rule 4). */
export const MAX_TXT_RECORDS = 256;
/** Longest TXT record read, characters (its strings joined); longer ones are skipped. */
export const MAX_TXT_RECORD_CHARS = 2048;
/** Addresses taken from one A / AAAA answer. */
export const MAX_HOST_ADDRESSES = 16;

/** Limits of {@link dnsMultiaddrResolver}; every field optional, defaults in the field docs. */
export interface DnsMultiaddrResolverOptions {
  /** Nested `/dnsaddr` names followed. Default 4. */
  maxDepth?: number;
  /** Addresses returned at most. Default 100. */
  maxResults?: number;
  /** DNS lookups at most per resolution. Default 32. */
  maxLookups?: number;
  /** Deadline of one resolution, ms. Default 10 000. */
  timeoutMs?: number;
  /**
   * Also resolve `/dns`, `/dns4`, `/dns6` to `/ip4` / `/ip6` (for dialling through this
   * resolver's server). Addresses that need the name (`/tls`, `/sni`, `/wss`, `/https`) and
   * `localhost` names are left to the transport. Default false.
   */
  resolveHostnames?: boolean;
}

/**
 * A name could not be resolved (no records, a failing server, a cap reached with nothing
 * found). `cause` holds the underlying failure when there was one.
 *
 * @example
 * ```ts
 * import { DnsResolutionError } from "@p2p-edge/libp2p";
 * const err = new DnsResolutionError("no dnsaddr records at _dnsaddr.example.org");
 * err instanceof Error; // true
 * ```
 */
export class DnsResolutionError extends Libp2pError {}

/**
 * The resolver used when none is injected: returns `[ma]` for every address without a
 * `/dnsaddr` component (`/dns`, `/dns4`, `/dns6` are left for the transport's own lookup) and
 * rejects with a RangeError for `/dnsaddr`, which needs a TXT-record resolver.
 *
 * @example
 * ```ts
 * import { defaultResolver, multiaddr } from "@p2p-edge/libp2p";
 * await defaultResolver(multiaddr("/dns4/example.com/tcp/443/wss")); // [the same multiaddr]
 * ```
 */
export function defaultResolver(
  ma: Multiaddr,
  options?: { signal?: AbortSignal },
): Promise<Multiaddr[]> {
  if (options?.signal?.aborted) return Promise.reject(options.signal.reason);
  if (ma.protoCodes().includes(CODE_DNSADDR)) {
    return Promise.reject(
      new RangeError(
        `cannot resolve ${ma.toString()}: /dnsaddr needs a DNS TXT resolver; inject a MultiaddrResolver`,
      ),
    );
  }
  return Promise.resolve([ma]);
}

/**
 * Whether `ma` needs the resolver: it has a `/dnsaddr`, or (with `hostnames`) a `/dns*`.
 *
 * @example
 * ```ts
 * import { multiaddr, needsResolution } from "@p2p-edge/libp2p";
 * needsResolution(multiaddr("/dnsaddr/example.org")); // true
 * needsResolution(multiaddr("/ip4/1.2.3.4/tcp/1")); // false
 * ```
 */
export function needsResolution(ma: Multiaddr, hostnames = true): boolean {
  const first = ma.protoCodes()[0];
  if (first === CODE_DNSADDR) return true;
  return hostnames && (first === CODE_DNS || first === CODE_DNS4 || first === CODE_DNS6);
}

interface Budget {
  lookups: number;
  results: number;
  errors: Error[];
}

function int(name: string, value: number | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  if (!Number.isInteger(value) || value < 1) {
    throw new RangeError(`${name} must be an integer >= 1`);
  }
  return value;
}

/**
 * A {@link MultiaddrResolver} over a {@link DnsResolver}: `/dnsaddr/<host>[/p2p/<id>]` becomes
 * the multiaddrs of the `dnsaddr=` TXT records of `_dnsaddr.<host>` (nested `/dnsaddr` followed
 * up to `maxDepth`; only results ending in `/p2p/<id>` kept when the input names one), and with
 * `resolveHostnames`, `/dns4/<host>/...` becomes `/ip4/<a>/...` per A record (`/dns6`: AAAA;
 * `/dns`: both). Other addresses come back unchanged. Rejects with {@link DnsResolutionError}
 * when nothing was found.
 *
 * @example
 * ```ts
 * import { dnsMultiaddrResolver, multiaddr } from "@p2p-edge/libp2p";
 * const resolve = dnsMultiaddrResolver({
 *   resolveTxt: (name) =>
 *     Promise.resolve(name === "_dnsaddr.example.org" ? [["dnsaddr=/ip4/192.0.2.1/tcp/4001"]] : []),
 * });
 * (await resolve(multiaddr("/dnsaddr/example.org"))).map(String); // ["/ip4/192.0.2.1/tcp/4001"]
 * ```
 */
export function dnsMultiaddrResolver(
  dns: DnsResolver,
  options: DnsMultiaddrResolverOptions = {},
): MultiaddrResolver {
  const maxDepth = int("maxDepth", options.maxDepth, DEFAULT_DNSADDR_MAX_DEPTH);
  const maxResults = int("maxResults", options.maxResults, DEFAULT_DNSADDR_MAX_RESULTS);
  const maxLookups = int("maxLookups", options.maxLookups, DEFAULT_DNS_MAX_LOOKUPS);
  const timeoutMs = int("timeoutMs", options.timeoutMs, DEFAULT_DNS_TIMEOUT_MS);
  const hostnames = options.resolveHostnames === true;

  const lookup = async <T>(
    budget: Budget,
    what: string,
    run: () => Promise<T>,
    signal: AbortSignal,
  ): Promise<T | undefined> => {
    if (budget.lookups >= maxLookups) {
      budget.errors.push(new DnsResolutionError(`lookup cap (${maxLookups}) reached at ${what}`));
      return undefined;
    }
    budget.lookups++;
    signal.throwIfAborted();
    try {
      return await run();
    } catch (err) {
      if (signal.aborted) throw abortReason(signal);
      budget.errors.push(
        new DnsResolutionError(`${what}: ${err instanceof Error ? err.message : String(err)}`, {
          cause: err,
        }),
      );
      return undefined;
    }
  };

  const expand = async (
    ma: Multiaddr,
    depth: number,
    budget: Budget,
    signal: AbortSignal,
    out: Multiaddr[],
  ): Promise<void> => {
    const comps = ma.components();
    if (comps[0]?.code !== CODE_DNSADDR) {
      if (budget.results < maxResults) {
        out.push(ma);
        budget.results++;
      }
      return;
    }
    if (depth >= maxDepth) {
      budget.errors.push(new DnsResolutionError(`dnsaddr depth cap (${maxDepth}) at ${ma}`));
      return;
    }
    const host = comps[0].value ?? "";
    // `/dnsaddr/<host>/p2p/<id>/<tail>`: results must name <id>; <tail> (e.g. /p2p-circuit/...)
    // is appended to each.
    let wanted: string | undefined;
    let tailStart = 1;
    if (comps[1]?.code === CODE_P2P) {
      wanted = comps[1].value;
      tailStart = 2;
    }
    const tailParts = comps.slice(tailStart).map((c) => c.bytes);
    const tail = tailParts.length === 0 ? undefined : multiaddr(concat(tailParts));
    const name = `_dnsaddr.${host}`;
    const records = await lookup(
      budget,
      `TXT ${name}`,
      () => dns.resolveTxt(name, { signal }),
      signal,
    );
    if (!Array.isArray(records)) return;
    for (const record of records.slice(0, MAX_TXT_RECORDS)) {
      if (budget.results >= maxResults) return;
      const text = txtText(record);
      if (text === undefined || !text.startsWith("dnsaddr=")) continue;
      let found: Multiaddr;
      try {
        found = multiaddr(text.slice("dnsaddr=".length).trim());
        if (tail !== undefined) found = found.encapsulate(tail);
      } catch {
        continue; // not a multiaddr: ignored, like go and js
      }
      const named = peerIdOf(found, tail !== undefined);
      if (wanted !== undefined && named !== undefined && named !== wanted) continue;
      if (found.protoCodes()[0] === CODE_DNSADDR) {
        const nested: Multiaddr[] = [];
        await expand(found, depth + 1, budget, signal, nested);
        for (const n of nested) {
          if (wanted === undefined || peerIdOf(n, tail !== undefined) === wanted) out.push(n);
          else budget.results--;
        }
      } else if (wanted === undefined || named === wanted) {
        out.push(found);
        budget.results++;
      }
    }
  };

  const hostname = async (
    ma: Multiaddr,
    budget: Budget,
    signal: AbortSignal,
  ): Promise<Multiaddr[]> => {
    const comps = ma.components();
    const code = comps[0]?.code;
    if (!hostnames || (code !== CODE_DNS && code !== CODE_DNS4 && code !== CODE_DNS6)) return [ma];
    const host = comps[0].value ?? "";
    // The name is needed by TLS (certificate, SNI) and the loopback name is the system's.
    const codes = ma.protoCodes();
    if (
      [CODE_TLS, CODE_SNI, CODE_WSS, CODE_HTTPS].some((c) => codes.includes(c)) ||
      host === "localhost" || host.endsWith(".localhost")
    ) {
      return [ma];
    }
    const rest = ma.bytes.subarray(comps[0].bytes.byteLength);
    const out: Multiaddr[] = [];
    const add = async (
      family: "ip4" | "ip6",
      query: ((name: string, o: { signal?: AbortSignal }) => Promise<string[]>) | undefined,
    ): Promise<void> => {
      if (query === undefined) {
        budget.errors.push(new DnsResolutionError(`the DNS resolver has no ${family} lookup`));
        return;
      }
      const what = `${family === "ip4" ? "A" : "AAAA"} ${host}`;
      const ips = await lookup(budget, what, () => query(host, { signal }), signal);
      if (!Array.isArray(ips)) return;
      for (const ip of ips.slice(0, MAX_HOST_ADDRESSES)) {
        try {
          const head = multiaddr(`/${family}/${ip}`);
          out.push(multiaddr(concat([head.bytes, rest])));
        } catch { /* not an address of that family: ignored */ }
      }
    };
    if (code !== CODE_DNS6) await add("ip4", dns.resolve4?.bind(dns));
    if (code !== CODE_DNS4) await add("ip6", dns.resolve6?.bind(dns));
    return out;
  };

  return async (ma, opts) => {
    if (!needsResolution(ma, hostnames)) {
      opts?.signal?.throwIfAborted();
      return [ma];
    }
    const deadline = deadlineSignal(timeoutMs, opts?.signal, `resolving ${ma}`);
    const budget: Budget = { lookups: 0, results: 0, errors: [] };
    try {
      const expanded: Multiaddr[] = [];
      await expand(ma, 0, budget, deadline.signal, expanded);
      const out: Multiaddr[] = [];
      const seen = new Set<string>();
      for (const e of expanded) {
        for (const r of await hostname(e, budget, deadline.signal)) {
          const key = r.toString();
          if (seen.has(key) || out.length >= maxResults) continue;
          seen.add(key);
          out.push(r);
        }
      }
      if (out.length === 0) {
        throw new DnsResolutionError(
          `could not resolve ${ma}: ${
            budget.errors.map((e) => e.message).join("; ") || "no matching records"
          }`,
          budget.errors.length > 0 ? { cause: budget.errors[0] } : undefined,
        );
      }
      return out;
    } catch (err) {
      if (deadline.signal.aborted) throw abortReason(deadline.signal);
      throw err;
    } finally {
      deadline.clear();
    }
  };
}

function concat(parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.byteLength, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.byteLength;
  }
  return out;
}

/** The record's strings joined, or undefined when it is not strings or too long. */
function txtText(record: unknown): string | undefined {
  const parts = typeof record === "string" ? [record] : record;
  if (!Array.isArray(parts)) return undefined;
  let n = 0;
  for (const p of parts) {
    if (typeof p !== "string") return undefined;
    n += p.length;
    if (n > MAX_TXT_RECORD_CHARS) return undefined;
  }
  return parts.join("");
}

/**
 * The peer id an address names: with a tail appended, the `/p2p` right after the host part
 * (the first one); otherwise the last one (`getPeerId`).
 */
function peerIdOf(ma: Multiaddr, hasTail: boolean): string | undefined {
  if (!hasTail) {
    const codes = ma.protoCodes();
    return codes[codes.length - 1] === CODE_P2P ? ma.getPeerId() : undefined;
  }
  return ma.components().find((c) => c.code === CODE_P2P)?.value;
}
