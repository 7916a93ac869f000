/**
 * `/plaintext/2.0.0` (libp2p/specs plaintext/README.md): peers exchange their peer id and public
 * key, and the connection then carries bytes unencrypted. For tests and benchmarks only.
 *
 * @example
 * ```ts
 * import { generateKeyPair } from "@p2p-edge/libp2p";
 * import { plaintext } from "@p2p-edge/libp2p/protocols/plaintext";
 * const encrypter = plaintext()({ privateKey: await generateKeyPair("Ed25519") });
 * console.log(encrypter.protocol); // "/plaintext/2.0.0"
 * ```
 *
 * @module
 */

export { plaintext, type PlaintextOptions } from "./service.ts";
export { PLAINTEXT_PROTOCOL_ID } from "./constants.ts";
