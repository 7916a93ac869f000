/**
 * Bootstrap discovery: a fixed list of peers (often `/dnsaddr/bootstrap.libp2p.io`), reported
 * as `peer:discovery`, tagged `bootstrap`=50 so connection pruning closes them last, and
 * dialled at start and whenever the node falls below its connection target. js-libp2p's
 * `@libp2p/bootstrap` name and options.
 *
 * @example
 * ```ts
 * import { createNode } from "@p2p-edge/libp2p";
 * import { bootstrap } from "@p2p-edge/libp2p/protocols/bootstrap";
 * import { tcp } from "@p2p-edge/libp2p/transports/tcp";
 * import { noise } from "@p2p-edge/libp2p/protocols/noise";
 * import { yamux } from "@p2p-edge/libp2p/protocols/yamux";
 * const node = await createNode({
 *   transports: [tcp()],
 *   connectionEncrypters: [noise()],
 *   streamMuxers: [yamux()],
 *   peerDiscovery: [
 *     bootstrap({ list: ["/ip4/127.0.0.1/tcp/4001/p2p/QmNnooDu7bfjPFoTZYxMNLWUQJyrVwtbZg5gBMjTezGAJN"] }),
 *   ],
 * });
 * node.addEventListener("peer:discovery", (e) => console.log(`found ${e.detail.id}`));
 * ```
 *
 * @module
 */

export {
  Bootstrap,
  bootstrap,
  BOOTSTRAP_CHECK_MS,
  BOOTSTRAP_DIAL_CONCURRENCY,
  type BootstrapInit,
  type BootstrapStats,
  DEFAULT_BOOTSTRAP_TAG_NAME,
  DEFAULT_BOOTSTRAP_TAG_VALUE,
  MAX_BOOTSTRAP_ENTRIES,
  MAX_BOOTSTRAP_PEERS_PER_ROUND,
} from "./service.ts";
export {
  BootstrapSchedule,
  type BootstrapScheduleOptions,
  DEFAULT_BOOTSTRAP_DELAY_MS,
  DEFAULT_BOOTSTRAP_INTERVAL_MS,
  DEFAULT_BOOTSTRAP_MAX_INTERVAL_MS,
} from "./schedule.ts";
