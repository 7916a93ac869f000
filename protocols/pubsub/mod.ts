/**
 * Placeholder public surface of the shared pubsub layer, so that gossipsub can import it through
 * `mod.ts` (ARCHITECTURE.md layer rule) before pubsub-core's mod.ts lands; replaced by that file
 * on merge.
 *
 * @module
 */

export * from "./types.ts";
export { SeenCache, type SeenCacheOptions } from "./seen_cache.ts";
