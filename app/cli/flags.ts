/**
 * The one table of the CLI's flags that config layering (config.ts) works from: each flag's
 * config-file field (the flag in camelCase), its environment variable (`P2P_EDGE_` + the flag in
 * upper snake case), its kind and the default `--print-config` shows. A new flag is one row
 * here plus its parsing in args.ts; tests/cli/config_test.ts checks that every flag in the usage
 * text has a row.
 *
 * @module
 */

import { DEFAULT_KEY_FILE, DEFAULT_LISTEN, DEFAULT_PUBSUB } from "./args.ts";

/** How a flag takes its value: a switch, one value, or a repeatable value (an array in files). */
export type FlagKind = "boolean" | "string" | "list";

/** One row of {@link FLAGS}. */
export interface FlagSpec {
  /** The flag, `--dht-server`. */
  flag: string;
  /** The kind of value. */
  kind: FlagKind;
  /** The value `--print-config` shows when no source sets it (booleans: false, lists: []). */
  default?: string | readonly string[];
  /**
   * Where the flag may come from besides the command line: "all" (file and environment, the
   * default), "env" (environment only: `--config` itself), "args" (command line only).
   */
  sources?: "all" | "env" | "args";
  /** A switch this one excludes: when both come from different sources, the higher one wins. */
  excludes?: string;
}

/**
 * Every flag of `start`, in usage order. Meta flags (`--config`, `--print-config`, `--version`,
 * `--help`) are handled by config.ts/main.ts and never reach a config file.
 */
export const FLAGS: readonly FlagSpec[] = [
  { flag: "--preset", kind: "string" },
  { flag: "--listen", kind: "list", default: [DEFAULT_LISTEN] },
  { flag: "--key", kind: "string", default: DEFAULT_KEY_FILE },
  { flag: "--announce", kind: "list" },
  { flag: "--append-announce", kind: "list" },
  { flag: "--no-announce", kind: "list" },
  { flag: "--dial", kind: "list" },
  { flag: "--exit-after-dial", kind: "boolean" },
  { flag: "--dht", kind: "boolean" },
  { flag: "--dht-server", kind: "boolean" },
  { flag: "--dht-private-addrs", kind: "boolean" },
  { flag: "--find-peer", kind: "list" },
  { flag: "--find-providers", kind: "list" },
  { flag: "--relay", kind: "boolean" },
  { flag: "--relay-private-addrs", kind: "boolean" },
  { flag: "--allow-private-addresses", kind: "boolean" },
  { flag: "--subscribe", kind: "list" },
  { flag: "--publish", kind: "string" },
  { flag: "--pubsub", kind: "string", default: DEFAULT_PUBSUB },
  { flag: "--pubsub-topic", kind: "list" },
  { flag: "--autonat", kind: "boolean" },
  { flag: "--autonat-private-addrs", kind: "boolean" },
  { flag: "--bootstrap", kind: "list" },
  { flag: "--dns-server", kind: "string" },
  { flag: "--mdns", kind: "boolean" },
  { flag: "--rendezvous", kind: "boolean" },
  // Default: a folder next to the key file (`./node.key` -> `./node.data`).
  { flag: "--data-dir", kind: "string" },
  { flag: "--metrics", kind: "string" },
  { flag: "--log-format", kind: "string", default: "text" },
  { flag: "--echo", kind: "boolean" },
  { flag: "--perf", kind: "boolean" },
  { flag: "--quiet", kind: "boolean", excludes: "--verbose" },
  { flag: "--verbose", kind: "boolean", excludes: "--quiet" },
  { flag: "--config", kind: "string", sources: "env" },
  { flag: "--print-config", kind: "boolean", sources: "args" },
  { flag: "--version", kind: "boolean", sources: "args" },
  { flag: "--help", kind: "boolean", sources: "args" },
];

/** The prefix of the CLI's environment variables. */
export const ENV_PREFIX = "P2P_EDGE_";

/**
 * Environment variables under {@link ENV_PREFIX} that are not flags: `P2P_EDGE_COMMIT` (the
 * commit `--version` prints when the build did not record one).
 */
export const RESERVED_ENV = new Set(["P2P_EDGE_COMMIT"]);

/**
 * The config-file field of a flag: its name without the dashes, in camelCase.
 *
 * @example
 * ```ts
 * import { fieldName } from "./flags.ts";
 * fieldName("--dht-private-addrs"); // "dhtPrivateAddrs"
 * ```
 */
export function fieldName(flag: string): string {
  return flag.replace(/^--/, "").replace(/-([a-z0-9])/g, (_m, c: string) => c.toUpperCase());
}

/**
 * The environment variable of a flag: {@link ENV_PREFIX} + the name in upper snake case.
 *
 * @example
 * ```ts
 * import { envName } from "./flags.ts";
 * envName("--dht-server"); // "P2P_EDGE_DHT_SERVER"
 * ```
 */
export function envName(flag: string): string {
  return ENV_PREFIX + flag.replace(/^--/, "").replace(/-/g, "_").toUpperCase();
}
