/**
 * The connection gater: application hooks that can deny a connection at each stage of its life
 * (dial address, accepted socket, after security, after upgrade). A hook that throws or rejects
 * counts as a denial (fail closed).
 *
 * @module
 */

import type { Connection } from "../connection.ts";
import { Libp2pError } from "../errors.ts";
import type { Multiaddr } from "../multiaddr/mod.ts";
import type { PeerId } from "../peer_id.ts";

/**
 * Hooks that deny connections; every hook is optional and returns true to deny.
 *
 * @example
 * ```ts
 * import type { ConnectionGater } from "@p2p-edge/libp2p";
 * const gater: ConnectionGater = {
 *   denyInboundSocket: (addr) => addr.toString().startsWith("/ip4/192.0.2."),
 * };
 * ```
 */
export interface ConnectionGater {
  /** Before dialling `addr` (with `/p2p/` when the peer is known). */
  denyDial?(addr: Multiaddr): boolean | Promise<boolean>;
  /** An inbound socket from `remoteAddr` was accepted; before any byte is read from it. */
  denyInboundSocket?(remoteAddr: Multiaddr): boolean | Promise<boolean>;
  /** An inbound connection proved identity `peer`; before the muxer is negotiated. */
  denyInboundEncrypted?(peer: PeerId, remoteAddr: Multiaddr): boolean | Promise<boolean>;
  /** An outbound connection proved identity `peer`; before the muxer is negotiated. */
  denyOutboundEncrypted?(peer: PeerId, remoteAddr: Multiaddr): boolean | Promise<boolean>;
  /** A connection is fully upgraded; before it is announced (connection:open). */
  denyUpgraded?(connection: Connection): boolean | Promise<boolean>;
}

/** The stage names, as used in {@link ConnectionDeniedError.stage}. */
export type GaterStage = keyof ConnectionGater;

/**
 * A connection was denied by the gater or refused by a connection limit. `stage` names the
 * gater hook or the limit.
 *
 * @example
 * ```ts
 * import { ConnectionDeniedError } from "@p2p-edge/libp2p";
 * const err = new ConnectionDeniedError("denied", "denyInboundSocket");
 * console.log(err.stage); // "denyInboundSocket"
 * ```
 */
export class ConnectionDeniedError extends Libp2pError {
  /** The gater hook that denied the connection. */
  readonly stage: GaterStage;
  /** Create an error naming the stage. */
  constructor(message: string, stage: GaterStage, options?: ErrorOptions) {
    super(message, options);
    this.stage = stage;
  }
}

/**
 * Ask hook `stage` of `gater`; resolves to a ConnectionDeniedError when it denies (or fails),
 * undefined when it allows or is absent. Synchronous hooks cost no extra tick.
 *
 * @example
 * ```ts
 * import { gate } from "@p2p-edge/libp2p";
 * import { multiaddr } from "@p2p-edge/libp2p/multiaddr";
 * const denied = await gate({ denyDial: () => true }, "denyDial", multiaddr("/memory/x"));
 * console.log(denied?.stage); // "denyDial"
 * ```
 */
export function gate<K extends GaterStage>(
  gater: ConnectionGater | undefined,
  stage: K,
  ...args: Parameters<NonNullable<ConnectionGater[K]>>
): ConnectionDeniedError | undefined | Promise<ConnectionDeniedError | undefined> {
  const hook = gater?.[stage] as ((...a: unknown[]) => boolean | Promise<boolean>) | undefined;
  if (hook === undefined) return undefined;
  const denied = (cause?: unknown): ConnectionDeniedError =>
    new ConnectionDeniedError(
      `connection denied by the gater (${stage})`,
      stage,
      cause === undefined ? undefined : { cause },
    );
  let answer: boolean | Promise<boolean>;
  try {
    answer = hook.apply(gater, args);
  } catch (err) {
    return denied(err);
  }
  if (!(answer instanceof Promise)) return answer === true ? denied() : undefined;
  return answer.then((a) => (a === true ? denied() : undefined), denied);
}
