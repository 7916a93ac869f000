/**
 * The command-line node. For now it creates or loads the node's persistent identity and prints
 * it; listening, dialling and the protocols arrive with the node (issue 4).
 *
 * Runs unchanged on Deno (`deno task start`) and Bun (`bun run start`); it uses only web APIs
 * and `node:` built-ins that both runtimes provide.
 */

import { readFile, writeFile } from "node:fs/promises";
import process from "node:process";
import {
  generateKeyPair,
  peerIdFromPublicKey,
  privateKeyFromProtobuf,
  privateKeyToProtobuf,
} from "./src/keys/mod.ts";
import type { PrivateKey } from "./src/keys/types.ts";

const HELP = `Usage: start [options]

Options:
  --key <file>   identity key file (protobuf PrivateKey); created on first run
                 (default: ./node.key)
  --help         show this help
`;

interface CliOptions {
  keyFile: string;
}

function parseArgs(args: string[]): CliOptions | undefined {
  const options: CliOptions = { keyFile: "node.key" };
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    if (arg === "--") continue;
    if (arg === "--help" || arg === "-h") return undefined;
    if (arg === "--key") {
      const value = args[++i];
      if (value === undefined) throw new SyntaxError("--key needs a file path");
      options.keyFile = value;
      continue;
    }
    throw new SyntaxError(`unknown argument ${arg} (see --help)`);
  }
  return options;
}

async function loadOrCreateKey(path: string): Promise<{ key: PrivateKey; created: boolean }> {
  let bytes: Uint8Array | undefined;
  try {
    bytes = new Uint8Array(await readFile(path));
  } catch (err) {
    if ((err as { code?: string }).code !== "ENOENT") throw err;
  }
  if (bytes !== undefined) return { key: await privateKeyFromProtobuf(bytes), created: false };
  const key = await generateKeyPair("Ed25519");
  await writeFile(path, privateKeyToProtobuf(key), { mode: 0o600, flag: "wx" });
  return { key, created: true };
}

async function main(): Promise<number> {
  let options: CliOptions | undefined;
  try {
    options = parseArgs(process.argv.slice(2));
  } catch (err) {
    console.error((err as Error).message);
    return 2;
  }
  if (options === undefined) {
    console.log(HELP);
    return 0;
  }
  const { key, created } = await loadOrCreateKey(options.keyFile);
  const peerId = peerIdFromPublicKey(key.publicKey);
  console.log(`${created ? "created" : "loaded"} ${key.type} identity ${options.keyFile}`);
  console.log(`peer id ${peerId.toString()}`);
  return 0;
}

process.exitCode = await main();
