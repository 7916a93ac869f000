/**
 * Rendezvous errors.
 *
 * @module
 */

import { ProtocolError } from "../../src/errors.ts";

/**
 * A rendezvous server answered with a status other than OK; `status` is the wire code
 * (`ResponseStatus`), `statusText` the server's words.
 *
 * @example
 * ```ts
 * import { RendezvousError, ResponseStatus } from "@p2p-edge/libp2p/protocols/rendezvous";
 * const err = new RendezvousError(ResponseStatus.E_INVALID_TTL, "ttl too short");
 * err.status; // 102
 * ```
 */
export class RendezvousError extends ProtocolError {
  /** The status code the server sent. */
  readonly status: number;
  /** The server's status text ("" when it sent none). */
  readonly statusText: string;

  /** `status` is the wire code; the message names it. */
  constructor(status: number, statusText = "", options?: ErrorOptions) {
    super(
      `rendezvous server answered ${statusName(status)}${statusText ? `: ${statusText}` : ""}`,
      options,
    );
    this.status = status;
    this.statusText = statusText;
  }
}

const NAMES: Record<number, string> = {
  0: "OK",
  100: "E_INVALID_NAMESPACE",
  101: "E_INVALID_SIGNED_PEER_RECORD",
  102: "E_INVALID_TTL",
  103: "E_INVALID_COOKIE",
  200: "E_NOT_AUTHORIZED",
  300: "E_INTERNAL_ERROR",
  400: "E_UNAVAILABLE",
};

/** The spec's name of a status code, or `status <n>`. */
function statusName(status: number): string {
  return NAMES[status] ?? `status ${status}`;
}
