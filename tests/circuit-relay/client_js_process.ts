/** Spawns client_js_peer.ts (js-libp2p with @libp2p/circuit-relay-v2) through tests/interop/js_command_peer.ts. */

import { type JsCommandPeer, startJsCommandPeer } from "../interop/js_command_peer.ts";

/** A running js-libp2p relay peer. */
export type RelayJsPeer = JsCommandPeer;

/** Start one js relay peer and wait until it listens. */
export function startRelayJsPeer(args: string[] = []): Promise<RelayJsPeer> {
  return startJsCommandPeer({
    script: new URL("./client_js_peer.ts", import.meta.url).pathname,
    label: "relay",
    args,
  });
}
