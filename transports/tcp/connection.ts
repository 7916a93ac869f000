/**
 * The connection object of the TCP transport, once for every runtime: its byte channel
 * (channel.ts), its addresses, `close()` and `abort()`. Internal: `tcp()` hands it out as a
 * RawConnection.
 *
 * @module
 */

import type { Multiaddr } from "../../src/multiaddr/mod.ts";
import { type ChannelDuplex, channelDuplex, channelKey } from "../../src/stream/channel.ts";
import type { RawConnection } from "../../src/transport.ts";
import { localMultiaddr, socketMultiaddr } from "./address.ts";
import type { TcpPeer } from "./backend.ts";
import type { TcpChannel } from "./channel.ts";
import type { ResolvedTcpOptions } from "./options.ts";

/** One TCP connection. Internal. */
export class TcpConnection implements RawConnection {
  /** The connection's bytes (taken by the upgrader). */
  readonly channel: TcpChannel;
  /** The remote address (no `/p2p/` part). */
  readonly remoteAddr: Multiaddr;
  /** The local address, when the runtime reports it. */
  readonly localAddr?: Multiaddr;
  readonly #writableHighWaterMark: number;

  /** Wrap the channel of an open socket. */
  constructor(channel: TcpChannel, peer: TcpPeer, options: ResolvedTcpOptions) {
    this.channel = channel;
    this.remoteAddr = socketMultiaddr(peer.remoteHost, peer.remotePort);
    if (peer.localHost !== undefined && peer.localPort !== undefined) {
      this.localAddr = localMultiaddr(peer.localHost, peer.localPort);
    }
    this.#writableHighWaterMark = options.writeHighWaterMark;
  }

  /** Flush what was written and send FIN (within closeTimeoutMs), then free the socket. */
  close(): Promise<void> {
    // LEGACY (see below): a writable stream built on the channel is flushed first.
    if (this.#legacy !== undefined) return this.#legacy.close();
    return this.channel.close();
  }

  /** Tear the connection down at once; pending and later operations fail with `reason`. */
  abort(reason?: unknown): void {
    this.channel.abort(reason);
  }

  // --- LEGACY: web streams on the connection and the channelKey hand-over. --------------------
  // RawConnection carries `channel` after issue 16 (CONTRACT.md); until the upgrader and its
  // tests take `conn.channel`, the old surface stays: `readable`/`writable` built on the channel
  // on first access and `[channelKey]` for takeChannel(). Delete from here to the end of the
  // class, and the `#legacy` branch of close(), once RawConnection has no readable/writable.
  #legacy: ChannelDuplex | undefined;
  /** The channel was handed over through `[channelKey]`: the web streams are refused. */
  #taken = false;

  #duplex(): ChannelDuplex {
    return this.#legacy ??= channelDuplex(this.channel, (flush) => this.channel.close(flush), {
      writableHighWaterMark: this.#writableHighWaterMark,
    });
  }

  /** LEGACY: bytes from the peer as a web stream (built on the channel on first access). */
  get readable(): ReadableStream<Uint8Array> {
    this.#checkNotTaken();
    return this.#duplex().readable;
  }

  /** LEGACY: bytes to the peer as a web stream; closing it sends FIN (reading goes on). */
  get writable(): WritableStream<Uint8Array> {
    this.#checkNotTaken();
    return this.#duplex().writable;
  }

  /**
   * LEGACY: the channel for takeChannel(), unless the web streams were used (no stream object is
   * built for a connection whose channel is taken: the node's path).
   */
  [channelKey](): TcpChannel | undefined {
    if (this.#legacy !== undefined || this.#taken) return undefined;
    this.#taken = true;
    return this.channel;
  }

  #checkNotTaken(): void {
    if (this.#taken) {
      throw new TypeError("this connection is read and written through its byte channel");
    }
  }
  // --- end LEGACY -----------------------------------------------------------------------------
}
