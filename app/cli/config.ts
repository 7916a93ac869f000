/**
 * Config layering of the CLI, sans-IO: the command line, the environment (`P2P_EDGE_*`) and a
 * JSON config file (`--config node.json`) merged by the flag table (flags.ts) into one argument
 * list for the parser (args.ts). Precedence per flag: command line > environment > file >
 * defaults; a repeatable flag's list comes whole from the one source that wins (lists are not
 * concatenated across sources). Unknown file fields and unknown `P2P_EDGE_*` variables are
 * usage errors naming them: a typo must not silently run a different node.
 *
 * @module
 */

import { ENV_PREFIX, envName, fieldName, FLAGS, type FlagSpec, RESERVED_ENV } from "./flags.ts";

/** Largest config file read, bytes (a full config is about 2 KB; HARDENING.md rule 1). */
export const MAX_CONFIG_FILE_BYTES = 256 * 1024;

/** Most values one list flag takes from the environment or a file (args.ts caps it again). */
export const MAX_LIST_VALUES = 64;

/** A flag's value in a config: a switch, one value (null: unset), or a list. */
export type ConfigValue = boolean | string | null | string[];

/** What {@link layerConfig} merges. */
export interface ConfigSources {
  /** The command line, without runtime and script. */
  args: readonly string[];
  /** The environment (only `P2P_EDGE_*` names are read). */
  env?: Readonly<Record<string, string | undefined>>;
  /** The config file, when one is given: its path (for messages) and its text. */
  file?: { path: string; text: string };
}

/** The merged configuration. */
export interface LayeredConfig {
  /** The argument list for `parseCliArgs`: file/env settings as flags, then the command line. */
  argv: string[];
  /** Every settable flag's field with its merged value (defaults filled in): `--print-config`. */
  values: Record<string, ConfigValue>;
  /** Where each value set by a source came from. */
  origins: Record<string, "args" | "env" | "file">;
  /** `--print-config` was given. */
  printConfig: boolean;
  /** `--version` was given. */
  version: boolean;
}

const BY_FLAG = new Map(FLAGS.map((f) => [f.flag, f]));
const ALIASES: Record<string, string> = { "-h": "--help" };
const SETTABLE = FLAGS.filter((f) => (f.sources ?? "all") === "all");

interface ArgScan {
  /** The command line without the meta flags config.ts consumes. */
  kept: string[];
  /** Values of the flags given, by field. */
  given: Map<string, ConfigValue>;
  config?: string;
  printConfig: boolean;
  version: boolean;
}

/** Walk the command line as args.ts does; unknown tokens are kept for the parser to reject. */
function scanArgs(args: readonly string[]): ArgScan {
  const scan: ArgScan = { kept: [], given: new Map(), printConfig: false, version: false };
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    const eq = arg.startsWith("--") ? arg.indexOf("=") : -1;
    const name = eq > 0 ? arg.slice(0, eq) : arg;
    const spec = BY_FLAG.get(ALIASES[name] ?? name);
    if (spec === undefined) {
      scan.kept.push(arg);
      continue;
    }
    if (spec.kind === "boolean") {
      const meta = spec.flag === "--print-config" || spec.flag === "--version";
      if (meta && eq > 0) throw new SyntaxError(`${spec.flag} takes no value`);
      if (spec.flag === "--print-config") scan.printConfig = true;
      else if (spec.flag === "--version") scan.version = true;
      else {
        scan.kept.push(arg);
        if (eq < 0) scan.given.set(fieldName(spec.flag), true);
      }
      continue;
    }
    let value: string | undefined;
    let tokens: string[];
    if (eq > 0) {
      value = arg.slice(eq + 1);
      tokens = [arg];
    } else {
      const next = args[i + 1];
      // Same rule as args.ts: a flag in value position means the value is missing.
      if (next === undefined || (next.startsWith("-") && next !== "-")) {
        if (spec.flag === "--config") throw new SyntaxError("--config needs a value");
        scan.kept.push(arg);
        continue;
      }
      value = next;
      tokens = [arg, next];
      i++;
    }
    if (spec.flag === "--config") {
      if (scan.config !== undefined) throw new SyntaxError("--config given more than once");
      if (value === "") throw new SyntaxError("--config needs a value");
      scan.config = value;
      continue;
    }
    scan.kept.push(...tokens);
    const field = fieldName(spec.flag);
    if (spec.kind === "list") {
      const list = scan.given.get(field) as string[] | undefined;
      if (list === undefined) scan.given.set(field, [value]);
      else list.push(value);
    } else {
      scan.given.set(field, value);
    }
  }
  return scan;
}

/**
 * The config file to read: `--config <path>` on the command line, else `P2P_EDGE_CONFIG`, else
 * none. Throws SyntaxError when `--config` is repeated.
 *
 * @example
 * ```ts
 * import { configPath } from "./config.ts";
 * configPath(["--config", "node.json"], {}); // "node.json"
 * configPath([], { P2P_EDGE_CONFIG: "/etc/p2p-edge/node.json" }); // "/etc/p2p-edge/node.json"
 * ```
 */
export function configPath(
  args: readonly string[],
  env: Readonly<Record<string, string | undefined>> = {},
): string | undefined {
  const fromArgs = scanArgs(args).config;
  if (fromArgs !== undefined) return fromArgs;
  const fromEnv = env[envName("--config")];
  return fromEnv === undefined || fromEnv === "" ? undefined : fromEnv;
}

const TRUE = /^(1|true|yes|on)$/i;
const FALSE = /^(0|false|no|off|)$/i;

function fromEnv(spec: FlagSpec, name: string, text: string): ConfigValue {
  if (spec.kind === "boolean") {
    if (TRUE.test(text)) return true;
    if (FALSE.test(text)) return false;
    throw new SyntaxError(`${name}=${JSON.stringify(text)}: expected true/false, 1/0, yes/no`);
  }
  if (spec.kind === "string") return text === "" ? null : text;
  // Repeatable flags: values separated by commas and/or whitespace.
  const list = text.split(/[\s,]+/).filter((v) => v !== "");
  if (list.length > MAX_LIST_VALUES) {
    throw new SyntaxError(`${name}: at most ${MAX_LIST_VALUES} values`);
  }
  return list;
}

function readEnv(env: Readonly<Record<string, string | undefined>>): Map<string, ConfigValue> {
  const out = new Map<string, ConfigValue>();
  const byEnv = new Map(FLAGS.map((f) => [envName(f.flag), f]));
  for (const [name, text] of Object.entries(env)) {
    if (!name.startsWith(ENV_PREFIX) || text === undefined || RESERVED_ENV.has(name)) continue;
    const spec = byEnv.get(name);
    if (spec === undefined) {
      throw new SyntaxError(`unknown environment variable ${name} (see --help)`);
    }
    const sources = spec.sources ?? "all";
    if (sources === "env") continue; // P2P_EDGE_CONFIG: read by configPath.
    if (sources === "args") {
      throw new SyntaxError(`${name}: ${spec.flag} is a command-line flag only`);
    }
    out.set(fieldName(spec.flag), fromEnv(spec, name, text));
  }
  return out;
}

function readFile(path: string, text: string): Map<string, ConfigValue> {
  if (text.length > MAX_CONFIG_FILE_BYTES) {
    throw new SyntaxError(`config file ${path} is larger than ${MAX_CONFIG_FILE_BYTES} bytes`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    throw new SyntaxError(`config file ${path} is not JSON: ${(err as Error).message}`);
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
    throw new SyntaxError(`config file ${path} must hold a JSON object`);
  }
  const byField = new Map(SETTABLE.map((f) => [fieldName(f.flag), f]));
  const out = new Map<string, ConfigValue>();
  for (const [field, value] of Object.entries(parsed as Record<string, unknown>)) {
    const spec = byField.get(field);
    if (spec === undefined) {
      throw new SyntaxError(`config file ${path}: unknown field ${JSON.stringify(field)}`);
    }
    const where = `config file ${path}: field ${JSON.stringify(field)}`;
    if (value === null) continue;
    if (spec.kind === "boolean") {
      if (typeof value !== "boolean") throw new SyntaxError(`${where} must be true or false`);
    } else if (spec.kind === "string") {
      if (typeof value !== "string") throw new SyntaxError(`${where} must be a string`);
    } else {
      if (!Array.isArray(value) || !value.every((v) => typeof v === "string")) {
        throw new SyntaxError(`${where} must be an array of strings`);
      }
      if (value.length > MAX_LIST_VALUES) {
        throw new SyntaxError(`${where}: at most ${MAX_LIST_VALUES} values`);
      }
    }
    out.set(field, value as ConfigValue);
  }
  return out;
}

function asTokens(spec: FlagSpec, value: ConfigValue): string[] {
  if (value === null || value === false) return [];
  if (value === true) return [spec.flag];
  // `--flag=value`: a value starting with "-" is not taken for a flag.
  if (typeof value === "string") return [`${spec.flag}=${value}`];
  return value.map((v) => `${spec.flag}=${v}`);
}

function defaultOf(spec: FlagSpec): ConfigValue {
  if (spec.default !== undefined) {
    return typeof spec.default === "string" ? spec.default : [...spec.default];
  }
  return spec.kind === "boolean" ? false : spec.kind === "list" ? [] : null;
}

/**
 * Merge the command line, the environment and the config file. Throws SyntaxError (a usage
 * error, exit code 2) naming the unknown file field or environment variable, or the value of
 * the wrong type. The result's `argv` still goes through `parseCliArgs`, which checks values.
 *
 * @example
 * ```ts
 * import { layerConfig } from "./config.ts";
 * const c = layerConfig({
 *   args: ["--relay"],
 *   env: { P2P_EDGE_LISTEN: "/ip4/127.0.0.1/tcp/0" },
 *   file: { path: "node.json", text: '{"listen":["/ip4/0.0.0.0/tcp/4001"],"dht":true}' },
 * });
 * c.values.listen; // ["/ip4/127.0.0.1/tcp/0"] (the environment wins over the file)
 * c.argv; // ["--listen=/ip4/127.0.0.1/tcp/0", "--dht", "--relay"]
 * ```
 */
export function layerConfig(sources: ConfigSources): LayeredConfig {
  const scan = scanArgs(sources.args);
  const env = readEnv(sources.env ?? {});
  const file = sources.file === undefined
    ? new Map<string, ConfigValue>()
    : readFile(sources.file.path, sources.file.text);
  const argv: string[] = [];
  const values: Record<string, ConfigValue> = {};
  const origins: LayeredConfig["origins"] = {};
  const winners = new Map<string, ["args" | "env" | "file", FlagSpec, ConfigValue]>();
  for (const spec of SETTABLE) {
    const field = fieldName(spec.flag);
    const layers: ["args" | "env" | "file", Map<string, ConfigValue>][] = [
      ["args", scan.given],
      ["env", env],
      ["file", file],
    ];
    const winner = layers.find(([, m]) => m.has(field));
    if (winner === undefined) {
      values[field] = defaultOf(spec);
      continue;
    }
    const value = winner[1].get(field)!;
    origins[field] = winner[0];
    winners.set(field, [winner[0], spec, value]);
    values[field] = value === null || (Array.isArray(value) && value.length === 0)
      ? defaultOf(spec)
      : value;
  }
  const rank = { args: 0, env: 1, file: 2 };
  for (const [field, [origin, spec, value]] of winners) {
    // The command line's own tokens are passed on as given (below), so the parser still
    // rejects a repeated flag there.
    if (origin === "args") continue;
    // Of two switches that exclude each other (--quiet, --verbose), the higher source wins.
    const other = spec.excludes === undefined ? undefined : winners.get(fieldName(spec.excludes));
    if (
      value === true && other !== undefined && other[2] === true && rank[other[0]] < rank[origin]
    ) {
      values[field] = false;
      continue;
    }
    argv.push(...asTokens(spec, value));
  }
  argv.push(...scan.kept);
  return { argv, values, origins, printConfig: scan.printConfig, version: scan.version };
}
