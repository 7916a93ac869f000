/**
 * perf (`/perf/1.0.0`): libp2p/specs perf/perf.md. Served only when added to a node's
 * services; the server caps the download it will send.
 *
 * @example
 * ```ts
 * import { createNode } from "@p2p-edge/libp2p";
 * import { perf } from "@p2p-edge/libp2p/protocols/perf";
 * import { memory } from "@p2p-edge/libp2p/transports/memory";
 * import { noise } from "@p2p-edge/libp2p/protocols/noise";
 * import { yamux } from "@p2p-edge/libp2p/protocols/yamux";
 * const node = await createNode({
 *   transports: [memory()],
 *   connectionEncrypters: [noise()],
 *   streamMuxers: [yamux()],
 *   services: { perf: perf({ maxDownloadBytes: 1024 ** 3 }) },
 * });
 * await node.stop();
 * ```
 *
 * @module
 */

export {
  perf,
  type PerfMeasureOptions,
  type PerfOptions,
  type PerfResult,
  type PerfService,
} from "./service.ts";
export { PERF_PROTOCOL_ID } from "./constants.ts";
