/** Spawns tests/interop/kad_js_peer.ts (js-libp2p with @libp2p/kad-dht) through js_command_peer.ts. */

import { type JsCommandPeer, startJsCommandPeer } from "./js_command_peer.ts";

/** A running js-libp2p DHT peer. */
export type KadJsPeer = JsCommandPeer;

/** Start one js DHT peer and wait until it listens. */
export function startKadJsPeer(): Promise<KadJsPeer> {
  return startJsCommandPeer({
    script: new URL("./kad_js_peer.ts", import.meta.url).pathname,
    label: "kad",
  });
}
