/**
 * Long fuzz run: the tests/fuzz/ properties with many more runs and fresh seeds, on the runtime
 * that runs this script (Deno or Bun). Intended for `deno task fuzz`; CI runs the same files
 * through the normal test task with the small default count and fixed seeds.
 *
 * Usage:
 *   deno run -A tests/fuzz/long_run.ts [files...]      (FUZZ_RUNS default 10000)
 *   bun tests/fuzz/long_run.ts [files...]
 *   FUZZ_RUNS=50000 FUZZ_SEED=123 deno run -A tests/fuzz/long_run.ts tests/fuzz/yamux_fuzz_test.ts
 *
 * `FUZZ_SEED` defaults to `random` here (a failure prints the seed and path to replay it with
 * `FUZZ_SEED=<seed> FUZZ_PATH=<path>`). Exits with the test runner's exit code.
 *
 * @module
 */

import { spawn } from "node:child_process";
import process from "node:process";

const files = process.argv.slice(2).filter((a) => !a.startsWith("-"));
const targets = files.length > 0 ? files : ["tests/fuzz/"];
const env = {
  ...process.env,
  FUZZ_RUNS: process.env.FUZZ_RUNS ?? "10000",
  FUZZ_SEED: process.env.FUZZ_SEED ?? "random",
};
const isBun = "Bun" in globalThis;
// Bun applies a per-test timeout (bunfig.toml: 60 s); a long run needs far more.
const args = isBun ? ["test", "--timeout", "86400000", ...targets] : ["test", "-A", ...targets];

console.error(
  `[fuzz] ${isBun ? "bun" : "deno"} ${args.join(" ")} with FUZZ_RUNS=${env.FUZZ_RUNS} ` +
    `FUZZ_SEED=${env.FUZZ_SEED}`,
);
const child = spawn(process.execPath, args, { env, stdio: "inherit" });
child.on("exit", (code, signal) => {
  if (signal !== null) console.error(`[fuzz] test runner ended by ${signal}`);
  process.exit(code ?? 1);
});
