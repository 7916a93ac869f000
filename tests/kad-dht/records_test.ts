/**
 * Record validators: the six public IPNS vectors (tests/vectors/ipns/NOTE.md), IPNS records made
 * here (selection, expiry against the injected now, V1/CBOR mismatch, pubKey bound to the name,
 * size cap before parsing), `/pk` records, and namespaces.
 */

import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { sha256 } from "@noble/hashes/sha2.js";
import { concat, utf8Decode, utf8Encode } from "../../src/bytes.ts";
import { generateKeyPair, peerIdFromPublicKey, publicKeyToProtobuf } from "../../src/keys/mod.ts";
import { CID } from "../../src/multiformats/cid.ts";
import { createMultihash } from "../../src/multiformats/multihash.ts";
import { ipnsKey, makeRecord } from "./ipns_fixture.ts";
import { parseRfc3339, verifyIpnsRecord } from "../../protocols/kad-dht/ipns.ts";
import {
  DEFAULT_VALIDATORS,
  recordNamespace,
  RecordValidationError,
  selectRecord,
  validateRecord,
} from "../../protocols/kad-dht/records.ts";

const VECTORS = fileURLToPath(new URL("../vectors/ipns/", import.meta.url));
const NOW = Date.UTC(2026, 11, 4);

function vector(suffix: string): { key: Uint8Array; record: Uint8Array } {
  const file = readdirSync(VECTORS).find((f) => f.endsWith(`_${suffix}.ipns-record`));
  assert.ok(file !== undefined, suffix);
  const name = CID.parse(file.split("_")[0]).multihash.bytes;
  return { key: ipnsKey(name), record: new Uint8Array(readFileSync(VECTORS + file)) };
}

describe("kad-dht records: the six public IPNS vectors", () => {
  const cases: [string, string | undefined][] = [
    ["v1", undefined],
    ["v1-v2", "/ipfs/bafkqaddwgevxmmraojswg33smq"],
    ["v1-v2-broken-v1-value", undefined],
    ["v1-v2-broken-signature-v2", undefined],
    ["v1-v2-broken-signature-v1", "/ipfs/bafkqahtwgevxmmrao5uxi2bamjzg623fnyqhg2lhnzqxi5lsmuqhmmi"],
    ["v2", "/ipfs/bafkqadtwgiww63tmpeqhezldn5zgi"],
  ];
  for (const [suffix, value] of cases) {
    it(`${suffix}: ${value === undefined ? "invalid" : "valid"}`, async () => {
      const { key, record } = vector(suffix);
      if (value === undefined) {
        await assert.rejects(
          validateRecord(DEFAULT_VALIDATORS, key, record, NOW),
          RecordValidationError,
        );
      } else {
        await validateRecord(DEFAULT_VALIDATORS, key, record, NOW);
        const v = await verifyIpnsRecord(key, record, NOW);
        assert.equal(utf8Decode(v.data.value), value);
      }
    });
  }

  it("a valid vector expires at its EOL (injected now) and fails under another name", async () => {
    const { key, record } = vector("v2");
    const eol = Date.UTC(2123, 7, 14, 12, 17, 3, 694);
    await validateRecord(DEFAULT_VALIDATORS, key, record, eol - 1);
    // EOL is ...03.694052Z: still valid at .694 ms (52 µs left), expired one ms later.
    await validateRecord(DEFAULT_VALIDATORS, key, record, eol);
    await assert.rejects(
      validateRecord(DEFAULT_VALIDATORS, key, record, eol + 1),
      /expired/,
    );
    const other = vector("v1-v2").key;
    await assert.rejects(
      validateRecord(DEFAULT_VALIDATORS, other, record, NOW),
      RecordValidationError,
    );
  });
});

describe("kad-dht records: mutated IPNS vectors", () => {
  it("never validate with a changed signed byte and only raise RecordValidationError", async () => {
    const { key, record } = vector("v2");
    let seed = 99;
    const rand = (n: number): number => {
      seed = (seed * 1103515245 + 12345) >>> 0;
      return seed % n;
    };
    let accepted = 0;
    for (let i = 0; i < 300; i++) {
      const m = record.slice(0, i % 3 === 0 ? 1 + rand(record.length) : record.length);
      m[rand(m.length)] ^= 1 + rand(255);
      try {
        await validateRecord(DEFAULT_VALIDATORS, key, m, NOW);
        accepted++;
      } catch (err) {
        assert.ok(err instanceof RecordValidationError, String(err));
      }
    }
    // A V2-only record has no unsigned bytes but its protobuf framing: nothing mutated passes.
    assert.equal(accepted, 0);
  });
});

describe("kad-dht records: IPNS", () => {
  const far = "2100-01-01T00:00:00.000000001Z";

  it("checks the size cap before parsing", async () => {
    const key = await generateKeyPair("Ed25519");
    const name = ipnsKey(peerIdFromPublicKey(key.publicKey).toBytes());
    const huge = new Uint8Array(10 * 1024 + 1).fill(0xff); // not even a protobuf
    await assert.rejects(validateRecord(DEFAULT_VALIDATORS, name, huge, NOW), /exceeds 10240/);
  });

  it("selects the highest sequence, then the latest validity", async () => {
    const key = await generateKeyPair("Ed25519");
    const name = ipnsKey(peerIdFromPublicKey(key.publicKey).toBytes());
    const a = await makeRecord(key, { value: "/ipfs/a", validity: far, sequence: 1, ttl: 1 });
    const b = await makeRecord(key, { value: "/ipfs/b", validity: far, sequence: 2, ttl: 1 });
    const c = await makeRecord(key, {
      value: "/ipfs/c",
      validity: "2101-01-01T00:00:00Z",
      sequence: 2,
      ttl: 1,
    });
    for (const r of [a, b, c]) await validateRecord(DEFAULT_VALIDATORS, name, r, NOW);
    assert.equal(selectRecord(DEFAULT_VALIDATORS, name, [a, b]), 1);
    assert.equal(selectRecord(DEFAULT_VALIDATORS, name, [b, a]), 0);
    assert.equal(selectRecord(DEFAULT_VALIDATORS, name, [a, b, c]), 2);
    assert.equal(selectRecord(DEFAULT_VALIDATORS, name, [c, b]), 0);
    assert.equal(selectRecord(DEFAULT_VALIDATORS, name, [new Uint8Array([0xff]), a]), 1);
    assert.throws(() => selectRecord(DEFAULT_VALIDATORS, name, []), RecordValidationError);
  });

  it("V1 fields must equal the CBOR fields, and signatureV2 must verify", async () => {
    const key = await generateKeyPair("Ed25519");
    const name = ipnsKey(peerIdFromPublicKey(key.publicKey).toBytes());
    const f = { value: "/ipfs/x", validity: far, sequence: 5, ttl: 60 };
    await validateRecord(DEFAULT_VALIDATORS, name, await makeRecord(key, f, { v1: {} }), NOW);
    for (const v1 of [{ ttl: 61 }, { sequence: 4 }, { value: "/ipfs/y" }, { validity: "x" }]) {
      await assert.rejects(
        validateRecord(DEFAULT_VALIDATORS, name, await makeRecord(key, f, { v1 }), NOW),
        /V1 fields differ/,
      );
    }
    await assert.rejects(
      validateRecord(DEFAULT_VALIDATORS, name, await makeRecord(key, f, { badSig: true }), NOW),
      /does not verify/,
    );
    const expired = { ...f, validity: "2020-01-01T00:00:00+02:00" };
    await assert.rejects(
      validateRecord(DEFAULT_VALIDATORS, name, await makeRecord(key, expired), NOW),
      /expired/,
    );
  });

  it("a pubKey must hash to the name; a hashed name needs a pubKey", async () => {
    const rsaLike = await generateKeyPair("ECDSA"); // 91-byte key: sha2-256 peer id
    const name = ipnsKey(peerIdFromPublicKey(rsaLike.publicKey).toBytes());
    const f = { value: "/ipfs/x", validity: far, sequence: 1, ttl: 1 };
    const pub = publicKeyToProtobuf(rsaLike.publicKey);
    await validateRecord(
      DEFAULT_VALIDATORS,
      name,
      await makeRecord(rsaLike, f, { pubKey: pub }),
      NOW,
    );
    await assert.rejects(
      validateRecord(DEFAULT_VALIDATORS, name, await makeRecord(rsaLike, f), NOW),
      /no pubKey/,
    );
    const other = await generateKeyPair("ECDSA");
    const forged = await makeRecord(other, f, { pubKey: publicKeyToProtobuf(other.publicKey) });
    await assert.rejects(validateRecord(DEFAULT_VALIDATORS, name, forged, NOW), /does not match/);
  });

  it("parses RFC 3339 with nanoseconds and offsets", () => {
    assert.deepEqual(parseRfc3339("1970-01-01T00:00:00.000000001Z"), { ms: 0, subMsNanos: 1 });
    assert.deepEqual(parseRfc3339("1970-01-01T01:00:00.5+01:00"), { ms: 500, subMsNanos: 0 });
    for (const bad of ["1970-01-01", "1970-13-01T00:00:00Z", "1970-01-01T00:00:00.1234567890Z"]) {
      assert.throws(() => parseRfc3339(bad), RecordValidationError);
    }
  });
});

describe("kad-dht records: /pk and namespaces", () => {
  it("/pk: the value must hash to the key (identity and sha2-256)", async () => {
    const ed = await generateKeyPair("Ed25519");
    const edPub = publicKeyToProtobuf(ed.publicKey);
    const idKey = concat([utf8Encode("/pk/"), peerIdFromPublicKey(ed.publicKey).toBytes()]);
    await validateRecord(DEFAULT_VALIDATORS, idKey, edPub, NOW);
    const shaKey = concat([utf8Encode("/pk/"), createMultihash(0x12, sha256(edPub)).bytes]);
    await validateRecord(DEFAULT_VALIDATORS, shaKey, edPub, NOW);
    const other = publicKeyToProtobuf((await generateKeyPair("Ed25519")).publicKey);
    await assert.rejects(validateRecord(DEFAULT_VALIDATORS, shaKey, other, NOW), /does not hash/);
    // Hashes right but is no public key.
    const junk = new Uint8Array([1, 2, 3]);
    const junkKey = concat([utf8Encode("/pk/"), createMultihash(0x12, sha256(junk)).bytes]);
    await assert.rejects(
      validateRecord(DEFAULT_VALIDATORS, junkKey, junk, NOW),
      RecordValidationError,
    );
    assert.equal(selectRecord(DEFAULT_VALIDATORS, shaKey, [edPub, edPub]), 0);
  });

  it("rejects keys without a namespace or with an unknown one", async () => {
    assert.equal(recordNamespace(utf8Encode("/ipns/x")), "ipns");
    for (
      const k of ["abc", "/pk", "/pk/", "//x", "", "/foo/x", "/hasOwnProperty/x", "/__proto__/x"]
    ) {
      await assert.rejects(
        validateRecord(DEFAULT_VALIDATORS, utf8Encode(k), new Uint8Array(1), NOW),
        RecordValidationError,
        k,
      );
    }
    assert.throws(
      () => selectRecord(DEFAULT_VALIDATORS, utf8Encode("/foo/x"), [new Uint8Array(1)]),
      /unknown record namespace/,
    );
  });
});
