/**
 * In-process transport for tests and for nodes wired together in one process:
 * `/memory/<name>` addresses, connections are {@link duplexPair}s.
 *
 * @example
 * ```ts
 * import { memory } from "@p2p-edge/libp2p/transports/memory";
 * import { multiaddr } from "@p2p-edge/libp2p";
 * const transport = memory();
 * const listener = transport.createListener({ onConnection: (c) => c.close() });
 * await listener.listen(multiaddr("/memory/0")); // "0" picks a fresh name
 * const conn = await transport.dial(listener.getAddrs()[0]);
 * await conn.close();
 * await listener.close();
 * ```
 *
 * @module
 */

import { abortReason } from "../../src/abort.ts";
import { Libp2pError } from "../../src/errors.ts";
import { type Multiaddr, multiaddr } from "../../src/multiaddr/mod.ts";
import { channelPair } from "../../src/stream/pair.ts";
import type { AbortOptions } from "../../src/stream/types.ts";
import type { ChannelConnection } from "../../src/stream/channel.ts";
import type { Listener, ListenerInit, RawConnection, Transport } from "../../src/transport.ts";

/** Multiaddr code of `/memory`. */
export const MEMORY_CODE = 777;

/** Options of the memory transport. */
export interface MemoryTransportOptions {
  /** Bytes buffered per direction before writes wait (default 64 KiB). */
  highWaterMark?: number;
}

/** Dialling a memory address nobody listens on. */
export class MemoryDialError extends Libp2pError {}

/** Listeners by name, shared by every memory transport of the process (as one loopback). */
const listeners = new Map<string, MemoryListener>();
let anonymous = 0;

function memoryName(addr: Multiaddr): string | undefined {
  const parts = addr.components();
  if (parts.length !== 1 || parts[0].code !== MEMORY_CODE) return undefined;
  return parts[0].value;
}

class MemoryListener implements Listener {
  #init: ListenerInit;
  #name: string | undefined;
  #options: MemoryTransportOptions;

  constructor(init: ListenerInit, options: MemoryTransportOptions) {
    this.#init = init;
    this.#options = options;
  }

  listen(addr: Multiaddr): Promise<void> {
    let name = memoryName(addr);
    if (name === undefined) {
      return Promise.reject(new TypeError(`not a memory address: ${addr.toString()}`));
    }
    if (this.#name !== undefined) {
      return Promise.reject(new TypeError("memory listener is already listening"));
    }
    if (name === "0") {
      do name = `m${Math.random().toString(36).slice(2, 10)}${++anonymous}`; while (
        listeners.has(name)
      );
    }
    if (listeners.has(name)) {
      return Promise.reject(new Libp2pError(`memory address /memory/${name} is in use`));
    }
    listeners.set(name, this);
    this.#name = name;
    return Promise.resolve();
  }

  getAddrs(): Multiaddr[] {
    return this.#name === undefined ? [] : [multiaddr(`/memory/${this.#name}`)];
  }

  close(): Promise<void> {
    if (this.#name !== undefined && listeners.get(this.#name) === this) {
      listeners.delete(this.#name);
    }
    this.#name = undefined;
    return Promise.resolve();
  }

  accept(dialer: Multiaddr): RawConnection {
    const [ours, theirs] = channelPair({ highWaterMark: this.#options.highWaterMark });
    const local = this.getAddrs()[0];
    this.#init.onConnection(memoryConnection(theirs, dialer, local));
    return memoryConnection(ours, local, dialer);
  }
}

/** One end of an in-memory pair as a RawConnection. */
function memoryConnection(
  end: ChannelConnection,
  remoteAddr: Multiaddr,
  localAddr: Multiaddr,
): RawConnection {
  return {
    channel: end.channel,
    remoteAddr,
    localAddr,
    close: () => end.close(),
    abort: (reason?: unknown) => end.abort(reason),
  };
}

/**
 * Create a memory transport.
 *
 * @example
 * ```ts
 * import { memory } from "@p2p-edge/libp2p/transports/memory";
 * const transport = memory({ highWaterMark: 16 * 1024 });
 * ```
 */
export function memory(options: MemoryTransportOptions = {}): Transport {
  if (options.highWaterMark !== undefined && !(options.highWaterMark > 0)) {
    throw new RangeError("highWaterMark must be positive");
  }
  let dialers = 0;
  return {
    name: "memory",
    dial(addr: Multiaddr, dialOptions?: AbortOptions): Promise<RawConnection> {
      if (dialOptions?.signal?.aborted) return Promise.reject(abortReason(dialOptions.signal));
      const name = memoryName(addr.decapsulateCode(421));
      const listener = name === undefined ? undefined : listeners.get(name);
      if (listener === undefined) {
        return Promise.reject(new MemoryDialError(`nothing listens on ${addr.toString()}`));
      }
      return Promise.resolve(listener.accept(multiaddr(`/memory/dialer-${++dialers}`)));
    },
    createListener(init: ListenerInit): Listener {
      return new MemoryListener(init, options);
    },
    listenFilter(addrs: readonly Multiaddr[]): Multiaddr[] {
      return addrs.filter((a) => memoryName(a) !== undefined);
    },
    dialFilter(addrs: readonly Multiaddr[]): Multiaddr[] {
      return addrs.filter((a) => memoryName(a.decapsulateCode(421)) !== undefined);
    },
  };
}
