/**
 * `--preset edge` and `--allow-private-addresses`: the roles they turn on and the limits of the
 * edge preset, sized for a 2-core, 24 GiB box (README "Edge node" limits table gives the
 * reasoning per row). Pure: options in, options out.
 *
 * @module
 */

import type { ConnectionManagerOptions } from "../../src/node/connection_manager.ts";
import type { ResourceLimits } from "../../src/node/resource_manager.ts";
import type { RelayReservationOptions } from "../../protocols/circuit-relay/server_types.ts";
import type { ProviderStoreOptions } from "../../protocols/kad-dht/providers.ts";
import type { ValueStoreOptions } from "../../protocols/kad-dht/values.ts";
import type { PeerRequestLimiterOptions } from "../../protocols/kad-dht/rpc.ts";
import type { CliOptions } from "./args.ts";

/** The presets `--preset` takes. */
export const PRESETS = ["edge"] as const;

/** A preset name. */
export type PresetName = (typeof PRESETS)[number];

/** The limits of one preset, by the component they go to. */
export interface PresetLimits {
  /** The node's connection manager. */
  connectionManager: ConnectionManagerOptions;
  /** The node's resource manager. */
  resources: ResourceLimits;
  /** The relay server's reservation and circuit caps. */
  relay: Omit<RelayReservationOptions, "addressFilter">;
  /** Inbound HOP streams per connection at once (relay server). */
  relayMaxInboundHopStreams: number;
  /** The DHT server's provider store. */
  dhtProviders: ProviderStoreOptions;
  /** The DHT server's value store. */
  dhtValues: ValueStoreOptions;
  /** The DHT server's per-peer request limits. */
  dhtRequests: PeerRequestLimiterOptions;
}

/**
 * The edge preset's limits for 2 cores and 24 GiB. CPU is the scarce resource (a Noise
 * handshake's X25519 takes ~0.2 ms of one core, relayed bytes are copied twice), memory is not:
 * the caps bound CPU through connection counts and rates (HARDENING.md rules 4 and 7), and give
 * the stores room. Each value is a README "Edge node: limits" row with its reason.
 */
export const EDGE_LIMITS: PresetLimits = {
  connectionManager: {
    // 2048 open connections: 2x the library default; idle connections settle at 25-30 KiB RSS
    // each (bench/RESULTS.md, load_idle): ~60 MiB in all.
    maxConnections: 2048,
    highWatermark: 1920,
    lowWatermark: 1664,
    // Handshakes in flight: 128 at ~0.2 ms of X25519 each is ~26 ms of one core per wave.
    maxPendingInbound: 128,
    // One IP (or IPv6 /64): 8 connections, 5 new per second (burst 10): a NAT'd office still
    // fits, one host cannot take the table.
    maxInboundPerIp: 8,
    inboundRatePerIp: 5,
    inboundBurstPerIp: 10,
    maxTrackedIps: 8192,
  },
  resources: {
    // Buffered stream data (yamux windows): half the RAM, as the library default, the other
    // half left to the runtime's heap, the DHT stores (below) and the OS.
    maxMemory: 12 * 1024 ** 3,
    maxMemoryPerPeer: 64 * 1024 ** 2,
    maxMemoryPerConnection: 32 * 1024 ** 2,
    // 16 streams per connection on average at the connection cap.
    maxStreams: 32_768,
    maxStreamsPerPeer: 1024,
    maxStreamsPerConnection: 512,
  },
  relay: {
    // Reservations are cheap (a table entry); 1024 is 8x go's default for a dedicated relay.
    maxReservations: 1024,
    maxReservationsPerBlock: 16,
    // Circuits move bytes: 512 limited circuits x 128 KiB x 2 directions is at most 128 MiB per
    // 2-minute limit window, a few Mbit/s: relaying stays a hole-punching aid.
    maxCircuits: 512,
    maxCircuitsPerPeer: 16,
    defaultDurationLimit: 2 * 60_000,
    defaultDataLimit: 128n * 1024n,
  },
  relayMaxInboundHopStreams: 64,
  dhtProviders: {
    // 1 M provider records (~1 KiB each with addresses: ~1 GiB); 10 k per announcing peer.
    maxTotal: 1_000_000,
    maxPerPeer: 10_000,
  },
  dhtValues: {
    // 64 k value records, 256 MiB of values in all.
    maxRecords: 65_536,
    maxTotalBytes: 256 * 1024 ** 2,
  },
  dhtRequests: {
    // Per peer: 16 requests at once, 50/s (burst 100); 16 k peers remembered.
    maxInflight: 16,
    perSecond: 50,
    burst: 100,
    maxPeers: 16_384,
  },
};

/**
 * The limits of `preset` (undefined: none, the library defaults apply).
 *
 * @example
 * ```ts
 * import { presetLimits } from "./preset.ts";
 * presetLimits("edge")?.connectionManager.maxConnections; // 2048
 * ```
 */
export function presetLimits(preset: string | undefined): PresetLimits | undefined {
  return preset === "edge" ? EDGE_LIMITS : undefined;
}

/**
 * The options with the preset's roles and `--allow-private-addresses` applied: `edge` turns on
 * the relay server, the DHT as a server and AutoNAT (identify and ping always run);
 * `--allow-private-addresses` turns on the DHT's, the relay's and AutoNAT's private-address
 * options (startCliNode also puts loopback on the connection manager's allow list). Flags given
 * explicitly only ever add to this.
 *
 * @example
 * ```ts
 * import { parseCliArgs } from "./args.ts";
 * import { applyPreset } from "./preset.ts";
 * const cmd = parseCliArgs(["--preset", "edge"]);
 * if (cmd.kind === "run") applyPreset(cmd.options).relay; // true
 * ```
 */
export function applyPreset(options: CliOptions): CliOptions {
  const out: CliOptions = { ...options };
  if (options.preset === "edge") {
    out.relay = true;
    out.dht = "server";
    out.autonat = true;
  }
  if (options.allowPrivateAddresses === true) {
    out.dhtPrivateAddrs = true;
    out.relayPrivateAddrs = true;
    out.autonatPrivateAddrs = true;
  }
  return out;
}
