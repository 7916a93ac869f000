/**
 * The CLI node's pieces: the persistent identity key, the node with every transport, the log
 * lines for node events, and the dials. No argument parsing (args.ts) and no process handling
 * (main.ts) here.
 *
 * @module
 */

import { readFile, writeFile } from "node:fs/promises";
import type { Connection } from "../../src/connection.ts";
import {
  generateKeyPair,
  privateKeyFromProtobuf,
  privateKeyToProtobuf,
} from "../../src/keys/mod.ts";
import type { PrivateKey } from "../../src/keys/types.ts";
import { type Multiaddr, multiaddr } from "../../src/multiaddr/mod.ts";
import {
  createNode,
  type Libp2pNode,
  type PeerDiscoveryFactory,
  type ServiceFactory,
} from "../../src/node/node.ts";
import { parseDnsServer, systemDnsResolver } from "../../src/runtime.ts";
import { bootstrap } from "../../protocols/bootstrap/mod.ts";
import { mdns } from "../../protocols/mdns/mod.ts";
import { type CircuitRelayServer, circuitRelayServer } from "../../protocols/circuit-relay/mod.ts";
import { type AutoNAT, autoNAT } from "../../protocols/autonat/mod.ts";
import { rendezvous, type RendezvousService } from "../../protocols/rendezvous/mod.ts";
import { echo } from "../../protocols/echo/mod.ts";
import { identify, type IdentifyService } from "../../protocols/identify/mod.ts";
import { kadDHT } from "../../protocols/kad-dht/mod.ts";
import type { KadDHT } from "../../protocols/kad-dht/operations.ts";
import type { ProviderStore, ValueStore } from "../../protocols/kad-dht/mod.ts";
import { mplex } from "../../protocols/mplex/mod.ts";
import { noise } from "../../protocols/noise/mod.ts";
import { perf } from "../../protocols/perf/mod.ts";
import { ping, type PingService } from "../../protocols/ping/mod.ts";
import { yamux } from "../../protocols/yamux/mod.ts";
import { floodsub, type PubsubService } from "../../protocols/floodsub/mod.ts";
import { gossipsub } from "../../protocols/gossipsub/mod.ts";
import { tcp } from "../../transports/tcp/mod.ts";
import { websocket } from "../../transports/websocket/mod.ts";
import { webTransport } from "../../transports/webtransport/mod.ts";
import { circuitRelayTransport } from "../../transports/circuit-relay/mod.ts";
import { MemoryProviderStore } from "../../protocols/kad-dht/providers.ts";
import { MemoryValueStore } from "../../protocols/kad-dht/values.ts";
import type { CliOptions, LogLevel } from "./args.ts";
import { presetLimits } from "./preset.ts";

/**
 * A failure the CLI reports as one line (exit code 1); `cause` keeps the original error.
 *
 * @example
 * ```ts
 * import { CliError } from "./node.ts";
 * throw new CliError("cannot read key file ./node.key: permission denied");
 * ```
 */
export class CliError extends Error {
  /** "CliError". */
  override name = "CliError";
}

/** Where the CLI writes: one call per line, without the newline. */
export interface CliOutput {
  /** A result or log line (stdout). */
  out(line: string): void;
  /** An error line (stderr). */
  err(line: string): void;
}

/** The services the CLI node runs; echo and perf only when asked for. */
export interface CliServices extends Record<string, unknown> {
  /** identify and identify/push. */
  identify: IdentifyService;
  /** ping. */
  ping: PingService;
  /** The Kademlia DHT, with `--dht` or `--dht-server`. */
  dht?: KadDHT;
  /** The circuit relay v2 server, with `--relay`. */
  relay?: CircuitRelayServer;
  /** Pubsub (`--pubsub` router), with `--subscribe` or `--publish`. */
  pubsub?: PubsubService;
  /** AutoNAT server and client, with `--autonat`. */
  autonat?: AutoNAT;
  /** A rendezvous point (and client), with `--rendezvous`. */
  rendezvous?: RendezvousService;
}

/** Largest key file read, bytes (an RSA-4096 protobuf key is about 2.4 KB). */
export const MAX_KEY_FILE_BYTES = 16 * 1024;

/**
 * Load the protobuf private key in `path`, or create an Ed25519 one there (mode 0600, never
 * overwriting a file that appeared meanwhile). Throws {@link CliError} with a one-line message
 * when the file cannot be read, is not a key, or cannot be created.
 *
 * @example
 * ```ts ignore
 * import { loadOrCreateKey } from "./node.ts";
 * const { key, created } = await loadOrCreateKey("./node.key");
 * ```
 */
export async function loadOrCreateKey(
  path: string,
): Promise<{ key: PrivateKey; created: boolean }> {
  let bytes: Uint8Array | undefined;
  try {
    bytes = new Uint8Array(await readFile(path));
  } catch (err) {
    if ((err as { code?: string }).code !== "ENOENT") {
      throw new CliError(`cannot read key file ${path}: ${describeError(err)}`, { cause: err });
    }
  }
  if (bytes !== undefined) {
    if (bytes.byteLength > MAX_KEY_FILE_BYTES) {
      throw new CliError(`key file ${path} is larger than ${MAX_KEY_FILE_BYTES} bytes`);
    }
    try {
      return { key: await privateKeyFromProtobuf(bytes), created: false };
    } catch (err) {
      throw new CliError(`key file ${path} holds no valid private key: ${describeError(err)}`, {
        cause: err,
      });
    }
  }
  const key = await generateKeyPair("Ed25519");
  try {
    await writeFile(path, privateKeyToProtobuf(key), { mode: 0o600, flag: "wx" });
  } catch (err) {
    throw new CliError(`cannot create key file ${path}: ${describeError(err)}`, { cause: err });
  }
  return { key, created: true };
}

/**
 * Parse multiaddr text given to `flag`, as a {@link CliError} naming the flag when malformed.
 *
 * @example
 * ```ts
 * import { parseAddr } from "./node.ts";
 * parseAddr("--listen", "/ip4/127.0.0.1/tcp/0").toString(); // "/ip4/127.0.0.1/tcp/0"
 * ```
 */
export function parseAddr(flag: string, text: string): Multiaddr {
  try {
    return multiaddr(text);
  } catch (err) {
    throw new CliError(`invalid ${flag} address ${text}: ${describeError(err)}`, { cause: err });
  }
}

/**
 * Create and start the CLI node: TCP, WebSocket and WebTransport transports (the first one
 * whose filter takes an address listens on it), Noise, Yamux then mplex, identify and ping,
 * plus echo/perf when enabled; `announce`/`appendAnnounce`/`noAnnounce` go to the node's
 * `addresses` option. Node events are logged to `output` at `options.logLevel` (verbose: also
 * what the node announces, on every change).
 * `stores.dht` (from the data dir) keeps the DHT's records when serving the DHT.
 * Throws {@link CliError} for a malformed address and the node's error when listening fails.
 *
 * @example
 * ```ts ignore
 * import { startCliNode } from "./node.ts";
 * const node = await startCliNode(options, key, { out: console.log, err: console.error });
 * ```
 */
export async function startCliNode(
  options:
    & Pick<CliOptions, "listen" | "echo" | "perf" | "logLevel">
    & Partial<
      Pick<
        CliOptions,
        | "announce"
        | "appendAnnounce"
        | "noAnnounce"
        | "dht"
        | "dhtPrivateAddrs"
        | "dial"
        | "relay"
        | "relayPrivateAddrs"
        | "subscribe"
        | "publish"
        | "pubsub"
        | "autonat"
        | "autonatPrivateAddrs"
        | "bootstrap"
        | "dnsServer"
        | "rendezvous"
        | "metrics"
        | "preset"
        | "pubsubTopic"
        | "allowPrivateAddresses"
      >
    >,
  privateKey: PrivateKey,
  output: CliOutput,
  stores: { dht?: { values: ValueStore; providers: ProviderStore } } = {},
): Promise<Libp2pNode<CliServices>> {
  const listen = options.listen.map((text) => parseAddr("--listen", text));
  const announce = (options.announce ?? []).map((text) => parseAddr("--announce", text));
  const appendAnnounce = (options.appendAnnounce ?? []).map((text) =>
    parseAddr("--append-announce", text)
  );
  const noAnnounce = (options.noAnnounce ?? []).map((text) => parseAddr("--no-announce", text));
  const verbose = options.logLevel === "verbose";
  const services: Record<string, ServiceFactory<unknown>> = {
    identify: identify({
      log: verbose ? (message, error) => output.err(diagnostic(message, error)) : undefined,
    }),
    ping: ping(),
  };
  if (options.echo) services.echo = echo();
  if (options.perf) services.perf = perf();
  // `--preset edge` limits (preset.ts); without a preset the library defaults apply.
  const limits = presetLimits(options.preset);
  if (options.relay === true) {
    services.relay = circuitRelayServer({
      reservations: {
        ...limits?.relay,
        ...(options.relayPrivateAddrs === true ? { addressFilter: () => true } : {}),
      },
      ...(limits ? { maxInboundHopStreams: limits.relayMaxInboundHopStreams } : {}),
    });
  }
  if (options.rendezvous === true) services.rendezvous = rendezvous({ server: true });
  if (options.autonat === true) {
    services.autonat = autoNAT({ allowPrivateAddresses: options.autonatPrivateAddrs === true });
  }
  if (options.dht !== undefined && options.dht !== "off") {
    const server = options.dht === "server";
    services.dht = kadDHT({
      ...(limits && server ? { requestLimits: limits.dhtRequests } : {}),
      clientMode: options.dht === "client",
      allowPrivateAddresses: options.dhtPrivateAddrs === true,
      // The --dial peers, with /p2p/, are the bootstrap peers (runCli bootstraps after dials).
      bootstrapPeers: (options.dial ?? []).filter((a) => a.includes("/p2p/")),
      // Records we hold for the network survive restarts (--data-dir); the preset's caps apply
      // to them (state.ts) or to the memory stores without a data dir.
      values: server
        ? stores.dht?.values ?? (limits ? new MemoryValueStore(limits.dhtValues) : undefined)
        : undefined,
      providers: server
        ? stores.dht?.providers ??
          (limits ? new MemoryProviderStore(limits.dhtProviders) : undefined)
        : undefined,
    });
  }
  const pubsub = cliPubsub(options);
  if (pubsub !== undefined) services.pubsub = pubsub;
  const discovery = cliDiscovery(options);
  const node = await createNode<CliServices>({
    ...discovery,
    privateKey,
    // Most specific first: a listen address goes to the first transport that takes it.
    // The relay client takes only /p2p-circuit addresses (listen) and circuits (dial).
    transports: [webTransport(), websocket(), tcp(), circuitRelayTransport()],
    connectionEncrypters: [noise()],
    streamMuxers: [yamux(), mplex()],
    services: services as { [K in keyof CliServices]: ServiceFactory<CliServices[K]> },
    addresses: { listen, announce, appendAnnounce, noAnnounce },
    // Bytes by transport for /metrics and the status page's chart (--metrics only).
    countTraffic: options.metrics !== undefined,
    ...(limits ? { resources: limits.resources } : {}),
    connectionManager: {
      ...limits?.connectionManager,
      // Local test networks (and a reverse proxy on this host) put every peer on loopback.
      ...(options.allowPrivateAddresses === true ? { allowList: LOOPBACK_ALLOW_LIST } : {}),
    },
    // Started below, once the log listeners are attached.
    start: false,
  });
  attachLogging(node, options.logLevel, output);
  // Relayed addresses come later, when a relay grants a reservation: each is printed then.
  const printed = new Set<string>();
  node.addEventListener("self:peer:update", () => {
    for (const addr of node.addrs()) {
      const text = addr.toString();
      if (!text.includes("/p2p-circuit") || printed.has(text)) continue;
      printed.add(text);
      output.out(`listening ${text}`);
    }
  });
  node.addEventListener("peer:discovery", (e) => {
    if (options.logLevel === "quiet") return;
    const { id, multiaddrs } = e.detail;
    output.out(`discovered ${id.toString()} ${multiaddrs.map(String).join(" ")}`.trimEnd());
  });
  if (options.autonat === true) {
    node.addEventListener("self:reachability", (e) => {
      output.out(`reachability ${e.detail.reachability}`);
    });
  }
  await node.start();
  // --pubsub-topic: joined as a bootstrapper (cliPubsub); messages are not printed.
  for (const topic of options.pubsubTopic ?? []) node.services.pubsub?.subscribe(topic);
  return node;
}

/**
 * The node options of `--bootstrap`, `--mdns` and `--dns-server`: the bootstrap and mDNS
 * discovery services and the DNS client sending every lookup to the given server. {@link CliError} when an address or
 * the server is malformed, or the runtime has no DNS client to point at a server.
 *
 * @example
 * ```ts
 * import { cliDiscovery } from "./node.ts";
 * const { peerDiscovery } = cliDiscovery({ bootstrap: ["/dnsaddr/bootstrap.libp2p.io"] });
 * ```
 */
export function cliDiscovery(
  options: Partial<Pick<CliOptions, "bootstrap" | "dnsServer" | "mdns">>,
): { peerDiscovery?: PeerDiscoveryFactory[]; dns?: ReturnType<typeof systemDnsResolver> } {
  const out: ReturnType<typeof cliDiscovery> = {};
  if (options.dnsServer !== undefined) {
    let dns: ReturnType<typeof systemDnsResolver>;
    try {
      dns = systemDnsResolver(parseDnsServer(options.dnsServer));
    } catch (err) {
      throw new CliError(`invalid --dns-server ${options.dnsServer}: ${describeError(err)}`, {
        cause: err,
      });
    }
    if (dns === undefined) throw new CliError("--dns-server: this runtime has no DNS client");
    out.dns = dns;
  }
  const list = (options.bootstrap ?? []).map((text) => parseAddr("--bootstrap", text));
  if (list.length > 0) {
    try {
      out.peerDiscovery = [bootstrap({ list, timeoutMs: 0 })];
    } catch (err) {
      throw new CliError(`invalid --bootstrap list: ${describeError(err)}`, { cause: err });
    }
  }
  if (options.mdns === true) out.peerDiscovery = [...(out.peerDiscovery ?? []), mdns()];
  return out;
}

/** Log connection and identify events at `level` (nothing at "quiet"). */
function attachLogging(node: Libp2pNode<CliServices>, level: LogLevel, output: CliOutput): void {
  if (level === "quiet") return;
  const verbose = level === "verbose";
  node.addEventListener("connection:open", (e) => {
    output.out(`connected ${connectionText(e.detail, verbose)}`);
  });
  node.addEventListener("connection:close", (e) => {
    output.out(`disconnected ${connectionText(e.detail, verbose)}`);
  });
  if (!verbose) return;
  node.addEventListener("self:peer:update", (e) => {
    output.out(`announcing ${e.detail.addresses.map(String).join(",") || "-"}`);
  });
  node.addEventListener("stream:handler:error", (e) => {
    const { protocol, peer, error } = e.detail;
    output.err(`handler ${protocol} from ${peer.toString()} failed: ${describeError(error)}`);
  });
  node.addEventListener("peer:identify", (e) => {
    const { peerId, agentVersion, protocolVersion, protocols, listenAddrs } = e.detail;
    output.out(
      `identified ${peerId.toString()} agent ${JSON.stringify(agentVersion ?? "")}` +
        ` protocol ${JSON.stringify(protocolVersion ?? "")}` +
        ` protocols ${protocols.join(",") || "-"}` +
        ` addrs ${(listenAddrs ?? []).map(String).join(",") || "-"}`,
    );
  });
}

function connectionText(conn: Connection, verbose: boolean): string {
  const base = `${conn.remotePeer.toString()} ${conn.remoteAddr.toString()} ${conn.direction}`;
  return verbose ? `${base} ${conn.encryption} ${conn.multiplexer}` : base;
}

/** The result of one `--dial`. */
export interface DialOutcome {
  /** The address dialled. */
  addr: string;
  /** The round trip in ms, when the dial and the ping succeeded. */
  rtt?: number;
  /** The failure otherwise. */
  error?: unknown;
}

/**
 * Dial `addr`, ping the peer once and print `ping <peer id> <rtt> ms` (or an error line). The
 * connection stays open.
 *
 * @example
 * ```ts ignore
 * import { dialAndPing } from "./node.ts";
 * const outcome = await dialAndPing(node, "/ip4/127.0.0.1/tcp/4001", output, "normal");
 * ```
 */
export async function dialAndPing(
  node: Libp2pNode<CliServices>,
  addr: string,
  output: CliOutput,
  level: LogLevel,
): Promise<DialOutcome> {
  try {
    const target = parseAddr("--dial", addr);
    const conn = await node.dial(target);
    const rtt = await node.services.ping.ping(conn);
    output.out(`ping ${conn.remotePeer.toString()} ${formatRtt(rtt)} ms`);
    return { addr, rtt };
  } catch (error) {
    output.err(errorLine(`dial ${addr}: `, error, level === "verbose"));
    return { addr, error };
  }
}

/**
 * A round trip in ms with two decimals (`0.42`), or three significant digits above 100 ms.
 *
 * @example
 * ```ts
 * import { formatRtt } from "./node.ts";
 * formatRtt(0.4213); // "0.42"
 * ```
 */
export function formatRtt(ms: number): string {
  return ms >= 100 ? ms.toFixed(0) : ms.toFixed(2);
}

/**
 * One line for an error: its message followed by the messages of its causes (each once), as
 * `error: <prefix><message>`; with `stack`, the stack follows on the next lines.
 *
 * @example
 * ```ts
 * import { errorLine } from "./node.ts";
 * errorLine("", new Error("boom", { cause: new Error("why") }), false); // "error: boom: why"
 * ```
 */
export function errorLine(prefix: string, error: unknown, stack: boolean): string {
  const line = `error: ${prefix}${describeError(error)}`;
  if (!stack || !(error instanceof Error) || error.stack === undefined) return line;
  return `${line}\n${error.stack}`;
}

/**
 * The message of `error` and of its cause chain, joined with ": " (a cause whose message is
 * already part of the text is skipped), each with its OS error code (`EADDRINUSE`) when the
 * message lacks it. At most four levels.
 *
 * @example
 * ```ts
 * import { describeError } from "./node.ts";
 * describeError(new Error("a", { cause: new Error("b") })); // "a: b"
 * ```
 */
export function describeError(error: unknown): string {
  let text = "";
  let current: unknown = error;
  for (let depth = 0; depth < 4 && current !== undefined && current !== null; depth++) {
    let message = current instanceof Error
      ? (current.message || current.name)
      : typeof current === "string"
      ? current
      : String(current);
    // Runtimes put the OS error code (EADDRINUSE...) beside the message, not always in it.
    const code = (current as { code?: unknown }).code;
    if (typeof code === "string" && /^E[A-Z0-9]+$/.test(code) && !message.includes(code)) {
      message = `${message} (${code})`;
    }
    if (message !== "" && !text.includes(message)) {
      text = text === "" ? message : `${text}: ${message}`;
    }
    current = current instanceof Error ? current.cause : undefined;
  }
  return text === "" ? "unknown error" : text;
}

function diagnostic(message: string, error: unknown): string {
  return error === undefined
    ? `identify: ${message}`
    : `identify: ${message}: ${describeError(error)}`;
}

/**
 * Look peers and providers up in the DHT after bootstrapping off the dialled peers, printing
 * one line per result: `peer <id> <addr>,...` and `provider <cid> <id> <addr>,...`. Resolves
 * with the number of lookups that found nothing (each reported on stderr).
 *
 * @example
 * ```ts
 * import { dhtLookups } from "./node.ts";
 * // const misses = await dhtLookups(node, { findPeer: ["12D3Koo…"], findProviders: [] }, output, "normal");
 * ```
 */
export async function dhtLookups(
  node: Libp2pNode<CliServices>,
  options: Pick<CliOptions, "findPeer" | "findProviders">,
  output: CliOutput,
  level: LogLevel,
): Promise<number> {
  const dht = node.services.dht;
  if (dht === undefined) return 0;
  let misses = 0;
  await dht.bootstrap().catch((err) =>
    output.err(errorLine("dht bootstrap: ", err, level === "verbose"))
  );
  for (const id of options.findPeer) {
    try {
      const found = await dht.findPeer(id);
      output.out(`peer ${found.id.toString()} ${found.multiaddrs.map(String).join(",") || "-"}`);
    } catch (err) {
      misses++;
      output.err(errorLine(`find-peer ${id}: `, err, level === "verbose"));
    }
  }
  for (const cid of options.findProviders) {
    try {
      let n = 0;
      for await (const p of dht.findProviders(cid)) {
        n++;
        output.out(
          `provider ${cid} ${p.id.toString()} ${p.multiaddrs.map(String).join(",") || "-"}`,
        );
      }
      if (n === 0) throw new Error("no provider found");
    } catch (err) {
      misses++;
      output.err(errorLine(`find-providers ${cid}: `, err, level === "verbose"));
    }
  }
  return misses;
}

/**
 * What `--allow-private-addresses` exempts from the connection manager's per-IP and count
 * limits: loopback, where local test networks put every peer.
 */
export const LOOPBACK_ALLOW_LIST: readonly string[] = ["127.0.0.0/8", "::1/128"];

/**
 * Gossipsub as a bootstrapper (`--pubsub-topic`): no mesh of its own (D = D_lo = D_hi = D_out =
 * 0), so every GRAFT is pruned, with peer exchange on, as gossipsub-v1.1.md "Recommendations
 * for Network Operators" advises for bootstrappers.
 */
export const PUBSUB_BOOTSTRAPPER = { D: 0, Dlo: 0, Dhi: 0, Dout: 0, doPX: true } as const;

/**
 * The pubsub service factory for `--pubsub`, or undefined when no topic flag asks for one.
 * With `--pubsub-topic`, gossipsub as a bootstrapper ({@link PUBSUB_BOOTSTRAPPER}).
 *
 * @example
 * ```ts
 * import { cliPubsub } from "./node.ts";
 * cliPubsub({ pubsubTopic: ["chat"] }) !== undefined; // true
 * ```
 */
export function cliPubsub(
  options: Partial<Pick<CliOptions, "subscribe" | "publish" | "pubsub" | "pubsubTopic">>,
): ServiceFactory<PubsubService> | undefined {
  // A chat line typed before anyone listens is not an error: it goes nowhere.
  const common = { allowPublishToZeroTopicPeers: true };
  if ((options.pubsubTopic ?? []).length > 0) {
    return gossipsub({ ...common, ...PUBSUB_BOOTSTRAPPER }) as unknown as ServiceFactory<
      PubsubService
    >;
  }
  if ((options.subscribe ?? []).length === 0 && options.publish === undefined) return undefined;
  return options.pubsub === "floodsub"
    ? floodsub(common)
    : gossipsub(common) as unknown as ServiceFactory<PubsubService>;
}
