/**
 * Certificate rotation for WebTransport listeners (libp2p/specs webtransport/README.md
 * "Certificates": certificates valid at most 14 days; the next one is prepared and advertised
 * days before the current one expires, and the listener switches only when the current one
 * ends). The schedule is pure: it takes the time as an argument.
 *
 * Timeline (defaults): epoch E = first start - 1 h (clock skew). Certificate k is valid from
 * E + k·step to E + k·step + 14 d, with step = 14 d - 1 h, so consecutive certificates overlap
 * by one hour. Certificate k is served from E + k·step + 1 h until certificate k+1 takes over;
 * certificate k+1 is advertised (addresses and the Noise extension) from 4 days before
 * certificate k expires.
 *
 * @module
 */

import type { Multihash } from "../../src/multiformats/multihash.ts";
import { generateCertificate, type WebTransportCertificate } from "./cert.ts";
import {
  DEFAULT_ADVERTISE_NEXT_MS,
  DEFAULT_CERT_VALIDITY_MS,
  DEFAULT_CLOCK_SKEW_MS,
  MAX_CERT_VALIDITY_MS,
} from "./constants.ts";

/** Options of {@link CertificateSchedule}. */
export interface CertificateScheduleOptions {
  /** Validity of each certificate, ms (default and maximum 14 days). */
  validityMs?: number;
  /** Certificates start this long before they are first served, and overlap as much (1 h). */
  clockSkewMs?: number;
  /** Advertise the next certificate this long before the current one expires (4 days). */
  advertiseNextMs?: number;
}

/** Validity window of one certificate of the schedule. */
export interface CertificateWindow {
  /** Position in the schedule (0 = the first certificate). */
  readonly index: number;
  /** Start of validity, ms since the epoch. */
  readonly notBefore: number;
  /** End of validity, ms since the epoch. */
  readonly notAfter: number;
}

/** What the listener should do at one instant. */
export interface CertificatePlan {
  /** The certificate to serve. */
  readonly current: CertificateWindow;
  /** The next certificate, once it is advertised. */
  readonly next?: CertificateWindow;
  /** The previous certificate while it is still valid (accepted in the Noise extension). */
  readonly previous?: CertificateWindow;
  /** When the plan changes next, ms since the epoch. */
  readonly changesAt: number;
}

/**
 * The pure rotation schedule.
 *
 * @example
 * ```ts
 * import { CertificateSchedule } from "@p2p-edge/libp2p/transports/webtransport";
 * const start = Date.UTC(2030, 0, 1);
 * const schedule = new CertificateSchedule(start);
 * schedule.plan(start).current.index; // 0
 * schedule.plan(start + 11 * 86_400_000).next?.index; // 1
 * ```
 */
export class CertificateSchedule {
  /** E: start of certificate 0. */
  readonly epoch: number;
  /** Validity of each certificate, ms. */
  readonly validityMs: number;
  /** Skew allowance and overlap, ms. */
  readonly clockSkewMs: number;
  /** Lead time of advertising the next certificate, ms. */
  readonly advertiseNextMs: number;
  /** Distance between consecutive certificates' starts, ms. */
  readonly stepMs: number;

  /** `start` is the time the listener first serves a certificate (ms since the epoch). */
  constructor(start: number, options: CertificateScheduleOptions = {}) {
    const validity = options.validityMs ?? DEFAULT_CERT_VALIDITY_MS;
    const skew = options.clockSkewMs ?? DEFAULT_CLOCK_SKEW_MS;
    const advertise = options.advertiseNextMs ?? DEFAULT_ADVERTISE_NEXT_MS;
    if (!Number.isFinite(start)) throw new RangeError("start must be a finite time");
    if (!(validity > 0) || validity > MAX_CERT_VALIDITY_MS) {
      throw new RangeError("validityMs must be in (0, 14 days]");
    }
    if (!(skew >= 0) || 2 * skew >= validity) {
      throw new RangeError("clockSkewMs must be >= 0 and below half the validity");
    }
    if (!(advertise > skew) || advertise >= validity - skew) {
      throw new RangeError("advertiseNextMs must be above clockSkewMs and below the validity");
    }
    this.epoch = start - skew;
    this.validityMs = validity;
    this.clockSkewMs = skew;
    this.advertiseNextMs = advertise;
    this.stepMs = validity - skew;
  }

  /** The validity window of certificate `index`. */
  window(index: number): CertificateWindow {
    const notBefore = this.epoch + index * this.stepMs;
    return { index, notBefore, notAfter: notBefore + this.validityMs };
  }

  /** What to serve and advertise at time `now`. */
  plan(now: number): CertificatePlan {
    const served = Math.max(0, Math.floor((now - this.epoch - this.clockSkewMs) / this.stepMs));
    const current = this.window(served);
    const switchAt = this.window(served + 1).notBefore + this.clockSkewMs;
    const advertiseAt = current.notAfter - this.advertiseNextMs;
    const previous = served > 0 && this.window(served - 1).notAfter > now
      ? this.window(served - 1)
      : undefined;
    const candidates = [switchAt];
    if (now < advertiseAt) candidates.push(advertiseAt);
    if (previous !== undefined) candidates.push(previous.notAfter);
    return {
      current,
      next: now >= advertiseAt ? this.window(served + 1) : undefined,
      previous,
      changesAt: Math.min(...candidates),
    };
  }
}

/** The certificates a listener holds at one instant. */
export interface CertificateSet {
  /** The certificate to serve. */
  readonly current: WebTransportCertificate;
  /** Hashes to advertise in addresses: current, then next when advertised. */
  readonly advertised: readonly Multihash[];
  /** Hashes to send in the Noise extension: previous (while valid), current, next. */
  readonly accepted: readonly Multihash[];
  /** When to call {@link CertificateManager.update} again. */
  readonly changesAt: number;
}

/**
 * Generates and caches certificates along a {@link CertificateSchedule}.
 *
 * @example
 * ```ts
 * import { CertificateManager } from "@p2p-edge/libp2p/transports/webtransport";
 * const manager = new CertificateManager({ now: () => Date.now() });
 * const set = await manager.update();
 * set.advertised.length; // 1
 * ```
 */
export class CertificateManager {
  /** The schedule certificates follow. */
  readonly schedule: CertificateSchedule;
  readonly #now: () => number;
  readonly #certs = new Map<number, Promise<WebTransportCertificate>>();

  /** `now` is the clock (injected for tests). */
  constructor(options: CertificateScheduleOptions & { now?: () => number } = {}) {
    this.#now = options.now ?? Date.now;
    this.schedule = new CertificateSchedule(this.#now(), options);
  }

  #cert(index: number): Promise<WebTransportCertificate> {
    let cert = this.#certs.get(index);
    if (cert === undefined) {
      const w = this.schedule.window(index);
      cert = generateCertificate({ notBefore: w.notBefore, notAfter: w.notAfter });
      this.#certs.set(index, cert);
    }
    return cert;
  }

  /** The certificate set for the current time; certificates no longer needed are dropped. */
  async update(): Promise<CertificateSet> {
    const plan = this.schedule.plan(this.#now());
    const keep = [plan.previous?.index, plan.current.index, plan.next?.index].filter(
      (i): i is number => i !== undefined,
    );
    for (const index of [...this.#certs.keys()]) {
      if (!keep.includes(index)) this.#certs.delete(index);
    }
    const current = await this.#cert(plan.current.index);
    const next = plan.next === undefined ? undefined : await this.#cert(plan.next.index);
    const previous = plan.previous === undefined
      ? undefined
      : await this.#cert(plan.previous.index);
    const advertised = [current.certhash, ...(next ? [next.certhash] : [])];
    return {
      current,
      advertised,
      accepted: [...(previous ? [previous.certhash] : []), ...advertised],
      changesAt: plan.changesAt,
    };
  }
}
