/**
 * The validation pipeline the pubsub services run on every first-seen message before the router
 * may forward it (gossipsub-v1.1.md "Extended Validators"; research §2.2 "Forward"):
 *
 * 1. over the in-flight cap (HARDENING.md rule 7) → `"ignore"` at once, counted as throttled
 *    (go's `ValidationThrottled`: dropped without penalising the sender);
 * 2. the signature policy ({@link checkSignaturePolicy}) → `"reject"` on failure;
 * 3. the topic's validator, if any: its result; an exception or rejection → `"reject"`; no
 *    answer within the timeout → `"ignore"` (the validator's `signal` aborts).
 *
 * Synchronous validators settle without a timer. Timers come from an injectable source so tests
 * drive them without sleeping.
 *
 * @module
 */

import {
  checkSignaturePolicy,
  DEFAULT_SIGNATURE_POLICY,
  type SignaturePolicy,
  type SignatureRejection,
} from "./signing.ts";
import type { PubsubMessage, ValidationResult } from "./types.ts";

/**
 * A topic validator (js-libp2p's `TopicValidatorFn`, with the topic first). `signal` aborts when
 * the pipeline stops waiting (timeout or caller abort).
 */
export type TopicValidator = (
  topic: string,
  message: PubsubMessage,
  peer: string,
  signal: AbortSignal,
) => ValidationResult | Promise<ValidationResult>;

/** Timer functions (default: the global ones). */
export interface ValidationTimers {
  /** Call `callback` after `ms`; returns a handle for {@link clearTimeout}. */
  setTimeout(callback: () => void, ms: number): unknown;
  /** Cancel a timer set by {@link setTimeout}. */
  clearTimeout(handle: unknown): void;
}

/**
 * Ours: go and js set no validator timeout by default (go offers `WithValidatorTimeout` per
 * topic; js says validators "must resolve fast (< 100ms)"). 5 s bounds how long a message holds
 * an in-flight slot when a validator hangs.
 */
export const DEFAULT_VALIDATION_TIMEOUT_MS = 5_000;
/** go `defaultValidateThrottle`: validations in flight over all topics. */
export const DEFAULT_MAX_VALIDATIONS_IN_FLIGHT = 8192;
/** go `defaultValidateConcurrency`: validations in flight for one topic. */
export const DEFAULT_MAX_VALIDATIONS_PER_TOPIC = 1024;
/** Cap on registered topic validators (HARDENING.md rule 4; the application registers them). */
export const MAX_TOPIC_VALIDATORS = 10_000;

/** Options of {@link ValidationPipeline}. */
export interface ValidationPipelineOptions {
  /** Default {@link DEFAULT_SIGNATURE_POLICY}. */
  policy?: SignaturePolicy;
  /** Default {@link DEFAULT_VALIDATION_TIMEOUT_MS}. */
  timeoutMs?: number;
  /** Default {@link DEFAULT_MAX_VALIDATIONS_IN_FLIGHT}. */
  maxInFlight?: number;
  /** Default {@link DEFAULT_MAX_VALIDATIONS_PER_TOPIC}. */
  maxInFlightPerTopic?: number;
  /** Default: `globalThis.setTimeout` / `clearTimeout`. */
  timers?: ValidationTimers;
}

/** Why a message got its result. */
export type ValidationReason =
  | "accepted"
  | "no-validator"
  | "validator"
  | "signature"
  | "threw"
  | "bad-result"
  | "timeout"
  | "throttled"
  | "aborted";

/** The outcome of one validation. */
export interface ValidationOutcome {
  /** What the router does with the message. */
  result: ValidationResult;
  /** Which step decided it. */
  reason: ValidationReason;
  /** With reason `"signature"`: what was wrong. */
  signature?: SignatureRejection;
}

/** Counters since construction. */
export interface ValidationStats {
  /** Results `"accept"`. */
  accepted: number;
  /** Results `"reject"`. */
  rejected: number;
  /** Results `"ignore"`. */
  ignored: number;
  /** Over the in-flight cap (included in `ignored`). */
  throttled: number;
  /** No validator answer in time (included in `ignored`). */
  timedOut: number;
  /** Validator threw or rejected (included in `rejected`). */
  threw: number;
  /** Failed the signature policy (included in `rejected`). */
  badSignature: number;
}

const defaultTimers: ValidationTimers = {
  setTimeout: (callback, ms) => globalThis.setTimeout(callback, ms),
  clearTimeout: (handle) => globalThis.clearTimeout(handle as number),
};

function isThenable(value: unknown): value is PromiseLike<ValidationResult> {
  return typeof (value as { then?: unknown } | null)?.then === "function";
}

function isResult(value: unknown): value is ValidationResult {
  return value === "accept" || value === "reject" || value === "ignore";
}

/**
 * Signature policy plus per-topic validators, with a timeout and in-flight caps.
 *
 * @example
 * ```ts
 * import { ValidationPipeline } from "./validation.ts";
 * const pipeline = new ValidationPipeline({ policy: "StrictNoSign" });
 * pipeline.setValidator("chat", (_topic, message) => message.data?.length ? "accept" : "reject");
 * const outcome = await pipeline.validate({ topic: "chat", data: new Uint8Array([1]) }, "peer");
 * outcome.result; // "accept"
 * ```
 */
export class ValidationPipeline {
  /** The signature policy checked first. */
  readonly policy: SignaturePolicy;
  readonly #timeoutMs: number;
  readonly #maxInFlight: number;
  readonly #maxPerTopic: number;
  readonly #timers: ValidationTimers;
  readonly #validators = new Map<string, TopicValidator>();
  readonly #perTopic = new Map<string, number>();
  #inFlight = 0;
  readonly #stats: ValidationStats = {
    accepted: 0,
    rejected: 0,
    ignored: 0,
    throttled: 0,
    timedOut: 0,
    threw: 0,
    badSignature: 0,
  };

  /** A pipeline with the given policy, timeout and caps. */
  constructor(options: ValidationPipelineOptions = {}) {
    this.policy = options.policy ?? DEFAULT_SIGNATURE_POLICY;
    this.#timeoutMs = positive("timeoutMs", options.timeoutMs ?? DEFAULT_VALIDATION_TIMEOUT_MS);
    this.#maxInFlight = positive(
      "maxInFlight",
      options.maxInFlight ?? DEFAULT_MAX_VALIDATIONS_IN_FLIGHT,
    );
    this.#maxPerTopic = positive(
      "maxInFlightPerTopic",
      options.maxInFlightPerTopic ?? DEFAULT_MAX_VALIDATIONS_PER_TOPIC,
    );
    this.#timers = options.timers ?? defaultTimers;
  }

  /** Register (or replace) the validator of `topic`. */
  setValidator(topic: string, validator: TopicValidator): void {
    if (!this.#validators.has(topic) && this.#validators.size >= MAX_TOPIC_VALIDATORS) {
      throw new RangeError(`more than ${MAX_TOPIC_VALIDATORS} topic validators`);
    }
    this.#validators.set(topic, validator);
  }

  /** Remove the validator of `topic`; true if there was one. */
  removeValidator(topic: string): boolean {
    return this.#validators.delete(topic);
  }

  /** The validator of `topic`, if any. */
  getValidator(topic: string): TopicValidator | undefined {
    return this.#validators.get(topic);
  }

  /** Validations currently running. */
  get inFlight(): number {
    return this.#inFlight;
  }

  /** A snapshot of the counters. */
  get stats(): ValidationStats {
    return { ...this.#stats };
  }

  /**
   * Validate `message`, received from `peer` (peer id text). Never rejects: every failure is an
   * outcome.
   */
  async validate(
    message: PubsubMessage,
    peer: string,
    options?: { signal?: AbortSignal },
  ): Promise<ValidationOutcome> {
    const topic = message.topic;
    const topicCount = this.#perTopic.get(topic) ?? 0;
    if (this.#inFlight >= this.#maxInFlight || topicCount >= this.#maxPerTopic) {
      this.#stats.throttled++;
      return this.#count({ result: "ignore", reason: "throttled" });
    }
    if (options?.signal?.aborted) return this.#count({ result: "ignore", reason: "aborted" });
    this.#inFlight++;
    this.#perTopic.set(topic, topicCount + 1);
    try {
      return this.#count(await this.#run(message, peer, options?.signal));
    } finally {
      this.#inFlight--;
      const left = (this.#perTopic.get(topic) ?? 1) - 1;
      if (left === 0) this.#perTopic.delete(topic);
      else this.#perTopic.set(topic, left);
    }
  }

  async #run(
    message: PubsubMessage,
    peer: string,
    signal?: AbortSignal,
  ): Promise<ValidationOutcome> {
    const check = await checkSignaturePolicy(message, this.policy);
    if (!check.valid) {
      this.#stats.badSignature++;
      return { result: "reject", reason: "signature", signature: check.reason };
    }
    const validator = this.#validators.get(message.topic);
    if (validator === undefined) return { result: "accept", reason: "no-validator" };
    const controller = new AbortController();
    let answer: ValidationResult | Promise<ValidationResult>;
    try {
      answer = validator(message.topic, message, peer, controller.signal);
    } catch {
      this.#stats.threw++;
      return { result: "reject", reason: "threw" };
    }
    if (!isThenable(answer)) return this.#judge(answer);
    return await this.#race(Promise.resolve(answer), controller, signal);
  }

  #race(
    answer: Promise<ValidationResult>,
    controller: AbortController,
    signal: AbortSignal | undefined,
  ): Promise<ValidationOutcome> {
    return new Promise<ValidationOutcome>((resolve) => {
      let done = false;
      const finish = (outcome: ValidationOutcome): void => {
        if (done) return;
        done = true;
        this.#timers.clearTimeout(timer);
        signal?.removeEventListener("abort", onAbort);
        if (outcome.reason === "timeout" || outcome.reason === "aborted") controller.abort();
        resolve(outcome);
      };
      const onAbort = (): void => finish({ result: "ignore", reason: "aborted" });
      const timer = this.#timers.setTimeout(() => {
        this.#stats.timedOut++;
        finish({ result: "ignore", reason: "timeout" });
      }, this.#timeoutMs);
      signal?.addEventListener("abort", onAbort, { once: true });
      answer.then(
        (value) => finish(this.#judge(value)),
        () => {
          if (done) return;
          this.#stats.threw++;
          finish({ result: "reject", reason: "threw" });
        },
      );
    });
  }

  #judge(value: unknown): ValidationOutcome {
    if (!isResult(value)) return { result: "reject", reason: "bad-result" };
    return { result: value, reason: value === "accept" ? "accepted" : "validator" };
  }

  #count(outcome: ValidationOutcome): ValidationOutcome {
    if (outcome.result === "accept") this.#stats.accepted++;
    else if (outcome.result === "reject") this.#stats.rejected++;
    else this.#stats.ignored++;
    return outcome;
  }
}

/** Delays above 2^31-1 ms fire at once (HARDENING.md rule 3). */
const MAX_TIMER_MS = 2 ** 31 - 1;

function positive(name: string, value: number): number {
  if (!(Number.isFinite(value) && value > 0 && value <= MAX_TIMER_MS)) {
    throw new RangeError(`${name} must be in (0, 2^31-1], got ${value}`);
  }
  return value;
}
