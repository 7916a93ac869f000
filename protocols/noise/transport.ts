/**
 * The Noise transport phase (libp2p/specs noise/README.md, "Wire Format" and "Encryption and
 * I/O"): a sans-IO encryptor and decryptor over the split CipherStates, and ONE encrypt and ONE
 * decrypt TransformStream per connection built on them.
 *
 * The encryptor cuts writes above 65519 bytes into several frames and writes all frames of a
 * write into one buffer (one downstream chunk per write, at most {@link MAX_BATCH_FRAMES}
 * frames each). The decryptor reassembles frames across arbitrary chunk boundaries, decrypts
 * frames that arrive whole straight from the input chunk (no copy), and never holds more than
 * one frame header plus one frame body (<= 2 + 65535 bytes).
 *
 * @module
 */

import { DecryptError } from "../../src/errors.ts";
import { UnexpectedEOFError } from "../../src/stream/byte_reader.ts";
import { FRAME_HEADER_LENGTH, MAX_PLAINTEXT, TAG_LENGTH } from "./constants.ts";
import { writeFrameHeader } from "./codec.ts";
import type { CipherState } from "./handshake.ts";

const EMPTY = new Uint8Array(0);

/** Frames sealed into one downstream chunk at most (16 x 64 KiB = about 1 MiB). */
export const MAX_BATCH_FRAMES = 16;

/**
 * Seals plaintext into framed transport messages with the sending CipherState.
 *
 * @example
 * ```ts
 * import { NoiseEncryptor } from "@p2p-edge/libp2p/protocols/noise";
 * declare const send: import("@p2p-edge/libp2p/protocols/noise").CipherState;
 * const wire = new NoiseEncryptor(send).seal(new Uint8Array([1, 2, 3])); // 2 + 3 + 16 bytes
 * ```
 */
export class NoiseEncryptor {
  readonly #cipher: CipherState;

  /** Encrypt with `cipher` (the handshake result's `send`). */
  constructor(cipher: CipherState) {
    this.#cipher = cipher;
  }

  /**
   * Encrypt `plaintext` into `[len][ciphertext+tag]` frames. Calls `emit` once per batch of up
   * to {@link MAX_BATCH_FRAMES} frames. Throws LimitExceededError when the nonce runs out.
   */
  sealInto(plaintext: Uint8Array, emit: (wire: Uint8Array) => void): void {
    let position = 0;
    const total = plaintext.byteLength;
    while (position < total) {
      const batchPlain = Math.min(total - position, MAX_PLAINTEXT * MAX_BATCH_FRAMES);
      const frames = Math.ceil(batchPlain / MAX_PLAINTEXT);
      const out = new Uint8Array(batchPlain + frames * (FRAME_HEADER_LENGTH + TAG_LENGTH));
      let offset = 0;
      const end = position + batchPlain;
      while (position < end) {
        const length = Math.min(MAX_PLAINTEXT, end - position);
        const body = length + TAG_LENGTH;
        writeFrameHeader(out, offset, body);
        offset += FRAME_HEADER_LENGTH;
        this.#cipher.encryptWithAd(
          EMPTY,
          plaintext.subarray(position, position + length),
          out.subarray(offset, offset + body),
        );
        offset += body;
        position += length;
      }
      emit(out);
    }
  }

  /** Encrypt `plaintext` into one buffer of frames (convenience for tests and small writes). */
  seal(plaintext: Uint8Array): Uint8Array {
    const parts: Uint8Array[] = [];
    this.sealInto(plaintext, (p) => parts.push(p));
    if (parts.length === 1) return parts[0];
    let length = 0;
    for (const p of parts) length += p.byteLength;
    const out = new Uint8Array(length);
    let offset = 0;
    for (const p of parts) {
      out.set(p, offset);
      offset += p.byteLength;
    }
    return out;
  }
}

/**
 * Reassembles and decrypts framed transport messages with the receiving CipherState.
 *
 * @example
 * ```ts
 * import { NoiseDecryptor } from "@p2p-edge/libp2p/protocols/noise";
 * declare const receive: import("@p2p-edge/libp2p/protocols/noise").CipherState;
 * const d = new NoiseDecryptor(receive);
 * d.push(new Uint8Array([0, 17]), (plaintext) => console.log(plaintext)); // waits for the body
 * ```
 */
export class NoiseDecryptor {
  readonly #cipher: CipherState;
  /** First byte of a split length prefix, or -1. */
  #headerByte = -1;
  /** Body of the frame being reassembled (exactly its announced length). */
  #frame: Uint8Array | undefined;
  #filled = 0;
  #failed: unknown = undefined;

  /** Decrypt with `cipher` (the handshake result's `receive`). */
  constructor(cipher: CipherState) {
    this.#cipher = cipher;
  }

  /** Bytes held back waiting for the rest of a frame (at most 2 + 65535). */
  get pendingBytes(): number {
    if (this.#frame !== undefined) return FRAME_HEADER_LENGTH + this.#filled;
    return this.#headerByte === -1 ? 0 : 1;
  }

  #open(body: Uint8Array, emit: (plaintext: Uint8Array) => void): void {
    if (body.byteLength < TAG_LENGTH) {
      throw new DecryptError(`Noise frame of ${body.byteLength} bytes is shorter than its tag`);
    }
    const plaintext = this.#cipher.decryptWithAd(EMPTY, body);
    if (plaintext.byteLength > 0) emit(plaintext);
  }

  /**
   * Feed received bytes; `emit` is called with each decrypted plaintext in order. Throws
   * DecryptError on a frame that fails authentication (the decryptor is then unusable and the
   * receive nonce is not advanced past the last good frame).
   */
  push(chunk: Uint8Array, emit: (plaintext: Uint8Array) => void): void {
    if (this.#failed !== undefined) throw this.#failed;
    try {
      this.#push(chunk, emit);
    } catch (err) {
      this.#failed = err;
      this.#frame = undefined;
      throw err;
    }
  }

  #push(chunk: Uint8Array, emit: (plaintext: Uint8Array) => void): void {
    let offset = 0;
    const total = chunk.byteLength;
    while (offset < total) {
      if (this.#frame !== undefined) {
        // Continue a frame that started in an earlier chunk.
        const take = Math.min(this.#frame.byteLength - this.#filled, total - offset);
        this.#frame.set(chunk.subarray(offset, offset + take), this.#filled);
        this.#filled += take;
        offset += take;
        if (this.#filled === this.#frame.byteLength) {
          const body = this.#frame;
          this.#frame = undefined;
          this.#filled = 0;
          this.#open(body, emit);
        }
        continue;
      }
      let length: number;
      if (this.#headerByte !== -1) {
        length = (this.#headerByte << 8) | chunk[offset];
        this.#headerByte = -1;
        offset += 1;
      } else if (total - offset >= FRAME_HEADER_LENGTH) {
        length = (chunk[offset] << 8) | chunk[offset + 1];
        offset += FRAME_HEADER_LENGTH;
      } else {
        this.#headerByte = chunk[offset];
        offset += 1;
        continue;
      }
      // The prefix is 16 bits, so `length` <= 65535 = MAX_FRAME by construction.
      if (length < TAG_LENGTH) {
        throw new DecryptError(`Noise frame of ${length} bytes is shorter than its tag`);
      }
      if (total - offset >= length) {
        this.#open(chunk.subarray(offset, offset + length), emit);
        offset += length;
      } else {
        this.#frame = new Uint8Array(length);
        this.#filled = 0;
      }
    }
  }

  /** The input ended: throws UnexpectedEOFError when a frame was cut off. */
  end(): void {
    if (this.#failed !== undefined) throw this.#failed;
    if (this.pendingBytes > 0) {
      throw new UnexpectedEOFError(
        `connection ended inside a Noise frame (${this.pendingBytes} bytes pending)`,
      );
    }
  }
}

/** Options of {@link createDecryptStream} and {@link createEncryptStream}. */
export interface NoiseStreamOptions {
  /**
   * Called once when the stream fails (authentication failure, truncated frame, nonce
   * exhausted) before the stream errors; the service aborts the connection from here.
   */
  onError?: (err: unknown) => void;
  /** Encrypt stream only: called when its writable side was closed and everything sealed. */
  onClose?: () => void;
}

/**
 * The one encrypt TransformStream of a connection: plaintext in, framed ciphertext out.
 *
 * @example
 * ```ts
 * import { createEncryptStream } from "@p2p-edge/libp2p/protocols/noise";
 * declare const send: import("@p2p-edge/libp2p/protocols/noise").CipherState;
 * const encrypt = createEncryptStream(send);
 * ```
 */
export function createEncryptStream(
  cipher: CipherState,
  options: NoiseStreamOptions = {},
): TransformStream<Uint8Array, Uint8Array> {
  const encryptor = new NoiseEncryptor(cipher);
  let reported = false;
  const fail = (err: unknown): never => {
    if (!reported) {
      reported = true;
      options.onError?.(err);
    }
    throw err;
  };
  return new TransformStream<Uint8Array, Uint8Array>({
    transform(chunk, controller) {
      if (!(chunk instanceof Uint8Array)) {
        fail(new TypeError("Noise connections carry Uint8Array chunks only"));
      }
      try {
        encryptor.sealInto(chunk, (wire) => controller.enqueue(wire));
      } catch (err) {
        fail(err);
      }
    },
    flush() {
      options.onClose?.();
    },
  });
}

/**
 * The one decrypt TransformStream of a connection: framed ciphertext chunks (split anywhere)
 * in, plaintext out. Errors with DecryptError on a bad frame and UnexpectedEOFError when the
 * input ends inside a frame.
 *
 * @example
 * ```ts
 * import { createDecryptStream } from "@p2p-edge/libp2p/protocols/noise";
 * declare const receive: import("@p2p-edge/libp2p/protocols/noise").CipherState;
 * declare const raw: ReadableStream<Uint8Array>;
 * const plaintext = raw.pipeThrough(createDecryptStream(receive));
 * ```
 */
export function createDecryptStream(
  cipher: CipherState,
  options: NoiseStreamOptions = {},
): TransformStream<Uint8Array, Uint8Array> {
  const decryptor = new NoiseDecryptor(cipher);
  let reported = false;
  const fail = (err: unknown): never => {
    if (!reported) {
      reported = true;
      options.onError?.(err);
    }
    throw err;
  };
  return new TransformStream<Uint8Array, Uint8Array>(
    {
      transform(chunk, controller) {
        try {
          decryptor.push(chunk, (plaintext) => controller.enqueue(plaintext));
        } catch (err) {
          fail(err);
        }
      },
      flush() {
        try {
          decryptor.end();
        } catch (err) {
          fail(err);
        }
      },
    },
    undefined,
    // Plaintext buffered for a slow reader: about one frame's worth before backpressure.
    { highWaterMark: MAX_PLAINTEXT, size: (chunk) => chunk.byteLength },
  );
}
