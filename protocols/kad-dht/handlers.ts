/**
 * Server-side answers to DHT requests (libp2p/specs `kad-dht/README.md` §RPC messages) as
 * plain functions over the routing table, the stores and the validators: no streams, no clock
 * (`now` is passed in). The network service reads a request, calls {@link handleRequest}, and
 * writes the answer if there is one; a thrown error ends that stream (go resets it).
 *
 * Deployed behaviour followed (where it differs from the spec text):
 * - FIND_NODE keys are any bytes; the answer is the k closest to `sha256(key)` without us and
 *   the requester, with the target itself first when its addresses are known (go), and with us
 *   when the key is our own id (js). Peers left with no shareable address are dropped.
 * - GET_VALUE re-validates the stored record and drops it when it no longer validates.
 * - PUT_VALUE must carry a record whose key equals the message key; it is validated, refused
 *   when the stored record is better (`Select`), stored with the receiver's time, and echoed.
 * - ADD_PROVIDER registers only the sender, only with an address, and gets no answer.
 * - Unless `allowPrivateAddresses` is set, private and loopback addresses are never sent or
 *   stored (js `removePrivateAddressesMapper`; the public DHT must not learn them).
 *
 * @module
 */

import { equals } from "../../src/bytes.ts";
import { LimitExceededError, ProtocolError } from "../../src/errors.ts";
import { ConnectionType, type KadMessage, type KadPeer, MessageType } from "./codec.ts";
import { K_BUCKET_SIZE, MAX_PROVIDER_KEY_BYTES, MAX_PROVIDERS_PER_KEY } from "./constants.ts";
import { isPublicMultiaddr } from "./ip_group.ts";
import { RecordValidationError } from "./ipns.ts";
import { kadId } from "./keyspace.ts";
import { providersFromAddProvider, type ProviderStore } from "./providers.ts";
import { selectRecord, validateRecord, type Validators } from "./records.ts";
import type { RoutingTable } from "./routing_table.ts";
import { formatRfc3339, type ValueStore } from "./values.ts";

/** What the handlers read and write. */
export interface HandlerContext {
  /** Our peer id bytes. */
  selfId: Uint8Array;
  /** Our binary multiaddrs (sent when someone looks us up). */
  selfAddrs(): readonly Uint8Array[];
  /** Addresses the peer store knows for a peer (empty when none). */
  addrsOf(peerId: Uint8Array): readonly Uint8Array[];
  /** The routing table. */
  table: RoutingTable;
  /** Provider records. */
  providers: ProviderStore;
  /** Value records. */
  values: ValueStore;
  /** Validators by namespace. */
  validators: Validators;
  /** Send and store private and loopback addresses too. Default false. */
  allowPrivateAddresses?: boolean;
  /** Peers per answer. Default {@link K_BUCKET_SIZE}. */
  k?: number;
}

function shareable(ctx: HandlerContext, addrs: readonly Uint8Array[]): Uint8Array[] {
  return ctx.allowPrivateAddresses === true ? [...addrs] : addrs.filter(isPublicMultiaddr);
}

function closerPeers(ctx: HandlerContext, key: Uint8Array, from: Uint8Array): KadPeer[] {
  const k = ctx.k ?? K_BUCKET_SIZE;
  // The target itself goes first when we can tell where it is (us: js; a known peer: go).
  let first: KadPeer | undefined;
  if (equals(key, ctx.selfId)) {
    const addrs = shareable(ctx, ctx.selfAddrs());
    if (addrs.length > 0) first = { id: ctx.selfId, addrs, connection: ConnectionType.CONNECTED };
  } else if (!equals(key, from)) {
    const addrs = shareable(ctx, ctx.addrsOf(key));
    if (addrs.length > 0) first = { id: key, addrs, connection: ConnectionType.NOT_CONNECTED };
  }
  const out: KadPeer[] = [];
  // Spares: the requester, the target and peers with no shareable address are skipped.
  for (const c of ctx.table.closest(kadId(key), 2 * k)) {
    if (out.length >= k) break;
    if (equals(c.peerId, from) || (first !== undefined && equals(c.peerId, first.id))) continue;
    const known = ctx.addrsOf(c.peerId);
    const addrs = shareable(ctx, known.length > 0 ? known : c.addrs);
    if (addrs.length === 0) continue;
    out.push({ id: c.peerId, addrs, connection: ConnectionType.NOT_CONNECTED });
  }
  return first === undefined ? out : [first, ...out];
}

function requireKey(msg: KadMessage): Uint8Array {
  if (msg.key === undefined || msg.key.byteLength === 0) {
    throw new ProtocolError("DHT request without a key");
  }
  return msg.key;
}

function reply(type: KadMessage["type"], key: Uint8Array | undefined): KadMessage {
  return { type, key, closerPeers: [], providerPeers: [] };
}

/**
 * Answer one request from peer `from` at time `now`. Resolves to the answer, or `undefined` for
 * ADD_PROVIDER. Rejects with ProtocolError (malformed request), RecordValidationError (invalid
 * or older record) or LimitExceededError (a store is full).
 *
 * @example
 * ```ts
 * import {
 *   DEFAULT_VALIDATORS, handleRequest, MemoryProviderStore, MemoryValueStore, MessageType,
 *   RoutingTable,
 * } from "@p2p-edge/libp2p/protocols/kad-dht";
 * const selfId = new Uint8Array([0, 1, 0]);
 * const ctx = {
 *   selfId,
 *   selfAddrs: () => [],
 *   addrsOf: () => [],
 *   table: new RoutingTable({ selfId }),
 *   providers: new MemoryProviderStore(),
 *   values: new MemoryValueStore(),
 *   validators: DEFAULT_VALIDATORS,
 * };
 * const ping = { type: MessageType.PING, closerPeers: [], providerPeers: [] };
 * (await handleRequest(ctx, new Uint8Array([0, 1, 9]), ping, 0))?.type; // 5
 * ```
 */
export async function handleRequest(
  ctx: HandlerContext,
  from: Uint8Array,
  msg: KadMessage,
  now: number,
): Promise<KadMessage | undefined> {
  switch (msg.type) {
    case MessageType.PING:
      return reply(MessageType.PING, undefined);
    case MessageType.FIND_NODE: {
      const key = requireKey(msg);
      return { ...reply(MessageType.FIND_NODE, key), closerPeers: closerPeers(ctx, key, from) };
    }
    case MessageType.GET_VALUE: {
      const key = requireKey(msg);
      const out: KadMessage = {
        ...reply(MessageType.GET_VALUE, key),
        closerPeers: closerPeers(ctx, key, from),
      };
      const stored = await ctx.values.get(key, now);
      if (stored !== undefined) {
        try {
          await validateRecord(ctx.validators, key, stored.value, now);
          out.record = { key, value: stored.value, timeReceived: formatRfc3339(stored.receivedAt) };
        } catch (err) {
          if (!(err instanceof RecordValidationError)) throw err;
          await ctx.values.delete(key);
        }
      }
      return out;
    }
    case MessageType.PUT_VALUE: {
      const key = requireKey(msg);
      const record = msg.record;
      if (record === undefined) throw new ProtocolError("PUT_VALUE without a record");
      if (!equals(record.key, key)) throw new ProtocolError("PUT_VALUE record key differs");
      await validateRecord(ctx.validators, key, record.value, now);
      const existing = await ctx.values.get(key, now);
      if (existing !== undefined && !equals(existing.value, record.value)) {
        let existingValid = true;
        try {
          await validateRecord(ctx.validators, key, existing.value, now);
        } catch (err) {
          if (!(err instanceof RecordValidationError)) throw err;
          existingValid = false;
        }
        if (
          existingValid && selectRecord(ctx.validators, key, [record.value, existing.value]) !== 0
        ) {
          throw new RecordValidationError("PUT_VALUE record is older than the stored one");
        }
      }
      const stored = await ctx.values.put(key, record.value, now);
      if (stored !== "stored" && stored !== "replaced") {
        throw new LimitExceededError(`value store refused the record: ${stored}`, stored);
      }
      return { ...reply(MessageType.PUT_VALUE, key), record: { key, value: record.value } };
    }
    case MessageType.ADD_PROVIDER: {
      const key = requireKey(msg);
      if (key.byteLength > MAX_PROVIDER_KEY_BYTES) {
        throw new ProtocolError(`provider key longer than ${MAX_PROVIDER_KEY_BYTES} bytes`);
      }
      for (const p of providersFromAddProvider(msg, from)) {
        const addrs = shareable(ctx, p.addrs);
        if (addrs.length > 0) await ctx.providers.add(key, { peerId: p.peerId, addrs }, now);
      }
      return undefined;
    }
    case MessageType.GET_PROVIDERS: {
      const key = requireKey(msg);
      if (key.byteLength > MAX_PROVIDER_KEY_BYTES) {
        throw new ProtocolError(`provider key longer than ${MAX_PROVIDER_KEY_BYTES} bytes`);
      }
      const records = await ctx.providers.get(key, now, MAX_PROVIDERS_PER_KEY);
      const providerPeers: KadPeer[] = records.map((r) => {
        const known = ctx.addrsOf(r.peerId);
        return {
          id: r.peerId,
          addrs: shareable(ctx, known.length > 0 ? known : r.addrs),
          connection: ConnectionType.NOT_CONNECTED,
        };
      });
      return {
        ...reply(MessageType.GET_PROVIDERS, key),
        closerPeers: closerPeers(ctx, key, from),
        providerPeers,
      };
    }
  }
}
