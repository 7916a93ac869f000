/**
 * A tiny authoritative DNS server for tests, on 127.0.0.1 only: UDP (node:dgram, unicast works
 * on Deno and Bun) and DNS-over-HTTPS's wire format over plain HTTP (node:http). Answers TXT,
 * A and AAAA from a zone object (which the test may change while it runs); counts queries.
 */

import { createSocket } from "node:dgram";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { Buffer } from "node:buffer";
import {
  decodeDnsMessage,
  type DnsRecord,
  encodeDnsMessage,
  FLAG_AA,
  FLAG_QR,
  RCODE_NXDOMAIN,
  TYPE_A,
  TYPE_AAAA,
  TYPE_TXT,
} from "../../src/dns/mod.ts";

/** Records by lower-case name. TXT entries are single strings (split at 255 bytes). */
export interface Zone {
  txt?: Record<string, string[]>;
  a?: Record<string, string[]>;
  aaaa?: Record<string, string[]>;
}

const enc = new TextEncoder();

function split(text: string): Uint8Array[] {
  const bytes = enc.encode(text);
  const out: Uint8Array[] = [];
  for (let i = 0; i < bytes.length; i += 255) out.push(bytes.subarray(i, i + 255));
  return out.length === 0 ? [new Uint8Array(0)] : out;
}

/** Answer one query message from `zone`. */
export function answer(zone: Zone, query: Uint8Array): Uint8Array {
  const q = decodeDnsMessage(query);
  const question = q.questions[0];
  const name = question?.name.toLowerCase().replace(/\.$/, "") ?? "";
  const answers: DnsRecord[] = [];
  let known = false;
  if (question !== undefined) {
    const pick = (table: Record<string, string[]> | undefined) => {
      const v = table?.[name];
      if (v !== undefined) known = true;
      return v ?? [];
    };
    if (question.type === TYPE_TXT) {
      for (const t of pick(zone.txt)) {
        answers.push({ name: question.name, type: TYPE_TXT, ttl: 60, data: split(t) });
      }
    } else if (question.type === TYPE_A) {
      for (const ip of pick(zone.a)) {
        answers.push({ name: question.name, type: TYPE_A, ttl: 60, data: ip });
      }
    } else if (question.type === TYPE_AAAA) {
      for (const ip of pick(zone.aaaa)) {
        answers.push({ name: question.name, type: TYPE_AAAA, ttl: 60, data: ip });
      }
    }
    known ||= [zone.txt, zone.a, zone.aaaa].some((t) => t?.[name] !== undefined);
  }
  return encodeDnsMessage({
    id: q.id,
    flags: FLAG_QR | FLAG_AA | (q.flags & 0x0100) | (known ? 0 : RCODE_NXDOMAIN),
    questions: q.questions,
    answers,
  });
}

/** A running test DNS server. */
export interface TestDnsServer {
  /** "127.0.0.1:<port>" of the UDP server. */
  readonly udp: string;
  /** UDP port. */
  readonly port: number;
  /** The DoH endpoint, http://127.0.0.1:<port>/dns-query. */
  readonly doh: string;
  /** Queries answered so far (UDP and DoH). */
  queries: number;
  /** Stop both servers. */
  close(): Promise<void>;
}

/** Start UDP and DoH servers for `zone` on 127.0.0.1 (ephemeral ports). */
export async function startDnsServer(zone: Zone): Promise<TestDnsServer> {
  const udp = createSocket("udp4");
  const state = { queries: 0 };
  udp.on("message", (msg: Uint8Array, rinfo: { address: string; port: number }) => {
    try {
      const reply = answer(zone, new Uint8Array(msg));
      state.queries++;
      udp.send(reply, rinfo.port, rinfo.address);
    } catch { /* malformed query: no answer */ }
  });
  await new Promise<void>((resolve) => udp.bind(0, "127.0.0.1", () => resolve()));
  const port = (udp.address() as AddressInfo).port;
  const http = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Uint8Array[] = [];
    req.on("data", (c: Uint8Array) => chunks.push(c));
    req.on("end", () => {
      try {
        let query: Uint8Array;
        if (req.method === "GET") {
          const b64 = new URL(req.url ?? "/", "http://x").searchParams.get("dns") ?? "";
          const bin = atob(b64.replaceAll("-", "+").replaceAll("_", "/"));
          query = Uint8Array.from(bin, (ch) => ch.charCodeAt(0));
        } else {
          query = new Uint8Array(Buffer.concat(chunks));
        }
        const reply = answer(zone, query);
        state.queries++;
        res.writeHead(200, { "content-type": "application/dns-message" });
        res.end(reply);
      } catch {
        res.writeHead(400);
        res.end();
      }
    });
  });
  await new Promise<void>((resolve) => http.listen(0, "127.0.0.1", () => resolve()));
  const httpPort = (http.address() as AddressInfo).port;
  return {
    udp: `127.0.0.1:${port}`,
    port,
    doh: `http://127.0.0.1:${httpPort}/dns-query`,
    get queries() {
      return state.queries;
    },
    set queries(v: number) {
      state.queries = v;
    },
    close: async () => {
      await new Promise<void>((resolve) => udp.close(() => resolve()));
      http.closeAllConnections?.();
      await new Promise<void>((resolve) => http.close(() => resolve()));
    },
  };
}
