/** Hand-driven AutoNAT peers for tests: a raw v2/v1 requester and a dial-back receiver. */
import { type Connection, streamChannelOf } from "../../src/connection.ts";
import type { Libp2pNode } from "../../src/node/node.ts";
import { ByteReader } from "../../src/stream/byte_reader.ts";
import {
  decodeDialBack,
  decodeV1Message,
  decodeV2Message,
  DIAL_BACK_PROTOCOL,
  DIAL_REQUEST_PROTOCOL,
  encodeDialBackResponse,
  encodeV1Message,
  encodeV2Message,
  frame,
  MAX_V1_MESSAGE_BYTES,
  MAX_V2_MESSAGE_BYTES,
  V1_PROTOCOL,
  type V1Message,
  V1Type,
  type V2Message,
} from "../../protocols/autonat/mod.ts";

/** Nonces received on dial-back (answered OK). */
export function receiveDialBacks(node: Libp2pNode): bigint[] {
  const nonces: bigint[] = [];
  node.handle(DIAL_BACK_PROTOCOL, async (stream) => {
    const channel = streamChannelOf(stream);
    const nonce = decodeDialBack(
      await new ByteReader(channel).readLengthPrefixed(MAX_V2_MESSAGE_BYTES),
    );
    nonces.push(nonce);
    channel.write(frame(encodeDialBackResponse(0)));
    await channel.drained();
    await channel.closeWrite();
  });
  return nonces;
}

/**
 * Send a v2 DialRequest over `conn`; pay dial data when `pay` (else close on a demand).
 * Resolves with every message the server sent, or the error that ended the stream.
 */
export async function requestV2(
  conn: Connection,
  addrs: Uint8Array[],
  nonce: bigint,
  pay = true,
  raw?: Uint8Array,
): Promise<{ messages: V2Message[]; error?: unknown; paid: number }> {
  const stream = await conn.newStream(DIAL_REQUEST_PROTOCOL);
  const channel = streamChannelOf(stream);
  const reader = new ByteReader(channel);
  const messages: V2Message[] = [];
  let paid = 0;
  try {
    channel.write(raw ?? frame(encodeV2Message({ type: "dialRequest", addrs, nonce })));
    await channel.drained();
    for (;;) {
      const m = decodeV2Message(await reader.readLengthPrefixed(MAX_V2_MESSAGE_BYTES));
      messages.push(m);
      if (m.type === "dialResponse") break;
      if (m.type === "dialDataRequest") {
        if (!pay) {
          channel.abort();
          return { messages, paid };
        }
        const chunk = frame(
          encodeV2Message({ type: "dialDataResponse", data: new Uint8Array(4096) }),
        );
        for (; paid < Number(m.numBytes); paid += 4096) {
          channel.write(chunk);
          await channel.drained();
        }
      }
    }
    await channel.closeWrite();
    return { messages, paid };
  } catch (error) {
    channel.abort(error);
    return { messages, error, paid };
  }
}

/** Send a v1 DIAL; resolves with the server's answer. */
export async function requestV1(conn: Connection, message: V1Message): Promise<V1Message> {
  const stream = await conn.newStream(V1_PROTOCOL);
  const channel = streamChannelOf(stream);
  channel.write(frame(encodeV1Message(message), MAX_V1_MESSAGE_BYTES));
  await channel.drained();
  const reply = decodeV1Message(
    await new ByteReader(channel).readLengthPrefixed(MAX_V1_MESSAGE_BYTES),
  );
  await channel.closeWrite().catch(() => {});
  return reply;
}

export { V1Type };
