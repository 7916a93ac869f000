/**
 * A small typed EventTarget for node events.
 *
 * @module
 */

import type { Connection } from "../connection.ts";
import type { Multiaddr } from "../multiaddr/mod.ts";
import type { PeerId } from "../peer_id.ts";
import type { Reachability } from "./address_manager.ts";

/** Events a node dispatches, with their `detail` types. */
export interface NodeEventMap {
  /** First connection to a peer opened. */
  "peer:connect": PeerId;
  /** Last connection to a peer closed. */
  "peer:disconnect": PeerId;
  /** A connection finished upgrading. */
  "connection:open": Connection;
  /** A connection closed. */
  "connection:close": Connection;
  /** The node listens on these addresses (after start). */
  "listening": Multiaddr[];
  /** identify (or push) updated what is known of a peer. */
  "peer:identify": {
    peerId: PeerId;
    protocols: string[];
    agentVersion?: string;
    /** identify protocolVersion, when sent. */
    protocolVersion?: string;
    /** The addresses now stored for the peer (from its signed record when one was accepted). */
    listenAddrs?: Multiaddr[];
    /** The connection the information came over. */
    connection?: Connection;
  };
  /**
   * The protocols we serve or the addresses we announce (`getMultiaddrs()`) changed: handle,
   * unhandle, listening, an observed address confirmed or dropped. identify pushes it to
   * connected peers. js-libp2p's name; sent only on an actual change.
   */
  "self:peer:update": {
    /** Our peer id. */
    peerId: PeerId;
    /** What we announce now, each with `/p2p/<our id>`. */
    addresses: Multiaddr[];
    /** The protocols we serve now. */
    protocols: string[];
  };
  /**
   * A discovery service (or `node.discovery.report`) found a peer; its addresses are in the
   * peer store with source "discovered". js-libp2p's name and detail shape.
   */
  "peer:discovery": { id: PeerId; multiaddrs: Multiaddr[] };
  /** A NAT service changed our reachability (`node.addressManager.setReachability`). */
  "self:reachability": { reachability: Reachability };
  /**
   * A stream handler threw or rejected; its stream was reset. Without a listener the failure
   * would leave no trace.
   */
  "stream:handler:error": { protocol: string; peer: PeerId; error: unknown };
  /**
   * Dialling one address failed (each address of a dial that fails, and the addresses that
   * failed before another connected). For metrics and logs.
   */
  "dial:error": { addr: Multiaddr; error: Error };
}

/**
 * EventTarget whose `addEventListener` knows each event's detail type.
 *
 * @example
 * ```ts
 * import { TypedEventTarget } from "@p2p-edge/libp2p";
 * const events = new TypedEventTarget<{ tick: number }>();
 * events.addEventListener("tick", (e) => console.log(e.detail + 1));
 * events.dispatch("tick", 41);
 * ```
 */
export class TypedEventTarget<Map extends object> extends EventTarget {
  /** Listen for `type`; the listener receives a CustomEvent with the typed detail. */
  override addEventListener<K extends keyof Map & string>(
    type: K,
    listener: ((event: CustomEvent<Map[K]>) => void) | null,
    options?: boolean | AddEventListenerOptions,
  ): void;
  /** Untyped form, for EventTarget compatibility. */
  override addEventListener(
    type: string,
    listener: EventListenerOrEventListenerObject | null,
    options?: boolean | AddEventListenerOptions,
  ): void;
  override addEventListener(
    type: string,
    listener: unknown,
    options?: boolean | AddEventListenerOptions,
  ): void {
    super.addEventListener(type, listener as EventListenerOrEventListenerObject | null, options);
  }

  /** Stop listening. */
  override removeEventListener<K extends keyof Map & string>(
    type: K,
    listener: ((event: CustomEvent<Map[K]>) => void) | null,
    options?: boolean | EventListenerOptions,
  ): void;
  /** Untyped form, for EventTarget compatibility. */
  override removeEventListener(
    type: string,
    listener: EventListenerOrEventListenerObject | null,
    options?: boolean | EventListenerOptions,
  ): void;
  override removeEventListener(
    type: string,
    listener: unknown,
    options?: boolean | EventListenerOptions,
  ): void {
    super.removeEventListener(type, listener as EventListenerOrEventListenerObject | null, options);
  }

  /** Dispatch `type` with `detail`. Listener exceptions are reported, never thrown here. */
  dispatch<K extends keyof Map & string>(type: K, detail: Map[K]): void {
    this.dispatchEvent(new CustomEvent(type, { detail }));
  }
}
