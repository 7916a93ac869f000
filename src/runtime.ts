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
