/**
 * The connection object of the TCP transport, once for every runtime: its byte channel
 * (channel.ts), its addresses, `close()` and `abort()`. Internal: `tcp()` hands it out as a
 * RawConnection.
 *
 * @module
 */

import type { Multiaddr } from "../../src/multiaddr/mod.ts";
import type { RawConnection } from "../../src/transport.ts";
import { type LocalAddrMemo, socketMultiaddr } from "./address.ts";
import type { TcpPeer } from "./backend.ts";
import type { TcpChannel } from "./channel.ts";

/** One TCP connection. Internal. */
export class TcpConnection implements RawConnection {
  /** The connection's bytes (taken by the upgrader). */
  readonly channel: TcpChannel;
  /** The remote address (no `/p2p/` part). */
  readonly remoteAddr: Multiaddr;
  /** The local address, when the runtime reports it. */
  readonly localAddr?: Multiaddr;

  /**
   * Wrap the channel of an open socket; `local` is the accepting listener's memo (inbound
   * connections share its local Multiaddr), absent for dialled connections.
   */
  constructor(channel: TcpChannel, peer: TcpPeer, local?: LocalAddrMemo) {
    this.channel = channel;
    this.remoteAddr = socketMultiaddr(peer.remoteHost, peer.remotePort);
    if (peer.localHost !== undefined && peer.localPort !== undefined) {
      this.localAddr = local !== undefined
        ? local.get(peer.localHost, peer.localPort)
        : socketMultiaddr(peer.localHost, peer.localPort);
    }
  }

  /** Flush what was written and send FIN (within closeTimeoutMs), then free the socket. */
  close(): Promise<void> {
    return this.channel.close();
  }

  /** Tear the connection down at once; pending and later operations fail with `reason`. */
  abort(reason?: unknown): void {
    this.channel.abort(reason);
  }
}
