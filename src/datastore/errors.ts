/**
 * The datastore's error class.
 *
 * @module
 */

import { Libp2pError } from "../errors.ts";

/**
 * The storage behind a datastore failed or holds something we cannot use: a file that is not a
 * database, a store written by another program or by a newer schema, a failed write. `path`
 * names the file or folder when there is one, so the message can tell the operator what to
 * move away.
 *
 * @example
 * ```ts
 * import { DatastoreError } from "@p2p-edge/libp2p";
 * const err = new DatastoreError("not a database", { path: "/var/lib/node/state.sqlite" });
 * console.log(err.path); // "/var/lib/node/state.sqlite"
 * ```
 */
export class DatastoreError extends Libp2pError {
  /** The file or folder concerned, when known. */
  readonly path: string | undefined;
  /** Create an error; `options.path` names the file or folder. */
  constructor(message: string, options: ErrorOptions & { path?: string } = {}) {
    super(message, options);
    this.path = options.path;
  }
}
