/**
 * Record validators and selectors by namespace (libp2p/specs `kad-dht/README.md` §Value
 * storage and retrieval; go-libp2p-record). A key's namespace is its first path segment:
 * `/pk/…`, `/ipns/…`. A key without a namespace, or with one that has no validator, is
 * rejected (as js-libp2p does since GHSA-32mq-hpph-xfvr). Validation runs on PUT_VALUE and on
 * every GET_VALUE answer; selection picks the best of several valid records.
 *
 * Built in:
 * - `/pk`: key `"/pk/" ‖ multihash`; the value is a protobuf public key whose multihash
 *   (identity or sha2-256) equals the key's (HARDENING.md rule 6). All valid values are equal.
 * - `/ipns`: see ipns.ts.
 *
 * @module
 */

import { sha256 } from "@noble/hashes/sha2.js";
import { equals, utf8Decode } from "../../src/bytes.ts";
import { publicKeyFromProtobuf } from "../../src/keys/protobuf.ts";
import { decodeMultihash, IDENTITY_CODE, SHA2_256_CODE } from "../../src/multiformats/multihash.ts";
import { MAX_RECORD_KEY_BYTES } from "./constants.ts";
import { RecordValidationError, selectIpnsRecord, verifyIpnsRecord } from "./ipns.ts";

export { RecordValidationError } from "./ipns.ts";

/** Validation and selection for one namespace. */
export interface RecordValidator {
  /** Resolve when `value` is a valid record for `key` at `now` (ms); reject otherwise. */
  validate(key: Uint8Array, value: Uint8Array, now: number): Promise<void>;
  /** Index of the best of several valid values for `key`. */
  select(key: Uint8Array, values: readonly Uint8Array[]): number;
}

/** Validators keyed by namespace (without slashes). */
export type Validators = Readonly<Record<string, RecordValidator>>;

/**
 * The `/pk` validator.
 *
 * @example
 * ```ts
 * import { pkValidator } from "@p2p-edge/libp2p/protocols/kad-dht";
 * // await pkValidator.validate(key, publicKeyProtobuf, Date.now());
 * ```
 */
export const pkValidator: RecordValidator = {
  validate(key: Uint8Array, value: Uint8Array): Promise<void> {
    try {
      if (recordNamespace(key) !== "pk") throw new RecordValidationError("not a /pk/ key");
      const mh = decodeMultihash(key.subarray(4));
      let ok: boolean;
      if (mh.code === IDENTITY_CODE) ok = equals(mh.digest, value);
      else if (mh.code === SHA2_256_CODE) ok = equals(mh.digest, sha256(value));
      else throw new RecordValidationError(`unsupported /pk multihash code ${mh.code}`);
      if (!ok) throw new RecordValidationError("public key does not hash to the /pk key");
      publicKeyFromProtobuf(value);
      return Promise.resolve();
    } catch (cause) {
      return Promise.reject(
        cause instanceof RecordValidationError
          ? cause
          : new RecordValidationError("invalid /pk record", { cause }),
      );
    }
  },
  select(): number {
    return 0;
  },
};

/**
 * The `/ipns` validator.
 *
 * @example
 * ```ts
 * import { ipnsValidator } from "@p2p-edge/libp2p/protocols/kad-dht";
 * // await ipnsValidator.validate(key, record, Date.now());
 * ```
 */
export const ipnsValidator: RecordValidator = {
  async validate(key: Uint8Array, value: Uint8Array, now: number): Promise<void> {
    try {
      await verifyIpnsRecord(key, value, now);
    } catch (cause) {
      if (cause instanceof RecordValidationError) throw cause;
      throw new RecordValidationError("invalid /ipns record", { cause });
    }
  },
  select(_key: Uint8Array, values: readonly Uint8Array[]): number {
    return selectIpnsRecord(values);
  },
};

/** The validators every Amino DHT node runs (go requires exactly these two). */
export const DEFAULT_VALIDATORS: Validators = Object.freeze({
  pk: pkValidator,
  ipns: ipnsValidator,
});

/**
 * The namespace of a record key: the text between the leading `/` and the next `/`. Throws
 * {@link RecordValidationError} when the key has none.
 *
 * @example
 * ```ts
 * import { recordNamespace } from "@p2p-edge/libp2p/protocols/kad-dht";
 * recordNamespace(new TextEncoder().encode("/pk/\x12\x20")); // "pk"
 * ```
 */
export function recordNamespace(key: Uint8Array): string {
  if (key.byteLength > MAX_RECORD_KEY_BYTES) {
    throw new RecordValidationError(`record key longer than ${MAX_RECORD_KEY_BYTES} bytes`);
  }
  if (key.byteLength < 3 || key[0] !== 0x2f) {
    throw new RecordValidationError("key has no namespace");
  }
  const end = key.indexOf(0x2f, 1);
  if (end <= 1 || end === key.byteLength - 1) {
    throw new RecordValidationError("key has no namespace");
  }
  try {
    return utf8Decode(key.subarray(1, end));
  } catch (cause) {
    throw new RecordValidationError("key namespace is not UTF-8", { cause });
  }
}

function validatorFor(validators: Validators, key: Uint8Array): RecordValidator {
  const ns = recordNamespace(key);
  const v = Object.hasOwn(validators, ns) ? validators[ns] : undefined;
  if (v === undefined) throw new RecordValidationError(`unknown record namespace ${ns}`);
  return v;
}

/**
 * Validate a record by its key's namespace. Rejects with {@link RecordValidationError} for an
 * invalid record or an unknown namespace.
 *
 * @example
 * ```ts
 * import { DEFAULT_VALIDATORS, validateRecord } from "@p2p-edge/libp2p/protocols/kad-dht";
 * // await validateRecord(DEFAULT_VALIDATORS, key, value, Date.now());
 * ```
 */
export async function validateRecord(
  validators: Validators,
  key: Uint8Array,
  value: Uint8Array,
  now: number,
): Promise<void> {
  await validatorFor(validators, key).validate(key, value, now);
}

/**
 * Index of the best of several (valid) records for one key. Throws
 * {@link RecordValidationError} for an unknown namespace or an empty list.
 *
 * @example
 * ```ts
 * import { DEFAULT_VALIDATORS, selectRecord } from "@p2p-edge/libp2p/protocols/kad-dht";
 * // const best = values[selectRecord(DEFAULT_VALIDATORS, key, values)];
 * ```
 */
export function selectRecord(
  validators: Validators,
  key: Uint8Array,
  values: readonly Uint8Array[],
): number {
  if (values.length === 0) throw new RecordValidationError("no records to select from");
  const i = validatorFor(validators, key).select(key, values);
  if (!Number.isInteger(i) || i < 0 || i >= values.length) {
    throw new RecordValidationError(`selector returned an invalid index ${i}`);
  }
  return i;
}
