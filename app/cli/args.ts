/**
 * Command-line arguments of the CLI node (cli.ts): a small pure parser, no I/O. Multiaddrs are
 * kept as text here; the node setup parses them (a bad address is a runtime error, exit code 1,
 * not a usage error).
 *
 * @module
 */

/** Where the node listens when no `--listen` is given. */
export const DEFAULT_LISTEN = "/ip4/0.0.0.0/tcp/4001";

/** The identity key file used when no `--key` is given. */
export const DEFAULT_KEY_FILE = "./node.key";

/**
 * The data folder used when no `--data-dir` is given: next to the key file, named after it
 * (`./node.key` gives `./node.data`, `/etc/edge/id` gives `/etc/edge/id.data`).
 *
 * @example
 * ```ts
 * import { defaultDataDir } from "./args.ts";
 * defaultDataDir("./node.key"); // "./node.data"
 * ```
 */
export function defaultDataDir(keyFile: string): string {
  const slash = keyFile.lastIndexOf("/");
  const dot = keyFile.lastIndexOf(".");
  const stem = dot > slash + 1 ? keyFile.slice(0, dot) : keyFile;
  return `${stem}.data`;
}

/** Most `--listen`, `--dial`, `--announce`, ... flags taken (each); more is a usage error. */
export const MAX_ADDRESS_FLAGS = 64;

/** How much the CLI prints. */
export type LogLevel = "quiet" | "normal" | "verbose";

/** What the command line asks for. */
export interface CliOptions {
  /** Addresses to listen on (default `[DEFAULT_LISTEN]`, none with `--exit-after-dial`). */
  listen: string[];
  /** Identity key file (default {@link DEFAULT_KEY_FILE}). */
  keyFile: string;
  /**
   * Folder of the node's restart-safe state (`--data-dir`; default {@link defaultDataDir} of
   * the key file).
   */
  dataDir: string;
  /** Peers to connect to and ping once each, in order. */
  dial: string[];
  /** Addresses to announce instead of the listening ones (`--announce`). */
  announce: string[];
  /** Addresses to announce in addition (`--append-announce`). */
  appendAnnounce: string[];
  /** Addresses never to announce (`--no-announce`). */
  noAnnounce: string[];
  /** Stop after the dials instead of serving on. */
  exitAfterDial: boolean;
  /** Serve `/perf/1.0.0`. */
  perf: boolean;
  /** Serve `/echo/1.0.0`. */
  echo: boolean;
  /** Output level. */
  logLevel: LogLevel;
  /** DHT mode: off, client (`--dht`) or server (`--dht-server`). */
  dht: "off" | "client" | "server";
  /** Keep private and loopback addresses in the DHT (`--dht-private-addrs`; local networks). */
  dhtPrivateAddrs: boolean;
  /** Peer ids to look up in the DHT (`--find-peer`). */
  findPeer: string[];
  /** CIDs whose providers to look up in the DHT (`--find-providers`). */
  findProviders: string[];
  /** Serve circuit relay v2 (`--relay`). */
  relay?: boolean;
  /** Put private and loopback addresses in relay reservations (`--relay-private-addrs`). */
  relayPrivateAddrs?: boolean;
  /** Topics to subscribe to; each received message is printed as one line (`--subscribe`). */
  subscribe: string[];
  /** The topic each line of standard input is published on (`--publish`). */
  publish: string | undefined;
  /** The pubsub router (`--pubsub`), used when subscribing or publishing. */
  pubsub: PubsubRouterName;
  /** Serve AutoNAT v2 and v1, and test our own addresses (`--autonat`). */
  autonat?: boolean;
  /** AutoNAT dials and tests private and loopback addresses (`--autonat-private-addrs`). */
  autonatPrivateAddrs?: boolean;
  /** Bootstrap peers (`--bootstrap`, repeatable; `/dnsaddr/<host>` allowed). */
  bootstrap?: string[];
  /** The DNS server every lookup goes to, `ip:port` (`--dns-server`). */
  dnsServer?: string;
  /** Serve as a rendezvous point (`--rendezvous`). */
  rendezvous?: boolean;
  /** Find and announce peers on the LAN with mDNS (`--mdns`). */
  mdns?: boolean;
  /** Serve /metrics, /healthz, /readyz and the status page here (`--metrics`); off if absent. */
  metrics?: HostPort;
  /** Output lines as text (default) or one JSON object per line (`--log-format json`). */
  logFormat?: "text" | "json";
  /** A set of roles and limits (`--preset edge`: relay, DHT server, AutoNAT; preset.ts). */
  preset?: "edge";
  /** DHT, relay and AutoNAT accept private and loopback peers (`--allow-private-addresses`). */
  allowPrivateAddresses?: boolean;
  /** Topics served as a gossipsub bootstrapper with PX (`--pubsub-topic`, repeatable). */
  pubsubTopic?: string[];
}

/** An HTTP listen address, `--metrics 127.0.0.1:8888`. */
export interface HostPort {
  /** The interface, e.g. "127.0.0.1" or "::1" (brackets removed). */
  hostname: string;
  /** The port, 0 to 65535 (0 picks a free one). */
  port: number;
}

/**
 * Parse `host:port` (`[v6]:port` for IPv6). Throws SyntaxError when malformed.
 *
 * @example
 * ```ts
 * import { parseHostPort } from "./args.ts";
 * parseHostPort("[::1]:8888"); // { hostname: "::1", port: 8888 }
 * ```
 */
export function parseHostPort(text: string): HostPort {
  const m = /^(?:\[([0-9a-fA-F:.]+)\]|([^:\[\]\s]+)):(\d{1,5})$/.exec(text);
  const port = m === null ? NaN : Number(m[3]);
  if (m === null || !(port >= 0 && port <= 65535)) {
    throw new SyntaxError(
      `--metrics takes host:port (e.g. 127.0.0.1:8888), not ${JSON.stringify(text)}`,
    );
  }
  return { hostname: m[1] ?? m[2], port };
}

/** The pubsub routers the CLI offers. */
export type PubsubRouterName = "floodsub" | "gossipsub";

/** The router `--subscribe` / `--publish` use when `--pubsub` is not given. */
export const DEFAULT_PUBSUB: PubsubRouterName = "gossipsub";

/** The parse result: options to run with, or a request for the usage text. */
export type CliCommand = { kind: "run"; options: CliOptions } | { kind: "help" };

/** The usage text printed by `--help`. */
export const USAGE = `Usage: start [options]

Runs a libp2p node (TCP, WebSocket, WebTransport on Deno; Noise; Yamux and mplex) serving
identify and ping until interrupted (Ctrl-C / SIGTERM stops it gracefully).

Options:
  --listen <multiaddr>  listen on this address; repeatable; replaces the default
                        ${DEFAULT_LISTEN}. TCP: /ip4/<ip>/tcp/<port>,
                        WebSocket: .../tcp/<port>/ws, WebTransport (Deno only):
                        /ip4/<ip>/udp/<port>/quic-v1/webtransport (certhashes are added),
                        through a relay: <relay multiaddr>/p2p/<relay id>/p2p-circuit,
                        or /p2p-circuit (relays among connected peers); relayed
                        addresses are printed as "listening ..." once reserved
  --key <file>          identity key file (protobuf PrivateKey); an Ed25519 key is created
                        on first run with mode 0600 (default ${DEFAULT_KEY_FILE})
  --data-dir <dir>      folder of the node's state across restarts: identity, recently
                        good peers (dialled first at start), DHT records (--dht-server),
                        relay settings (default: next to the key file, ./node.data)
  --announce <multiaddr>
                        announce this address (identify, peer record) instead of the
                        listening ones, e.g. a public IP or DNS name; repeatable
  --append-announce <multiaddr>
                        announce this address in addition; repeatable
  --no-announce <multiaddr>
                        never announce this address; repeatable
  --dial <multiaddr>    connect to this peer and ping it once, printing
                        "ping <peer id> <rtt> ms"; repeatable; the node keeps serving
  --exit-after-dial     stop after the dials (exit code 1 when one failed); without
                        --listen the node then listens nowhere
  --dht                 join the Kademlia DHT (/ipfs/kad/1.0.0) as a client; the --dial
                        peers are its bootstrap peers
  --dht-server          join the DHT as a server (answer other peers' queries)
  --dht-private-addrs   keep private and loopback addresses in the DHT (local networks)
  --find-peer <peer id> look the peer up in the DHT (implies --dht) and print
                        "peer <peer id> <multiaddr>,..."; repeatable
  --find-providers <cid>
                        look up providers of the CID (implies --dht), one line each:
                        "provider <cid> <peer id> <multiaddr>,..."; repeatable
  --relay               serve circuit relay v2 (/libp2p/circuit/relay/0.2.0/hop): other
                        peers reserve a slot and are reached through this node
  --relay-private-addrs put private and loopback addresses in reservations (local networks)
  --subscribe <topic>   subscribe to a pubsub topic; repeatable; prints each
                        message received on it as one line (its data as UTF-8)
  --publish <topic>     publish each line of standard input on the topic (the node
                        stops when standard input ends)
  --pubsub floodsub|gossipsub
                        the pubsub router for --subscribe/--publish (default
                        ${DEFAULT_PUBSUB})
  --autonat             serve AutoNAT v2 and v1 (others learn whether they are reachable) and
                        test our own addresses with peers that serve it
  --autonat-private-addrs
                        let AutoNAT dial and test private and loopback addresses (local networks)
  --bootstrap <multiaddr>
                        a bootstrap peer (/.../p2p/<id>, or /dnsaddr/<host>); repeatable:
                        reported, tagged and dialled at start and whenever the node has
                        fewer than 5 connections; every peer:discovery event prints
                        "discovered <peer id> <multiaddr> ..."
  --dns-server <ip:port>
                        send every DNS lookup (/dnsaddr TXT, /dns4 /dns6 /dns) to this
                        server instead of the system's resolver
  --rendezvous          serve as a rendezvous point (/rendezvous/1.0.0): peers register in
                        namespaces and discover each other here
  --mdns                find peers on the local network with mDNS (and announce our loopback,
                        private and link-local addresses); each prints a "discovered" line.
                        (on Deno it needs --unstable-net, which deno.json turns on)
  --metrics <host:port> serve Prometheus /metrics, /healthz, /readyz and a live status
                        page at / on this HTTP address, e.g. 127.0.0.1:8888 (off unless
                        given; the --dial peers are the bootstrap peers /readyz waits for)
  --log-format text|json
                        print each event as a text line (default) or as one JSON object
                        per line: {"time","level","event","msg"}
  --preset edge         the edge node: relay, DHT server, AutoNAT, identify and ping, with
                        limits for 2 cores / 24 GiB (README "Edge node"); dials no
                        public network unless --bootstrap is given
  --allow-private-addresses
                        let the DHT, the relay and AutoNAT accept loopback and private
                        peers and addresses, and exempt loopback peers from the
                        connection limits (local networks, tests)
  --pubsub-topic <topic>
                        serve the topic as a gossipsub bootstrapper: no mesh of its own,
                        every GRAFT pruned with peer exchange (PX); repeatable
  --echo                also serve /echo/1.0.0
  --perf                also serve /perf/1.0.0
  --quiet               print only the listening lines, ping results and errors
  --verbose             also print identify results, connection details and error stacks
  --config <file>       read settings from a JSON file: fields named like the flags in
                        camelCase ("dhtServer": true, "listen": ["/ip4/..."]); unknown
                        fields are errors (also P2P_EDGE_CONFIG=<file>)
  --print-config        print the merged settings as JSON (a valid --config file) and exit
  --version             print "p2p-edge-libp2p <version> (<runtime> <version>)" and exit
  --help, -h            show this help

Flags take their value as the next argument or after "=" (--listen=/ip4/...).
Every flag is also an environment variable P2P_EDGE_<FLAG> (--dht-server: P2P_EDGE_DHT_SERVER=1;
repeatable flags comma or space separated); an unknown P2P_EDGE_ variable is an error.
Precedence: flags, then the environment, then the --config file, then the defaults.
Exit codes: 0 stopped cleanly, 1 runtime error, 2 usage error, 78 unusable data dir
(corrupt or foreign store file: move it away; restarting will not help).

Example:
  start --listen /ip4/0.0.0.0/tcp/4001 --listen /ip4/0.0.0.0/tcp/4002/ws \\
        --dial /ip4/192.0.2.7/tcp/4001/p2p/12D3KooW... --echo
`;

const VALUE_FLAGS = new Set([
  "--listen",
  "--key",
  "--data-dir",
  "--dial",
  "--announce",
  "--append-announce",
  "--no-announce",
  "--find-peer",
  "--find-providers",
  "--subscribe",
  "--publish",
  "--pubsub",
  "--bootstrap",
  "--dns-server",
  "--metrics",
  "--log-format",
  "--preset",
  "--pubsub-topic",
]);
const BOOLEAN_FLAGS = new Set([
  "--exit-after-dial",
  "--echo",
  "--perf",
  "--dht",
  "--dht-server",
  "--dht-private-addrs",
  "--relay",
  "--relay-private-addrs",
  "--autonat",
  "--autonat-private-addrs",
  "--rendezvous",
  "--mdns",
  "--allow-private-addresses",
  "--quiet",
  "--verbose",
  "--help",
  "-h",
]);

/**
 * Parse the CLI's arguments (`process.argv.slice(2)`). A `--` token is skipped: `deno task`
 * passes it through to the script, `bun run` does not. Throws SyntaxError for a usage error
 * (unknown flag, missing value, repeated single-valued flag, `--quiet` with `--verbose`, a
 * positional argument) and RangeError for more than {@link MAX_ADDRESS_FLAGS} addresses.
 *
 * @example
 * ```ts
 * import { parseCliArgs } from "./args.ts";
 * const cmd = parseCliArgs(["--", "--listen", "/ip4/127.0.0.1/tcp/0", "--echo"]);
 * if (cmd.kind === "run") console.log(cmd.options.listen); // ["/ip4/127.0.0.1/tcp/0"]
 * ```
 */
export function parseCliArgs(args: readonly string[]): CliCommand {
  const listen: string[] = [];
  const dial: string[] = [];
  const announce: string[] = [];
  const appendAnnounce: string[] = [];
  const noAnnounce: string[] = [];
  const findPeer: string[] = [];
  const findProviders: string[] = [];
  const subscribe: string[] = [];
  const bootstrap: string[] = [];
  const pubsubTopic: string[] = [];
  const lists: Record<string, string[]> = {
    "--bootstrap": bootstrap,
    "--listen": listen,
    "--dial": dial,
    "--announce": announce,
    "--append-announce": appendAnnounce,
    "--no-announce": noAnnounce,
    "--find-peer": findPeer,
    "--find-providers": findProviders,
    "--subscribe": subscribe,
    "--pubsub-topic": pubsubTopic,
  };
  let keyFile: string | undefined;
  let dataDir: string | undefined;
  const seen = new Set<string>();
  const options: CliOptions = {
    listen,
    keyFile: DEFAULT_KEY_FILE,
    dataDir: defaultDataDir(DEFAULT_KEY_FILE),
    dial,
    announce,
    appendAnnounce,
    noAnnounce,
    exitAfterDial: false,
    perf: false,
    echo: false,
    logLevel: "normal",
    dht: "off",
    dhtPrivateAddrs: false,
    findPeer,
    findProviders,
    subscribe,
    publish: undefined,
    pubsub: DEFAULT_PUBSUB,
  };
  let pubsubGiven = false;
  let help = false;
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    if (arg === "--") continue;
    const eq = arg.startsWith("--") ? arg.indexOf("=") : -1;
    const name = eq > 0 ? arg.slice(0, eq) : arg;
    if (VALUE_FLAGS.has(name)) {
      let value: string | undefined;
      if (eq > 0) {
        value = arg.slice(eq + 1);
      } else {
        value = args[i + 1];
        // A flag in value position means the value is missing (`--key --echo`).
        if (value !== undefined && value.startsWith("-") && value !== "-") value = undefined;
        else i++;
      }
      if (value === undefined || value === "") throw new SyntaxError(`${name} needs a value`);
      if (name === "--key") {
        if (keyFile !== undefined) throw new SyntaxError("--key given more than once");
        keyFile = value;
      } else if (name === "--data-dir") {
        if (dataDir !== undefined) throw new SyntaxError("--data-dir given more than once");
        dataDir = value;
      } else if (name === "--publish") {
        if (options.publish !== undefined) throw new SyntaxError("--publish given more than once");
        options.publish = value;
      } else if (name === "--dns-server") {
        if (options.dnsServer !== undefined) {
          throw new SyntaxError("--dns-server given more than once");
        }
        options.dnsServer = value;
      } else if (name === "--preset") {
        if (options.preset !== undefined) throw new SyntaxError("--preset given more than once");
        if (value !== "edge") throw new SyntaxError("--preset is edge");
        options.preset = value;
      } else if (name === "--pubsub") {
        if (pubsubGiven) throw new SyntaxError("--pubsub given more than once");
        if (value !== "floodsub" && value !== "gossipsub") {
          throw new SyntaxError("--pubsub is floodsub or gossipsub");
        }
        pubsubGiven = true;
        options.pubsub = value;
      } else if (name === "--log-format") {
        if (options.logFormat !== undefined) {
          throw new SyntaxError("--log-format given more than once");
        }
        if (value !== "text" && value !== "json") {
          throw new SyntaxError("--log-format is text or json");
        }
        options.logFormat = value;
      } else if (name === "--metrics") {
        if (options.metrics !== undefined) throw new SyntaxError("--metrics given more than once");
        options.metrics = parseHostPort(value);
      } else {
        const list = lists[name];
        if (list.length >= MAX_ADDRESS_FLAGS) {
          throw new RangeError(`at most ${MAX_ADDRESS_FLAGS} ${name} addresses`);
        }
        list.push(value);
      }
      continue;
    }
    if (BOOLEAN_FLAGS.has(name)) {
      if (eq > 0) throw new SyntaxError(`${name} takes no value`);
      if (seen.has(name)) throw new SyntaxError(`${name} given more than once`);
      seen.add(name);
      switch (name) {
        case "--help":
        case "-h":
          help = true;
          break;
        case "--exit-after-dial":
          options.exitAfterDial = true;
          break;
        case "--echo":
          options.echo = true;
          break;
        case "--perf":
          options.perf = true;
          break;
        case "--dht":
          if (options.dht === "off") options.dht = "client";
          break;
        case "--dht-server":
          options.dht = "server";
          break;
        case "--dht-private-addrs":
          options.dhtPrivateAddrs = true;
          break;
        case "--relay":
          options.relay = true;
          break;
        case "--relay-private-addrs":
          options.relayPrivateAddrs = true;
          break;
        case "--autonat":
          options.autonat = true;
          break;
        case "--rendezvous":
          options.rendezvous = true;
          break;
        case "--autonat-private-addrs":
          options.autonat = true;
          options.autonatPrivateAddrs = true;
          break;
        case "--mdns":
          options.mdns = true;
          break;
        case "--allow-private-addresses":
          options.allowPrivateAddresses = true;
          break;
        case "--quiet":
          options.logLevel = "quiet";
          break;
        case "--verbose":
          options.logLevel = "verbose";
          break;
      }
      continue;
    }
    if (arg.startsWith("-")) throw new SyntaxError(`unknown option ${name} (see --help)`);
    throw new SyntaxError(`unexpected argument ${JSON.stringify(arg)} (see --help)`);
  }
  if (help) return { kind: "help" };
  if (seen.has("--quiet") && seen.has("--verbose")) {
    throw new SyntaxError("--quiet and --verbose exclude each other");
  }
  if (options.dht === "off" && (findPeer.length > 0 || findProviders.length > 0)) {
    options.dht = "client";
  }
  if (options.exitAfterDial && dial.length === 0) {
    throw new SyntaxError("--exit-after-dial needs at least one --dial");
  }
  if (keyFile !== undefined) options.keyFile = keyFile;
  if (bootstrap.length > 0) options.bootstrap = bootstrap;
  options.dataDir = dataDir ?? defaultDataDir(options.keyFile);
  if (pubsubTopic.length > 0) {
    if (options.pubsub === "floodsub") throw new SyntaxError("--pubsub-topic needs gossipsub");
    options.pubsubTopic = pubsubTopic;
  }
  // A one-shot dialler needs no listener (and must not collide with a node on the default port).
  if (listen.length === 0 && !options.exitAfterDial) listen.push(DEFAULT_LISTEN);
  return { kind: "run", options };
}
