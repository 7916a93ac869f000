/**
 * The command-line node: a libp2p node with a persistent identity, listening on TCP (and
 * WebSocket / WebTransport when asked), serving identify and ping, optionally dialling and
 * pinging peers. `--help` lists the flags; the work happens in app/cli/.
 *
 * Runs unchanged on Deno (`deno task start -- <flags>`) and Bun (`bun run start -- <flags>`); it
 * uses only web APIs and `node:` built-ins that both runtimes provide.
 *
 * @module
 */

import process from "node:process";
import { processCli, runCli } from "./app/cli/main.ts";

// Exit explicitly: open sockets and signal handlers would otherwise keep the process alive.
process.exit(await runCli(process.argv.slice(2), processCli()));
