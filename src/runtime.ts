/**
 * Runtime feature detection: the one module outside the runtime adapters (the list in
 * tools/check_web.ts) that looks at the `Deno` and `Bun` globals (ARCHITECTURE.md,
 * "Layers"). Transports ask it which adapter to load, then load it by dynamic import. It reads them through `globalThis` with local structural types, so it type-checks
 * without Deno or Bun type declarations and runs unchanged in a browser.
 *
 * @module
 */

/** The runtimes this library knows apart. */
export type RuntimeName = "deno" | "bun" | "node" | "browser" | "unknown";

/** What {@link runtimeInfo} reports. */
export interface RuntimeInfo {
  /** Which runtime runs this code. */
  readonly name: RuntimeName;
  /** Its version string (e.g. "2.9.6"), or "" when the runtime does not expose one. */
  readonly version: string;
}

/** The parts of `globalThis` this module reads; each may be absent. */
interface RuntimeGlobals {
  Deno?: {
    version?: { deno?: unknown };
    serve?: unknown;
    upgradeWebSocket?: unknown;
    QuicEndpoint?: unknown;
    connectQuic?: unknown;
    upgradeWebTransport?: unknown;
    resolveDns?: unknown;
  };
  Bun?: { version?: unknown; serve?: unknown };
  process?: { versions?: { node?: unknown; bun?: unknown } };
  window?: unknown;
  document?: unknown;
}

function globals(): RuntimeGlobals {
  return globalThis as unknown as RuntimeGlobals;
}

/**
 * Whether the code runs on Deno.
 *
 * @example
 * ```ts
 * import { isDeno } from "@p2p-edge/libp2p/runtime";
 * if (isDeno()) console.log("running on Deno");
 * ```
 */
export function isDeno(): boolean {
  const d = globals().Deno;
  return typeof d === "object" && d !== null && typeof d.version?.deno === "string";
}

/**
 * Whether the code runs on Bun.
 *
 * @example
 * ```ts
 * import { isBun } from "@p2p-edge/libp2p/runtime";
 * if (isBun()) console.log("running on Bun");
 * ```
 */
export function isBun(): boolean {
  const b = globals().Bun;
  return typeof b === "object" && b !== null && typeof b.version === "string";
}

/**
 * The runtime's name and version. Deno and Bun are recognised by their own globals (Bun also
 * defines `process.versions.node`, so Bun is checked before Node).
 *
 * @example
 * ```ts
 * import { runtimeInfo } from "@p2p-edge/libp2p/runtime";
 * const { name, version } = runtimeInfo();
 * console.log(`${name} ${version}`); // e.g. "deno 2.9.6"
 * ```
 */
export function runtimeInfo(): RuntimeInfo {
  const g = globals();
  if (isDeno()) return { name: "deno", version: String(g.Deno!.version!.deno) };
  if (isBun()) return { name: "bun", version: String(g.Bun!.version) };
  const node = g.process?.versions?.node;
  if (typeof node === "string") return { name: "node", version: node };
  if (typeof g.window === "object" && typeof g.document === "object") {
    return { name: "browser", version: "" };
  }
  return { name: "unknown", version: "" };
}

/** Which WebSocket server a runtime offers: see {@link webSocketServerKind}. */
export type WebSocketServerKind = "deno" | "bun" | "none";

/**
 * Which WebSocket server this runtime offers: `Deno.serve` + `Deno.upgradeWebSocket` on Deno,
 * `Bun.serve` on Bun, none elsewhere (browsers, workers: there only dialling works). The
 * WebSocket transport loads its runtime adapter by this answer.
 *
 * @example
 * ```ts
 * import { webSocketServerKind } from "@p2p-edge/libp2p/runtime";
 * if (webSocketServerKind() === "none") console.log("this runtime can only dial WebSockets");
 * ```
 */
export function webSocketServerKind(): WebSocketServerKind {
  const g = globals();
  if (isBun() && typeof g.Bun?.serve === "function") return "bun";
  if (
    isDeno() && typeof g.Deno?.serve === "function" &&
    typeof g.Deno.upgradeWebSocket === "function"
  ) {
    return "deno";
  }
  return "none";
}

/**
 * Whether this runtime has Deno's QUIC and WebTransport server API (`Deno.QuicEndpoint`,
 * `Deno.connectQuic`, `Deno.upgradeWebTransport`: Deno with `--unstable-net`). The WebTransport
 * transport loads its Deno adapter only then.
 *
 * @example
 * ```ts
 * import { hasDenoQuic } from "@p2p-edge/libp2p/runtime";
 * console.log(hasDenoQuic() ? "raw QUIC dialling and listening" : "WebTransport API only");
 * ```
 */
export function hasDenoQuic(): boolean {
  if (!isDeno() || isBun()) return false;
  const d = globals().Deno!;
  return typeof d.QuicEndpoint === "function" && typeof d.connectQuic === "function" &&
    typeof d.upgradeWebTransport === "function";
}

/** An interface address as `node:os` `networkInterfaces()` reports it. */
export interface InterfaceAddress {
  /** IP text. */
  readonly address: string;
  /** "IPv4" / "IPv6" (4 / 6 in some runtimes). */
  readonly family: string | number;
}

/**
 * The machine's interface addresses through `node:os` (Deno and Bun both provide it through
 * `process.getBuiltinModule`, so no static `node:` import reaches browsers; Deno needs
 * `--allow-sys`), or undefined when unavailable or not permitted.
 *
 * @example
 * ```ts
 * import { interfaceAddresses } from "@p2p-edge/libp2p/runtime";
 * interfaceAddresses()?.map((a) => a.address); // ["127.0.0.1", "::1", ...]
 * ```
 */
export function interfaceAddresses(): InterfaceAddress[] | undefined {
  const proc = (globalThis as { process?: { getBuiltinModule?: (id: string) => unknown } })
    .process;
  try {
    const os = proc?.getBuiltinModule?.("node:os") as
      | { networkInterfaces(): Record<string, InterfaceAddress[] | undefined> }
      | undefined;
    if (os === undefined) return undefined;
    return Object.values(os.networkInterfaces()).flatMap((list) => list ?? []);
  } catch {
    return undefined; // not permitted (Deno without --allow-sys) or not supported
  }
}

/**
 * The hosts a socket bound to `host` can be dialled at: `host` itself, or, for a wildcard bind
 * (`0.0.0.0`, `::`), every interface address of that family (IPv6 link-local addresses are left
 * out: they need a zone). When the interfaces cannot be read, the wildcard itself is returned.
 *
 * @example
 * ```ts
 * import { dialableHosts } from "@p2p-edge/libp2p/runtime";
 * dialableHosts("0.0.0.0", () => [{ address: "127.0.0.1", family: "IPv4" }]); // ["127.0.0.1"]
 * ```
 */
export function dialableHosts(
  host: string,
  interfaces: () => readonly InterfaceAddress[] | undefined = interfaceAddresses,
): string[] {
  const v4 = host === "0.0.0.0";
  const v6 = host === "::" || host === "[::]";
  if (!v4 && !v6) return [host];
  const found = new Set<string>();
  for (const entry of interfaces() ?? []) {
    const family = entry.family === 4 || entry.family === "IPv4" ? 4 : 6;
    if (family !== (v4 ? 4 : 6)) continue;
    if (family === 6 && /^fe[89ab]/i.test(entry.address)) continue;
    found.add(entry.address);
  }
  return found.size > 0 ? [...found] : [host];
}

/**
 * Where the system resolver sends queries: a DNS server's IP and port (the CLI's
 * `--dns-server <ip:port>`), or the system's configuration when absent.
 */
export interface DnsServer {
  /** IPv4 or IPv6 address (no brackets). */
  readonly ip: string;
  /** UDP port. Default 53. */
  readonly port?: number;
}

/** The DNS client shape of the node option `dns` (src/multiaddr/resolver.ts `DnsResolver`). */
export interface SystemDnsResolver {
  /** TXT records of `name`, each as its character-strings. */
  resolveTxt(name: string, options?: { signal?: AbortSignal }): Promise<string[][]>;
  /** A records of `name`. */
  resolve4(name: string, options?: { signal?: AbortSignal }): Promise<string[]>;
  /** AAAA records of `name`. */
  resolve6(name: string, options?: { signal?: AbortSignal }): Promise<string[]>;
}

/**
 * Parse `ip:port`, `[v6]:port`, a bare IPv4 or a bare IPv6 address into a {@link DnsServer}
 * (RangeError when malformed).
 *
 * @example
 * ```ts
 * import { parseDnsServer } from "@p2p-edge/libp2p";
 * parseDnsServer("127.0.0.1:5353"); // { ip: "127.0.0.1", port: 5353 }
 * parseDnsServer("[::1]:53"); // { ip: "::1", port: 53 }
 * ```
 */
export function parseDnsServer(text: string): DnsServer {
  let ip = text;
  let port = 53;
  const bracket = /^\[([0-9a-fA-F:.]+)\](?::(\d+))?$/.exec(text);
  const v4 = /^(\d{1,3}(?:\.\d{1,3}){3})(?::(\d+))?$/.exec(text);
  if (bracket !== null) {
    ip = bracket[1];
    if (bracket[2] !== undefined) port = Number(bracket[2]);
  } else if (v4 !== null) {
    ip = v4[1];
    if (v4[2] !== undefined) port = Number(v4[2]);
  } else if (!/^[0-9a-fA-F:]+$/.test(text) || !text.includes(":")) {
    throw new RangeError(`not a DNS server address (ip:port): ${text}`);
  }
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    throw new RangeError(`bad DNS server port in ${text}`);
  }
  return { ip, port };
}

type DenoResolveDns = (
  query: string,
  type: "TXT" | "A" | "AAAA",
  options?: { nameServer?: { ipAddr: string; port?: number }; signal?: AbortSignal },
) => Promise<unknown>;

interface NodeDnsResolver {
  setServers(servers: string[]): void;
  cancel(): void;
  resolveTxt(name: string): Promise<string[][]>;
  resolve4(name: string): Promise<string[]>;
  resolve6(name: string): Promise<string[]>;
}

const utf8 = new TextEncoder();

/**
 * Bun 1.4's node:dns `resolveTxt` returns each character-string of a TXT record as a record of
 * its own (Node returns `[["<255 bytes>", "<rest>"]]`, Bun `[["<255 bytes>"], ["<rest>"]]`), so a
 * record longer than 255 bytes, split by the server, arrives in pieces. Servers fill every
 * string but the last to 255 bytes: a one-string record of exactly 255 bytes is joined with the
 * one after it. (Observed in tests/multiaddr/dns_server_test.ts against a local server.)
 */
function rejoinTxtChunks(records: string[][]): string[][] {
  const out: string[][] = [];
  let pending: string[] | undefined;
  for (const record of records) {
    if (pending !== undefined) pending.push(...record);
    else out.push(pending = [...record]);
    const last = record[record.length - 1] ?? "";
    if (!(record.length === 1 && utf8.encode(last).byteLength === 255)) pending = undefined;
  }
  return out;
}

/** Per-query timeout of the node:dns resolver, ms, and its tries (the whole lookup is bounded). */
const NODE_DNS_TIMEOUT_MS = 3_000;
const NODE_DNS_TRIES = 2;

/**
 * The runtime's DNS resolver: `Deno.resolveDns` on Deno (needs `--allow-net`), `node:dns`
 * promises on Bun and Node; undefined elsewhere (browsers: use DNS over HTTPS). With `server`
 * every query goes to that server (`nameServer` / `Resolver.setServers`).
 *
 * @example
 * ```ts
 * import { systemDnsResolver } from "@p2p-edge/libp2p";
 * const dns = systemDnsResolver({ ip: "127.0.0.1", port: 5353 });
 * await dns?.resolveTxt("_dnsaddr.example.org");
 * ```
 */
export function systemDnsResolver(server?: DnsServer): SystemDnsResolver | undefined {
  const g = globals();
  const resolveDns = g.Deno?.resolveDns;
  if (isDeno() && typeof resolveDns === "function") {
    const run = resolveDns.bind(g.Deno) as DenoResolveDns;
    const nameServer = server === undefined ? undefined : { ipAddr: server.ip, port: server.port };
    const query = (type: "TXT" | "A" | "AAAA") => (name: string, o?: { signal?: AbortSignal }) =>
      run(name, type, { ...(nameServer ? { nameServer } : {}), signal: o?.signal });
    return {
      resolveTxt: query("TXT") as SystemDnsResolver["resolveTxt"],
      resolve4: query("A") as SystemDnsResolver["resolve4"],
      resolve6: query("AAAA") as SystemDnsResolver["resolve6"],
    };
  }
  const proc = (globalThis as { process?: { getBuiltinModule?: (id: string) => unknown } })
    .process;
  let dns: { promises?: { Resolver?: new (o?: object) => NodeDnsResolver } } | undefined;
  try {
    dns = proc?.getBuiltinModule?.("node:dns") as typeof dns;
  } catch {
    dns = undefined;
  }
  const Resolver = dns?.promises?.Resolver;
  if (Resolver === undefined) return undefined;
  const servers = server === undefined ? undefined : [
    server.ip.includes(":")
      ? `[${server.ip}]:${server.port ?? 53}`
      : `${server.ip}:${server.port ?? 53}`,
  ];
  // One Resolver per query: cancel() on abort then ends that query only.
  const query = <T>(
    signal: AbortSignal | undefined,
    pick: (r: NodeDnsResolver) => Promise<T>,
  ): Promise<T> => {
    if (signal?.aborted) return Promise.reject(signal.reason);
    const r = new Resolver({ timeout: NODE_DNS_TIMEOUT_MS, tries: NODE_DNS_TRIES });
    if (servers !== undefined) r.setServers(servers);
    if (signal === undefined) return pick(r);
    return new Promise<T>((resolve, reject) => {
      const onAbort = (): void => {
        r.cancel();
        reject(signal.reason);
      };
      signal.addEventListener("abort", onAbort, { once: true });
      pick(r).then(resolve, reject).finally(() => signal.removeEventListener("abort", onAbort));
    });
  };
  return {
    resolveTxt: (name, o) =>
      query(o?.signal, (r) => r.resolveTxt(name)).then((records) =>
        isBun() ? rejoinTxtChunks(records) : records
      ),
    resolve4: (name, o) => query(o?.signal, (r) => r.resolve4(name)),
    resolve6: (name, o) => query(o?.signal, (r) => r.resolve6(name)),
  };
}
