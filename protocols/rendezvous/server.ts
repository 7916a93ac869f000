/**
 * The rendezvous server's answer to one request, without I/O: check a REGISTER's signed peer
 * record against its sender (HARDENING.md rule 6: signed by the sender, else E_NOT_AUTHORIZED;
 * malformed, badly signed or not a peer record, else E_INVALID_SIGNED_PEER_RECORD), then apply
 * the request to the {@link RegistrationStore}. The cheap checks (namespace, record size) run
 * before any signature work.
 *
 * @module
 */

import { PeerIdMismatchError } from "../../src/errors.ts";
import type { PeerId } from "../../src/peer_id.ts";
import { openPeerRecord } from "../../src/record/mod.ts";
import type { RendezvousMessage } from "./codec.ts";
import { MAX_MESSAGE_BYTES, MessageType, ResponseStatus } from "./constants.ts";
import { namespaceProblem, type RegistrationStore } from "./store.ts";

/** What one request did, for counters and logs. */
export type ServedRequest =
  | { kind: "registered"; namespace: string; replaced: boolean }
  | { kind: "refused"; namespace: string; status: number; statusText: string }
  | { kind: "unregistered"; namespace: string }
  | { kind: "discovered"; count: number }
  | { kind: "discover-refused"; status: number };

/** The response to send (none for UNREGISTER) and what happened. */
export interface ServerAnswer {
  /** The response message, or undefined when the request has none. */
  response?: RendezvousMessage;
  /** What the request did. */
  served: ServedRequest;
}

function refuseRegister(namespace: string, status: number, statusText: string): ServerAnswer {
  return {
    response: {
      type: MessageType.REGISTER_RESPONSE,
      registerResponse: { status, statusText },
    },
    served: { kind: "refused", namespace, status, statusText },
  };
}

/**
 * Answer one request from `sender` at time `now` (ms). Returns undefined for a message that is
 * not a request (a response type): the caller resets the stream.
 *
 * @example
 * ```ts
 * import { answerRequest, MessageType, RegistrationStore } from "@p2p-edge/libp2p/protocols/rendezvous";
 * import { generateKeyPair, peerIdFromPrivateKey } from "@p2p-edge/libp2p";
 * const sender = peerIdFromPrivateKey(await generateKeyPair("Ed25519"));
 * const store = new RegistrationStore();
 * const a = await answerRequest(store, sender, { type: MessageType.DISCOVER, discover: {} }, 0);
 * a?.response?.discoverResponse?.registrations.length; // 0
 * ```
 */
export async function answerRequest(
  store: RegistrationStore,
  sender: PeerId,
  message: RendezvousMessage,
  now: number,
  maxResponseBytes: number = MAX_MESSAGE_BYTES,
): Promise<ServerAnswer | undefined> {
  switch (message.type) {
    case MessageType.REGISTER: {
      const reg = message.register!;
      const bad = namespaceProblem(reg.ns);
      if (bad !== undefined) return refuseRegister(reg.ns, ResponseStatus.E_INVALID_NAMESPACE, bad);
      if (reg.signedPeerRecord.byteLength > store.maxRecordBytes) {
        return refuseRegister(
          reg.ns,
          ResponseStatus.E_INVALID_SIGNED_PEER_RECORD,
          `signed peer record larger than ${store.maxRecordBytes} bytes`,
        );
      }
      try {
        await openPeerRecord(reg.signedPeerRecord, sender, { maxBytes: store.maxRecordBytes });
      } catch (err) {
        if (err instanceof PeerIdMismatchError) {
          return refuseRegister(
            reg.ns,
            ResponseStatus.E_NOT_AUTHORIZED,
            "the signed peer record is not the sender's",
          );
        }
        return refuseRegister(
          reg.ns,
          ResponseStatus.E_INVALID_SIGNED_PEER_RECORD,
          err instanceof Error ? err.message : "invalid signed peer record",
        );
      }
      const r = store.register({
        peer: sender.toString(),
        namespace: reg.ns,
        signedPeerRecord: reg.signedPeerRecord,
        ttl: reg.ttl,
      }, now);
      if (r.status !== ResponseStatus.OK || !("ttl" in r)) {
        const text = "statusText" in r ? r.statusText : "";
        return refuseRegister(reg.ns, r.status, text);
      }
      return {
        response: {
          type: MessageType.REGISTER_RESPONSE,
          registerResponse: { status: ResponseStatus.OK, ttl: BigInt(r.ttl) },
        },
        served: { kind: "registered", namespace: reg.ns, replaced: r.replaced },
      };
    }
    case MessageType.UNREGISTER: {
      const ns = message.unregister!.ns;
      store.unregister(sender.toString(), ns, now);
      return { served: { kind: "unregistered", namespace: ns } };
    }
    case MessageType.DISCOVER: {
      const d = message.discover!;
      // The registrations must fit one response next to the cookie and the status.
      const r = store.discover({
        namespace: d.ns,
        limit: d.limit,
        cookie: d.cookie,
        maxBytes: maxResponseBytes - 1024,
      }, now);
      if (!("registrations" in r)) {
        return {
          response: {
            type: MessageType.DISCOVER_RESPONSE,
            discoverResponse: { registrations: [], status: r.status, statusText: r.statusText },
          },
          served: { kind: "discover-refused", status: r.status },
        };
      }
      return {
        response: {
          type: MessageType.DISCOVER_RESPONSE,
          discoverResponse: {
            registrations: r.registrations.map((x) => ({
              ns: x.registration.namespace,
              signedPeerRecord: x.registration.signedPeerRecord,
              ttl: BigInt(x.ttl),
            })),
            cookie: r.cookie,
            status: ResponseStatus.OK,
          },
        },
        served: { kind: "discovered", count: r.registrations.length },
      };
    }
    default:
      return undefined;
  }
}

/**
 * The E_UNAVAILABLE answer to a request refused before it is looked at (rate limit): a
 * REGISTER_RESPONSE or DISCOVER_RESPONSE; undefined for UNREGISTER (no answer) and responses.
 *
 * @example
 * ```ts
 * import { MessageType, unavailable } from "@p2p-edge/libp2p/protocols/rendezvous";
 * const a = unavailable({ type: MessageType.DISCOVER, discover: {} }, "slow down");
 * a?.response?.discoverResponse?.status; // 400
 * ```
 */
export function unavailable(
  message: RendezvousMessage,
  statusText: string,
): ServerAnswer | undefined {
  const status = ResponseStatus.E_UNAVAILABLE;
  if (message.type === MessageType.REGISTER) {
    return refuseRegister(message.register!.ns, status, statusText);
  }
  if (message.type === MessageType.DISCOVER) {
    return {
      response: {
        type: MessageType.DISCOVER_RESPONSE,
        discoverResponse: { registrations: [], status, statusText },
      },
      served: { kind: "discover-refused", status },
    };
  }
  return undefined;
}
