/**
 * The bench's latency model for our node: the memory transport with every chunk delivered a
 * fixed one-way delay after it was written (pipelined: chunks written together arrive
 * together, in order), and a dial that completes after one round trip (a TCP connect). The
 * same model as bench/kad_delay_js.ts gives js-libp2p.
 *
 * @module
 */

import { StreamClosedError } from "../src/errors.ts";
import type { Multiaddr } from "../src/multiaddr/mod.ts";
import { type ByteChannel, RESOLVED } from "../src/stream/channel.ts";
import type { AbortOptions } from "../src/stream/types.ts";
import type { Listener, ListenerInit, RawConnection, Transport } from "../src/transport.ts";
import { memory } from "../transports/memory/mod.ts";
import { DelayLine } from "./kad_scenario.ts";

/** Our writes reach the peer's channel `delayMs` later; reads and aborts pass straight. */
class DelayedChannel implements ByteChannel {
  readonly copiesWrites = true;
  readonly #inner: ByteChannel;
  readonly #line: DelayLine<Uint8Array | null>;
  #closed = false;
  #failed: unknown;

  constructor(inner: ByteChannel, delayMs: number) {
    this.#inner = inner;
    this.#line = new DelayLine<Uint8Array | null>(delayMs, (chunk) => {
      try {
        if (chunk === null) this.#inner.closeWrite().catch(() => {});
        else this.#inner.write(chunk);
      } catch { /* the connection went away meanwhile */ }
    });
  }

  read(into?: Uint8Array): Promise<Uint8Array | null> {
    return this.#inner.read(into);
  }

  write(chunk: Uint8Array): void {
    if (this.#failed !== undefined) throw this.#failed;
    if (this.#closed) throw new StreamClosedError("channel closed for writing");
    this.#line.push(chunk.slice());
  }

  drained(): Promise<void> {
    return this.#failed === undefined ? RESOLVED : Promise.reject(this.#failed);
  }

  closeWrite(): Promise<void> {
    if (!this.#closed) {
      this.#closed = true;
      this.#line.push(null);
    }
    return RESOLVED;
  }

  cancelRead(reason?: unknown): void {
    this.#inner.cancelRead(reason);
  }

  abort(reason?: unknown): void {
    this.#failed ??= reason ?? new StreamClosedError("aborted");
    this.#line.clear();
    this.#inner.abort(reason);
  }
}

function delayed(conn: RawConnection, delayMs: number): RawConnection {
  return { ...conn, channel: new DelayedChannel(conn.channel, delayMs) };
}

/** The memory transport under the bench's latency model (`delayMs` one way). */
export function delayedMemory(delayMs: number): Transport {
  const inner = memory();
  return {
    name: "memory",
    async dial(addr: Multiaddr, options?: AbortOptions): Promise<RawConnection> {
      // A connect costs one round trip before either side may send.
      await new Promise((r) => setTimeout(r, 2 * delayMs));
      options?.signal?.throwIfAborted();
      return delayed(await inner.dial(addr, options), delayMs);
    },
    createListener(init: ListenerInit): Listener {
      return inner.createListener({
        ...init,
        onConnection: (conn) => init.onConnection(delayed(conn, delayMs)),
      });
    },
    listenFilter: (addrs) => inner.listenFilter(addrs),
    dialFilter: (addrs) => inner.dialFilter(addrs),
  };
}
