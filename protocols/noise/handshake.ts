/**
 * The sans-IO Noise XX state machine (Noise Protocol Framework rev 34, §5): CipherState,
 * SymmetricState and HandshakeState for `Noise_XX_25519_ChaChaPoly_SHA256`. It takes message
 * bytes in and gives message bytes out; it never reads a socket or a clock. Framing, payload
 * contents and identity checks belong to the callers.
 *
 * @module
 */

import { compactCopy, utf8Encode } from "../../src/bytes.ts";
import { DecryptError, HandshakeError, LimitExceededError } from "../../src/errors.ts";
import {
  DH_LENGTH,
  HASH_LENGTH,
  KEY_LENGTH,
  MAX_NONCE,
  NOISE_PROTOCOL_NAME,
  NONCE_LENGTH,
  TAG_LENGTH,
} from "./constants.ts";
import { hkdf2, type NoiseCrypto, type X25519KeyPair } from "./crypto.ts";

const EMPTY = new Uint8Array(0);
// The ChaChaPoly nonce of the call in progress (see CipherState); bytes 0..3 stay zero.
const NONCE = new Uint8Array(NONCE_LENGTH);
const NONCE_VIEW = new DataView(NONCE.buffer);

/**
 * Noise §5.1 CipherState: a key and a 64-bit nonce. The nonce is a counter; each call lays it
 * out as the ChaChaPoly nonce wants it (§12.3: 4 zero bytes, then the counter little-endian) in
 * one module-wide scratch buffer, which the synchronous AEAD call reads and does not keep (a
 * small Uint8Array costs ~0.5 KiB of resident memory on Deno, and every connection has two
 * cipher states). A failed decryption leaves the nonce unchanged; the reserved value 2^64-1 is
 * never used.
 *
 * @example
 * ```ts
 * import { CipherState, nobleCrypto } from "@p2p-edge/libp2p/protocols/noise";
 * const a = new CipherState(nobleCrypto, new Uint8Array(32));
 * const b = new CipherState(nobleCrypto, new Uint8Array(32));
 * const ct = a.encryptWithAd(new Uint8Array(0), new Uint8Array([1, 2]));
 * b.decryptWithAd(new Uint8Array(0), ct); // Uint8Array [1, 2]
 * ```
 */
export class CipherState {
  readonly #crypto: NoiseCrypto;
  #key: Uint8Array | undefined;
  #lo = 0;
  #hi = 0;

  /** A cipher with key `key` (InitializeKey), or empty when `key` is undefined. */
  constructor(crypto: NoiseCrypto, key?: Uint8Array) {
    this.#crypto = crypto;
    if (key !== undefined) this.initializeKey(key);
  }

  /** InitializeKey(key): set the key and reset the nonce to 0. */
  initializeKey(key: Uint8Array): void {
    if (key.byteLength !== KEY_LENGTH) throw new TypeError("cipher key must be 32 bytes");
    this.#key = compactCopy(key);
    this.setNonce(0n);
  }

  /** HasKey(). */
  hasKey(): boolean {
    return this.#key !== undefined;
  }

  /** The next nonce to be used. */
  get nonce(): bigint {
    return (BigInt(this.#hi) << 32n) | BigInt(this.#lo);
  }

  /** SetNonce(n) (used by tests to reach the nonce limit). */
  setNonce(n: bigint): void {
    if (n < 0n || n > MAX_NONCE) throw new RangeError("nonce out of range");
    this.#lo = Number(n & 0xffff_ffffn);
    this.#hi = Number(n >> 32n);
  }

  /** The current nonce in ChaChaPoly layout, valid until the next call of any cipher state. */
  #nonce(): Uint8Array {
    NONCE_VIEW.setUint32(4, this.#lo, true);
    NONCE_VIEW.setUint32(8, this.#hi, true);
    return NONCE;
  }

  #checkNonce(): void {
    // §5.1: "If incrementing n results in 2^64-1, then any further EncryptWithAd() or
    // DecryptWithAd() calls will signal an error".
    if (this.#lo === 0xffff_ffff && this.#hi === 0xffff_ffff) {
      throw new LimitExceededError("Noise nonce exhausted (2^64-1 is reserved)", "MAX_NONCE");
    }
  }

  #advance(): void {
    this.#lo = (this.#lo + 1) >>> 0;
    if (this.#lo === 0) this.#hi = (this.#hi + 1) >>> 0;
  }

  /**
   * EncryptWithAd(ad, plaintext): ciphertext || tag, or the plaintext itself while there is no
   * key. `output`, when given, must hold exactly plaintext.length + 16 bytes.
   */
  encryptWithAd(ad: Uint8Array, plaintext: Uint8Array, output?: Uint8Array): Uint8Array {
    if (this.#key === undefined) return plaintext;
    this.#checkNonce();
    const out = this.#crypto.encrypt(this.#key, this.#nonce(), ad, plaintext, output);
    this.#advance();
    return out;
  }

  /**
   * DecryptWithAd(ad, ciphertext): the plaintext, or the input itself while there is no key.
   * Throws DecryptError when authentication fails; the nonce then stays where it was.
   */
  decryptWithAd(ad: Uint8Array, ciphertext: Uint8Array): Uint8Array {
    if (this.#key === undefined) return ciphertext;
    this.#checkNonce();
    if (ciphertext.byteLength < TAG_LENGTH) {
      throw new DecryptError(`ciphertext of ${ciphertext.byteLength} bytes is shorter than a tag`);
    }
    const out = this.#crypto.decrypt(this.#key, this.#nonce(), ad, ciphertext);
    if (out === undefined) throw new DecryptError("ChaChaPoly authentication failed");
    this.#advance();
    return out;
  }

  /** Forget the key (best effort: overwrite it). */
  destroy(): void {
    this.#key?.fill(0);
    this.#key = undefined;
  }
}

/**
 * Noise §5.2 SymmetricState: chaining key, handshake hash and the handshake CipherState.
 *
 * @example
 * ```ts
 * import { nobleCrypto, SymmetricState } from "@p2p-edge/libp2p/protocols/noise";
 * const s = new SymmetricState(nobleCrypto, "Noise_XX_25519_ChaChaPoly_SHA256");
 * s.mixHash(new Uint8Array(0));
 * console.log(s.handshakeHash.length); // 32
 * ```
 */
export class SymmetricState {
  readonly #crypto: NoiseCrypto;
  readonly #cipher: CipherState;
  #ck: Uint8Array;
  #h: Uint8Array;

  /** InitializeSymmetric(protocolName). */
  constructor(crypto: NoiseCrypto, protocolName: string) {
    this.#crypto = crypto;
    this.#cipher = new CipherState(crypto);
    const name = utf8Encode(protocolName);
    if (name.byteLength <= HASH_LENGTH) {
      this.#h = new Uint8Array(HASH_LENGTH);
      this.#h.set(name);
    } else {
      this.#h = crypto.sha256(name);
    }
    this.#ck = this.#h.slice();
  }

  /** The handshake hash h (channel binding value once the handshake is done). */
  get handshakeHash(): Uint8Array {
    return this.#h.slice();
  }

  /** MixKey(ikm). */
  mixKey(inputKeyMaterial: Uint8Array): void {
    const [ck, tempK] = hkdf2(this.#crypto, this.#ck, inputKeyMaterial);
    this.#ck.fill(0);
    this.#ck = ck;
    // HASHLEN is 32 = key length, so no truncation is needed (§5.2).
    this.#cipher.initializeKey(tempK);
    tempK.fill(0);
  }

  /** MixHash(data): h = HASH(h || data). */
  mixHash(data: Uint8Array): void {
    const input = new Uint8Array(this.#h.byteLength + data.byteLength);
    input.set(this.#h);
    input.set(data, this.#h.byteLength);
    this.#h = this.#crypto.sha256(input);
  }

  /** EncryptAndHash(plaintext). */
  encryptAndHash(plaintext: Uint8Array): Uint8Array {
    const ciphertext = this.#cipher.encryptWithAd(this.#h, plaintext);
    this.mixHash(ciphertext);
    return ciphertext;
  }

  /** DecryptAndHash(ciphertext); throws DecryptError when authentication fails. */
  decryptAndHash(ciphertext: Uint8Array): Uint8Array {
    const plaintext = this.#cipher.decryptWithAd(this.#h, ciphertext);
    this.mixHash(ciphertext);
    return plaintext;
  }

  /** Whether the handshake cipher has a key (decides the size of an encrypted `s`). */
  hasKey(): boolean {
    return this.#cipher.hasKey();
  }

  /** Split(): the two transport CipherStates (initiator->responder, responder->initiator). */
  split(): [CipherState, CipherState] {
    const [k1, k2] = hkdf2(this.#crypto, this.#ck, EMPTY);
    const c1 = new CipherState(this.#crypto, k1);
    const c2 = new CipherState(this.#crypto, k2);
    k1.fill(0);
    k2.fill(0);
    this.#ck.fill(0);
    this.#cipher.destroy();
    return [c1, c2];
  }
}

/** Message patterns of XX (Noise §7.5): `-> e`, `<- e, ee, s, es`, `-> s, se`. */
const XX_PATTERN: readonly (readonly ("e" | "s" | "ee" | "es" | "se")[])[] = [
  ["e"],
  ["e", "ee", "s", "es"],
  ["s", "se"],
];

/** Options of {@link XXHandshakeState}. */
export interface XXHandshakeOptions {
  /** The primitives to use. */
  crypto: NoiseCrypto;
  /** True for the initiator (dialer). */
  initiator: boolean;
  /** Our static X25519 key pair (s). */
  staticKeyPair: X25519KeyPair;
  /** Prologue; libp2p uses the empty prologue. */
  prologue?: Uint8Array;
  /** A fixed ephemeral key pair (tests/vectors only); a fresh one is generated otherwise. */
  ephemeralKeyPair?: X25519KeyPair;
}

/** The transport ciphers and facts a finished handshake yields. */
export interface HandshakeResult {
  /** Cipher for messages we send. */
  readonly send: CipherState;
  /** Cipher for messages we receive. */
  readonly receive: CipherState;
  /** The final handshake hash (§11.2 channel binding). */
  readonly handshakeHash: Uint8Array;
  /** The remote static public key (rs). */
  readonly remoteStaticKey: Uint8Array;
}

/**
 * Noise §5.3 HandshakeState for the XX pattern. Call {@link XXHandshakeState.writeMessage}
 * and {@link XXHandshakeState.readMessage} in turn (initiator writes messages 1 and 3, the
 * responder message 2); after the third message {@link XXHandshakeState.result} holds the
 * transport ciphers. Malformed or unauthenticated input throws HandshakeError (with the
 * DecryptError as `cause` when a tag fails); the state is then unusable.
 *
 * @example
 * ```ts
 * import { nobleCrypto, XXHandshakeState } from "@p2p-edge/libp2p/protocols/noise";
 * const mk = (initiator: boolean) => new XXHandshakeState({
 *   crypto: nobleCrypto, initiator, staticKeyPair: nobleCrypto.generateX25519KeyPair(),
 * });
 * const i = mk(true), r = mk(false);
 * r.readMessage(i.writeMessage(new Uint8Array(0)));
 * i.readMessage(r.writeMessage(new Uint8Array(0)));
 * r.readMessage(i.writeMessage(new Uint8Array(0)));
 * i.result!.send.encryptWithAd(new Uint8Array(0), new Uint8Array([1]));
 * ```
 */
export class XXHandshakeState {
  readonly #crypto: NoiseCrypto;
  readonly #initiator: boolean;
  readonly #ss: SymmetricState;
  readonly #s: X25519KeyPair;
  #e: X25519KeyPair | undefined;
  #ownEphemeral = false;
  #rs: Uint8Array | undefined;
  #re: Uint8Array | undefined;
  #index = 0;
  #failed = false;
  #result: HandshakeResult | undefined;

  /** Initialize(handshake_pattern = XX, initiator, prologue, s, e). */
  constructor(options: XXHandshakeOptions) {
    this.#crypto = options.crypto;
    this.#initiator = options.initiator;
    this.#s = options.staticKeyPair;
    if (this.#s.publicKey.byteLength !== DH_LENGTH || this.#s.privateKey.byteLength !== DH_LENGTH) {
      throw new TypeError("static key pair must hold 32-byte X25519 keys");
    }
    this.#e = options.ephemeralKeyPair;
    this.#ss = new SymmetricState(this.#crypto, NOISE_PROTOCOL_NAME);
    this.#ss.mixHash(options.prologue ?? EMPTY);
  }

  /** True for the initiator. */
  get initiator(): boolean {
    return this.#initiator;
  }

  /** Index (0, 1, 2) of the next handshake message; 3 once complete. */
  get messageIndex(): number {
    return this.#index;
  }

  /** True when it is our turn to write. */
  get isMyTurn(): boolean {
    return this.#index < 3 && (this.#index % 2 === 0) === this.#initiator;
  }

  /** The remote static key once it was received (after message 2 / 3). */
  get remoteStaticKey(): Uint8Array | undefined {
    return this.#rs;
  }

  /** The current handshake hash h. */
  get handshakeHash(): Uint8Array {
    return this.#ss.handshakeHash;
  }

  /** Transport ciphers and handshake hash, once all three messages were processed. */
  get result(): HandshakeResult | undefined {
    return this.#result;
  }

  #checkTurn(writing: boolean): void {
    if (this.#failed) throw new HandshakeError("handshake already failed");
    if (this.#index >= 3) throw new TypeError("handshake already complete");
    if (this.isMyTurn !== writing) {
      throw new TypeError(
        `not our turn to ${writing ? "write" : "read"} message ${this.#index + 1}`,
      );
    }
  }

  #dh(local: X25519KeyPair | undefined, remote: Uint8Array | undefined): Uint8Array {
    if (local === undefined || remote === undefined) throw new TypeError("missing DH key");
    try {
      return this.#crypto.x25519(local.privateKey, remote);
    } catch (cause) {
      throw new HandshakeError("X25519 with the remote key failed (low-order point)", { cause });
    }
  }

  #mixDh(token: "ee" | "es" | "se"): void {
    // §7.1: "es" is DH(e, rs) for the initiator and DH(s, re) for the responder; "se" is the
    // mirror image.
    let shared: Uint8Array;
    if (token === "ee") shared = this.#dh(this.#e, this.#re);
    else if ((token === "es") === this.#initiator) shared = this.#dh(this.#e, this.#rs);
    else shared = this.#dh(this.#s, this.#re);
    this.#ss.mixKey(shared);
    shared.fill(0);
  }

  /** WriteMessage(payload): the next handshake message (without the libp2p length prefix). */
  writeMessage(payload: Uint8Array): Uint8Array {
    this.#checkTurn(true);
    const parts: Uint8Array[] = [];
    for (const token of XX_PATTERN[this.#index]) {
      if (token === "e") {
        if (this.#e === undefined) {
          this.#e = this.#crypto.generateX25519KeyPair();
          this.#ownEphemeral = true;
        }
        parts.push(this.#e.publicKey);
        this.#ss.mixHash(this.#e.publicKey);
      } else if (token === "s") {
        parts.push(this.#ss.encryptAndHash(this.#s.publicKey));
      } else {
        this.#mixDh(token);
      }
    }
    parts.push(this.#ss.encryptAndHash(payload));
    let length = 0;
    for (const p of parts) length += p.byteLength;
    const message = new Uint8Array(length);
    let offset = 0;
    for (const p of parts) {
      message.set(p, offset);
      offset += p.byteLength;
    }
    this.#finishStep();
    return message;
  }

  /**
   * ReadMessage(message): the decrypted payload. Throws HandshakeError when the message is too
   * short or fails authentication.
   */
  readMessage(message: Uint8Array): Uint8Array {
    this.#checkTurn(false);
    try {
      let offset = 0;
      const take = (n: number, what: string): Uint8Array => {
        if (message.byteLength - offset < n) {
          throw new HandshakeError(
            `handshake message ${
              this.#index + 1
            } too short for ${what} (${message.byteLength} bytes)`,
          );
        }
        const out = message.subarray(offset, offset + n);
        offset += n;
        return out;
      };
      for (const token of XX_PATTERN[this.#index]) {
        if (token === "e") {
          this.#re = take(DH_LENGTH, "an ephemeral key").slice();
          this.#ss.mixHash(this.#re);
        } else if (token === "s") {
          const length = this.#ss.hasKey() ? DH_LENGTH + TAG_LENGTH : DH_LENGTH;
          this.#rs = this.#ss.decryptAndHash(take(length, "a static key")).slice();
        } else {
          this.#mixDh(token);
        }
      }
      const rest = message.subarray(offset);
      if (this.#ss.hasKey() && rest.byteLength < TAG_LENGTH) {
        throw new HandshakeError(`handshake message ${this.#index + 1} has no payload tag`);
      }
      const payload = this.#ss.decryptAndHash(rest);
      this.#finishStep();
      return payload;
    } catch (err) {
      this.#failed = true;
      if (err instanceof HandshakeError) throw err;
      if (err instanceof DecryptError) {
        throw new HandshakeError(`handshake message ${this.#index + 1} failed authentication`, {
          cause: err,
        });
      }
      throw new HandshakeError(`handshake message ${this.#index + 1} rejected`, { cause: err });
    }
  }

  #finishStep(): void {
    this.#index++;
    if (this.#index < 3) return;
    const handshakeHash = this.#ss.handshakeHash;
    const [c1, c2] = this.#ss.split();
    if (this.#rs === undefined) throw new HandshakeError("no remote static key");
    this.#result = this.#initiator
      ? { send: c1, receive: c2, handshakeHash, remoteStaticKey: this.#rs }
      : { send: c2, receive: c1, handshakeHash, remoteStaticKey: this.#rs };
    if (this.#ownEphemeral) this.#e?.privateKey.fill(0);
  }
}
