/**
 * One TCP connection's bytes as a {@link ByteChannel}, once for every runtime: the adapters
 * (deno.ts, bun.ts) supply the socket's primitives ({@link TcpSocket}) and its events.
 *
 * Reading, two styles (backend.ts):
 * - pulled (Deno): `read()` is one socket read, into the caller's lent buffer when given (no
 *   allocation; on Deno the fresh buffer per read is what a bulk receiver spends most on: its
 *   allocation and V8's full collections driven by external memory, bench/RESULTS.md), otherwise
 *   into a buffer sized to the traffic (no fixed 64 KiB buffer sits in every idle connection's
 *   pending read). Nothing is read ahead: the kernel's receive buffer is the only buffer, and a
 *   reader that stops reading stops the sender through TCP flow control.
 * - pushed (Bun): received chunks go straight to a waiting read, or into a queue that pauses the
 *   socket at `readHighWaterMark` and resumes it when the reader caught up.
 *
 * Writing: `write()` hands the chunk to the socket at once; what the socket did not take waits,
 * in order, for the socket (a promise, or a drain event), and `drained()` resolves once the socket
 * took everything. The socket copies what it takes (into the kernel), so `copiesWrites` is true:
 * yamux then recycles its frame buffers.
 *
 * Half-close: `closeWrite()` sends FIN and reading goes on; the socket is freed once both
 * directions ended, on `close()` (flush within closeTimeoutMs, then free) or on `abort()`.
 *
 * @module
 */

import { ConnectionClosedError, StreamClosedError, TimeoutError } from "../../src/errors.ts";
import { type ByteChannel, READ_END, RESOLVED } from "../../src/stream/channel.ts";
import { Deferred } from "../../src/stream/deferred.ts";
import { settledWithin, type TcpSocket, type TcpSocketEvents } from "./backend.ts";
import { MIN_READ_CHUNK_SIZE, READ_CHUNK_SIZE } from "./constants.ts";
import type { ResolvedTcpOptions } from "./options.ts";

/** How the socket is let go: gracefully, at once, or not at all (it is already closed). */
type Release = "close" | "reset" | "gone";

/**
 * The channel of one TCP socket; also where its adapter delivers the socket's events. Internal:
 * reached through a connection's `channel`.
 */
export class TcpChannel implements ByteChannel, TcpSocketEvents {
  readonly #options: ResolvedTcpOptions;
  readonly #onRelease: (() => void) | undefined;
  #socket: TcpSocket | undefined;
  /** The socket is read on demand (Deno); false: it pushes its data (Bun). */
  #pulled = false;

  // --- reading --------------------------------------------------------------------------------
  /** Remote FIN received, or reading cancelled or ended by close(). */
  #readDone = false;
  /** Pulled: size of the next own read buffer (adapts to the traffic, MIN_READ_CHUNK_SIZE). */
  #readSize = MIN_READ_CHUNK_SIZE;
  /** Pulled: the buffer of the pending read (one at a time). */
  #target: Uint8Array | undefined;
  /** Pulled: whether `#target` is the caller's lent buffer. */
  #targetLent = false;
  /** Pushed: received chunks no read took yet, and their bytes. */
  #received: Uint8Array[] = [];
  #receivedBytes = 0;
  /** Pushed: a read waiting for data (made on first use: pulled sockets never need it). */
  #reader: Deferred<Uint8Array | null> | undefined;
  #paused = false;

  // --- writing --------------------------------------------------------------------------------
  /** closeWrite() (or close()) was called: no more writes are taken. */
  #writeClosed = false;
  /** Our direction ended: FIN sent, or the socket is gone. */
  #writeDone = false;
  /** Why writes fail after the remote closed the socket cleanly (pushed sockets report that). */
  #writeError: unknown;
  /** A write is under way: later chunks queue in `#pending` behind it. */
  #pumping = false;
  #pending: Uint8Array[] = [];
  /** Resolved when the pump finished (everything written so far was taken by the socket). */
  readonly #drained = new Deferred<void>();
  /** The socket's drain event, awaited after a short synchronous write (made on first use). */
  #drainEvent: Deferred<void> | undefined;
  #closingWrite: Promise<void> | undefined;

  // --- lifecycle ------------------------------------------------------------------------------
  #released = false;
  /** Set by close(): a read interrupted by our own close ends the input instead of failing. */
  #closingLocally = false;
  /** Set by abort() or an I/O failure: the reason every pending and later operation fails with. */
  #failure: unknown;

  /** A channel waiting for its socket (`attach`); `onRelease` runs once, when it is freed. */
  constructor(options: ResolvedTcpOptions, onRelease?: () => void) {
    this.#options = options;
    this.#onRelease = onRelease;
  }

  /** Bind to the open socket and apply the socket options. */
  attach(socket: TcpSocket): void {
    if (this.#socket !== undefined) return;
    this.#socket = socket;
    this.#pulled = socket.read !== undefined;
    try {
      socket.setNoDelay(this.#options.noDelay);
      if (this.#options.keepAlive) socket.setKeepAlive(true);
    } catch {
      // The peer may already have reset the socket; reads and writes report that.
    }
  }

  // --- ByteChannel: reading -------------------------------------------------------------------

  /**
   * The next chunk. Pulled sockets: one socket read per call, continued by two handlers made once
   * per connection (an idle connection's pending read then holds one promise and its reaction,
   * where an async function held a suspended generator and more closures: ~0.3 KiB each).
   */
  read(into?: Uint8Array): Promise<Uint8Array | null> {
    if (this.#failure !== undefined) return Promise.reject(this.#failure);
    if (!this.#pulled) return this.#readPushed();
    if (this.#readDone) return READ_END;
    if (this.#target !== undefined) {
      return Promise.reject(new TypeError("TCP connection: one read at a time"));
    }
    const lent = into !== undefined && into.byteLength > 0;
    const target = lent ? into : new Uint8Array(this.#readSize);
    this.#target = target;
    this.#targetLent = lent;
    return this.#socket!.read!(target).then(this.#onRead, this.#onReadError);
  }

  readonly #onRead = (n: number | null): Uint8Array | null | Promise<Uint8Array | null> => {
    const target = this.#target!;
    this.#target = undefined;
    if (this.#failure !== undefined) throw this.#failure;
    if (this.#readDone) return null; // cancelled while the read was pending: dropped
    if (n === null) {
      // Remote FIN: the end of our input; writing goes on (half-close).
      this.#readDone = true;
      this.#maybeRelease();
      return null;
    }
    if (n === 0) return this.read(this.#targetLent ? target : undefined);
    if (this.#targetLent) return target.subarray(0, n);
    if (n === target.byteLength) this.#readSize = Math.min(READ_CHUNK_SIZE, this.#readSize * 2);
    else if (n < target.byteLength / 4) {
      this.#readSize = Math.max(MIN_READ_CHUNK_SIZE, this.#readSize / 2);
    }
    // A mostly empty buffer is copied out so that it can be freed; otherwise it is handed on.
    return n < target.byteLength / 2 ? target.slice(0, n) : target.subarray(0, n);
  };

  readonly #onReadError = (error: unknown): null => {
    this.#target = undefined;
    if (this.#failure !== undefined) throw this.#failure;
    if (this.#readDone) return null; // cancelled, then the socket was closed under the read
    if (this.#closingLocally && this.#socket!.isClosedError(error)) {
      this.#readDone = true;
      this.#maybeRelease();
      return null;
    }
    const err = new ConnectionClosedError("TCP read failed", { cause: error });
    this.abort(err);
    throw err;
  };

  #readPushed(): Promise<Uint8Array | null> {
    const chunk = this.#received.shift();
    if (chunk !== undefined) {
      this.#receivedBytes -= chunk.byteLength;
      if (this.#paused && this.#receivedBytes < this.#options.readHighWaterMark) {
        this.#paused = false;
        if (!this.#readDone && !this.#released) this.#socket?.resume?.();
      }
      return Promise.resolve(chunk);
    }
    if (this.#readDone) return READ_END;
    return (this.#reader ??= new Deferred()).promise;
  }

  cancelRead(): void {
    // Unread bytes are dropped (pulled sockets: left in the kernel until the release).
    this.#received = [];
    this.#receivedBytes = 0;
    this.#endRead();
    this.#maybeRelease();
  }

  // --- ByteChannel: writing -------------------------------------------------------------------

  write(chunk: Uint8Array): void {
    if (this.#failure !== undefined) throw this.#failure;
    if (this.#writeError !== undefined) throw this.#writeError;
    if (this.#writeClosed) throw new StreamClosedError("TCP connection: write after close");
    if (chunk.byteLength === 0) return;
    if (this.#pumping) {
      this.#pending.push(chunk); // behind the write under way
      return;
    }
    const socket = this.#socket;
    if (socket === undefined || this.#released) {
      throw new ConnectionClosedError("TCP connection closed");
    }
    const taken = socket.write(chunk);
    if (typeof taken === "number") {
      if (taken === chunk.byteLength) return; // the common case on a pushed socket: all taken
      if (taken < 0) {
        const err = new ConnectionClosedError("TCP connection closed");
        this.abort(err);
        throw err;
      }
    }
    this.#pumping = true;
    void this.#pump(socket, chunk, taken);
  }

  /**
   * Finish `first` (its first write returned `taken`), then everything queued behind it, in
   * order. One loop, no async call per chunk: this is the bulk sender's path.
   */
  async #pump(
    socket: TcpSocket,
    first: Uint8Array,
    taken: number | Promise<number>,
  ): Promise<void> {
    try {
      let chunk = first;
      let batch: Uint8Array[] = [];
      let next = 0;
      for (;;) {
        // Write the rest of `chunk`, whose last write returned `taken`.
        let offset = 0;
        for (;;) {
          const sync = typeof taken === "number";
          const n = typeof taken === "number" ? taken : await taken;
          if (n < 0) throw new ConnectionClosedError("TCP connection closed");
          offset += n;
          if (offset >= chunk.byteLength) break;
          if (sync) {
            // A short synchronous write kept nothing of the rest: wait for the drain event.
            await (this.#drainEvent ??= new Deferred()).promise;
            if (this.#failure !== undefined) throw this.#failure;
          }
          taken = socket.write(chunk.subarray(offset));
        }
        if (next === batch.length) {
          if (this.#pending.length === 0) break;
          batch = this.#pending;
          this.#pending = [];
          next = 0;
        }
        chunk = batch[next++];
        taken = socket.write(chunk);
      }
    } catch (error) {
      this.#pumping = false;
      this.#pending = [];
      if (this.#failure !== undefined) return; // aborted: the waiters got the reason
      if (this.#writeError !== undefined) {
        this.#drained.reject(this.#writeError);
        return;
      }
      this.abort(new ConnectionClosedError("TCP write failed", { cause: error }));
      return;
    }
    this.#pumping = false;
    this.#drained.resolve();
  }

  /** Each chunk is taken by the socket (the kernel copies it) before `drained()` resolves. */
  get copiesWrites(): boolean {
    return true;
  }

  drained(): Promise<void> {
    if (this.#failure !== undefined) return Promise.reject(this.#failure);
    if (!this.#pumping) return RESOLVED;
    return this.#drained.promise;
  }

  closeWrite(): Promise<void> {
    if (this.#failure !== undefined) return Promise.reject(this.#failure);
    this.#writeClosed = true;
    return this.#closingWrite ??= this.#finishWrite();
  }

  async #finishWrite(): Promise<void> {
    await this.drained();
    if (this.#writeDone) return;
    this.#writeDone = true;
    if (!this.#released) {
      try {
        await this.#socket?.closeWrite(); // FIN: the remote reads EOF, we keep reading
      } catch (error) {
        this.abort(new ConnectionClosedError("TCP half-close failed", { cause: error }));
        throw this.#failure;
      }
    }
    this.#maybeRelease();
  }

  abort(reason?: unknown): void {
    if (this.#failure !== undefined) return;
    this.#failure = reason ?? new ConnectionClosedError("connection aborted");
    this.#readDone = true;
    this.#writeDone = true;
    this.#writeClosed = true;
    this.#received = [];
    this.#receivedBytes = 0;
    this.#pending = [];
    this.#reader?.reject(this.#failure);
    this.#drained.reject(this.#failure);
    this.#drainEvent?.reject(this.#failure);
    this.#release("reset");
  }

  // --- closing --------------------------------------------------------------------------------

  /**
   * Flush what is queued (after `flush`, the closing of a writable stream built on this channel)
   * and send FIN, within closeTimeoutMs, then free the socket. Past the bound: abort with a
   * TimeoutError.
   */
  async close(flush?: Promise<void>): Promise<void> {
    if (this.#released) return;
    this.#closingLocally = true;
    const flushed = flush ?? this.closeWrite();
    flushed.catch(() => {});
    const ms = this.#options.closeTimeoutMs;
    if (!(await settledWithin(flushed, ms))) {
      this.abort(new TimeoutError(`TCP close: writes not flushed in ${ms} ms`));
      return;
    }
    if (this.#released) return;
    this.#writeDone = true;
    this.#writeClosed = true;
    this.#endRead();
    this.#release("close");
  }

  // --- socket events (adapters) ---------------------------------------------------------------

  /** Pushed sockets: a received chunk. */
  onData(chunk: Uint8Array): void {
    if (this.#readDone) return; // cancelled by the reader: dropped
    if (this.#reader?.waiting) {
      this.#reader.resolve(chunk);
      return;
    }
    this.#received.push(chunk);
    this.#receivedBytes += chunk.byteLength;
    if (this.#receivedBytes >= this.#options.readHighWaterMark && !this.#paused) {
      // The reader is behind: stop reading the socket until it catches up.
      this.#paused = true;
      this.#socket?.pause?.();
    }
  }

  /** The socket can take more after a short write. */
  onDrain(): void {
    this.#drainEvent?.resolve();
  }

  /** Remote FIN: the end of our input; our writing stays usable (half-close). */
  onEnd(): void {
    this.#endRead();
    this.#maybeRelease();
  }

  /** The socket closed: cleanly (queued bytes are still read, then EOF; writes fail) or not. */
  onClose(error?: Error): void {
    if (
      error !== undefined && this.#failure === undefined && !(this.#readDone && this.#writeDone)
    ) {
      this.abort(new ConnectionClosedError("TCP connection failed", { cause: error }));
      return;
    }
    this.#endRead();
    if (!this.#writeDone) {
      this.#writeDone = true;
      this.#writeError = new ConnectionClosedError("TCP connection closed by the remote peer");
      this.#drainEvent?.reject(this.#writeError);
      if (!this.#pumping) this.#pending = [];
    }
    this.#release("gone");
  }

  /** The socket failed. */
  onError(error: Error): void {
    this.abort(new ConnectionClosedError("TCP connection failed", { cause: error }));
  }

  // --- internals ------------------------------------------------------------------------------

  #endRead(): void {
    if (this.#readDone) return;
    this.#readDone = true;
    if (this.#received.length > 0) return; // read() hands out the queue first, then null
    this.#reader?.resolve(null);
  }

  #maybeRelease(): void {
    if (this.#readDone && this.#writeDone) this.#release("close");
  }

  #release(how: Release): void {
    if (this.#released) return;
    this.#released = true;
    if (how === "close") this.#socket?.close();
    else if (how === "reset") this.#socket?.reset();
    this.#onRelease?.();
  }
}
