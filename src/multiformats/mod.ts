/**
 * Multiformats used by libp2p: multibase, multihash and CIDv1.
 *
 * @example
 * ```ts
 * import { multibaseDecode } from "@p2p-edge/libp2p/multiformats";
 * multibaseDecode("zLUv"); // base58btc
 * ```
 *
 * @module
 */

export * from "./multibase.ts";
export * from "./multihash.ts";
export * from "./cid.ts";
