/**
 * Bun (and Node) runtime adapter of the mDNS socket: `node:dgram` with `reuseAddr`, group
 * membership, loopback and TTL 255 (RFC 6762 section 11). On Bun this is the route that shares
 * port 5353 with other processes: `Bun.udpSocket` offers only `reusePort` (SO_REUSEPORT), which
 * Linux refuses next to a socket bound with SO_REUSEADDR (Deno, Node, js-libp2p's multicast-dns).
 *
 * @module
 */

import dgram from "node:dgram";
import { MdnsUnavailableError } from "./errors.ts";
import type { MdnsSocket, MdnsSocketOptions } from "./socket.ts";

/**
 * Open the mDNS socket with `node:dgram` (Bun, Node).
 *
 * @example
 * ```ts
 * import { dgramMdnsSocket } from "./dgram.ts";
 * const s = await dgramMdnsSocket({ group: "224.0.0.251", port: 5353, interface: "0.0.0.0", onMessage() {}, onError() {} });
 * s.close();
 * ```
 */
export async function dgramMdnsSocket(options: MdnsSocketOptions): Promise<MdnsSocket> {
  const socket = dgram.createSocket({ type: "udp4", reuseAddr: true });
  try {
    await new Promise<void>((resolve, reject) => {
      socket.once("error", reject);
      socket.bind(options.port, "0.0.0.0", () => {
        socket.off("error", reject);
        resolve();
      });
    });
  } catch (err) {
    try {
      socket.close();
    } catch { /* not open */ }
    throw new MdnsUnavailableError(`mDNS: cannot bind UDP port ${options.port}`, { cause: err });
  }
  try {
    const iface = options.interface === "0.0.0.0" ? undefined : options.interface;
    socket.addMembership(options.group, iface);
    socket.setMulticastLoopback(true);
    socket.setMulticastTTL(255);
  } catch (err) {
    socket.close();
    throw new MdnsUnavailableError(
      `mDNS: cannot join multicast group ${options.group} on ${options.interface}`,
      { cause: err },
    );
  }
  let closed = false;
  socket.on("message", (msg: Uint8Array) => {
    options.onMessage(new Uint8Array(msg.buffer, msg.byteOffset, msg.byteLength));
  });
  socket.on("error", (err: Error) => {
    if (!closed) options.onError(err);
  });
  return {
    send(bytes: Uint8Array): Promise<void> {
      return new Promise((resolve, reject) => {
        socket.send(bytes, options.port, options.group, (err) => err ? reject(err) : resolve());
      });
    },
    close(): void {
      if (closed) return;
      closed = true;
      try {
        socket.dropMembership(options.group);
      } catch { /* gone already */ }
      try {
        socket.close();
      } catch { /* closed already */ }
    },
  };
}
