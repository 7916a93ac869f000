/**
 * The RawConnection a WebTransport transport hands out: it carries no byte stream of its own
 * (its `channel` is at its end and refuses writes) and upgrades itself through
 * `selfUpgrade` (Noise on the first native stream, native streams as the muxer).
 *
 * @module
 */

import { ConnectionClosedError } from "../../src/errors.ts";
import { type ByteChannel, READ_END, RESOLVED } from "../../src/stream/channel.ts";
import type { Multiaddr } from "../../src/multiaddr/mod.ts";
import type { RawConnection, SelfUpgradeOptions, SelfUpgradeResult } from "../../src/transport.ts";
import type { NativeSession } from "./session.ts";

/** The channel of a self-upgrading connection: it carries no raw bytes. */
const NO_BYTES: ByteChannel = {
  read: () => READ_END,
  write() {
    throw new ConnectionClosedError(
      "a WebTransport connection carries no raw bytes: use selfUpgrade",
    );
  },
  drained: () => RESOLVED,
  closeWrite: () => RESOLVED,
  cancelRead() {},
  abort() {},
};

/** What {@link selfUpgradingConnection} wraps. */
export interface SelfUpgradingInit {
  /** The established WebTransport session. */
  session: NativeSession;
  /** The remote address (no certhash, no `/p2p/`). */
  remoteAddr: Multiaddr;
  /** The local address, when known. */
  localAddr?: Multiaddr;
  /** Runs the handshake and builds the muxer. */
  upgrade(options: SelfUpgradeOptions): Promise<SelfUpgradeResult>;
}

/**
 * Wrap a WebTransport session as a self-upgrading RawConnection.
 *
 * @example
 * ```ts
 * import { selfUpgradingConnection, type NativeSession } from "@p2p-edge/libp2p/transports/webtransport";
 * import { multiaddr } from "@p2p-edge/libp2p/multiaddr";
 * declare const session: NativeSession;
 * const raw = selfUpgradingConnection({
 *   session,
 *   remoteAddr: multiaddr("/ip4/127.0.0.1/udp/4433/quic-v1/webtransport"),
 *   upgrade: () => Promise.reject(new Error("not in this example")),
 * });
 * raw.abort();
 * ```
 */
export function selfUpgradingConnection(init: SelfUpgradingInit): RawConnection {
  let upgraded = false;
  return {
    remoteAddr: init.remoteAddr,
    localAddr: init.localAddr,
    channel: NO_BYTES,
    selfUpgrade(options: SelfUpgradeOptions): Promise<SelfUpgradeResult> {
      if (upgraded) return Promise.reject(new TypeError("already upgraded"));
      upgraded = true;
      return init.upgrade(options);
    },
    close(): Promise<void> {
      init.session.close(0, "");
      return init.session.closed;
    },
    abort(_reason?: unknown): void {
      init.session.close(1, "aborted");
    },
  };
}

/**
 * The multiaddr text of a WebTransport peer at a QUIC socket address (no certhash, no `/p2p/`).
 *
 * @example
 * ```ts
 * quicAddr("::1", 4433); // "/ip6/::1/udp/4433/quic-v1/webtransport"
 * ```
 */
export function quicAddr(hostname: string, port: number): string {
  const family = hostname.includes(":") ? "ip6" : "ip4";
  return `/${family}/${hostname}/udp/${port}/quic-v1/webtransport`;
}
