/**
 * The AutoNAT node service (`services.autonat`): the server (v2 and v1) and the client, each
 * optional.
 *
 * @module
 */

import type { Libp2pNode, ServiceFactory, Startable } from "../../src/node/node.ts";
import { IDENTIFY_CAPABILITY } from "../../src/node/services.ts";
import { AutoNATClient } from "./client.ts";
import type { AutoNATOptions } from "./options.ts";
import { AutoNATServer } from "./server.ts";

/**
 * The AutoNAT service: `server` answers others, `client` tests our addresses.
 *
 * @example
 * ```ts
 * import { autoNAT } from "@p2p-edge/libp2p/protocols/autonat";
 * const factory = autoNAT(); // services: { identify: identify(), autonat: factory }
 * // later: node.services.autonat.client?.addresses()
 * ```
 */
export class AutoNAT implements Startable {
  /** The server, unless `server: false`. */
  readonly server: AutoNATServer | undefined;
  /** The client, unless `client: false`. */
  readonly client: AutoNATClient | undefined;

  /** Prefer {@link autoNAT}, which builds it as a node service. */
  constructor(node: Libp2pNode, options: AutoNATOptions = {}) {
    this.server = options.server === false ? undefined : new AutoNATServer(node, options);
    this.client = options.client === false ? undefined : new AutoNATClient(node, options);
  }

  /** Start serving and testing. */
  start(): void {
    this.server?.start();
    this.client?.start();
  }

  /** Stop both. */
  stop(): void {
    this.client?.stop();
    this.server?.stop();
  }
}

/**
 * AutoNAT (v2 and v1) as a node service: register it as `services.autonat`. The client needs
 * identify (it finds servers through the protocols peers announce).
 *
 * @example
 * ```ts
 * import { createNode } from "@p2p-edge/libp2p";
 * import { tcp } from "@p2p-edge/libp2p/transports/tcp";
 * import { noise } from "@p2p-edge/libp2p/protocols/noise";
 * import { yamux } from "@p2p-edge/libp2p/protocols/yamux";
 * import { identify } from "@p2p-edge/libp2p/protocols/identify";
 * import { autoNAT } from "@p2p-edge/libp2p/protocols/autonat";
 * const node = await createNode({
 *   listen: ["/ip4/0.0.0.0/tcp/4001"],
 *   transports: [tcp()],
 *   connectionEncrypters: [noise()],
 *   streamMuxers: [yamux()],
 *   services: { identify: identify(), autonat: autoNAT() },
 * });
 * node.addEventListener("self:reachability", (e) => console.log(e.detail.reachability));
 * ```
 */
export function autoNAT(options: AutoNATOptions = {}): ServiceFactory<AutoNAT> {
  const factory = (node: Libp2pNode): AutoNAT => new AutoNAT(node, options);
  return Object.assign(factory, {
    serviceCapabilities: ["@libp2p/autonat"],
    serviceDependencies: options.client === false ? [] : [IDENTIFY_CAPABILITY],
  });
}
