/**
 * Constants of noise-libp2p (libp2p/specs noise/README.md) and of the Noise Protocol Framework
 * revision 34 (noiseprotocol.org/noise.html) as libp2p instantiates it.
 *
 * @module
 */

/** multistream-select protocol id (noise/README.md, "Negotiation"). */
export const NOISE_PROTOCOL_ID = "/noise";

/**
 * The one concrete Noise protocol libp2p uses (noise/README.md, "Valid Noise Protocol Names").
 * Its UTF-8 bytes seed the handshake hash (Noise §5.2 InitializeSymmetric).
 */
export const NOISE_PROTOCOL_NAME = "Noise_XX_25519_ChaChaPoly_SHA256";

/**
 * Largest frame body: a 2-byte big-endian length prefix caps every handshake and transport
 * message at 65535 bytes (noise/README.md, "Wire Format"; Noise §3 message size limit).
 */
export const MAX_FRAME = 65535;

/** Size of the frame's big-endian length prefix. */
export const FRAME_HEADER_LENGTH = 2;

/** ChaChaPoly authentication tag length (Noise §12.3; RFC 8439 §2.8). */
export const TAG_LENGTH = 16;

/** Largest plaintext that fits one transport frame. */
export const MAX_PLAINTEXT = MAX_FRAME - TAG_LENGTH;

/** X25519 public key / DH output length (Noise §12.1, DHLEN). */
export const DH_LENGTH = 32;

/** SHA-256 output length (Noise §12.5, HASHLEN). */
export const HASH_LENGTH = 32;

/** ChaChaPoly key length. */
export const KEY_LENGTH = 32;

/** Nonce length of the AEAD (4 zero bytes + 64-bit little-endian counter, Noise §12.3). */
export const NONCE_LENGTH = 12;

/**
 * Signed-data prefix of the static key signature (noise/README.md, "The libp2p Handshake
 * Payload"): identity_sig = sign("noise-libp2p-static-key:" || X25519 static public key).
 */
export const STATIC_KEY_SIGNATURE_PREFIX = "noise-libp2p-static-key:";

/** Default deadline for the whole handshake (HARDENING.md rule 8: 10 s for the upgrade). */
export const DEFAULT_HANDSHAKE_TIMEOUT_MS = 10_000;

/**
 * Largest encoded identity PublicKey protobuf accepted in a handshake payload. An RSA-8192
 * SubjectPublicKeyInfo plus protobuf framing is about 1.06 KiB; anything larger is refused
 * before key decoding (HARDENING.md: oversized RSA key is checked before any RSA math).
 */
export const MAX_IDENTITY_KEY_LENGTH = 1_200;

/** Largest identity signature accepted (RSA-8192 signatures are 1024 bytes). */
export const MAX_IDENTITY_SIG_LENGTH = 1_100;

/** Most entries accepted in `webtransport_certhashes` (servers send 1-2 rotating hashes). */
export const MAX_CERTHASHES = 16;

/** Most entries accepted in `stream_muxers` (deployed peers offer 1-3). */
export const MAX_STREAM_MUXERS = 16;

/** Longest muxer protocol id accepted (same bound as multistream-select, PROTOCOLS.md). */
export const MAX_MUXER_ID_LENGTH = 1024;

/** Largest nonce value a CipherState may use; 2^64-1 is reserved (Noise §5.1). */
export const MAX_NONCE = 0xffff_ffff_ffff_ffffn;
