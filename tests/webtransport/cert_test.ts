/**
 * WebTransport certificates and their rotation: pure, runs on Deno and Bun (WebCrypto only).
 */

import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { p256 } from "@noble/curves/nist.js";
import { sha256 } from "@noble/hashes/sha2.js";
import { CertificateManager } from "../../transports/webtransport/mod.ts";
import { CertificateSchedule } from "../../transports/webtransport/certificates.ts";
import { DAY_MS, MAX_CERT_VALIDITY_MS } from "../../transports/webtransport/constants.ts";
import {
  encodeTime,
  generateCertificate,
  parseCertificate,
  toPem,
} from "../../transports/webtransport/cert.ts";
import { DecodeError } from "../../src/errors.ts";

const HOUR = 3_600_000;
const T0 = Date.UTC(2031, 4, 6, 7, 8, 9);

describe("webtransport certificate", () => {
  it("parses back: v3, ECDSA P-256, the requested validity, CN=libp2p", async () => {
    const cert = await generateCertificate({ notBefore: T0, notAfter: T0 + 14 * DAY_MS });
    const parsed = parseCertificate(cert.der);
    assert.equal(parsed.version, 2);
    assert.equal(parsed.notBefore, T0);
    assert.equal(parsed.notAfter, T0 + 14 * DAY_MS);
    assert.ok(parsed.notAfter - parsed.notBefore <= MAX_CERT_VALIDITY_MS);
    assert.equal(parsed.issuer, "libp2p");
    assert.equal(parsed.subject, "libp2p");
    assert.equal(parsed.publicKey.byteLength, 65);
    assert.equal(parsed.publicKey[0], 0x04);
    assert.ok(parsed.serial.byteLength > 0 && parsed.serial.byteLength <= 20);
    assert.equal(cert.notBefore, T0);
  });

  it("is self-signed: the signature verifies with the certified key (noble P-256)", async () => {
    const cert = await generateCertificate({ notBefore: T0, notAfter: T0 + DAY_MS });
    const parsed = parseCertificate(cert.der);
    const ok = p256.verify(parsed.signature, sha256(parsed.tbs), parsed.publicKey, {
      prehash: false,
      lowS: false,
      format: "der",
    });
    assert.equal(ok, true);
    const tampered = parsed.tbs.slice();
    tampered[tampered.length - 1] ^= 1;
    assert.equal(
      p256.verify(parsed.signature, sha256(tampered), parsed.publicKey, {
        prehash: false,
        lowS: false,
        format: "der",
      }),
      false,
    );
  });

  it("certhash is the sha2-256 multihash of the DER", async () => {
    const cert = await generateCertificate({ notBefore: T0, notAfter: T0 + DAY_MS });
    assert.equal(cert.certhash.code, 0x12);
    assert.deepEqual(cert.certhash.digest, sha256(cert.der));
    assert.deepEqual(cert.certhash.bytes.subarray(0, 2), new Uint8Array([0x12, 0x20]));
  });

  it("PEM wraps base64 at 64 columns and round-trips", async () => {
    const cert = await generateCertificate({ notBefore: T0, notAfter: T0 + DAY_MS });
    const lines = cert.certPem.trim().split("\n");
    assert.equal(lines[0], "-----BEGIN CERTIFICATE-----");
    assert.equal(lines.at(-1), "-----END CERTIFICATE-----");
    assert.ok(lines.slice(1, -1).every((l) => l.length <= 64));
    const der = Uint8Array.from(atob(lines.slice(1, -1).join("")), (c) => c.charCodeAt(0));
    assert.deepEqual(der, cert.der);
    assert.ok(cert.keyPem.startsWith("-----BEGIN PRIVATE KEY-----\n"));
    assert.equal(
      toPem("X", new Uint8Array([1, 2, 3])),
      "-----BEGIN X-----\nAQID\n-----END X-----\n",
    );
  });

  it("refuses validity above 14 days or empty", async () => {
    await assert.rejects(
      generateCertificate({ notBefore: T0, notAfter: T0 + 14 * DAY_MS + 1000 }),
      RangeError,
    );
    await assert.rejects(generateCertificate({ notBefore: T0, notAfter: T0 }), RangeError);
  });

  it("encodes UTCTime before 2050 and GeneralizedTime from 2050", () => {
    const utc = encodeTime(Date.UTC(2049, 11, 31, 23, 59, 59));
    assert.equal(utc[0], 0x17);
    assert.equal(new TextDecoder().decode(utc.subarray(2)), "491231235959Z");
    const gen = encodeTime(Date.UTC(2050, 0, 1));
    assert.equal(gen[0], 0x18);
    assert.equal(new TextDecoder().decode(gen.subarray(2)), "20500101000000Z");
  });

  it("parser rejects trailing bytes and truncation", async () => {
    const cert = await generateCertificate({ notBefore: T0, notAfter: T0 + DAY_MS });
    assert.throws(() => parseCertificate(new Uint8Array([...cert.der, 0])), DecodeError);
    assert.throws(() => parseCertificate(cert.der.subarray(0, cert.der.length - 1)), DecodeError);
  });
});

describe("webtransport certificate rotation (injected clock)", () => {
  const schedule = new CertificateSchedule(T0);

  it("first certificate starts one hour early and lasts 14 days", () => {
    const plan = schedule.plan(T0);
    assert.equal(plan.current.index, 0);
    assert.equal(plan.current.notBefore, T0 - HOUR);
    assert.equal(plan.current.notAfter, T0 - HOUR + 14 * DAY_MS);
    assert.equal(plan.next, undefined);
    assert.equal(plan.changesAt, T0 - HOUR + 10 * DAY_MS);
  });

  it("advertises the next certificate from day 10, which starts 1 h before the current ends", () => {
    const plan = schedule.plan(T0 - HOUR + 10 * DAY_MS);
    assert.equal(plan.current.index, 0);
    assert.equal(plan.next?.index, 1);
    assert.equal(plan.next!.notBefore, plan.current.notAfter - HOUR);
    assert.equal(plan.changesAt, plan.current.notAfter);
  });

  it("switches to the next certificate when the current one expires, never serving an expired one", () => {
    for (let t = T0; t < T0 + 60 * DAY_MS; t += 7 * HOUR) {
      const plan = schedule.plan(t);
      assert.ok(plan.current.notBefore <= t, "served certificate already valid");
      assert.ok(t < plan.current.notAfter, "served certificate not expired");
      assert.ok(plan.current.notAfter - plan.current.notBefore <= MAX_CERT_VALIDITY_MS);
      assert.ok(plan.changesAt > t);
      if (plan.next !== undefined) assert.equal(plan.next.index, plan.current.index + 1);
    }
    const after = schedule.plan(schedule.window(0).notAfter);
    assert.equal(after.current.index, 1);
    assert.equal(after.next, undefined);
  });

  it("rejects schedules that break the 14-day rule", () => {
    assert.throws(() => new CertificateSchedule(T0, { validityMs: 15 * DAY_MS }), RangeError);
    assert.throws(() => new CertificateSchedule(T0, { advertiseNextMs: 0 }), RangeError);
  });

  it("manager follows the clock: same certificate until day 10, then current + next", async () => {
    let now = T0;
    const manager = new CertificateManager({ now: () => now });
    const first = await manager.update();
    assert.equal(first.advertised.length, 1);
    assert.deepEqual(first.advertised[0].bytes, first.current.certhash.bytes);
    now = T0 + 5 * DAY_MS;
    const same = await manager.update();
    assert.equal(same.current, first.current);
    now = T0 + 11 * DAY_MS;
    const overlap = await manager.update();
    assert.equal(overlap.current, first.current);
    assert.equal(overlap.advertised.length, 2);
    now = T0 + 14 * DAY_MS;
    const rotated = await manager.update();
    assert.notEqual(rotated.current, first.current);
    assert.deepEqual(rotated.current.certhash.bytes, overlap.advertised[1].bytes);
    const parsed = parseCertificate(rotated.current.der);
    assert.ok(parsed.notBefore <= now && now < parsed.notAfter);
  });
});
