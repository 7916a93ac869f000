/**
 * Defaults and bounds of the TCP transport. Every buffer a peer can fill has a named bound here
 * (HARDENING.md rule 1); each is an option in {@link TcpOptions}.
 *
 * @module
 */

/** Deadline for establishing a TCP connection, ms (HARDENING.md rule 8). */
export const DEFAULT_CONNECT_TIMEOUT_MS = 10_000;

/**
 * Bound on a graceful close (flushing queued writes to a peer that may not read), ms; after it
 * the connection is aborted (HARDENING.md: "no pending write waits forever").
 */
export const DEFAULT_CLOSE_TIMEOUT_MS = 5_000;

/**
 * Inbound connections one listener keeps open at a time; a socket accepted beyond it is closed at
 * once (HARDENING.md, "many sockets that connect and send nothing").
 */
export const DEFAULT_MAX_CONNECTIONS = 4096;

/** Bytes received but not yet read that a connection buffers before it stops reading the socket. */
export const DEFAULT_READ_HIGH_WATER_MARK = 64 * 1024;

/** Bytes accepted by a connection's writable but not yet handed to the socket before writes wait. */
export const DEFAULT_WRITE_HIGH_WATER_MARK = 64 * 1024;

/** Largest read from a Deno socket (one `conn.read` fills at most this many bytes). */
export const READ_CHUNK_SIZE = 64 * 1024;

/**
 * Smallest (and first) read buffer of a Deno connection. Reads double up to READ_CHUNK_SIZE while
 * they fill their buffer and halve back while they use under a quarter of it, so the read that
 * waits on an idle connection holds a small buffer, not 64 KiB (measured in bench/: about 60 KiB
 * of RSS per idle connection). The pending `conn.read` pins its whole buffer (Deno keeps no
 * buffer of its own per resource: the op reads straight into ours), so this is what an idle
 * connection pays: 512 B instead of 4 KiB saved 3.5 KiB of external memory per connection
 * (1,024 idle connections, node stack). A bulk transfer reaches 64 KiB reads after 7 full reads.
 */
export const MIN_READ_CHUNK_SIZE = 512;

/** Largest buffer bound accepted for the high-water-mark options (64 MiB). */
export const MAX_HIGH_WATER_MARK = 64 * 1024 * 1024;

/** Multiaddr protocol names the transport accepts as the host part. */
export const HOST_PROTOCOLS: readonly string[] = ["ip4", "ip6", "dns", "dns4", "dns6"];
