/**
 * Deno runtime adapter of the mDNS socket: `Deno.listenDatagram` (address reuse, so several
 * processes share port 5353) and `joinMulticastV4` with loopback on and TTL 255 (RFC 6762
 * section 11). Both are behind `--unstable-net` (or `"unstable": ["net"]` in deno.json); without
 * it, start fails with a message saying so. Deno's `node:dgram` cannot be used: its multicast
 * methods are stubs (denoland/deno#18324).
 *
 * @module
 */

import { MAX_RECEIVE_BYTES } from "./constants.ts";
import { MdnsUnavailableError } from "./errors.ts";
import type { MdnsSocket, MdnsSocketOptions } from "./socket.ts";

/**
 * Open the mDNS socket on Deno.
 *
 * @example
 * ```ts
 * import { denoMdnsSocket } from "./deno.ts";
 * const s = await denoMdnsSocket({ group: "224.0.0.251", port: 5353, interface: "0.0.0.0", onMessage() {}, onError() {} });
 * s.close();
 * ```
 */
export async function denoMdnsSocket(options: MdnsSocketOptions): Promise<MdnsSocket> {
  if (typeof Deno.listenDatagram !== "function") {
    throw new MdnsUnavailableError(
      "mDNS on Deno needs UDP multicast, an unstable API: run with --unstable-net",
    );
  }
  let conn: Deno.DatagramConn;
  try {
    conn = Deno.listenDatagram({
      transport: "udp",
      hostname: "0.0.0.0",
      port: options.port,
      reuseAddress: true,
      loopback: true,
    });
  } catch (err) {
    throw new MdnsUnavailableError(`mDNS: cannot bind UDP port ${options.port}`, { cause: err });
  }
  let membership: Deno.MulticastV4Membership;
  try {
    membership = await conn.joinMulticastV4(options.group, options.interface);
    await membership.setLoopback(true);
    await membership.setTTL(255);
  } catch (err) {
    conn.close();
    throw new MdnsUnavailableError(
      `mDNS: cannot join multicast group ${options.group} on ${options.interface}`,
      { cause: err },
    );
  }
  let closed = false;
  (async () => {
    while (!closed) {
      // one byte more than we decode: a larger datagram arrives cut short and is dropped as malformed
      const [data] = await conn.receive(new Uint8Array(MAX_RECEIVE_BYTES + 1));
      options.onMessage(data);
    }
  })().catch((err) => {
    if (!closed) options.onError(err instanceof Error ? err : new Error(String(err)));
  });
  const target: Deno.NetAddr = { transport: "udp", hostname: options.group, port: options.port };
  return {
    async send(bytes: Uint8Array): Promise<void> {
      await conn.send(bytes, target);
    },
    close(): void {
      if (closed) return;
      closed = true;
      membership.leave().catch(() => {}).finally(() => {
        try {
          conn.close();
        } catch { /* closed already */ }
      });
    },
  };
}
