/**
 * Dialling through a relay: `<relay>/p2p/<relay id>/p2p-circuit/p2p/<target>`. We connect to the
 * relay (an open unlimited connection is reused), send HOP CONNECT, and on OK the HOP stream's
 * bytes become the RawConnection; we are the source, hence the Noise initiator and yamux client
 * (spec "Connection initiation"). Relay addresses, limits and the relayed RawConnection shape are
 * here too, shared with the STOP side.
 *
 * @module
 */

import type { Connection, Stream } from "../../src/connection.ts";
import { Libp2pError } from "../../src/errors.ts";
import type { Libp2pNode } from "../../src/node/node.ts";
import type { ConnectionLimits } from "../../src/node/limits.ts";
import { CODE_P2P, CODE_P2P_CIRCUIT, type Multiaddr, multiaddr } from "../../src/multiaddr/mod.ts";
import { type PeerId, peerIdFromString } from "../../src/peer_id.ts";
import type { ByteChannel } from "../../src/stream/channel.ts";
import type { AbortOptions } from "../../src/stream/types.ts";
import type { RawConnection } from "../../src/transport.ts";
import { HOP_TIMEOUT_MS, RELAY_HOP_PROTOCOL } from "./constants.ts";
import type { Limit } from "../../protocols/circuit-relay/mod.ts";
import { hopConnect } from "./wire.ts";

/**
 * A relay would be reached, or a circuit opened, over a relayed connection: relays are not
 * chained (spec "Relay" and HARDENING.md relay row).
 *
 * @example
 * ```ts
 * import { RelayChainError } from "@p2p-edge/libp2p/transports/circuit-relay";
 * console.log(new RelayChainError("no relay chains").name); // "RelayChainError"
 * ```
 */
export class RelayChainError extends Libp2pError {}

/** The parts of a circuit address. */
export interface CircuitAddress {
  /** The relay's address, ending in `/p2p/<relay>` (possibly that alone). */
  readonly relayAddr: Multiaddr;
  /** The relay's peer id. */
  readonly relay: PeerId;
  /** The destination, when the address names one (`.../p2p-circuit/p2p/<target>`). */
  readonly target?: PeerId;
}

/**
 * Split `<relay>/p2p/<relay id>/p2p-circuit[/p2p/<target>]`; undefined for anything else (no
 * relay id, several `/p2p-circuit`, or something other than `/p2p/<target>` after it).
 *
 * @example
 * ```ts
 * import { parseCircuitAddr } from "@p2p-edge/libp2p/transports/circuit-relay";
 * import { multiaddr } from "@p2p-edge/libp2p";
 * const r = "12D3KooWDpJ7As7BWAwRMfu1VU2WCqNjvq387JEYKDBj4kx6nXTN";
 * parseCircuitAddr(multiaddr(`/ip4/127.0.0.1/tcp/4001/p2p/${r}/p2p-circuit`))?.relay.toString();
 * ```
 */
export function parseCircuitAddr(addr: Multiaddr): CircuitAddress | undefined {
  const parts = addr.components();
  const at = parts.findIndex((c) => c.code === CODE_P2P_CIRCUIT);
  if (at < 1 || parts.slice(at + 1).some((c) => c.code === CODE_P2P_CIRCUIT)) return undefined;
  const relayPart = parts[at - 1];
  if (relayPart.code !== CODE_P2P || relayPart.value === undefined) return undefined;
  const rest = parts.slice(at + 1);
  if (rest.length > 1 || (rest.length === 1 && rest[0].code !== CODE_P2P)) return undefined;
  try {
    const relay = peerIdFromString(relayPart.value);
    const target = rest.length === 1 ? peerIdFromString(rest[0].value ?? "") : undefined;
    const text = addr.toString();
    const relayAddr = multiaddr(text.slice(0, text.indexOf("/p2p-circuit")));
    return { relayAddr, relay, target };
  } catch {
    return undefined;
  }
}

/**
 * The relay's Limit as connection limits; undefined when it sets none (then the relayed
 * connection is a normal, unlimited one). 0 means unlimited (spec "Limit").
 *
 * @example
 * ```ts
 * import { limitsFromWire } from "@p2p-edge/libp2p/transports/circuit-relay";
 * limitsFromWire({ duration: 120, data: 131072n }); // { durationMs: 120000, bytes: 131072n }
 * ```
 */
export function limitsFromWire(limit: Limit | undefined): ConnectionLimits | undefined {
  if (limit === undefined) return undefined;
  const durationMs = limit.duration !== undefined && limit.duration > 0
    ? limit.duration * 1000
    : undefined;
  const bytes = limit.data !== undefined && limit.data > 0n ? limit.data : undefined;
  if (durationMs === undefined && bytes === undefined) return undefined;
  return { durationMs, bytes };
}

/**
 * A relayed connection: the bytes of `stream` (taken with its channel) as a RawConnection.
 *
 * @example
 * ```ts
 * import { relayedConnection } from "./dial.ts";
 * import type { Stream } from "@p2p-edge/libp2p";
 * import type { ByteChannel } from "@p2p-edge/libp2p/stream";
 * declare const stream: Stream;
 * declare const channel: ByteChannel;
 * declare const addr: import("@p2p-edge/libp2p").Multiaddr;
 * const raw = relayedConnection(stream, channel, addr, undefined);
 * ```
 */
export function relayedConnection(
  stream: Stream,
  channel: ByteChannel,
  remoteAddr: Multiaddr,
  limits: ConnectionLimits | undefined,
): RawConnection {
  return {
    channel,
    remoteAddr,
    limits,
    close: async (): Promise<void> => {
      // Our end first (the relay passes the FIN on), then stop reading: the stream is done.
      try {
        await channel.closeWrite();
      } catch {
        // Failed already: nothing left to flush.
      }
      // The relay closes its half once the other end closed: the stream is then freed.
      channel.cancelRead();
    },
    abort: (reason?: unknown): void => stream.abort(reason),
  };
}

/**
 * Dial `addr` (a full circuit address with its target) through the relay it names.
 *
 * @example
 * ```ts
 * import { dialCircuit, parseCircuitAddr } from "./dial.ts";
 * import type { Libp2pNode, Multiaddr } from "@p2p-edge/libp2p";
 * declare const node: Libp2pNode;
 * declare const addr: Multiaddr;
 * const raw = await dialCircuit(node, parseCircuitAddr(addr)!);
 * ```
 */
export async function dialCircuit(
  node: Libp2pNode,
  circuit: CircuitAddress,
  options?: AbortOptions & { hopTimeoutMs?: number },
): Promise<RawConnection> {
  const target = circuit.target;
  if (target === undefined) throw new TypeError("a circuit address to dial names its target");
  if (target.equals(node.peerId)) throw new Libp2pError("cannot dial ourselves through a relay");
  if (circuit.relay.equals(target)) throw new Libp2pError("the relay is the target");
  const relayConn = await node.dial(circuit.relayAddr, { signal: options?.signal });
  checkNotRelayed(relayConn);
  // The HOP stream becomes a connection: no stream inactivity deadline (the connection's own
  // keep-alive and the relay's limits govern it); the exchange itself has its deadline.
  const stream = await relayConn.newStream(RELAY_HOP_PROTOCOL, {
    signal: options?.signal,
    idleTimeoutMs: 0,
  });
  const { channel, limit } = await hopConnect(
    stream,
    target,
    options?.hopTimeoutMs ?? HOP_TIMEOUT_MS,
    options,
  );
  const remoteAddr = relayConn.remoteAddr.encapsulate(`/p2p/${circuit.relay}/p2p-circuit`);
  return relayedConnection(stream, channel, remoteAddr, limitsFromWire(limit));
}

/** Throw RelayChainError when `conn` is itself relayed. */
export function checkNotRelayed(conn: Connection): void {
  if (conn.limited || conn.remoteAddr.protoCodes().includes(CODE_P2P_CIRCUIT)) {
    throw new RelayChainError(
      `the only connection to relay ${conn.remotePeer} is relayed: no relay chains`,
    );
  }
}
