/**
 * The service's validation step: validation.ts's {@link ValidationPipeline} (signing policy,
 * then the topic's validator, under a timeout and in-flight caps; HARDENING.md rule 4), fed
 * from the service's js-style `topicValidators` map, whose validators take the sender's PeerId
 * and the application's view of the message.
 *
 * @module
 */

import type { PeerId } from "../../src/peer_id.ts";
import type {
  PubsubAuthor,
  PubsubClock,
  PubsubServiceOptions,
  TopicValidator,
} from "./service_types.ts";
import type { IncomingMessage, PubsubMessage, ValidationResult } from "./types.ts";
import { ValidationPipeline, type ValidationStats } from "./validation.ts";

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
  readonly #pipeline: ValidationPipeline;
  /** The user validator each topic's adapter was made for. */
  readonly #wrapped = new Map<string, TopicValidator>();
  /** The message ids of the messages being validated, by message object. */
  readonly #ids = new WeakMap<PubsubMessage, Uint8Array>();

  /** A pipeline checking with `author`'s policy and the topic `validators`. */
  constructor(init: {
    author: PubsubAuthor;
    validators: Map<string, TopicValidator>;
    peerIdOf: (key: string) => PeerId | undefined;
    options: PubsubServiceOptions;
    clock: PubsubClock;
  }) {
    this.#author = init.author;
    this.#validators = init.validators;
    this.#peerIdOf = init.peerIdOf;
    this.#pipeline = new ValidationPipeline({
      policy: init.author.policy,
      timeoutMs: init.options.validateTimeoutMs,
      maxInFlight: init.options.maxInflightValidations,
      timers: init.clock,
    });
  }

  /** Counters of the underlying pipeline. */
  get stats(): ValidationStats {
    return this.#pipeline.stats;
  }

  /** The outcome for `incoming`; never rejects. */
  async validate(incoming: IncomingMessage): Promise<ValidationResult> {
    this.#sync(incoming.message.topic);
    this.#ids.set(incoming.message, incoming.id);
    return (await this.#pipeline.validate(incoming.message, incoming.from)).result;
  }

  /** Make the pipeline's validator of `topic` follow the `topicValidators` map. */
  #sync(topic: string): void {
    const user = this.#validators.get(topic);
    if (user === this.#wrapped.get(topic)) return;
    if (user === undefined) {
      this.#wrapped.delete(topic);
      this.#pipeline.removeValidator(topic);
      return;
    }
    this.#wrapped.set(topic, user);
    this.#pipeline.setValidator(topic, (_topic, message, peer) => {
      const peerId = this.#peerIdOf(peer);
      if (peerId === undefined) return "ignore"; // the peer left while we validated
      const id = this.#ids.get(message) ?? this.#author.msgId(message);
      return user(peerId, this.#author.detail(message, id, peerId));
    });
  }

  /** Forget the adapters (at stop). */
  clear(): void {
    for (const topic of this.#wrapped.keys()) this.#pipeline.removeValidator(topic);
    this.#wrapped.clear();
  }
}
