/**
 * Byte counters per transport: the one counter the node adds to its data path for metrics
 * (nothing else counts bytes below the muxer). Off unless the node is built with
 * `countTraffic: true`; then the upgrader wraps each raw connection's channel once, and a chunk
 * costs one addition and one extra promise on its way up (none on its way down). Counted at the
 * transport, before security: Noise and muxer framing included, as a network interface counts.
 * Self-upgrading connections (WebTransport) are not counted: their bytes never pass a channel.
 *
 * @module
 */

import type { Multiaddr } from "../multiaddr/mod.ts";
import type { ByteChannel } from "../stream/channel.ts";
import type { RawConnection } from "../transport.ts";

/** Bytes in each direction. */
export interface TrafficCell {
  /** Bytes received. */
  inbound: number;
  /** Bytes sent. */
  outbound: number;
}

/**
 * go-libp2p's transport label for an address (metricshelper's names): "circuit",
 * "webtransport", "quic", "webrtc-direct", "webrtc", "websocket", "tcp", "memory", or "other".
 *
 * @example
 * ```ts
 * import { multiaddr } from "@p2p-edge/libp2p";
 * import { transportLabel } from "@p2p-edge/libp2p/metrics";
 * transportLabel(multiaddr("/ip4/127.0.0.1/tcp/1/ws")); // "websocket"
 * ```
 */
export function transportLabel(addr: Multiaddr | undefined): string {
  if (addr === undefined) return "other";
  const names = addr.protoNames();
  if (names.includes("p2p-circuit")) return "circuit";
  if (names.includes("webtransport")) return "webtransport";
  if (names.includes("quic-v1") || names.includes("quic")) return "quic";
  if (names.includes("webrtc-direct")) return "webrtc-direct";
  if (names.includes("webrtc")) return "webrtc";
  if (names.includes("ws") || names.includes("wss")) return "websocket";
  if (names.includes("tcp")) return "tcp";
  if (names.includes("memory")) return "memory";
  return "other";
}

/**
 * "ip4", "ip6" or "unknown" for an address (go-libp2p's `ip_version` label).
 *
 * @example
 * ```ts
 * import { multiaddr } from "@p2p-edge/libp2p";
 * import { ipVersionLabel } from "@p2p-edge/libp2p/metrics";
 * ipVersionLabel(multiaddr("/ip6/::1/tcp/1")); // "ip6"
 * ```
 */
export function ipVersionLabel(addr: Multiaddr | undefined): string {
  const first = addr?.protoNames()[0];
  return first === "ip4" || first === "ip6" ? first : "unknown";
}

/**
 * Byte totals by transport label, since the node was built.
 *
 * @example
 * ```ts
 * import { TrafficCounters } from "@p2p-edge/libp2p/metrics";
 * const traffic = new TrafficCounters();
 * traffic.cell("tcp").inbound += 10;
 * console.log(traffic.totals()); // { tcp: { inbound: 10, outbound: 0 } }
 * ```
 */
export class TrafficCounters {
  /** Keyed by transport label: a handful of fixed names (transportLabel), so no cap needed. */
  readonly #cells = new Map<string, TrafficCell>();

  /** The counter cell of `transport`, made on first use. */
  cell(transport: string): TrafficCell {
    let c = this.#cells.get(transport);
    if (c === undefined) {
      c = { inbound: 0, outbound: 0 };
      this.#cells.set(transport, c);
    }
    return c;
  }

  /** A copy of every cell. */
  totals(): Record<string, TrafficCell> {
    const out: Record<string, TrafficCell> = {};
    for (const [k, v] of this.#cells) out[k] = { ...v };
    return out;
  }

  /** Sum over every transport. */
  sum(): TrafficCell {
    let inbound = 0;
    let outbound = 0;
    for (const c of this.#cells.values()) {
      inbound += c.inbound;
      outbound += c.outbound;
    }
    return { inbound, outbound };
  }

  /**
   * `raw` with its channel counted into the cell of its transport. A self-upgrading connection
   * is returned as it is.
   */
  wrap(raw: RawConnection): RawConnection {
    if (raw.selfUpgrade !== undefined) return raw;
    const cell = this.cell(transportLabel(raw.remoteAddr));
    return {
      channel: new CountingChannel(raw.channel, cell),
      remoteAddr: raw.remoteAddr,
      localAddr: raw.localAddr,
      limits: raw.limits,
      close: () => raw.close(),
      abort: (reason?: unknown) => raw.abort(reason),
    };
  }
}

/** A channel that adds the length of every chunk read and written to a cell. */
class CountingChannel implements ByteChannel {
  readonly #inner: ByteChannel;
  readonly #cell: TrafficCell;
  readonly #count = (chunk: Uint8Array | null): Uint8Array | null => {
    if (chunk !== null) this.#cell.inbound += chunk.byteLength;
    return chunk;
  };

  constructor(inner: ByteChannel, cell: TrafficCell) {
    this.#inner = inner;
    this.#cell = cell;
  }

  get copiesWrites(): boolean | undefined {
    return this.#inner.copiesWrites;
  }

  read(into?: Uint8Array): Promise<Uint8Array | null> {
    return this.#inner.read(into).then(this.#count);
  }

  write(chunk: Uint8Array): void {
    this.#inner.write(chunk);
    this.#cell.outbound += chunk.byteLength;
  }

  drained(): Promise<void> {
    return this.#inner.drained();
  }

  closeWrite(): Promise<void> {
    return this.#inner.closeWrite();
  }

  cancelRead(reason?: unknown): void {
    this.#inner.cancelRead(reason);
  }

  abort(reason?: unknown): void {
    this.#inner.abort(reason);
  }
}
