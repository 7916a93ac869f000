/**
 * The UDP multicast socket mDNS needs, as an interface the runtime adapters implement (deno.ts:
 * `Deno.listenDatagram` + `joinMulticastV4`; dgram.ts: `node:dgram` on Bun and Node), and the
 * feature detection that picks one by dynamic import (ARCHITECTURE.md, "Layers").
 *
 * @module
 */

import { isBun, isDeno, runtimeInfo } from "../../src/runtime.ts";
import { MdnsUnavailableError } from "./errors.ts";

/** What an adapter opens. */
export interface MdnsSocketOptions {
  /** The multicast group, `224.0.0.251`. */
  readonly group: string;
  /** The port to bind and send to, 5353. */
  readonly port: number;
  /** IPv4 address of the interface to join on; `0.0.0.0` lets the kernel choose (the default route's). */
  readonly interface: string;
  /** A datagram arrived (the adapter keeps no reference to it afterwards). */
  readonly onMessage: (bytes: Uint8Array) => void;
  /** The socket failed after it was opened. */
  readonly onError: (error: Error) => void;
}

/** An open mDNS socket: bound to the port, a member of the group, loopback on. */
export interface MdnsSocket {
  /** Multicast `bytes` to the group. */
  send(bytes: Uint8Array): Promise<void>;
  /** Leave the group and close. Never throws. */
  close(): void;
}

/**
 * Opens an {@link MdnsSocket}; rejects with {@link MdnsUnavailableError} when the runtime cannot.
 * Inject one through `mdns({ socket })` (tests, or a runtime this library does not know).
 */
export type MdnsSocketFactory = (options: MdnsSocketOptions) => Promise<MdnsSocket>;

/**
 * Open the runtime's mDNS socket: Deno's native UDP multicast, `node:dgram` on Bun and Node.
 * Browsers have no UDP: {@link MdnsUnavailableError}.
 *
 * @example
 * ```ts
 * import { openMdnsSocket } from "@p2p-edge/libp2p/protocols/mdns";
 * const socket = await openMdnsSocket({
 *   group: "224.0.0.251", port: 5353, interface: "0.0.0.0",
 *   onMessage: (b) => console.log(b.length), onError: (e) => console.error(e),
 * });
 * socket.close();
 * ```
 */
export async function openMdnsSocket(options: MdnsSocketOptions): Promise<MdnsSocket> {
  let factory: MdnsSocketFactory;
  if (isDeno()) factory = (await import("./deno.ts")).denoMdnsSocket;
  else if (isBun() || runtimeInfo().name === "node") {
    factory = (await import("./dgram.ts")).dgramMdnsSocket;
  } else {
    throw new MdnsUnavailableError(
      `mDNS needs UDP multicast, which this runtime (${runtimeInfo().name}) does not offer`,
    );
  }
  return await factory(options);
}
