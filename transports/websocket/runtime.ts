/**
 * Which WebSocket server the runtime offers and the machine's interface addresses, both from
 * src/runtime.ts (the one module that looks at the runtime's globals).
 *
 * @module
 */

export {
  interfaceAddresses,
  type WebSocketServerKind,
  webSocketServerKind,
} from "../../src/runtime.ts";
