/**
 * DNS over HTTPS (RFC 8484, the `application/dns-message` wire format) as a
 * {@link DnsResolver}: what a browser uses for `/dnsaddr`, where no system resolver is
 * reachable. Queries and answers go through the sans-IO codec of src/dns/.
 *
 * @module
 */

import { abortReason, deadlineSignal } from "../abort.ts";
import {
  decodeDnsMessage,
  encodeDnsMessage,
  FLAG_QR,
  FLAG_RD,
  MAX_MESSAGE_BYTES,
  RCODE_MASK,
  RCODE_NXDOMAIN,
  recordsOfType,
  TYPE_A,
  TYPE_AAAA,
  TYPE_TXT,
} from "../dns/mod.ts";
import { DnsResolutionError, type DnsResolver } from "./resolver.ts";

/** Default DoH endpoint (Cloudflare's, which serves RFC 8484 wire format). */
export const DEFAULT_DOH_ENDPOINT = "https://cloudflare-dns.com/dns-query";
/** Deadline of one DoH query, ms, unless the caller's signal ends it first (rule 8). */
export const DEFAULT_DOH_TIMEOUT_MS = 5_000;

/** Options of {@link dohResolver}. */
export interface DohResolverOptions {
  /** The DoH URL (RFC 8484 section 4.1 URI template without variables). Default Cloudflare's. */
  endpoint?: string;
  /** "GET" (`?dns=<base64url>`, cache friendly) or "POST". Default "GET". */
  method?: "GET" | "POST";
  /** Deadline of one query, ms. Default 5000. */
  timeoutMs?: number;
  /** The fetch to use. Default `globalThis.fetch`. */
  fetch?: typeof fetch;
}

const decoder = new TextDecoder();

function base64url(bytes: Uint8Array): string {
  let text = "";
  for (const b of bytes) text += String.fromCharCode(b);
  return btoa(text).replaceAll("+", "-").replaceAll("/", "_").replace(/=+$/, "");
}

/** Read a response body of at most `max` bytes (a larger one is an error, rule 4). */
async function readCapped(res: Response, max: number): Promise<Uint8Array> {
  if (res.body === null) return new Uint8Array(0);
  const out = new Uint8Array(max);
  let n = 0;
  const reader = res.body.getReader();
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return out.subarray(0, n);
      if (n + value.byteLength > max) {
        throw new DnsResolutionError(`DoH answer larger than ${max} bytes`);
      }
      out.set(value, n);
      n += value.byteLength;
    }
  } finally {
    reader.cancel().catch(() => {});
  }
}

/**
 * A {@link DnsResolver} over DNS-over-HTTPS. Each lookup is one HTTP exchange (id 0 as RFC 8484
 * section 4.1 recommends); the answer records of the asked type are returned, an NXDOMAIN is
 * an empty answer, any other error code or a malformed answer is a {@link DnsResolutionError}.
 *
 * @example
 * ```ts
 * import { dohResolver } from "@p2p-edge/libp2p";
 * const dns = dohResolver({ endpoint: "https://dns.google/dns-query" });
 * const records = await dns.resolveTxt("_dnsaddr.bootstrap.libp2p.io");
 * ```
 */
export function dohResolver(options: DohResolverOptions = {}): Required<DnsResolver> {
  const endpoint = new URL(options.endpoint ?? DEFAULT_DOH_ENDPOINT);
  const method = options.method ?? "GET";
  const timeoutMs = options.timeoutMs ?? DEFAULT_DOH_TIMEOUT_MS;
  if (!(timeoutMs > 0)) throw new RangeError("timeoutMs must be positive");
  const doFetch = options.fetch ?? ((...args: Parameters<typeof fetch>) => fetch(...args));

  const query = async (
    name: string,
    type: number,
    signal: AbortSignal | undefined,
  ) => {
    const wire = encodeDnsMessage({ id: 0, flags: FLAG_RD, questions: [{ name, type }] });
    const deadline = deadlineSignal(timeoutMs, signal, `DoH query for ${name}`);
    try {
      let res: Response;
      const headers = { accept: "application/dns-message" };
      if (method === "GET") {
        const url = new URL(endpoint);
        url.searchParams.set("dns", base64url(wire));
        res = await doFetch(url, { headers, signal: deadline.signal });
      } else {
        res = await doFetch(endpoint, {
          method: "POST",
          headers: { ...headers, "content-type": "application/dns-message" },
          body: wire as Uint8Array<ArrayBuffer>,
          signal: deadline.signal,
        });
      }
      if (!res.ok) {
        res.body?.cancel().catch(() => {});
        throw new DnsResolutionError(`DoH ${endpoint.host} answered HTTP ${res.status}`);
      }
      const answer = decodeDnsMessage(await readCapped(res, MAX_MESSAGE_BYTES));
      if ((answer.flags & FLAG_QR) === 0) {
        throw new DnsResolutionError("DoH answer is not a response");
      }
      const rcode = answer.flags & RCODE_MASK;
      if (rcode === RCODE_NXDOMAIN) return [];
      if (rcode !== 0) throw new DnsResolutionError(`DoH answer for ${name}: rcode ${rcode}`);
      return answer.answers;
    } catch (err) {
      if (deadline.signal.aborted) throw abortReason(deadline.signal);
      throw err;
    } finally {
      deadline.clear();
    }
  };

  return {
    async resolveTxt(name, o) {
      const records = recordsOfType(await query(name, TYPE_TXT, o?.signal), TYPE_TXT);
      return records.map((r) => r.data.map((s) => decoder.decode(s)));
    },
    async resolve4(name, o) {
      return recordsOfType(await query(name, TYPE_A, o?.signal), TYPE_A).map((r) => r.data);
    },
    async resolve6(name, o) {
      return recordsOfType(await query(name, TYPE_AAAA, o?.signal), TYPE_AAAA).map((r) => r.data);
    },
  };
}
