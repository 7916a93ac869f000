/**
 * Decode limits of the pubsub RPC (HARDENING.md rule 1: every count and length a peer sends is
 * checked against one of these before anything is allocated for it). Defaults follow js-libp2p
 * gossipsub's `defaultDecodeRpcLimits` (research §2.4), which go and js peers never exceed, plus
 * three of ours that bound what a single frame can make us allocate.
 *
 * @module
 */

/** Limits applied by `decodeRpc`. Every field is optional; a missing one takes its default. */
export interface RpcLimits {
  /** Largest RPC frame body, bytes. */
  maxFrameBytes?: number;
  /** Most `SubOpts` entries in one RPC. */
  maxSubscriptions?: number;
  /** Most published messages in one RPC. */
  maxMessages?: number;
  /** Most entries of each control kind (IHAVE, IWANT, GRAFT, PRUNE, IDONTWANT) in one RPC. */
  maxControlEntries?: number;
  /** Most message ids in one IHAVE entry. */
  maxIHaveIds?: number;
  /** Most message ids in one IWANT entry. */
  maxIWantIds?: number;
  /** Most message ids in one IDONTWANT entry. */
  maxIDontWantIds?: number;
  /** Most message ids in one RPC, over IHAVE, IWANT and IDONTWANT together. */
  maxMessageIdsPerRpc?: number;
  /** Longest message id, bytes. */
  maxMessageIdBytes?: number;
  /** Most peer-exchange entries in one PRUNE. */
  maxPrunePeers?: number;
  /** Longest topic, UTF-8 bytes (in SubOpts, Message, IHAVE, GRAFT, PRUNE). */
  maxTopicBytes?: number;
}

/**
 * 4 MiB: js-libp2p reads inbound RPCs through it-length-prefixed with its default 4 MiB
 * `maxDataLength` (research §2.4), so js may send RPCs up to that size. go caps RPCs at 1 MiB
 * (`DefaultMaxMessageSize`) and rust at 64 KiB (`max_transmit_size`) — what we SEND must stay
 * under {@link MAX_RPC_SEND_BYTES}.
 */
export const MAX_RPC_FRAME_BYTES = 4 * 1024 * 1024;
/** 1 MiB: go-libp2p-pubsub's `DefaultMaxMessageSize`; RPCs we send stay under it. */
export const MAX_RPC_SEND_BYTES = 1024 * 1024;
/** js `defaultDecodeRpcLimits.maxSubscriptions` (= go `GossipSubMaxIHaveLength`). */
export const MAX_RPC_SUBSCRIPTIONS = 5000;
/** js `defaultDecodeRpcLimits.maxMessages`. */
export const MAX_RPC_MESSAGES = 5000;
/** js `defaultDecodeRpcLimits.maxControlMessages` (per control kind). */
export const MAX_RPC_CONTROL_ENTRIES = 5000;
/** js `maxIhaveMessageIDs`; go `GossipSubMaxIHaveLength` (ids per IHAVE per heartbeat). */
export const MAX_IHAVE_IDS = 5000;
/** js `maxIwantMessageIDs`. */
export const MAX_IWANT_IDS = 5000;
/** js `maxIdontwantMessageIDs` (= js `GossipsubIdontwantMaxMessages`); go sends <= 10 per entry. */
export const MAX_IDONTWANT_IDS = 512;
/**
 * Ours (HARDENING.md rule 1): each id is a view object, so a 4 MiB frame of empty ids would
 * otherwise be two million allocations. go fits about 21,800 of its 46-byte default ids in its
 * 1 MiB frame; 50,000 leaves room above that.
 */
export const MAX_RPC_MESSAGE_IDS = 50_000;
/**
 * Ours: deployed ids are 20 (eth2), 32 (sha256) or ~46 bytes (go `from ‖ seqno`); routers key
 * maps by ids from the wire (HARDENING.md rule 4), so their length is bounded too.
 */
export const MAX_MESSAGE_ID_BYTES = 1024;
/** js `maxPeerInfos`; go `GossipSubPrunePeers` (16). */
export const MAX_PRUNE_PEERS = 16;
/**
 * Ours: go and js set no topic length limit, but deployed topics (eth2
 * `/eth2/<fork>/<name>/ssz_snappy`, IPFS names) are well under 256 bytes; topics are map keys
 * in every router (HARDENING.md rule 4).
 */
export const MAX_TOPIC_BYTES = 1024;

/** Every limit at its default. */
export const DEFAULT_RPC_LIMITS: Readonly<Required<RpcLimits>> = Object.freeze({
  maxFrameBytes: MAX_RPC_FRAME_BYTES,
  maxSubscriptions: MAX_RPC_SUBSCRIPTIONS,
  maxMessages: MAX_RPC_MESSAGES,
  maxControlEntries: MAX_RPC_CONTROL_ENTRIES,
  maxIHaveIds: MAX_IHAVE_IDS,
  maxIWantIds: MAX_IWANT_IDS,
  maxIDontWantIds: MAX_IDONTWANT_IDS,
  maxMessageIdsPerRpc: MAX_RPC_MESSAGE_IDS,
  maxMessageIdBytes: MAX_MESSAGE_ID_BYTES,
  maxPrunePeers: MAX_PRUNE_PEERS,
  maxTopicBytes: MAX_TOPIC_BYTES,
});

/**
 * `limits` with every missing field set to its default. The result is cached per `limits`
 * object (services pass the same one on every RPC), so do not mutate it after first use.
 *
 * @example
 * ```ts
 * import { resolveRpcLimits } from "./rpc_limits.ts";
 * resolveRpcLimits({ maxMessages: 10 }).maxSubscriptions; // 5000
 * ```
 */
export function resolveRpcLimits(limits?: RpcLimits): Readonly<Required<RpcLimits>> {
  if (limits === undefined) return DEFAULT_RPC_LIMITS;
  // A service passes the same options object on every RPC: resolve it once.
  const cached = resolved.get(limits);
  if (cached !== undefined) return cached;
  const out = { ...DEFAULT_RPC_LIMITS };
  for (const name of Object.keys(out) as (keyof RpcLimits)[]) {
    const value = limits[name];
    if (value === undefined) continue;
    if (!(Number.isInteger(value) && value >= 0)) {
      throw new RangeError(`RPC limit ${name} must be a non-negative integer, got ${value}`);
    }
    out[name] = value;
  }
  const frozen = Object.freeze(out);
  resolved.set(limits, frozen);
  return frozen;
}

const resolved = new WeakMap<RpcLimits, Readonly<Required<RpcLimits>>>();
