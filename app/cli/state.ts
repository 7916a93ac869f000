/**
 * The CLI node's restart-safe state in `--data-dir` (issue 21): the datastore of this runtime
 * (stores/: Deno KV or bun:sqlite), the identity key, the recently good peers, the DHT's value
 * and provider records (when serving the DHT) and the relay settings of the last run.
 *
 * The identity stays in the key file as well (`--key`, the format every libp2p reads), so
 * the peer id survives a switch of runtime (each runtime has its own store file) and the key
 * can be backed up on its own. The two must agree: a key file and a store holding different
 * identities is an error naming both, never a silent change of peer id.
 *
 * @module
 */

import { presetLimits } from "./preset.ts";
import { stat, writeFile } from "node:fs/promises";
import type { Datastore } from "../../src/datastore/types.ts";
import { DatastoreError } from "../../src/datastore/errors.ts";
import { loadIdentity, saveIdentity } from "../../src/datastore/identity.ts";
import { RecentPeers } from "../../src/datastore/recent_peers.ts";
import { utf8Decode, utf8Encode } from "../../src/bytes.ts";
import { peerIdFromPrivateKey, privateKeyToProtobuf } from "../../src/keys/mod.ts";
import type { PrivateKey } from "../../src/keys/types.ts";
import { DatastoreProviderStore, DatastoreValueStore } from "../../protocols/kad-dht/mod.ts";
import { datastorePath, openDatastore } from "../../stores/mod.ts";
import type { CliOptions } from "./args.ts";
import { CliError, describeError, loadOrCreateKey } from "./node.ts";

/** Where the relay settings of the last run are kept. */
export const RELAY_SETTINGS_KEY = "/relay/settings";

/** The relay settings recorded at each start. */
export interface RelaySettings {
  /** Serving circuit relay v2 (`--relay`). */
  readonly server: boolean;
  /** Private and loopback addresses in reservations (`--relay-private-addrs`). */
  readonly privateAddrs: boolean;
  /** The relayed (`/p2p-circuit`) listen addresses asked for. */
  readonly circuitListen: readonly string[];
}

/** The opened state of one CLI run. */
export interface CliState {
  /** The datastore. */
  readonly datastore: Datastore;
  /** The folder. */
  readonly dataDir: string;
  /** The store file in it. */
  readonly path: string;
  /** Its schema version. */
  readonly schemaVersion: number;
  /** The identity key. */
  readonly key: PrivateKey;
  /** Whether the key was created by this run. */
  readonly created: boolean;
  /** Whether the key file was written back from the store (it was missing). */
  readonly restoredKeyFile: boolean;
  /** The recently good peers (loaded). */
  readonly recent: RecentPeers;
  /** DHT stores on the datastore, when serving the DHT. */
  readonly dht?: { values: DatastoreValueStore; providers: DatastoreProviderStore };
  /** The relay settings of the previous run, if one recorded them. */
  readonly previousRelay: RelaySettings | undefined;
  /** Close the datastore. */
  close(): Promise<void>;
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch {
    return false;
  }
}

/**
 * The data dir cannot be used as it is (a corrupt or foreign store file, a newer schema, a
 * folder we cannot create, identities that disagree): restarting will not help, so the CLI
 * exits with its own code (`EXIT_DATA_DIR`) that a supervisor can be told not to restart on.
 *
 * @example
 * ```ts
 * import { DataDirError } from "./state.ts";
 * throw new DataDirError("data dir ./node.data: not a database");
 * ```
 */
export class DataDirError extends CliError {
  /** "DataDirError". */
  override name = "DataDirError";
}

function dataError(dir: string, err: unknown): DataDirError {
  return new DataDirError(`data dir ${dir}: ${describeError(err)}`, { cause: err });
}

/**
 * Open the run's state: the store in `options.dataDir` (created when missing), the identity
 * (store and key file reconciled), the recent peers, the DHT stores with `--dht-server`, and
 * the relay settings (this run's recorded, the last run's returned). Throws {@link CliError}
 * with one line naming the file for a corrupt or foreign store, or disagreeing identities.
 *
 * @example
 * ```ts ignore
 * import { openCliState } from "./state.ts";
 * const state = await openCliState(options);
 * ```
 */
export async function openCliState(
  options: Pick<
    CliOptions,
    "keyFile" | "dataDir" | "dht" | "relay" | "relayPrivateAddrs" | "listen" | "preset"
  >,
): Promise<CliState> {
  const dir = options.dataDir;
  let ds: Datastore | undefined;
  let path = datastorePath(dir) ?? dir;
  let schemaVersion = 0;
  const open = async (): Promise<Datastore> => {
    try {
      const opened = await openDatastore(dir);
      path = opened.path;
      schemaVersion = opened.schemaVersion;
      return opened.datastore;
    } catch (err) {
      throw dataError(dir, err);
    }
  };
  try {
    // An existing store is read first: its identity wins over creating a new key file.
    let stored: PrivateKey | undefined;
    if (await exists(path)) {
      ds = await open();
      stored = await loadIdentity(ds).catch((err) => {
        throw dataError(dir, err);
      });
    }
    let key: PrivateKey;
    let created = false;
    let restoredKeyFile = false;
    if (stored !== undefined) {
      key = stored;
      if (!(await exists(options.keyFile))) {
        try {
          await writeFile(options.keyFile, privateKeyToProtobuf(stored), {
            mode: 0o600,
            flag: "wx",
          });
          restoredKeyFile = true;
        } catch (err) {
          throw new CliError(
            `cannot write key file ${options.keyFile}: ${describeError(err)}`,
            { cause: err },
          );
        }
      } else {
        // Read and parsed as without a store (a bad file is the same one-line error).
        const fromFile = (await loadOrCreateKey(options.keyFile)).key;
        const a = peerIdFromPrivateKey(fromFile).toString();
        const b = peerIdFromPrivateKey(stored).toString();
        if (a !== b) {
          throw new DataDirError(
            `key file ${options.keyFile} (peer ${a}) and data dir ${dir} (peer ${b}) hold ` +
              `different identities: remove the one you do not want`,
          );
        }
      }
    } else {
      ({ key, created } = await loadOrCreateKey(options.keyFile));
      ds ??= await open();
      await saveIdentity(ds, key).catch((err) => {
        throw dataError(dir, err);
      });
    }
    const datastore = ds!;
    const recent = new RecentPeers(datastore);
    let dht: CliState["dht"];
    let previousRelay: RelaySettings | undefined;
    try {
      await recent.load();
      if (options.dht === "server") {
        // The preset's caps hold for the records on disk too (preset.ts).
        const limits = presetLimits(options.preset);
        dht = {
          values: await DatastoreValueStore.open(datastore, limits?.dhtValues),
          providers: await DatastoreProviderStore.open(datastore, limits?.dhtProviders),
        };
      }
      previousRelay = parseRelay(await datastore.get(RELAY_SETTINGS_KEY));
      const relay: RelaySettings = {
        server: options.relay === true,
        privateAddrs: options.relayPrivateAddrs === true,
        circuitListen: options.listen.filter((a) => a.includes("/p2p-circuit")),
      };
      await datastore.put(RELAY_SETTINGS_KEY, utf8Encode(JSON.stringify(relay)));
    } catch (err) {
      if (err instanceof DatastoreError) throw dataError(dir, err);
      throw err;
    }
    return {
      datastore,
      dataDir: dir,
      path,
      schemaVersion,
      key,
      created,
      restoredKeyFile,
      recent,
      dht,
      previousRelay,
      close: () => datastore.close(),
    };
  } catch (err) {
    await ds?.close().catch(() => {});
    throw err;
  }
}

function parseRelay(raw: Uint8Array | undefined): RelaySettings | undefined {
  if (raw === undefined || raw.byteLength > 64 * 1024) return undefined;
  try {
    const v = JSON.parse(utf8Decode(raw)) as Partial<RelaySettings>;
    if (typeof v.server !== "boolean" || typeof v.privateAddrs !== "boolean") return undefined;
    const circuitListen = Array.isArray(v.circuitListen)
      ? v.circuitListen.filter((a): a is string => typeof a === "string")
      : [];
    return { server: v.server, privateAddrs: v.privateAddrs, circuitListen };
  } catch {
    return undefined;
  }
}

/**
 * One line describing how this run's relay settings differ from the last run's, or undefined
 * when they are the same (or there was no last run).
 *
 * @example
 * ```ts
 * import { relayChange } from "./state.ts";
 * relayChange(
 *   { server: false, privateAddrs: false, circuitListen: [] },
 *   { server: true, privateAddrs: false, circuitListen: [] },
 * ); // "relay settings changed since the last run: relay off -> on"
 * ```
 */
export function relayChange(
  previous: RelaySettings | undefined,
  now: RelaySettings,
): string | undefined {
  if (previous === undefined) return undefined;
  const parts: string[] = [];
  const onOff = (b: boolean): string => (b ? "on" : "off");
  if (previous.server !== now.server) {
    parts.push(`relay ${onOff(previous.server)} -> ${onOff(now.server)}`);
  }
  if (previous.privateAddrs !== now.privateAddrs) {
    parts.push(
      `relay private addrs ${onOff(previous.privateAddrs)} -> ${onOff(now.privateAddrs)}`,
    );
  }
  const was = previous.circuitListen.join(",");
  const is = now.circuitListen.join(",");
  if (was !== is) parts.push(`relayed listen ${was || "-"} -> ${is || "-"}`);
  return parts.length === 0
    ? undefined
    : `relay settings changed since the last run: ${parts.join(", ")}`;
}
