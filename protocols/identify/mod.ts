/**
 * identify (`/ipfs/id/1.0.0`) and identify/push (`/ipfs/id/push/1.0.0`): libp2p/specs
 * identify/README.md, with the signed peer record (field 8) every implementation sends.
 *
 * @example
 * ```ts
 * import { createNode } from "@p2p-edge/libp2p";
 * import { identify } from "@p2p-edge/libp2p/protocols/identify";
 * import { memory } from "@p2p-edge/libp2p/transports/memory";
 * import { noise } from "@p2p-edge/libp2p/protocols/noise";
 * import { yamux } from "@p2p-edge/libp2p/protocols/yamux";
 * const node = await createNode({
 *   transports: [memory()],
 *   connectionEncrypters: [noise()],
 *   streamMuxers: [yamux()],
 *   services: { identify: identify() },
 * });
 * node.services.identify.observedAddrs(); // []
 * await node.stop();
 * ```
 *
 * @module
 */

export {
  identify,
  IDENTIFY_PUSH_CAPABILITY,
  type IdentifyOptions,
  type IdentifyService,
} from "./service.ts";
export type { IdentifyResult } from "./consume.ts";
export { IDENTIFY_PROTOCOL_ID, IDENTIFY_PUSH_PROTOCOL_ID } from "./constants.ts";
