/**
 * Key rules shared by every datastore, and the batch every implementation builds on.
 *
 * Keys are paths: `/` then segments separated by `/`, each non-empty, of printable ASCII
 * (0x21-0x7e) only, so that code unit order, UTF-8 byte order and SQLite's BINARY collation
 * agree and a prefix is a plain range: the keys under `/a` are those in `["/a/", "/a0")` (`0`
 * follows `/` in ASCII).
 *
 * @module
 */

import type { AbortOptions } from "../stream/types.ts";
import {
  type DatastoreBatch,
  type DatastoreOp,
  MAX_DATASTORE_BATCH_BYTES,
  MAX_DATASTORE_BATCH_OPS,
  MAX_DATASTORE_KEY_LENGTH,
  MAX_DATASTORE_VALUE_BYTES,
} from "./types.ts";

const KEY_RE = /^(\/[\x21-\x2e\x30-\x7e]+)+$/;

/**
 * Throw TypeError unless `key` is a valid datastore key (RangeError when too long).
 *
 * @example
 * ```ts
 * import { checkKey } from "./keys.ts";
 * checkKey("/peers/recent/12D3KooW"); // ok
 * // checkKey("peers"); // TypeError
 * ```
 */
export function checkKey(key: string): void {
  if (typeof key !== "string") throw new TypeError("datastore key must be a string");
  if (key.length > MAX_DATASTORE_KEY_LENGTH) {
    throw new RangeError(`datastore key longer than ${MAX_DATASTORE_KEY_LENGTH} characters`);
  }
  if (!KEY_RE.test(key)) {
    throw new TypeError(
      `invalid datastore key ${JSON.stringify(key.slice(0, 80))}: "/" then non-empty ` +
        `segments of printable ASCII`,
    );
  }
}

/**
 * Throw unless `value` is a Uint8Array of at most {@link MAX_DATASTORE_VALUE_BYTES}.
 *
 * @example
 * ```ts
 * import { checkValue } from "./keys.ts";
 * checkValue(new Uint8Array(3)); // ok
 * ```
 */
export function checkValue(value: Uint8Array): void {
  if (!(value instanceof Uint8Array)) throw new TypeError("datastore value must be a Uint8Array");
  if (value.byteLength > MAX_DATASTORE_VALUE_BYTES) {
    throw new RangeError(`datastore value larger than ${MAX_DATASTORE_VALUE_BYTES} bytes`);
  }
}

/**
 * The key range `[start, end)` of the keys under `prefix` (`"/"`: every key).
 *
 * @example
 * ```ts
 * import { prefixRange } from "./keys.ts";
 * prefixRange("/a"); // { start: "/a/", end: "/a0" }
 * ```
 */
export function prefixRange(prefix: string): { start: string; end: string } {
  if (prefix === "/") return { start: "/", end: "0" };
  checkKey(prefix);
  return { start: `${prefix}/`, end: `${prefix}0` };
}

/**
 * A batch that validates and collects operations, then hands them (last write per key wins)
 * to `apply` once.
 *
 * @example
 * ```ts
 * import { CollectingBatch } from "./keys.ts";
 * const batch = new CollectingBatch(async (ops) => console.log(ops.length));
 * batch.put("/a", new Uint8Array([1]));
 * batch.delete("/a");
 * await batch.commit(); // logs 1 (the delete)
 * ```
 */
export class CollectingBatch implements DatastoreBatch {
  readonly #ops = new Map<string, DatastoreOp>();
  readonly #apply: (ops: DatastoreOp[], options?: AbortOptions) => Promise<void>;
  #committed = false;
  #bytes = 0;

  /** A batch whose commit calls `apply` with its operations. */
  constructor(apply: (ops: DatastoreOp[], options?: AbortOptions) => Promise<void>) {
    this.#apply = apply;
  }

  /** Queue a put. */
  put(key: string, value: Uint8Array): void {
    checkKey(key);
    checkValue(value);
    this.#add({ type: "put", key, value: value.slice() });
  }

  /** Queue a delete. */
  delete(key: string): void {
    checkKey(key);
    this.#add({ type: "delete", key });
  }

  /** Apply the operations, once. */
  commit(options?: AbortOptions): Promise<void> {
    if (this.#committed) return Promise.reject(new TypeError("batch already committed"));
    this.#committed = true;
    options?.signal?.throwIfAborted();
    return this.#apply([...this.#ops.values()], options);
  }

  #add(op: DatastoreOp): void {
    if (this.#committed) throw new TypeError("batch already committed");
    if (!this.#ops.has(op.key) && this.#ops.size >= MAX_DATASTORE_BATCH_OPS) {
      throw new RangeError(`a batch holds at most ${MAX_DATASTORE_BATCH_OPS} operations`);
    }
    const old = this.#ops.get(op.key);
    const bytes = op.key.length + (op.type === "put" ? op.value.byteLength : 0);
    const freed = old === undefined
      ? 0
      : old.key.length + (old.type === "put" ? old.value.byteLength : 0);
    if (this.#bytes - freed + bytes > MAX_DATASTORE_BATCH_BYTES) {
      throw new RangeError(`a batch holds at most ${MAX_DATASTORE_BATCH_BYTES} bytes`);
    }
    this.#bytes += bytes - freed;
    this.#ops.delete(op.key);
    this.#ops.set(op.key, op);
  }
}
