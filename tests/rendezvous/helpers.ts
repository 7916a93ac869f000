/**
 * Rendezvous test helpers: a rendezvous point and clients of ours over TCP on loopback, the
 * point's clock injected, and raw request/response exchanges on a stream.
 */

import type { Libp2pNode, NodeInit } from "../../src/node/node.ts";
import { ByteReader } from "../../src/stream/byte_reader.ts";
import {
  decodeMessage,
  encodeFrame,
  MAX_MESSAGE_BYTES,
  rendezvous,
  RENDEZVOUS_PROTOCOL_ID,
  type RendezvousMessage,
  type RendezvousOptions,
  type RendezvousService,
} from "../../protocols/rendezvous/mod.ts";
import { stopAll, testTcpNode } from "../helpers/nodes.ts";

/** A node with the rendezvous service. */
export type RdvNode = Libp2pNode<{ rendezvous: RendezvousService }>;

/** A node over loopback TCP with `rendezvous(options)`. */
export function rdvNode(options: RendezvousOptions = {}): Promise<RdvNode> {
  return testTcpNode<{ rendezvous: RendezvousService }>({
    services: { rendezvous: rendezvous(options) },
  } as Partial<NodeInit<{ rendezvous: RendezvousService }>>);
}

/** A point (server, clock injected) and `n` clients. */
export interface Lab {
  point: RdvNode;
  clients: RdvNode[];
  /** The point's clock, ms; move it to expire registrations. */
  clock: { now: number };
  stop(): Promise<void>;
}

/** Start a lab; `options` go to the point's service. */
export async function lab(n: number, options: RendezvousOptions = {}): Promise<Lab> {
  const clock = { now: 1_000_000 };
  const point = await rdvNode({ server: true, now: () => clock.now, ...options });
  const clients: RdvNode[] = [];
  for (let i = 0; i < n; i++) clients.push(await rdvNode());
  return { point, clients, clock, stop: () => stopAll(point, ...clients) };
}

/** Send raw frames on one rendezvous stream from `from` to `to`; read `answers` frames back. */
export async function rawExchange(
  from: Libp2pNode,
  to: Libp2pNode,
  frames: Uint8Array[],
  answers: number,
): Promise<RendezvousMessage[]> {
  const stream = await from.dialProtocol(to.addrs()[0], RENDEZVOUS_PROTOCOL_ID);
  const writer = stream.writable.getWriter();
  const reader = new ByteReader(stream.readable);
  for (const f of frames) await writer.write(f);
  const out: RendezvousMessage[] = [];
  for (let i = 0; i < answers; i++) {
    out.push(decodeMessage(await reader.readLengthPrefixed(MAX_MESSAGE_BYTES)));
  }
  await writer.close().catch(() => {});
  return out;
}

/** One request, one answer, on a fresh stream. */
export async function rawRequest(
  from: Libp2pNode,
  to: Libp2pNode,
  request: RendezvousMessage,
): Promise<RendezvousMessage> {
  return (await rawExchange(from, to, [encodeFrame(request)], 1))[0];
}
