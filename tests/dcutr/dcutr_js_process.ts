/** Spawns dcutr_js_peer.ts (js-libp2p with @libp2p/dcutr) through tests/interop/js_command_peer.ts. */

import { type JsCommandPeer, startJsCommandPeer } from "../interop/js_command_peer.ts";

/** A running js-libp2p node with @libp2p/dcutr. */
export type DcutrJsPeer = JsCommandPeer;

/** Start one js DCUtR peer and wait until it listens. */
export function startDcutrJsPeer(args: string[] = []): Promise<DcutrJsPeer> {
  return startJsCommandPeer({
    script: new URL("./dcutr_js_peer.ts", import.meta.url).pathname,
    label: "dcutr",
    args,
  });
}
