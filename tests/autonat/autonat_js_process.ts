/** Spawns autonat_js_peer.ts (js-libp2p with AutoNAT v2 and v1) through tests/interop/js_command_peer.ts. */

import { type JsCommandPeer, startJsCommandPeer } from "../interop/js_command_peer.ts";

/** A running js-libp2p AutoNAT peer. */
export type AutoNATJsPeer = JsCommandPeer;

/** Start one js AutoNAT peer listening on `listen` and wait until it listens. */
export function startAutoNATJsPeer(listen = "/ip4/127.0.0.1/tcp/0"): Promise<AutoNATJsPeer> {
  return startJsCommandPeer({
    script: new URL("./autonat_js_peer.ts", import.meta.url).pathname,
    label: "autonat",
    env: { LISTEN: listen },
  });
}
