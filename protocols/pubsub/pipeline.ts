/**
 * The service's validation step for one first-seen message: the signing policy (signature,
 * key, fields), then the topic's validator, under a deadline and a cap on validations in
 * flight (HARDENING.md rule 4). The outcome goes back to the router.
 *
 * @module
 */

import type { PeerId } from "../../src/peer_id.ts";
import type {
  PubsubAuthor,
  PubsubServiceOptions,
  TopicValidator,
} from "./service_types.ts";
import type { IncomingMessage, ValidationResult } from "./types.ts";

/** Validation deadline of one message (go `DefaultValidateTimeout`... js has none; 5 s). */
export const DEFAULT_VALIDATE_TIMEOUT_MS = 5_000;

/**
 * Validations in flight at most; a message arriving past it is ignored (go's validation queue
 * is 32 deep per topic with 1024 workers... a flat cap here, HARDENING.md rule 4).
 */
export const DEFAULT_MAX_INFLIGHT_VALIDATIONS = 1_024;

/**
 * Validates first-seen messages for a service.
 *
 * @example
 * ```ts
 * import { MessagePipeline } from "./pipeline.ts";
 * // const pipeline = new MessagePipeline({ author, validators, peerIdOf, options: {} });
 * // const result = await pipeline.validate(incoming); // "accept" | "reject" | "ignore"
 * ```
 */
export class MessagePipeline {
  readonly #author: PubsubAuthor;
  readonly #validators: Map<string, TopicValidator>;
  readonly #peerIdOf: (key: string) => PeerId | undefined;
  readonly #timeoutMs: number;
  readonly #maxInflight: number;
  #inflight = 0;
  /** Messages ignored because too many validations were in flight. */
  overflowed = 0;

  /** A pipeline checking with `author` and the topic `validators`. */
  constructor(init: {
    author: PubsubAuthor;
    validators: Map<string, TopicValidator>;
    peerIdOf: (key: string) => PeerId | undefined;
    options: PubsubServiceOptions;
  }) {
    this.#author = init.author;
    this.#validators = init.validators;
    this.#peerIdOf = init.peerIdOf;
    this.#timeoutMs = init.options.validateTimeoutMs ?? DEFAULT_VALIDATE_TIMEOUT_MS;
    this.#maxInflight = init.options.maxInflightValidations ?? DEFAULT_MAX_INFLIGHT_VALIDATIONS;
  }

  /** Validations running. */
  get inflight(): number {
    return this.#inflight;
  }

  /** The outcome for `incoming`; never rejects (a failing validator counts as "reject"). */
  async validate(incoming: IncomingMessage): Promise<ValidationResult> {
    if (this.#inflight >= this.#maxInflight) {
      this.overflowed++;
      return "ignore";
    }
    this.#inflight++;
    try {
      if (!(await this.#author.check(incoming.message))) return "reject";
      const validator = this.#validators.get(incoming.message.topic);
      if (validator === undefined) return "accept";
      const peer = this.#peerIdOf(incoming.from);
      if (peer === undefined) return "ignore";
      const detail = this.#author.detail(incoming.message, incoming.id, peer);
      return await withDeadline(
        Promise.resolve().then(() => validator(peer, detail)),
        this.#timeoutMs,
      );
    } catch {
      return "reject";
    } finally {
      this.#inflight--;
    }
  }

  /** Forget state at stop (nothing is held beyond the counters). */
  clear(): void {
    this.overflowed = 0;
  }
}

/** `promise`'s result, or "ignore" when it takes longer than `ms`. */
async function withDeadline(
  promise: Promise<ValidationResult>,
  ms: number,
): Promise<ValidationResult> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<ValidationResult>((resolve) => {
    timer = setTimeout(() => resolve("ignore"), ms);
  });
  try {
    const r = await Promise.race([promise, late]);
    return r === "accept" || r === "reject" || r === "ignore" ? r : "reject";
  } finally {
    clearTimeout(timer);
  }
}
