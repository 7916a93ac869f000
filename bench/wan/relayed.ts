/**
 * The WAN bench's relayed paths (issue 22 item 4): `--paths direct,relayed` adds, for every
 * implementation, the same measurements over a circuit relay v2 connection.
 *
 * Topology: the relay runs in the server's namespace `s`, on the server's own address (other
 * ports), so the emulated link lies between the client and the relay:
 *
 *   c: client ==[delay line, TBF]== s: relay <-(loopback, no delay)-> s: server
 *
 * The server reserves a slot on the relay (its connection to the relay stays inside `s`); the
 * client dials `<relay addr>/p2p/<relay id>/p2p-circuit/p2p/<server id>`. Client <-> server bytes
 * cross the link once each way, plus the relay's splice (two Noise sessions and two yamux layers
 * on the client's side of it). Relay, server and client are of the same implementation and
 * runtime. The relay sets no circuit limit (a limited connection would cut a bulk transfer at the
 * default 128 KiB, and would not run the bench's protocols, which do not opt in); the client
 * checks that its relayed connection is unlimited.
 *
 * Round trips of a relayed dial, at the protocol floor (what {@link RELAYED_FLOOR_RTTS} counts):
 * TCP handshake to the relay (1), Noise XX with the relay, muxer negotiated inside it (1; XX's
 * third message leaves with the HOP stream's first bytes), HOP CONNECT -> STOP on the relay's
 * loopback -> STATUS back (1), Noise XX over the circuit (1), the request on a lazily negotiated
 * stream and its response (1): 5 RTT. With the connection to the relay already open ("relay conn
 * open" rows): 3 RTT.
 *
 * @module
 */

/** The relay's TCP port is the server's TCP port plus this (its WebSocket port one more). */
export const RELAY_PORT_OFFSET = 5;

/**
 * Round trips from dial() to the first response byte through a relay whose connection is new:
 * TCP + Noise to the relay (2), HOP CONNECT/STOP (1), Noise over the circuit (1), request (1).
 */
export const RELAYED_FLOOR_RTTS = 5;
/** The same with the connection to the relay already open: HOP (1), Noise (1), request (1). */
export const RELAYED_WARM_FLOOR_RTTS = 3;

/** Longest wait for the server's reservation to show as a relayed address, ms (bounded). */
const RESERVE_WAIT_MS = 30_000;
const RESERVE_POLL_MS = 50;

/**
 * Wait (bounded) until `addrs()` holds a `/p2p-circuit` address: the reservation is up.
 *
 * @example
 * ```ts
 * import { untilRelayed } from "./relayed.ts";
 * await untilRelayed(() => ["/ip4/192.0.2.2/tcp/4006/p2p/12D3Koo.../p2p-circuit"]);
 * ```
 */
export async function untilRelayed(addrs: () => string[]): Promise<void> {
  const deadline = performance.now() + RESERVE_WAIT_MS;
  while (!addrs().some((a) => a.includes("/p2p-circuit"))) {
    if (performance.now() > deadline) throw new Error("no reservation on the relay in time");
    await new Promise((r) => setTimeout(r, RESERVE_POLL_MS));
  }
}

/**
 * The relay's own address (TCP or WebSocket), ending in `/p2p/<relay id>`.
 *
 * @example
 * ```ts
 * import { relayAddr } from "./relayed.ts";
 * relayAddr("192.0.2.2", 4006, "12D3KooW...", false); // "/ip4/192.0.2.2/tcp/4006/p2p/12D3KooW..."
 * ```
 */
export function relayAddr(ip: string, tcpPort: number, relayId: string, ws: boolean): string {
  return `/ip4/${ip}/tcp/${tcpPort + (ws ? 1 : 0)}${ws ? "/ws" : ""}/p2p/${relayId}`;
}

/**
 * The address a client dials to reach `serverId` through the relay.
 *
 * @example
 * ```ts
 * import { circuitAddr } from "./relayed.ts";
 * circuitAddr("192.0.2.2", 4006, "12D3KooWR...", "12D3KooWS...", false);
 * // "/ip4/192.0.2.2/tcp/4006/p2p/12D3KooWR.../p2p-circuit/p2p/12D3KooWS..."
 * ```
 */
export function circuitAddr(
  ip: string,
  tcpPort: number,
  relayId: string,
  serverId: string,
  ws: boolean,
): string {
  return `${relayAddr(ip, tcpPort, relayId, ws)}/p2p-circuit/p2p/${serverId}`;
}
