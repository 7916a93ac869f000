/** Helpers shared by the TCP tests. Loopback addresses only (127.0.0.1, ::1). */

import { multiaddr } from "../../src/multiaddr/mod.ts";
import type { Listener, RawConnection, Transport } from "../../src/transport.ts";
import { tcp } from "../../transports/tcp/mod.ts";

/**
 * Undefined when a TCP listener can bind `::1` here, else the reason the IPv6 cases are skipped
 * (no IPv6 on the loopback interface, e.g. in some containers).
 */
export async function ipv6LoopbackSkipReason(): Promise<string | undefined> {
  const listener = tcp().createListener({ onConnection: (c) => c.abort() });
  try {
    await listener.listen(multiaddr("/ip6/::1/tcp/0"));
    return undefined;
  } catch (error) {
    return `IPv6 loopback (::1) is unavailable here: ${(error as Error).message}`;
  } finally {
    await listener.close();
  }
}

/** A listener whose inbound connections come out of `accepted()` in order. */
export interface Accepting {
  listener: Listener;
  accepted(): Promise<RawConnection>;
}

/** Listen on `addr` and queue inbound connections. */
export async function listenQueued(transport: Transport, addr: string): Promise<Accepting> {
  const queue: RawConnection[] = [];
  const waiters: ((c: RawConnection) => void)[] = [];
  const listener = transport.createListener({
    onConnection(conn) {
      const w = waiters.shift();
      if (w !== undefined) w(conn);
      else queue.push(conn);
    },
  });
  await listener.listen(multiaddr(addr));
  return {
    listener,
    accepted: () => {
      const c = queue.shift();
      return c !== undefined ? Promise.resolve(c) : new Promise((r) => waiters.push(r));
    },
  };
}

/** Deterministic bytes. */
export function pattern(length: number, seed: number): Uint8Array {
  const out = new Uint8Array(length);
  for (let i = 0; i < length; i++) out[i] = (i * 131 + seed + (i >>> 12)) & 0xff;
  return out;
}

/** Read to EOF. */
export async function readAll(readable: ReadableStream<Uint8Array>): Promise<Uint8Array> {
  const chunks: Uint8Array[] = [];
  let total = 0;
  for await (const c of readable) {
    chunks.push(c);
    total += c.byteLength;
  }
  const out = new Uint8Array(total);
  let o = 0;
  for (const c of chunks) {
    out.set(c, o);
    o += c.byteLength;
  }
  return out;
}

/** Write `data` in chunks of `chunk` bytes, then close the writable. */
export async function writeAll(
  writable: WritableStream<Uint8Array>,
  data: Uint8Array,
  chunk = 64 * 1024,
): Promise<void> {
  const w = writable.getWriter();
  for (let i = 0; i < data.byteLength; i += chunk) {
    await w.write(data.subarray(i, Math.min(i + chunk, data.byteLength)));
  }
  await w.close();
}

/** Byte equality without building a diff of megabytes on failure. */
export function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.byteLength !== b.byteLength) return false;
  for (let i = 0; i < a.byteLength; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** Resolve after `ms` (used only to let a stalled writer settle, never in an assertion). */
export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
