/**
 * The client's HOP and STOP exchanges on a stream (libp2p/specs relay/circuit-v2.md,
 * "Interaction"): uvarint-delimited messages of at most {@link MAX_RELAY_MESSAGE_BYTES}, each
 * exchange under a deadline. After a successful CONNECT (HOP) or an accepted CONNECT (STOP) the
 * stream's remaining bytes are the relayed connection: the reader hands its channel back with
 * whatever it read ahead, so nothing the other end sent right after the status is lost.
 *
 * @module
 */

import { deadlineSignal } from "../../src/abort.ts";
import { type Stream, streamChannelOf } from "../../src/connection.ts";
import { Libp2pError, ProtocolError } from "../../src/errors.ts";
import type { PeerId } from "../../src/peer_id.ts";
import { ByteReader } from "../../src/stream/byte_reader.ts";
import type { ByteChannel } from "../../src/stream/channel.ts";
import type { AbortOptions } from "../../src/stream/types.ts";
import {
  encodeFrame,
  encodeHopMessage,
  encodeStopMessage,
  type HopMessage,
  HopType,
  type Limit,
  readHopMessage,
  readStopMessage,
  Status,
  statusName,
  type StopMessage,
  StopType,
} from "../../protocols/circuit-relay/mod.ts";

/**
 * A relay refused a request; `status` is the spec's code (e.g. 200 RESERVATION_REFUSED, 204
 * NO_RESERVATION).
 *
 * @example
 * ```ts
 * import { RelayRefusedError } from "@p2p-edge/libp2p/transports/circuit-relay";
 * const err = new RelayRefusedError("reservation refused", 200);
 * console.log(err.status); // 200
 * ```
 */
export class RelayRefusedError extends Libp2pError {
  /** The status code the relay answered. */
  readonly status: number;
  /** An error for status `status`. */
  constructor(message: string, status: number, options?: ErrorOptions) {
    super(message, options);
    this.status = status;
  }
}

/** Write one length-prefixed message and wait until it left. */
async function send(channel: ByteChannel, body: Uint8Array): Promise<void> {
  channel.write(encodeFrame(body));
  await channel.drained();
}

/**
 * Run `exchange` on `stream` under `timeoutMs` (and `options.signal`): when the deadline passes,
 * the stream is aborted, which fails the exchange's pending read.
 */
async function underDeadline<T>(
  stream: Stream,
  timeoutMs: number,
  what: string,
  options: AbortOptions | undefined,
  exchange: () => Promise<T>,
  abortOnError = true,
): Promise<T> {
  const deadline = deadlineSignal(timeoutMs, options?.signal, what);
  const onAbort = (): void => stream.abort(deadline.signal.reason);
  if (deadline.signal.aborted) onAbort();
  deadline.signal.addEventListener("abort", onAbort, { once: true });
  try {
    return await exchange();
  } catch (err) {
    if (abortOnError || deadline.signal.aborted) stream.abort(err);
    throw deadline.signal.aborted ? deadline.signal.reason : err;
  } finally {
    deadline.signal.removeEventListener("abort", onAbort);
    deadline.clear();
  }
}

/** A relay's answer to a HOP request, checked: STATUS with OK, or a RelayRefusedError. */
function checkHopStatus(m: HopMessage, what: string): void {
  if (m.type !== HopType.STATUS) {
    throw new ProtocolError(`the relay answered ${what} with HOP type ${m.type}, not STATUS`);
  }
  if (m.status !== Status.OK) {
    throw new RelayRefusedError(
      `the relay refused ${what}: ${statusName(m.status)}`,
      m.status ?? Status.UNUSED,
    );
  }
}

/** What a relay granted to RESERVE. */
export interface HopReservation {
  /** Expiry, UNIX seconds (absent: the relay said nothing; treated as malformed). */
  expire?: bigint;
  /** Relay addresses as multiaddr bytes. */
  addrs: Uint8Array[];
  /** The signed voucher (advisory only: nobody enforces it, spec "Reservation"). */
  voucher?: Uint8Array;
  /** The limit the relay applies to circuits to us. */
  limit?: Limit;
}

/**
 * RESERVE on an open HOP stream; resolves with the reservation, closes the stream.
 *
 * @example
 * ```ts
 * import { hopReserve } from "./wire.ts";
 * import type { Stream } from "@p2p-edge/libp2p";
 * declare const hop: Stream;
 * const r = await hopReserve(hop, 30_000);
 * console.log(r.expire);
 * ```
 */
export function hopReserve(
  stream: Stream,
  timeoutMs: number,
  options?: AbortOptions,
): Promise<HopReservation> {
  return underDeadline(stream, timeoutMs, "RESERVE", options, async () => {
    const channel = streamChannelOf(stream);
    const reader = new ByteReader(channel);
    await send(channel, encodeHopMessage({ type: HopType.RESERVE }));
    const answer = await readHopMessage(reader);
    checkHopStatus(answer, "RESERVE");
    const reservation = answer.reservation;
    if (reservation === undefined) {
      throw new ProtocolError("the relay's RESERVE answer carries no reservation expiry");
    }
    await stream.close().catch(() => {});
    return {
      expire: reservation.expire,
      addrs: reservation.addrs,
      voucher: reservation.voucher,
      limit: answer.limit,
    };
  });
}

/**
 * CONNECT to `target` on an open HOP stream; on OK resolves with the stream's channel (the
 * relayed connection's bytes) and the relay's limit.
 *
 * @example
 * ```ts
 * import { hopConnect } from "./wire.ts";
 * import type { PeerId, Stream } from "@p2p-edge/libp2p";
 * declare const hop: Stream;
 * declare const target: PeerId;
 * const { channel, limit } = await hopConnect(hop, target, 30_000);
 * ```
 */
export function hopConnect(
  stream: Stream,
  target: PeerId,
  timeoutMs: number,
  options?: AbortOptions,
): Promise<{ channel: ByteChannel; limit?: Limit }> {
  return underDeadline(stream, timeoutMs, "CONNECT", options, async () => {
    const channel = streamChannelOf(stream);
    const reader = new ByteReader(channel);
    await send(
      channel,
      encodeHopMessage({ type: HopType.CONNECT, peer: { id: target.toBytes(), addrs: [] } }),
    );
    const answer = await readHopMessage(reader);
    checkHopStatus(answer, "CONNECT");
    return { channel: reader.restChannel(), limit: answer.limit };
  });
}

/** A relay's STOP CONNECT, read and not answered yet. */
export interface StopRequest {
  /** The message (type CONNECT, checked). */
  readonly message: StopMessage;
  /** The peer id bytes of the source. */
  readonly source: Uint8Array;
  /** Answer OK and take the relayed connection's channel. */
  accept(): Promise<ByteChannel>;
  /** Answer `status` and close the stream. */
  refuse(status: number): Promise<void>;
}

/**
 * Answer `status` on a stream we refuse, half-close it, and wait (within `timeoutMs`) for the
 * other end to close too, so the answer is read before the stream goes; a peer that never closes
 * gets a reset at the deadline. Never throws.
 */
async function refuseStream(
  stream: Stream,
  channel: ByteChannel,
  status: number,
  timeoutMs: number,
): Promise<void> {
  const deadline = deadlineSignal(timeoutMs, undefined, "STOP refusal");
  const onAbort = (): void => stream.abort(deadline.signal.reason);
  deadline.signal.addEventListener("abort", onAbort, { once: true });
  try {
    await send(channel, encodeStopMessage({ type: StopType.STATUS, status }));
    await stream.close();
    while ((await channel.read()) !== null) { /* discard until the other end closes */ }
  } catch {
    stream.abort();
  } finally {
    deadline.signal.removeEventListener("abort", onAbort);
    deadline.clear();
  }
}

/**
 * Read the relay's STOP CONNECT on an inbound STOP stream, under `timeoutMs`. A message that is
 * not a CONNECT with a source peer (or does not decode, or is over the size limit) is answered
 * MALFORMED_MESSAGE / UNEXPECTED_MESSAGE and resolves `undefined`.
 *
 * @example
 * ```ts
 * import { readStopConnect } from "./wire.ts";
 * import type { Stream } from "@p2p-edge/libp2p";
 * declare const stop: Stream;
 * const request = await readStopConnect(stop, 30_000);
 * const channel = await request?.accept();
 * ```
 */
export async function readStopConnect(
  stream: Stream,
  timeoutMs: number,
  options?: AbortOptions,
): Promise<StopRequest | undefined> {
  const channel = streamChannelOf(stream);
  const reader = new ByteReader(channel);
  let message: StopMessage;
  try {
    message = await underDeadline(
      stream,
      timeoutMs,
      "STOP",
      options,
      () => readStopMessage(reader),
      false,
    );
  } catch (err) {
    // Undecodable or oversized: answered when the stream still works (not after a deadline).
    if (stream.status !== "reset") {
      await refuseStream(stream, channel, Status.MALFORMED_MESSAGE, timeoutMs);
      return undefined;
    }
    throw err;
  }
  if (message.type !== StopType.CONNECT) {
    await refuseStream(stream, channel, Status.UNEXPECTED_MESSAGE, timeoutMs);
    return undefined;
  }
  const source = message.peer?.id;
  if (source === undefined || source.byteLength === 0) {
    await refuseStream(stream, channel, Status.MALFORMED_MESSAGE, timeoutMs);
    return undefined;
  }
  return {
    message,
    source,
    accept: async (): Promise<ByteChannel> => {
      await send(channel, encodeStopMessage({ type: StopType.STATUS, status: Status.OK }));
      return reader.restChannel();
    },
    refuse: (status: number): Promise<void> => refuseStream(stream, channel, status, timeoutMs),
  };
}
