/**
 * Group commit: writes issued while a commit is in flight are gathered into the next batch, so
 * a store whose commits are slow (Deno KV: a few ms each, fsync included) carries many writes
 * per commit under load, and each write still resolves only once it is durable. No timer: a
 * lone write commits at once.
 *
 * @module
 */

import type { DatastoreBatch, DatastoreOp } from "./types.ts";
import { MAX_DATASTORE_BATCH_BYTES, MAX_DATASTORE_BATCH_OPS } from "./types.ts";

interface Pending {
  readonly ops: readonly DatastoreOp[];
  readonly bytes: number;
  resolve(): void;
  reject(err: unknown): void;
}

/**
 * Most writes waiting for a commit (HARDENING.md rule 4): beyond it a write fails at once
 * instead of queueing memory without bound behind a stalled disk.
 */
export const MAX_GROUP_COMMIT_QUEUE = 16_384;

function sizeOf(ops: readonly DatastoreOp[]): number {
  let n = 0;
  for (const op of ops) n += op.key.length + (op.type === "put" ? op.value.byteLength : 0);
  return n;
}

/**
 * Gathers writes into batches of a datastore; see the module text.
 *
 * @example
 * ```ts
 * import { GroupCommit } from "./group_commit.ts";
 * import { MemoryDatastore } from "./memory.ts";
 * const ds = new MemoryDatastore();
 * const group = new GroupCommit(() => ds.batch());
 * await Promise.all([
 *   group.write([{ type: "put", key: "/a", value: new Uint8Array([1]) }]),
 *   group.write([{ type: "delete", key: "/b" }]),
 * ]);
 * ```
 */
export class GroupCommit {
  readonly #batch: () => DatastoreBatch;
  readonly #queue: Pending[] = [];
  #queued = 0;
  #running = false;

  /** Commit through batches made by `batch` (a datastore's `batch()`). */
  constructor(batch: () => DatastoreBatch) {
    this.#batch = batch;
  }

  /** Writes waiting for a commit. */
  get pending(): number {
    return this.#queued;
  }

  /**
   * Apply `ops` (together, atomically) in the next commit; resolves once it is durable, rejects
   * with the commit's error (or RangeError when the queue is full).
   */
  write(ops: readonly DatastoreOp[]): Promise<void> {
    if (ops.length === 0) return Promise.resolve();
    if (this.#queued + ops.length > MAX_GROUP_COMMIT_QUEUE) {
      return Promise.reject(new RangeError(`more than ${MAX_GROUP_COMMIT_QUEUE} writes queued`));
    }
    return new Promise<void>((resolve, reject) => {
      this.#queue.push({ ops, bytes: sizeOf(ops), resolve, reject });
      this.#queued += ops.length;
      if (!this.#running) void this.#run();
    });
  }

  async #run(): Promise<void> {
    this.#running = true;
    try {
      while (this.#queue.length > 0) {
        const group: Pending[] = [];
        let ops = 0;
        let bytes = 0;
        while (this.#queue.length > 0) {
          const next = this.#queue[0];
          const fits = ops + next.ops.length <= MAX_DATASTORE_BATCH_OPS &&
            bytes + next.bytes <= MAX_DATASTORE_BATCH_BYTES;
          if (!fits && group.length > 0) break;
          group.push(this.#queue.shift()!);
          ops += next.ops.length;
          bytes += next.bytes;
        }
        this.#queued -= ops;
        try {
          const batch = this.#batch();
          for (const p of group) {
            for (const op of p.ops) {
              if (op.type === "put") batch.put(op.key, op.value);
              else batch.delete(op.key);
            }
          }
          await batch.commit();
          for (const p of group) p.resolve();
        } catch (err) {
          // One bad write must not fail its neighbours: retry them one by one.
          if (group.length === 1) group[0].reject(err);
          else {
            for (const p of group) {
              try {
                const single = this.#batch();
                for (const op of p.ops) {
                  if (op.type === "put") single.put(op.key, op.value);
                  else single.delete(op.key);
                }
                await single.commit();
                p.resolve();
              } catch (e) {
                p.reject(e);
              }
            }
          }
        }
      }
    } finally {
      this.#running = false;
    }
  }
}
