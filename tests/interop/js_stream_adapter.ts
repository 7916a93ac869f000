/**
 * Adapters between our web-streams {@link Duplex} and js-libp2p 3.x message streams, for interop
 * tests that hand one side of an in-memory pipe to a js-libp2p module (multistream-select, noise,
 * yamux, ...).
 *
 * js-libp2p 3.x streams are not web streams: they are event targets (`message`, `drain`,
 * `remoteCloseWrite`, `close`, `end`, `idle` events) with `send()` / `push()` / `unshift()` /
 * `close()` / `abort()` methods (see @libp2p/interface `MessageStream` and `Stream`, and
 * @libp2p/utils `AbstractMessageStream`, whose observable behaviour this mirrors). Only web APIs
 * are used here, so the adapter needs no js-libp2p package of its own.
 *
 * - {@link toJsStream}: wrap a Duplex as a js-libp2p `Stream`. It reads the Duplex only while
 *   someone listens for `message` events and the stream is not paused (backpressure), and holds
 *   the Duplex's writer until it closes or aborts.
 * - {@link fromJsStream}: wrap a js-libp2p `MessageStream` as a Duplex (pause/resume for
 *   backpressure on the read side, `onDrain()` on the write side).
 *
 * @module
 */

import { concat } from "../../src/bytes.ts";
import type { Duplex } from "../../src/stream/types.ts";

/** Anything js-libp2p passes as bytes: a Uint8Array or a Uint8ArrayList-like list. */
export type JsBytes = Uint8Array | { readonly byteLength: number; subarray(): Uint8Array };

/** Flatten js-libp2p bytes into one Uint8Array (Uint8ArrayList.subarray() concatenates). */
export function toBytes(data: JsBytes): Uint8Array {
  return data instanceof Uint8Array ? data : data.subarray();
}

/** The logger shape js-libp2p modules call (`log(...)`, `log.error`, `log.trace`, scopes). */
export interface JsLogger {
  (formatter: unknown, ...args: unknown[]): void;
  error(formatter: unknown, ...args: unknown[]): void;
  trace(formatter: unknown, ...args: unknown[]): void;
  enabled: boolean;
  newScope(name: string): JsLogger;
  forComponent(name: string): JsLogger;
}

/** A silent logger; set `JS_ADAPTER_DEBUG` in globalThis to print. */
export function silentLogger(name = "js-adapter"): JsLogger {
  const debug = (globalThis as { JS_ADAPTER_DEBUG?: boolean }).JS_ADAPTER_DEBUG === true;
  const log = ((formatter: unknown, ...args: unknown[]) => {
    if (debug) console.error(name, formatter, ...args);
  }) as JsLogger;
  log.error = log;
  log.trace = log;
  log.enabled = debug;
  log.newScope = (scope: string) => silentLogger(`${name}:${scope}`);
  log.forComponent = (scope: string) => silentLogger(`${name}:${scope}`);
  return log;
}

/** The `message` event: `data` holds the bytes (js-libp2p's StreamMessageEvent shape). */
export class StreamDataEvent extends Event {
  /** The received bytes. */
  readonly data: Uint8Array;
  /** Create the event. */
  constructor(data: Uint8Array) {
    super("message");
    this.data = data;
  }
}

/** The `close` event: `error` is set for an abort (local) or a reset (remote). */
export class StreamEndEvent extends Event {
  /** Why the stream ended, if it did not close cleanly. */
  readonly error?: Error;
  /** True when the local side aborted. */
  readonly local?: boolean;
  /** Create the event. */
  constructor(local?: boolean, error?: Error) {
    super("close");
    this.local = local;
    this.error = error;
  }
}

type Status = "open" | "closing" | "closed" | "aborted" | "reset";
type ReadStatus = "readable" | "paused" | "closing" | "closed";
type WriteStatus = "writable" | "closing" | "closed";

/** Options for {@link toJsStream}. */
export interface ToJsStreamOptions {
  /** Stream direction as js-libp2p reports it. Default "outbound". */
  direction?: "inbound" | "outbound";
  /** Stream id. Default a counter. */
  id?: string;
  /** Negotiated protocol, if already known. Default "". */
  protocol?: string;
  /** Logger. Default {@link silentLogger}. */
  log?: JsLogger;
  /** Read-buffer bound (bytes) before the stream aborts, as js-libp2p. Default 4 MiB. */
  maxReadBufferLength?: number;
}

let nextId = 0;

/**
 * A Duplex seen as a js-libp2p 3.x `Stream`. Construct it with {@link toJsStream}; subclass it
 * to add connection fields (remoteAddr, ...) for js modules that want a MultiaddrConnection.
 */
export class JsStreamAdapter extends EventTarget {
  /** js-libp2p stream fields. */
  status: Status = "open";
  readStatus: ReadStatus = "readable";
  writeStatus: WriteStatus = "writable";
  remoteReadStatus: ReadStatus = "readable";
  remoteWriteStatus: WriteStatus = "writable";
  writableNeedsDrain = false;
  readonly timeline: { open: number; close?: number } = { open: Date.now() };
  readonly log: JsLogger;
  direction: "inbound" | "outbound";
  id: string;
  protocol: string;
  maxReadBufferLength: number;
  maxWriteBufferLength?: number;
  inactivityTimeout = 120_000;

  #reader: ReadableStreamDefaultReader<Uint8Array>;
  #writer: WritableStreamDefaultWriter<Uint8Array>;
  #readBuffer: Uint8Array[] = [];
  #readBytes = 0;
  #pendingWriteBytes = 0;
  #messageListeners = 0;
  #wake: (() => void) | undefined;
  #readableEnded = false;

  /** Wrap `duplex`; prefer {@link toJsStream}. */
  constructor(duplex: Duplex, options: ToJsStreamOptions = {}) {
    super();
    this.direction = options.direction ?? "outbound";
    this.id = options.id ?? `${nextId++}`;
    this.protocol = options.protocol ?? "";
    this.log = options.log ?? silentLogger(`js-adapter:${this.direction}:${this.id}`);
    this.maxReadBufferLength = options.maxReadBufferLength ?? 4 * 1024 * 1024;
    this.#reader = duplex.readable.getReader();
    this.#writer = duplex.writable.getWriter();
    this.#writer.closed.catch(() => {});
    void this.#pump();
  }

  /** Bytes received but not yet delivered as `message` events. */
  get readBufferLength(): number {
    return this.#readBytes;
  }

  /** Bytes handed to `send()` that the Duplex has not accepted yet. */
  get writeBufferLength(): number {
    return this.#pendingWriteBytes;
  }

  /** True once no more `message` events will be emitted. */
  get readableEnded(): boolean {
    return this.#readableEnded;
  }

  /** Count `message` listeners: the Duplex is read only while someone listens. */
  override addEventListener(
    type: string,
    // js-libp2p types listeners by event map (EventHandler<StreamMessageEvent>, ...); without
    // importing its types a structural match needs `any` here.
    // deno-lint-ignore no-explicit-any
    listener: any,
    options?: boolean | AddEventListenerOptions,
  ): void {
    super.addEventListener(type, listener ?? null, options);
    if (type === "message" && listener != null) {
      this.#messageListeners++;
      if (this.#readBytes > 0) queueMicrotask(() => this.#dispatchReadBuffer());
      this.#wakeUp();
    }
  }

  /** See {@link JsStreamAdapter.addEventListener}. */
  override removeEventListener(
    type: string,
    // deno-lint-ignore no-explicit-any
    listener?: any,
    options?: boolean | EventListenerOptions,
  ): void {
    super.removeEventListener(type, listener ?? null, options);
    if (type === "message" && listener != null && this.#messageListeners > 0) {
      this.#messageListeners--;
    }
  }

  /** Number of `message` listeners (the only count js-libp2p's streams consult). */
  listenerCount(type: string): number {
    return type === "message" ? this.#messageListeners : 0;
  }

  /** Dispatch a CustomEvent of `type` (js-libp2p's TypedEventTarget helper). */
  safeDispatchEvent<Detail>(type: string, detail?: CustomEventInit<Detail>): boolean {
    return this.dispatchEvent(new CustomEvent(type, detail));
  }

  #wakeUp(): void {
    const wake = this.#wake;
    this.#wake = undefined;
    wake?.();
  }

  #wantsData(): boolean {
    return this.#messageListeners > 0 && this.readStatus === "readable" && this.#readBytes === 0;
  }

  async #pump(): Promise<void> {
    try {
      for (;;) {
        while (!this.#wantsData()) {
          if (this.readStatus === "closed" || this.readStatus === "closing") return;
          await new Promise<void>((resolve) => this.#wake = resolve);
        }
        const { value, done } = await this.#reader.read();
        if (done) {
          this.#onRemoteCloseWrite();
          return;
        }
        if (this.readStatus === "closed" || this.readStatus === "closing") return;
        if (value.byteLength === 0) continue;
        this.#readBuffer.push(value);
        this.#readBytes += value.byteLength;
        this.#dispatchReadBuffer();
      }
    } catch (err) {
      this.#onRemoteReset(err instanceof Error ? err : new Error(String(err)));
    }
  }

  #dispatchReadBuffer(): void {
    if (this.#messageListeners === 0 || this.#readBytes === 0) return;
    if (this.readStatus !== "readable") return;
    const data = concat(this.#readBuffer, this.#readBytes);
    this.#readBuffer = [];
    this.#readBytes = 0;
    this.dispatchEvent(new StreamDataEvent(data));
    if (this.remoteWriteStatus === "closed") this.#maybeDispatchEnd();
    this.#wakeUp();
  }

  #maybeDispatchEnd(): void {
    if (this.#readableEnded || this.#readBytes > 0) return;
    if (this.remoteWriteStatus !== "closed" && this.readStatus !== "closed") return;
    this.#readableEnded = true;
    this.dispatchEvent(new Event("end"));
  }

  #onRemoteCloseWrite(): void {
    if (this.remoteWriteStatus === "closed") return;
    this.remoteWriteStatus = "closed";
    this.dispatchEvent(new Event("remoteCloseWrite"));
    this.#maybeDispatchEnd();
    if (this.writeStatus === "closed") this.#onClosed();
  }

  #onRemoteReset(err: Error): void {
    if (this.status !== "open" && this.status !== "closing") return;
    this.status = "reset";
    this.readStatus = "closed";
    this.writeStatus = "closed";
    this.remoteReadStatus = "closed";
    this.remoteWriteStatus = "closed";
    this.timeline.close = Date.now();
    this.#writer.abort(err).catch(() => {});
    this.#maybeDispatchEnd();
    this.dispatchEvent(new StreamEndEvent(false, err));
  }

  #onClosed(): void {
    if (this.status !== "open" && this.status !== "closing") return;
    this.status = "closed";
    this.timeline.close = Date.now();
    this.#maybeDispatchEnd();
    this.dispatchEvent(new StreamEndEvent());
  }

  /** Queue bytes for the remote; false when the caller should wait for `drain`. */
  send(data: JsBytes): boolean {
    if (this.writeStatus !== "writable") {
      throw new Error(`Cannot write to a stream that is ${this.writeStatus}`);
    }
    const bytes = toBytes(data);
    this.#pendingWriteBytes += bytes.byteLength;
    this.#writer.write(bytes).then(() => {
      this.#pendingWriteBytes -= bytes.byteLength;
      if (this.#pendingWriteBytes === 0) this.dispatchEvent(new Event("idle"));
    }, (err) => this.abort(err instanceof Error ? err : new Error(String(err))));
    const desired = this.#writer.desiredSize;
    if (desired !== null && desired <= 0) {
      if (!this.writableNeedsDrain) {
        this.writableNeedsDrain = true;
        this.#writer.ready.then(() => {
          this.writableNeedsDrain = false;
          this.dispatchEvent(new Event("drain"));
        }, () => {});
      }
      return false;
    }
    return true;
  }

  /** Resolve when `send()` may be called again. */
  onDrain(options?: { signal?: AbortSignal }): Promise<void> {
    if (!this.writableNeedsDrain) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      const done = (): void => {
        this.removeEventListener("drain", onDrain);
        this.removeEventListener("close", onClose);
        options?.signal?.removeEventListener("abort", onAbort);
      };
      const onDrain = (): void => {
        done();
        resolve();
      };
      const onClose = (evt: Event): void => {
        done();
        reject((evt as StreamEndEvent).error ?? new Error("stream closed"));
      };
      const onAbort = (): void => {
        done();
        reject(options?.signal?.reason);
      };
      this.addEventListener("drain", onDrain);
      this.addEventListener("close", onClose);
      options?.signal?.addEventListener("abort", onAbort);
    });
  }

  /** Close the write side after queued bytes are written (half-close). */
  async close(_options?: { signal?: AbortSignal }): Promise<void> {
    if (this.writeStatus !== "writable") return;
    this.writeStatus = "closing";
    await this.#writer.close();
    this.writeStatus = "closed";
    if (this.remoteWriteStatus === "closed") this.#onClosed();
  }

  /** Stop reading: drop buffered bytes and cancel the Duplex's readable. */
  async closeRead(_options?: { signal?: AbortSignal }): Promise<void> {
    if (this.readStatus === "closed" || this.readStatus === "closing") return;
    this.readStatus = "closed";
    this.#readBuffer = [];
    this.#readBytes = 0;
    this.#wakeUp();
    await this.#reader.cancel().catch(() => {});
    this.#maybeDispatchEnd();
  }

  /** Tear down both directions at once. */
  abort(err: Error): void {
    if (this.status === "aborted" || this.status === "reset" || this.status === "closed") return;
    this.status = "aborted";
    this.readStatus = "closed";
    this.writeStatus = "closed";
    this.remoteReadStatus = "closed";
    this.remoteWriteStatus = "closed";
    this.#readBuffer = [];
    this.#readBytes = 0;
    this.timeline.close = Date.now();
    this.#wakeUp();
    this.#writer.abort(err).catch(() => {});
    this.#reader.cancel(err).catch(() => {});
    this.#maybeDispatchEnd();
    this.dispatchEvent(new StreamEndEvent(true, err));
  }

  /** Stop emitting `message` events (and reading the Duplex) until {@link resume}. */
  pause(): void {
    if (this.readStatus === "readable") this.readStatus = "paused";
  }

  /** Resume after {@link pause}; buffered bytes are emitted first. */
  resume(): void {
    if (this.readStatus !== "paused") return;
    this.readStatus = "readable";
    this.#dispatchReadBuffer();
    this.#wakeUp();
  }

  /** Add bytes to the end of the read buffer, as if received. */
  push(data: JsBytes): void {
    this.#buffer(toBytes(data), false);
  }

  /** Put bytes back at the front of the read buffer (after unwrapping a reader). */
  unshift(data: JsBytes): void {
    this.#buffer(toBytes(data), true);
  }

  #buffer(bytes: Uint8Array, front: boolean): void {
    if (this.readStatus === "closed" || this.readStatus === "closing") {
      throw new Error(`Cannot push data onto a stream that is ${this.readStatus}`);
    }
    if (bytes.byteLength === 0) return;
    if (front) this.#readBuffer.unshift(bytes);
    else this.#readBuffer.push(bytes);
    this.#readBytes += bytes.byteLength;
    if (this.#readBytes > this.maxReadBufferLength) {
      this.abort(new Error(`read buffer of ${this.#readBytes} bytes exceeds the limit`));
      return;
    }
    if (this.#messageListeners > 0) queueMicrotask(() => this.#dispatchReadBuffer());
  }

  /** Iterate received bytes until the remote closes its write side. */
  async *[Symbol.asyncIterator](): AsyncGenerator<Uint8Array> {
    const queue: Uint8Array[] = [];
    let ended = false;
    let failure: Error | undefined;
    let notify: (() => void) | undefined;
    const wake = (): void => {
      const n = notify;
      notify = undefined;
      n?.();
    };
    const onMessage = (evt: Event): void => {
      queue.push((evt as StreamDataEvent).data);
      wake();
    };
    const onEnd = (evt: Event): void => {
      ended = true;
      failure = (evt as StreamEndEvent).error;
      wake();
    };
    this.addEventListener("message", onMessage);
    this.addEventListener("close", onEnd);
    this.addEventListener("remoteCloseWrite", onEnd);
    try {
      for (;;) {
        if (queue.length > 0) {
          yield queue.shift()!;
          continue;
        }
        if (ended) {
          if (failure !== undefined) throw failure;
          return;
        }
        await new Promise<void>((resolve) => notify = resolve);
      }
    } finally {
      this.removeEventListener("message", onMessage);
      this.removeEventListener("close", onEnd);
      this.removeEventListener("remoteCloseWrite", onEnd);
    }
  }
}

/**
 * Wrap a web-streams Duplex as a js-libp2p 3.x `Stream`.
 *
 * @example
 * ```ts
 * import { duplexPair } from "../../src/stream/pair.ts";
 * import { toJsStream } from "./js_stream_adapter.ts";
 * import * as mss from "@libp2p/multistream-select";
 * const [a] = duplexPair();
 * const protocol = mss.select(toJsStream(a), ["/echo/1.0.0"]);
 * ```
 */
export function toJsStream(duplex: Duplex, options?: ToJsStreamOptions): JsStreamAdapter {
  return new JsStreamAdapter(duplex, options);
}

/** The part of a js-libp2p `MessageStream` that {@link fromJsStream} uses. */
export interface JsMessageStreamLike {
  addEventListener(type: string, listener: (evt: Event) => void): void;
  removeEventListener(type: string, listener: (evt: Event) => void): void;
  send(data: Uint8Array): boolean;
  onDrain(options?: { signal?: AbortSignal }): Promise<void>;
  close(options?: { signal?: AbortSignal }): Promise<void>;
  abort(err: Error): void;
  pause(): void;
  resume(): void;
  closeRead?(options?: { signal?: AbortSignal }): Promise<void>;
  /** Bytes received and not yet emitted (js-libp2p 3.x streams have it). */
  readonly readBufferLength?: number;
}

/**
 * Wrap a js-libp2p 3.x `MessageStream` (a muxed stream, a connection) as a web-streams Duplex.
 * The readable pauses the js stream while its queue is full (`highWaterMark` bytes).
 *
 * @example
 * ```ts
 * import { fromJsStream } from "./js_stream_adapter.ts";
 * declare const jsStream: import("./js_stream_adapter.ts").JsMessageStreamLike;
 * const { readable, writable } = fromJsStream(jsStream);
 * ```
 */
export function fromJsStream(
  stream: JsMessageStreamLike,
  options: { highWaterMark?: number } = {},
): Duplex {
  const strategy = { highWaterMark: options.highWaterMark ?? 64 * 1024, size: byteSize };
  let finished = false;
  let paused = false;
  const listeners: Array<[string, (evt: Event) => void]> = [];
  const detach = (): void => {
    for (const [type, l] of listeners) stream.removeEventListener(type, l);
    listeners.length = 0;
  };
  const readable = new ReadableStream<Uint8Array>({
    start(controller) {
      const on = (type: string, l: (evt: Event) => void): void => {
        listeners.push([type, l]);
        stream.addEventListener(type, l);
      };
      on("message", (evt) => {
        if (finished) return;
        controller.enqueue(toBytes((evt as unknown as { data: JsBytes }).data));
        if ((controller.desiredSize ?? 1) <= 0 && !paused) {
          paused = true;
          stream.pause();
        }
      });
      // The remote's FIN can arrive while we paused the stream with data still in its read
      // buffer: then the readable ends on "end", which waits until that data was emitted. ("end"
      // alone would not do: a reset also fires it, before the "close" that carries the error.)
      let endAfterBuffer = false;
      const end = (): void => {
        if (finished) return;
        finished = true;
        detach();
        controller.close();
      };
      on("remoteCloseWrite", () => {
        if ((stream.readBufferLength ?? 0) > 0) endAfterBuffer = true;
        else end();
      });
      on("end", () => {
        if (endAfterBuffer) end();
      });
      on("close", (evt) => {
        if (finished) return;
        finished = true;
        detach();
        const error = (evt as unknown as { error?: Error }).error;
        if (error !== undefined) controller.error(error);
        else controller.close();
      });
    },
    pull() {
      if (paused) {
        paused = false;
        stream.resume();
      }
    },
    async cancel(reason) {
      finished = true;
      detach();
      if (stream.closeRead !== undefined) await stream.closeRead();
      else stream.abort(reason instanceof Error ? reason : new Error(String(reason)));
    },
  }, strategy);
  const writable = new WritableStream<Uint8Array>({
    async write(chunk) {
      if (!stream.send(chunk)) await stream.onDrain();
    },
    async close() {
      await stream.close();
    },
    abort(reason) {
      stream.abort(reason instanceof Error ? reason : new Error(String(reason)));
    },
  });
  return { readable, writable };
}

function byteSize(chunk: Uint8Array): number {
  return chunk.byteLength;
}
