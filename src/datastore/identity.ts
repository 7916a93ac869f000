/**
 * The node's identity key in a datastore, as the protobuf PrivateKey every libp2p
 * implementation reads and writes (so it can be exported to a key file and back).
 *
 * @module
 */

import { privateKeyFromProtobuf, privateKeyToProtobuf } from "../keys/mod.ts";
import type { PrivateKey } from "../keys/types.ts";
import { DatastoreError } from "./errors.ts";
import type { Datastore } from "./types.ts";

/** Where the identity key lives. */
export const IDENTITY_KEY = "/identity/key";

/** Largest stored key read (an RSA-4096 protobuf key is about 2.4 KB). */
const MAX_IDENTITY_BYTES = 16 * 1024;

/**
 * The identity key stored in `ds`, or undefined when there is none. Rejects with
 * DatastoreError when the stored bytes are not a private key.
 *
 * @example
 * ```ts
 * import { loadIdentity, MemoryDatastore } from "@p2p-edge/libp2p";
 * await loadIdentity(new MemoryDatastore()); // undefined
 * ```
 */
export async function loadIdentity(ds: Datastore): Promise<PrivateKey | undefined> {
  const bytes = await ds.get(IDENTITY_KEY);
  if (bytes === undefined) return undefined;
  if (bytes.byteLength > MAX_IDENTITY_BYTES) {
    throw new DatastoreError(`stored identity is larger than ${MAX_IDENTITY_BYTES} bytes`);
  }
  try {
    return await privateKeyFromProtobuf(bytes);
  } catch (err) {
    throw new DatastoreError("stored identity is not a valid private key", { cause: err });
  }
}

/**
 * Store `key` as the identity in `ds` (replacing any).
 *
 * @example
 * ```ts
 * import { generateKeyPair, loadIdentity, MemoryDatastore, saveIdentity } from "@p2p-edge/libp2p";
 * const ds = new MemoryDatastore();
 * await saveIdentity(ds, await generateKeyPair("Ed25519"));
 * (await loadIdentity(ds))?.type; // "Ed25519"
 * ```
 */
export async function saveIdentity(ds: Datastore, key: PrivateKey): Promise<void> {
  await ds.put(IDENTITY_KEY, privateKeyToProtobuf(key));
}
