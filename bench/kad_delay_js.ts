/**
 * The bench's latency model for js-libp2p: an in-memory transport whose every chunk reaches the
 * peer a fixed one-way delay after it was sent (pipelined, in order), and whose dial completes
 * after one round trip, the same model bench/kad_delay_ours.ts gives our node.
 *
 * Why not `@libp2p/memory`'s own `latency` option: it awaits the delay for each buffer in turn
 * on the receiving side (`it-map` over the incoming buffers), so k buffers sent together arrive
 * at 1x, 2x, ... kx the delay. That makes a request cost as many delays as the frames js splits
 * it into, which is not a link with a fixed delay and would charge js for its write pattern.
 * This transport keeps the rest of the memory transport's behaviour (unbounded buffers, no
 * backpressure, `/memory/<name>` addresses).
 *
 * @module
 */

// deno-lint-ignore-file no-explicit-any
import { serviceCapabilities, transportSymbol } from "@libp2p/interface";
import { multiaddr } from "@multiformats/multiaddr";
// @libp2p/utils is a dependency of @libp2p/memory, not of this repository: reached by path.
import { AbstractMultiaddrConnection } from "../node_modules/.deno/@libp2p+utils@7.4.1/node_modules/@libp2p/utils/dist/src/index.js";
import { DelayLine } from "./kad_scenario.ts";

const MEMORY_CODE = 777;
const P2P_CODE = 421;
const listeners = new Map<string, DelayedListener>();
let names = 0;

type Delivery = { data: Uint8Array } | { close: true } | { reset: true };

class DelayedConn extends (AbstractMultiaddrConnection as any) {
  peer: DelayedConn | undefined;
  line: DelayLine<Delivery>;

  constructor(init: any, delayMs: number) {
    super(init);
    this.line = new DelayLine<Delivery>(delayMs, (d) => {
      const peer = this.peer;
      if (peer === undefined) return;
      if ("data" in d) {
        if (peer.status === "open") peer.onData(d.data);
      } else if ("close" in d) peer.onTransportClosed();
      else if (peer.status === "open") peer.onRemoteReset();
    });
  }

  sendData(data: any): { sentBytes: number; canSendMore: boolean } {
    const bytes: Uint8Array = data.subarray().slice();
    this.line.push({ data: bytes });
    return { sentBytes: bytes.byteLength, canSendMore: true };
  }

  sendReset(): void {
    this.line.push({ reset: true });
  }

  sendClose(): Promise<void> {
    this.line.push({ close: true });
    return Promise.resolve();
  }

  sendPause(): void {}

  sendResume(): void {}
}

class DelayedListener extends EventTarget {
  init: any;
  components: any;
  name: string | undefined;
  shutdown = new AbortController();

  constructor(components: any, init: any) {
    super();
    this.components = components;
    this.init = init;
  }

  listen(ma: any): Promise<void> {
    const value: string | undefined = ma.getComponents()[0]?.value;
    const name = value === undefined || value === "0" ? `js${++names}x${Date.now()}` : value;
    if (listeners.has(name)) return Promise.reject(new Error(`/memory/${name} is in use`));
    this.name = name;
    listeners.set(name, this);
    queueMicrotask(() => this.dispatchEvent(new Event("listening")));
    return Promise.resolve();
  }

  getAddrs(): any[] {
    return this.name === undefined ? [] : [multiaddr(`/memory/${this.name}`)];
  }

  updateAnnounceAddrs(): void {}

  close(): Promise<void> {
    if (this.name !== undefined) listeners.delete(this.name);
    this.name = undefined;
    this.shutdown.abort();
    queueMicrotask(() => this.dispatchEvent(new Event("close")));
    return Promise.resolve();
  }

  accept(conn: DelayedConn): void {
    this.init.upgrader.upgradeInbound(conn, { signal: this.shutdown.signal })
      .catch((err: unknown) => conn.abort(err));
  }
}

function memoryName(ma: any): string | undefined {
  const parts = ma.getComponents().filter((c: any) => c.code !== P2P_CODE);
  return parts.length === 1 && parts[0].code === MEMORY_CODE ? parts[0].value : undefined;
}

/** A js-libp2p transport factory: `transports: [delayedMemoryJs(20)]`. */
export function delayedMemoryJs(delayMs: number): (components: any) => any {
  return (components: any) => {
    const log = components.logger.forComponent("bench:delayed-memory");
    return {
      [transportSymbol]: true,
      [Symbol.toStringTag]: "@p2p-edge/bench-delayed-memory",
      [serviceCapabilities]: ["@libp2p/transport"],
      async dial(ma: any, options: any): Promise<any> {
        options.signal?.throwIfAborted();
        const name = memoryName(ma);
        const listener = name === undefined ? undefined : listeners.get(name);
        if (listener === undefined) throw new Error(`nothing listens on ${ma}`);
        // A connect costs one round trip before either side may send.
        await new Promise((r) => setTimeout(r, 2 * delayMs));
        options.signal?.throwIfAborted();
        const id = ++names;
        const out = new DelayedConn({
          remoteAddr: multiaddr(ma.toString()),
          direction: "outbound",
          log: log.newScope?.(`out-${id}`) ?? log,
        }, delayMs);
        const inb = new DelayedConn({
          remoteAddr: multiaddr(`/memory/dialer-${id}`),
          direction: "inbound",
          log: log.newScope?.(`in-${id}`) ?? log,
        }, delayMs);
        out.peer = inb;
        inb.peer = out;
        listener.accept(inb);
        try {
          return await options.upgrader.upgradeOutbound(out, options);
        } catch (err) {
          out.abort(err);
          throw err;
        }
      },
      createListener(init: any): any {
        return new DelayedListener(components, init);
      },
      listenFilter(addrs: any[]): any[] {
        return addrs.filter((a) => memoryName(a) !== undefined);
      },
      dialFilter(addrs: any[]): any[] {
        return addrs.filter((a) => memoryName(a) !== undefined);
      },
    };
  };
}
