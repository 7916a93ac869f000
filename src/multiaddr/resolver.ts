/**
 * Name resolution for multiaddrs, as an injectable function. No DNS lookups happen in this
 * library yet: {@link defaultResolver} passes addresses through and refuses `/dnsaddr`, which
 * only a real resolver (TXT records `dnsaddr=<multiaddr>` at `_dnsaddr.<name>`, spec
 * `protocols/DNSADDR.md`) can expand.
 *
 * @module
 */

import type { Multiaddr } from "./multiaddr.ts";
import { CODE_DNSADDR } from "./protocols.ts";

/**
 * Turns one multiaddr into the addresses to dial. A resolver for `/dnsaddr/<name>` looks up the
 * TXT records of `_dnsaddr.<name>` and returns their multiaddrs (recursively, with a depth and
 * count limit, keeping only those whose `/p2p` matches the input's); one for `/dns*` may return
 * the `/ip4`/`/ip6` forms. Addresses it cannot or need not resolve come back as `[ma]`.
 * Honours `signal` (rejecting with its reason when aborted).
 *
 * @example
 * ```ts
 * import { type MultiaddrResolver, multiaddr } from "@p2p-edge/libp2p/multiaddr";
 * const fixed: MultiaddrResolver = (ma) =>
 *   Promise.resolve(ma.protoNames()[0] === "dnsaddr" ? [multiaddr("/ip4/1.2.3.4/tcp/4001")] : [ma]);
 * ```
 */
export type MultiaddrResolver = (
  ma: Multiaddr,
  options?: { signal?: AbortSignal },
) => Promise<Multiaddr[]>;

/**
 * The resolver used when none is injected: returns `[ma]` for every address without a
 * `/dnsaddr` component (`/dns`, `/dns4`, `/dns6` are left for the transport's own lookup) and
 * rejects with a RangeError for `/dnsaddr`, which needs a TXT-record resolver.
 *
 * @example
 * ```ts
 * import { defaultResolver, multiaddr } from "@p2p-edge/libp2p/multiaddr";
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
