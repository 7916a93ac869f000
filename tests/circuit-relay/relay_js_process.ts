/** Spawns relay_js_peer.ts (js-libp2p with the circuit relay v2 client transport) through tests/interop/js_command_peer.ts. */

import { type JsCommandPeer, startJsCommandPeer } from "../interop/js_command_peer.ts";

/** A running js-libp2p relay client. */
export type RelayJsPeer = JsCommandPeer;

/** Start one js peer (reserving on `relay` when given) and wait until it listens. */
export function startRelayJsPeer(relay?: string): Promise<RelayJsPeer> {
  return startJsCommandPeer({
    script: new URL("./relay_js_peer.ts", import.meta.url).pathname,
    label: "relay",
    args: [relay ?? ""],
  });
}
