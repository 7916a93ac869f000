/**
 * The browser entry of @p2p-edge/libp2p: the web-only parts of the library, for bundling
 * (`deno bundle --platform browser`, see tests/browser/). It imports only modules that run on
 * web APIs alone: the node, the WebSocket and WebTransport dialers, Noise (which falls back to
 * @noble when `node:crypto` cannot be imported), Yamux, identify, ping and echo, the Kademlia
 * DHT (use it in client mode: a browser cannot be dialled, so it cannot serve), pubsub
 * (gossipsub and floodsub, which need identify), addressing and keys. TCP and the memory
 * transport are not part of it.
 *
 * In a browser, listening is not possible (WebSocket and WebTransport listeners need Deno or
 * Bun); a browser node dials out. Use `webTransport({ client: "web" })` so the standard
 * `WebTransport` API with `serverCertificateHashes` is used.
 *
 * @example
 * ```ts ignore
 * import {
 *   createNode, echo, multiaddr, noise, ping, websocket, webTransport, yamux,
 * } from "@p2p-edge/libp2p/browser";
 * const node = await createNode({
 *   transports: [websocket(), webTransport({ client: "web" })],
 *   connectionEncrypters: [noise()],
 *   streamMuxers: [yamux()],
 *   services: { ping: ping(), echo: echo() },
 * });
 * const rtt = await node.services.ping.ping(multiaddr("/ip4/127.0.0.1/tcp/4001/ws/p2p/12D3KooW..."));
 * ```
 *
 * @module
 */

export {
  createNode,
  type DialTarget,
  Libp2pNode,
  type NodeInit,
  type SecurityOption,
  type ServiceFactory,
} from "../../src/node/node.ts";
export type { Connection, Stream, StreamHandler } from "../../src/connection.ts";
export type { Transport } from "../../src/transport.ts";
export { generateKeyPair, peerIdFromPrivateKey, peerIdFromPublicKey } from "../../src/keys/mod.ts";
export type { KeyType, PrivateKey, PublicKey } from "../../src/keys/types.ts";
export { PeerId, peerIdFromString } from "../../src/peer_id.ts";
export { Multiaddr, multiaddr } from "../../src/multiaddr/mod.ts";
export { type RuntimeInfo, runtimeInfo, type RuntimeName } from "../../src/runtime.ts";
export * from "../../src/errors.ts";

export { websocket, type WebSocketOptions } from "../../transports/websocket/mod.ts";
export { webTransport, type WebTransportOptions } from "../../transports/webtransport/mod.ts";
export { noise, type NoiseOptions } from "../../protocols/noise/mod.ts";
// The crypto provider in use, reported by the browser test page.
export { defaultNoiseCrypto } from "../../protocols/noise/crypto_native.ts";
export { yamux } from "../../protocols/yamux/mod.ts";
export { ping, type PingService } from "../../protocols/ping/mod.ts";
export { echo, type EchoService } from "../../protocols/echo/mod.ts";
export { identify, type IdentifyService } from "../../protocols/identify/mod.ts";
export {
  kadDHT,
  type KadDHTOptions,
  type KadDHTService,
  type KadQueryEvent,
} from "../../protocols/kad-dht/mod.ts";
export {
  gossipsub,
  type GossipsubOptions,
  type GossipsubService,
} from "../../protocols/gossipsub/mod.ts";
export {
  floodsub,
  type FloodsubOptions,
  type FloodsubService,
} from "../../protocols/floodsub/mod.ts";
