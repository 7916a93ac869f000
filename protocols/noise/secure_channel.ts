/**
 * The Noise transport phase on a connection's {@link ByteChannel} (libp2p/specs noise/README.md,
 * "Encryption and I/O"): reads decrypt what the raw channel delivers, writes seal straight into it.
 * This is the connection's one transform (ARCHITECTURE.md), with no stream objects around it.
 *
 * @module
 */

import { ConnectionClosedError } from "../../src/errors.ts";
import type { ByteChannel } from "../../src/stream/channel.ts";
import type { CipherState } from "./handshake.ts";
import { NoiseDecryptor, NoiseEncryptor } from "./transport.ts";

/**
 * A {@link ByteChannel} of plaintext over a channel of Noise frames. A frame that fails to
 * decrypt, a truncated last frame or an exhausted nonce fails the channel and aborts the raw one
 * (HARDENING.md rule 9: a failed decryption closes the connection).
 *
 * @example
 * ```ts
 * import { NoiseChannel } from "@p2p-edge/libp2p/protocols/noise";
 * declare const raw: import("@p2p-edge/libp2p/stream").ByteChannel;
 * declare const keys: import("@p2p-edge/libp2p/protocols/noise").HandshakeResult;
 * const secure = new NoiseChannel(raw, keys.send, keys.receive);
 * secure.write(new TextEncoder().encode("hello"));
 * await secure.drained();
 * ```
 */
export class NoiseChannel implements ByteChannel {
  readonly #raw: ByteChannel;
  readonly #encryptor: NoiseEncryptor;
  readonly #decryptor: NoiseDecryptor;
  /** Plaintexts decrypted from one raw chunk beyond the first, handed out by the next reads. */
  #ready: Uint8Array[] | undefined;
  /** The first plaintext of the raw chunk being decrypted. */
  #first: Uint8Array | undefined;
  #failure: unknown;

  /** Seal with `send`, open with `receive` (the split CipherStates of the handshake). */
  constructor(raw: ByteChannel, send: CipherState, receive: CipherState) {
    this.#raw = raw;
    this.#encryptor = new NoiseEncryptor(send);
    this.#decryptor = new NoiseDecryptor(receive);
  }

  /**
   * The next plaintext: a raw read continued by a handler made once per channel (not an async
   * function), so an idle connection's pending read holds one promise and its reaction here.
   */
  read(): Promise<Uint8Array | null> {
    const ready = this.#ready;
    if (ready !== undefined) {
      const next = ready.shift()!;
      if (ready.length === 0) this.#ready = undefined;
      return Promise.resolve(next);
    }
    if (this.#failure !== undefined) return Promise.reject(this.#failure);
    return this.#raw.read().then(this.#onRaw);
  }

  readonly #onRaw = (chunk: Uint8Array | null): Uint8Array | null | Promise<Uint8Array | null> =>
    this.#open(chunk) ?? this.#readOn();

  /**
   * Raw reads until a frame completes, in a loop: a peer sending frames split into tiny pieces
   * or frames of empty plaintext must not build a chain of promises, one per raw chunk.
   */
  async #readOn(): Promise<Uint8Array | null> {
    for (;;) {
      if (this.#failure !== undefined) throw this.#failure;
      const plaintext = this.#open(await this.#raw.read());
      if (plaintext !== undefined) return plaintext;
    }
  }

  /**
   * Decrypt the frames a raw chunk completes (frames may be split anywhere): the first
   * plaintext, `null` at the end of the input, or undefined when no frame completed.
   */
  #open(chunk: Uint8Array | null): Uint8Array | null | undefined {
    if (this.#failure !== undefined) throw this.#failure;
    try {
      if (chunk === null) {
        this.#decryptor.end(); // UnexpectedEOFError when the input stopped inside a frame
        return null;
      }
      this.#decryptor.push(chunk, this.#emit);
    } catch (err) {
      this.#first = undefined;
      this.abort(err);
      throw err;
    }
    const first = this.#first;
    this.#first = undefined;
    return first;
  }

  readonly #emit = (plaintext: Uint8Array): void => {
    if (this.#first === undefined) this.#first = plaintext;
    else (this.#ready ??= []).push(plaintext);
  };

  write(chunk: Uint8Array): void {
    if (this.#failure !== undefined) throw this.#failure;
    if (!(chunk instanceof Uint8Array)) {
      const err = new TypeError("Noise connections carry Uint8Array chunks only");
      this.abort(err);
      throw err;
    }
    try {
      // Each batch of frames is a fresh buffer, handed to the raw channel as it is.
      this.#encryptor.sealInto(chunk, (wire) => this.#raw.write(wire));
    } catch (err) {
      this.abort(err);
      throw err;
    }
  }

  /** Plaintext is sealed into fresh buffers within `write()`; the chunk is not kept. */
  get copiesWrites(): boolean {
    return true;
  }

  drained(): Promise<void> {
    if (this.#failure !== undefined) return Promise.reject(this.#failure);
    return this.#raw.drained();
  }

  closeWrite(): Promise<void> {
    if (this.#failure !== undefined) return Promise.reject(this.#failure);
    return this.#raw.closeWrite();
  }

  cancelRead(reason?: unknown): void {
    this.#ready = undefined;
    this.#raw.cancelRead(reason);
  }

  abort(reason?: unknown): void {
    if (this.#failure !== undefined) return;
    this.#failure = reason ?? new ConnectionClosedError("secured connection aborted");
    this.#ready = undefined;
    this.#raw.abort(this.#failure);
  }
}
