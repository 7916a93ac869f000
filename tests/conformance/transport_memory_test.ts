import { multiaddr } from "../../src/multiaddr/mod.ts";
import { memory } from "../../transports/memory/mod.ts";
import { runTransportSuite } from "./transport_suite.ts";

runTransportSuite("memory", () => ({ transport: memory(), listenAddr: multiaddr("/memory/0") }));
