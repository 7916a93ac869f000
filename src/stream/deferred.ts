/**
 * A promise made on demand and settled once, from outside: what a byte channel's `drained()` and
 * pending `read()` hand out while they wait. Internal to the stream layer and its transports.
 *
 * @module
 */

/**
 * A one-shot waiter: `promise` is created on first use; `resolve`/`reject` settle it and forget
 * it, so the next wait gets a fresh promise.
 */
export class Deferred<T> {
  #promise: Promise<T> | undefined;
  #resolve: ((value: T) => void) | undefined;
  #reject: ((reason: unknown) => void) | undefined;

  /** Whether someone is waiting (a promise was handed out and not settled yet). */
  get waiting(): boolean {
    return this.#promise !== undefined;
  }

  /** The pending promise, created if there is none. */
  get promise(): Promise<T> {
    this.#promise ??= new Promise<T>((resolve, reject) => {
      this.#resolve = resolve;
      this.#reject = reject;
    });
    return this.#promise;
  }

  /** Settle the pending promise (if any) with `value`. */
  resolve(value: T): void {
    const resolve = this.#resolve;
    this.#clear();
    resolve?.(value);
  }

  /** Reject the pending promise (if any) with `reason`. */
  reject(reason: unknown): void {
    const reject = this.#reject;
    this.#clear();
    reject?.(reason);
  }

  #clear(): void {
    this.#promise = undefined;
    this.#resolve = undefined;
    this.#reject = undefined;
  }
}
