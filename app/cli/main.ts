/**
 * The CLI's run: parse the arguments, load the identity, start the node, print its addresses,
 * run the dials, serve until SIGINT/SIGTERM, stop gracefully. The process is reached only
 * through {@link CliProcess}, so tests drive the whole run in-process.
 *
 * @module
 */

import process from "node:process";
import { linesOf, publishLines, subscribeTopics } from "./pubsub.ts";
import { readFile } from "node:fs/promises";
import { parseCliArgs, USAGE } from "./args.ts";
import { configPath, layerConfig, MAX_CONFIG_FILE_BYTES } from "./config.ts";
import { applyPreset } from "./preset.ts";
import { versionLine } from "./version.ts";
import {
  type CliOutput,
  type CliServices,
  dhtLookups,
  dialAndPing,
  type DialOutcome,
  errorLine,
  startCliNode,
} from "./node.ts";
import type { Libp2pNode } from "../../src/node/node.ts";
import { dialRecentPeers, trackRecentPeers } from "../../src/datastore/recent_peers.ts";
import { type CliState, DataDirError, openCliState, relayChange } from "./state.ts";
import { type EdgeHttpServer, startEdgeHttp } from "../edge/mod.ts";
import { jsonOutput } from "./log.ts";

/** Exit codes of the CLI. */
export const EXIT_OK = 0;
/** A runtime failure: port in use, bad address, unreadable key, a failed dial with --exit-after-dial. */
export const EXIT_ERROR = 1;
/** A usage error: unknown flag, missing value. */
export const EXIT_USAGE = 2;
/**
 * The data dir is unusable as it is (corrupt or foreign store file, newer schema, identities
 * that disagree): 78 is sysexits' EX_CONFIG. A restart cannot fix it, so a supervisor should
 * not loop on it (systemd: `RestartPreventExitStatus=78`).
 */
export const EXIT_DATA_DIR = 78;

/** The signals that stop the node. */
export const STOP_SIGNALS = ["SIGINT", "SIGTERM"] as const;

/** The stop signals' conventional "killed by signal" exit codes (128 + number), for a forced exit. */
const FORCED_EXIT_CODE: Record<string, number> = { SIGINT: 130, SIGTERM: 143 };

/**
 * A repeat of the first stop signal within this many ms is the same stop, not a second one:
 * `deno task` forwards SIGTERM to its child, so a group-wide SIGTERM (`timeout`, a process
 * manager) reaches the CLI twice within milliseconds.
 */
export const DUPLICATE_SIGNAL_WINDOW_MS = 500;

/** What the CLI needs from its process. */
export interface CliProcess extends CliOutput {
  /** The clock for {@link DUPLICATE_SIGNAL_WINDOW_MS}, ms. Default `performance.now`. */
  now?: () => number;
  /** Call `handler` on SIGINT/SIGTERM until the returned function is called. */
  onSignal(handler: (signal: string) => void): () => void;
  /** Exit now (a second stop signal during a graceful stop). */
  exit(code: number): void;
  /** Lines of standard input (`--publish`). Default none. */
  stdinLines?(): AsyncIterable<string>;
  /** The environment (`P2P_EDGE_*` settings). Default none. */
  env?: Readonly<Record<string, string | undefined>>;
  /** Read the `--config` file as text. Default `node:fs/promises` readFile. */
  readTextFile?(path: string): Promise<string>;
}

/**
 * The real process: stdout/stderr through `console`, signals through `node:process` (both Deno
 * and Bun support them; a signal the platform lacks, such as SIGTERM on Windows, is skipped).
 *
 * @example
 * ```ts ignore
 * import { processCli, runCli } from "./main.ts";
 * process.exit(await runCli(process.argv.slice(2), processCli()));
 * ```
 */
export function processCli(): CliProcess {
  return {
    out: (line) => console.log(line),
    err: (line) => console.error(line),
    onSignal(handler) {
      const registered: [string, () => void][] = [];
      for (const signal of STOP_SIGNALS) {
        const listener = (): void => handler(signal);
        try {
          process.on(signal, listener);
          registered.push([signal, listener]);
        } catch { /* not supported on this platform */ }
      }
      return () => {
        for (const [signal, listener] of registered) process.off(signal, listener);
      };
    },
    exit: (code) => process.exit(code),
    stdinLines: () => linesOf(process.stdin as unknown as AsyncIterable<Uint8Array>),
    env: readEnv(),
  };
}

/**
 * Run the CLI with `args` (without the runtime and script); resolves with the exit code once
 * the node has stopped (on a stop signal, or after the dials with `--exit-after-dial`).
 *
 * @example
 * ```ts ignore
 * import { processCli, runCli } from "./main.ts";
 * const code = await runCli(["--listen", "/ip4/127.0.0.1/tcp/0"], processCli());
 * ```
 */
export async function runCli(args: readonly string[], proc: CliProcess): Promise<number> {
  // Settings: flags > environment > --config file > defaults (config.ts).
  let path: string | undefined;
  try {
    path = configPath(args, proc.env);
  } catch (err) {
    proc.err(`error: ${(err as Error).message}`);
    return EXIT_USAGE;
  }
  let text: string | undefined;
  if (path !== undefined) {
    try {
      text = await (proc.readTextFile ?? readConfigFile)(path);
    } catch (err) {
      proc.err(errorLine(`cannot read config file ${path}: `, err, false));
      return EXIT_ERROR;
    }
  }
  let command;
  let layered;
  try {
    layered = layerConfig({
      args,
      env: proc.env,
      file: path === undefined ? undefined : { path, text: text! },
    });
    if (layered.version) {
      proc.out(versionLine(undefined, undefined, proc.env));
      return EXIT_OK;
    }
    command = parseCliArgs(layered.argv);
  } catch (err) {
    proc.err(`error: ${(err as Error).message}`);
    return EXIT_USAGE;
  }
  if (command.kind === "help") {
    proc.out(USAGE);
    return EXIT_OK;
  }
  if (layered.printConfig) {
    proc.out(JSON.stringify(layered.values, null, 2));
    return EXIT_OK;
  }
  const options = applyPreset(command.options);
  // JSON log mode: every line below becomes one JSON object (log.ts).
  if (options.logFormat === "json") proc = { ...proc, ...jsonOutput(proc) };
  const verbose = options.logLevel === "verbose";
  const quiet = options.logLevel === "quiet";

  // Signals are taken from the start, so one arriving during start-up still stops cleanly.
  let requestStop!: (signal: string) => void;
  const stopRequested = new Promise<string>((resolve) => requestStop = resolve);
  const now = proc.now ?? (() => performance.now());
  let first: { signal: string; at: number } | undefined;
  const off = proc.onSignal((signal) => {
    if (first === undefined) {
      first = { signal, at: now() };
      requestStop(signal);
      return;
    }
    if (signal === first.signal && now() - first.at < DUPLICATE_SIGNAL_WINDOW_MS) return;
    proc.err(`error: ${signal} again: exiting without a graceful stop`);
    proc.exit(FORCED_EXIT_CODE[signal] ?? EXIT_ERROR);
  });

  let node: Libp2pNode<CliServices> | undefined;
  let state: CliState | undefined;
  let metrics: EdgeHttpServer | undefined;
  try {
    state = await openCliState(options);
    const { key, created } = state;
    if (created && !quiet) proc.out(`created ${key.type} identity ${options.keyFile}`);
    if (state.restoredKeyFile && !quiet) {
      proc.out(`restored identity ${options.keyFile} from ${state.path}`);
    }
    if (verbose) {
      proc.out(`state ${state.path} (${state.datastore.kind}, schema ${state.schemaVersion})`);
    }
    const relayNote = relayChange(state.previousRelay, {
      server: options.relay === true,
      privateAddrs: options.relayPrivateAddrs === true,
      circuitListen: options.listen.filter((a) => a.includes("/p2p-circuit")),
    });
    if (relayNote !== undefined && !quiet) proc.out(relayNote);
    if (first === undefined) {
      node = await startCliNode(options, key, proc, { dht: state.dht });
      const s = state;
      trackRecentPeers(node, state.recent, {
        onError: (err) => {
          if (verbose) proc.err(errorLine(`recent peers ${s.path}: `, err, false));
        },
      });
      for (const addr of node.addrs()) proc.out(`listening ${addr.toString()}`);
      if (options.metrics !== undefined) {
        metrics = await startEdgeHttp({
          node: node as unknown as Libp2pNode,
          services: node.services,
          // The --dial peers are the bootstrap peers (as for the DHT): /readyz waits for one.
          bootstrap: options.dial,
          ...options.metrics,
        });
        proc.out(`metrics ${metrics.url}/metrics`);
      }
      const pubsub = node.services.pubsub;
      if (pubsub !== undefined) {
        subscribeTopics(pubsub, options.subscribe, proc);
        if (options.publish !== undefined) {
          const lines = proc.stdinLines?.() ?? emptyLines();
          // Standard input ending (a pipe, ^D) stops the node like a signal.
          publishLines(pubsub, options.publish, lines, proc, verbose)
            .finally(() => requestStop("end of input"));
        }
      }
    }

    // The peers of the last run first: they rejoin us to the network without bootstrap.
    const recentPeers = state.recent.list();
    const recentDials = node !== undefined && !options.exitAfterDial && recentPeers.length > 0
      ? dialRecentPeers(node, state.recent).then((r) => {
        if (!quiet) proc.out(`recent peers: connected ${r.connected.length} of ${r.tried}`);
      }).catch((err) => proc.err(errorLine("recent peers: ", err, verbose)))
      : Promise.resolve();

    let code = EXIT_OK;
    if (node !== undefined && options.dial.length > 0) {
      const n = node;
      const dials = (async (): Promise<DialOutcome[]> => {
        await recentDials;
        const outcomes: DialOutcome[] = [];
        for (const addr of options.dial) {
          if (first !== undefined) break;
          outcomes.push(await dialAndPing(n, addr, proc, options.logLevel));
        }
        return outcomes;
      })().then(async (outcomes) => {
        if (first === undefined && node !== undefined) {
          const misses = await dhtLookups(n, options, proc, options.logLevel);
          if (misses > 0) outcomes.push({ addr: "dht", error: new Error("lookups failed") });
        }
        return outcomes;
      });
      if (options.exitAfterDial) {
        const outcomes = await Promise.race([dials, stopRequested.then(() => undefined)]);
        if (outcomes !== undefined && outcomes.some((o) => o.error !== undefined)) {
          code = EXIT_ERROR;
        }
      }
    }
    if (!options.exitAfterDial) await stopRequested;
    await metrics?.close();
    metrics = undefined;
    await node?.stop();
    node = undefined;
    await state.close();
    state = undefined;
    if (!quiet) proc.out("stopped");
    return code;
  } catch (err) {
    proc.err(errorLine("", err, verbose));
    return err instanceof DataDirError ? EXIT_DATA_DIR : EXIT_ERROR;
  } finally {
    await metrics?.close().catch(() => {});
    await node?.stop().catch(() => {});
    await state?.close().catch(() => {});
    off();
  }
}

async function* emptyLines(): AsyncGenerator<string> {}

/**
 * The environment as a plain object, or none where reading it is not permitted (Deno without
 * --allow-env): the settings then come from flags and the config file only.
 */
function readEnv(): Record<string, string | undefined> {
  try {
    return Object.fromEntries(Object.entries(process.env));
  } catch {
    return {};
  }
}

async function readConfigFile(path: string): Promise<string> {
  const bytes = await readFile(path);
  if (bytes.byteLength > MAX_CONFIG_FILE_BYTES) {
    throw new Error(`larger than ${MAX_CONFIG_FILE_BYTES} bytes`);
  }
  return new TextDecoder().decode(bytes);
}
