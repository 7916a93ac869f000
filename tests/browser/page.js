// The page that browser_test.ts opens in headless Chromium. It loads the browser bundle
// (./libp2p.js, built by the test with the same command as `deno task bundle:browser`), creates
// a node, dials the Deno node over WebSocket and then over WebTransport (each address comes in
// the query string), runs ping and an echo of a payload derived from `seed` (and, over the
// WebSocket connection, a DHT lookup in client mode), and POSTs what
// happened to /result. It asserts nothing itself: the test compares the echoed bytes with its
// own copy of the payload.
//
// Plain JavaScript (no build step): it is served as-is next to the bundle.

import {
  createNode,
  defaultNoiseCrypto,
  echo,
  identify,
  kadDHT,
  multiaddr,
  noise,
  ping,
  runtimeInfo,
  websocket,
  webTransport,
  yamux,
} from "./libp2p.js";

const params = new URLSearchParams(location.search);
const PING_COUNT = 3;

/** The echo payload: the same formula as payload() in browser_test.ts. */
function payload(length, seed) {
  const out = new Uint8Array(length);
  for (let i = 0; i < length; i++) out[i] = (i * 131 + seed * 7 + (i >> 8)) & 0xff;
  return out;
}

function hex(bytes) {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

/** An error with its class, message and cause chain, as text for the report. */
function describeError(err) {
  const parts = [];
  let e = err;
  for (let depth = 0; e !== undefined && e !== null && depth < 6; depth++) {
    parts.push(e instanceof Error ? `${e.name}: ${e.message}` : String(e));
    e = e instanceof Error ? e.cause : undefined;
  }
  return parts.join(" <- caused by ");
}

/**
 * A getClosestPeers lookup in DHT client mode over the open connection: the Deno node, a DHT
 * server, must be among the peers that answered. It joins our routing table once identify has
 * run, so the lookup is retried (at most 20 times, 250 ms apart) until the table has it.
 */
async function dhtLookup(node) {
  const key = new TextEncoder().encode("browser dht lookup");
  let answeredBy = [];
  let finals = [];
  for (let attempt = 0; attempt < 20 && finals.length === 0; attempt++) {
    if (attempt > 0) await new Promise((r) => setTimeout(r, 250));
    answeredBy = [];
    finals = [];
    for await (
      const ev of node.services.dht.getClosestPeers(key, {
        signal: AbortSignal.timeout(10_000),
      })
    ) {
      if (ev.name === "PEER_RESPONSE") answeredBy.push(ev.from.toString());
      if (ev.name === "FINAL_PEER") finals.push(ev.peer.id.toString());
    }
  }
  return { answeredBy, finals, serverMode: node.services.dht.serverMode };
}

async function exercise(node, kind, addr, seed) {
  const started = performance.now();
  try {
    const conn = await node.dial(multiaddr(addr));
    const rtts = [];
    for (let i = 0; i < PING_COUNT; i++) rtts.push(await node.services.ping.ping(conn));
    const echoed = await node.services.echo.echo(conn, payload(1024, seed));
    const dht = kind === "ws" ? await dhtLookup(node) : undefined;
    const result = {
      ok: true,
      remotePeer: conn.remotePeer.toString(),
      remoteAddr: conn.remoteAddr.toString(),
      encryption: conn.encryption,
      multiplexer: conn.multiplexer,
      rtts,
      echoedHex: hex(echoed),
      dht,
      ms: performance.now() - started,
    };
    await conn.close();
    return result;
  } catch (err) {
    return { ok: false, kind, error: describeError(err), ms: performance.now() - started };
  }
}

const report = {
  runtime: runtimeInfo(),
  secureContext: globalThis.isSecureContext,
  webTransportGlobal: typeof globalThis.WebTransport,
};
try {
  const seed = Number(params.get("seed"));
  const node = await createNode({
    transports: [websocket(), webTransport({ client: "web" })],
    connectionEncrypters: [noise()],
    streamMuxers: [yamux()],
    services: {
      ping: ping(),
      echo: echo(),
      identify: identify(),
      dht: kadDHT({ clientMode: true, allowPrivateAddresses: true }),
    },
  });
  report.peerId = node.peerId.toString();
  report.noiseCrypto = (await defaultNoiseCrypto()).name;
  report.ws = await exercise(node, "ws", params.get("ws"), seed);
  report.wt = await exercise(node, "wt", params.get("wt"), seed + 1);
  await node.stop();
} catch (err) {
  report.fatal = describeError(err);
}
await fetch("/result", { method: "POST", body: JSON.stringify(report) });
