/**
 * Helpers for the hardening tests: an in-memory transport whose inbound connections claim any
 * remote IP (per-IP limits without real interfaces), a counting security wrapper (did the
 * handshake start?), a muxer factory that exposes its sessions (raw muxed streams), detectors
 * for unhandled rejections, and raw-connection probes.
 */

import process from "node:process";
import { type Multiaddr, multiaddr } from "../../src/multiaddr/mod.ts";
import type { StreamMuxer, StreamMuxerFactory } from "../../src/muxer.ts";
import type { ConnectionEncrypter } from "../../src/security.ts";
import type { PrivateKey } from "../../src/keys/types.ts";
import { connPair, web } from "../helpers/conn.ts";
import type { Listener, ListenerInit, RawConnection, Transport } from "../../src/transport.ts";
import { NoiseEncrypter, type NoiseInit } from "../../protocols/noise/service.ts";
import { type WebEncrypter, webEncrypter } from "../helpers/conn.ts";
const noise = (init: NoiseInit): WebEncrypter => webEncrypter(new NoiseEncrypter(init));

const fakeListeners = new Map<string, ListenerInit>();
let fakeNames = 0;
let fakePorts = 10_000;

/**
 * A loopback transport on `/memory/fake-N` addresses. Dials go through `dialFrom(ip)`, so the
 * listener sees `/ip4/<ip>/tcp/<port>` (or ip6) as the remote address.
 */
export interface FakeIpTransport extends Transport {
  /** A transport whose dials come from `ip`. */
  from(ip: string): Transport;
}

/** Create a fake-IP transport (dials from 198.51.100.1 unless `.from(ip)` is used). */
export function fakeIp(ip = "198.51.100.1"): FakeIpTransport {
  const isFake = (a: Multiaddr): boolean =>
    /^\/memory\/fake-/.test(a.decapsulateCode(421).toString());
  const make = (source: string): FakeIpTransport => ({
    name: "fake-ip",
    dial(addr: Multiaddr): Promise<RawConnection> {
      const name = addr.decapsulateCode(421).toString();
      const init = fakeListeners.get(name);
      if (init === undefined) return Promise.reject(new Error(`nothing on ${name}`));
      const [ours, theirs] = connPair();
      const family = source.includes(":") ? "ip6" : "ip4";
      const remote = multiaddr(`/${family}/${source}/tcp/${++fakePorts}`);
      init.onConnection(
        Object.assign(theirs, { remoteAddr: remote, localAddr: multiaddr(name) }),
      );
      return Promise.resolve(
        Object.assign(ours, { remoteAddr: multiaddr(name), localAddr: remote }),
      );
    },
    createListener(init: ListenerInit): Listener {
      let name: string | undefined;
      return {
        listen(): Promise<void> {
          name = `/memory/fake-${++fakeNames}`;
          fakeListeners.set(name, init);
          return Promise.resolve();
        },
        getAddrs: () => (name === undefined ? [] : [multiaddr(name)]),
        close(): Promise<void> {
          if (name !== undefined) fakeListeners.delete(name);
          name = undefined;
          return Promise.resolve();
        },
      };
    },
    listenFilter: (addrs) => addrs.filter((a) => a.toString().startsWith("/memory/")),
    dialFilter: (addrs) => addrs.filter(isFake),
    from: (other: string) => make(other),
  });
  return make(ip);
}

/** Noise, counting the inbound handshakes it starts. */
export function countingNoise(): {
  security: (init: { privateKey: PrivateKey }) => ConnectionEncrypter;
  inbound: () => number;
} {
  let n = 0;
  return {
    security: (init) => {
      const inner = noise(init);
      return {
        protocol: inner.protocol,
        secureOutbound: (c, o) => inner.secureOutbound(c, o),
        secureInbound: (c, o) => {
          n++;
          return inner.secureInbound(c, o);
        },
      };
    },
    inbound: () => n,
  };
}

/** A muxer factory that records the sessions it creates (for raw muxed streams). */
export function capturing(factory: StreamMuxerFactory): {
  factory: StreamMuxerFactory;
  sessions: StreamMuxer[];
} {
  const sessions: StreamMuxer[] = [];
  return {
    sessions,
    factory: {
      protocol: factory.protocol,
      createStreamMuxer(conn, init) {
        const m = factory.createStreamMuxer(conn, init);
        sessions.push(m);
        return m;
      },
    },
  };
}

/** Collect unhandled rejections until `stop()`; works on Deno and Bun. */
export function detectUnhandled(): { errors: unknown[]; stop: () => void } {
  const errors: unknown[] = [];
  const onNode = (reason: unknown): void => {
    errors.push(reason);
  };
  const onWeb = (e: Event): void => {
    errors.push((e as PromiseRejectionEvent).reason);
    e.preventDefault();
  };
  process.on("unhandledRejection", onNode);
  const web = "Deno" in globalThis;
  if (web) globalThis.addEventListener("unhandledrejection", onWeb);
  return {
    errors,
    stop() {
      process.off("unhandledRejection", onNode);
      if (web) globalThis.removeEventListener("unhandledrejection", onWeb);
    },
  };
}

/**
 * Watch a raw connection: how many bytes arrived and when it ended (EOF or error). Reads only;
 * never writes.
 */
export function probe(raw: RawConnection): { bytes: () => number; ended: Promise<string> } {
  let n = 0;
  const ended = (async () => {
    const reader = web(raw).readable.getReader();
    try {
      while (true) {
        const { done, value } = await reader.read();
        if (done) return "eof";
        n += value.byteLength;
      }
    } catch (err) {
      return `error: ${(err as Error).name}`;
    }
  })();
  return { bytes: () => n, ended };
}

/** Resolve after `ms`. */
export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
