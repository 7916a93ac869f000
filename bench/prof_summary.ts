/**
 * Summarise a V8/JSC `.cpuprofile` (from `deno run --cpu-prof` or `bun run --cpu-prof`): the
 * functions with the most self time, and the most inclusive time, as percentages of all samples.
 * To profile a benchmark scenario, run bench/run.ts with `--prof <dir>`: our workers then write
 * their profiles there.
 *
 *   deno run -A bench/prof_summary.ts <file.cpuprofile> [--top 25]
 *
 * @module
 */

import process from "node:process";
import { readFile } from "node:fs/promises";

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
}
interface ProfileNode {
  id: number;
  callFrame: CallFrame;
  hitCount?: number;
  children?: number[];
}
interface Profile {
  nodes: ProfileNode[];
  samples?: number[];
}

const file = process.argv[2];
if (file === undefined) throw new TypeError("usage: prof_summary.ts <file.cpuprofile> [--top N]");
const topIndex = process.argv.indexOf("--top");
const top = topIndex >= 0 ? Number(process.argv[topIndex + 1]) : 25;
const profile = JSON.parse(await readFile(file, "utf8")) as Profile;

const byId = new Map(profile.nodes.map((n) => [n.id, n]));
const hits = new Map<number, number>();
if (profile.samples !== undefined && profile.samples.length > 0) {
  for (const id of profile.samples) hits.set(id, (hits.get(id) ?? 0) + 1);
} else {
  for (const n of profile.nodes) hits.set(n.id, n.hitCount ?? 0);
}
const parent = new Map<number, number>();
for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);

const label = (n: ProfileNode): string => {
  const url = n.callFrame.url.replace(/^file:\/\/\/work\/main\//, "").replace(
    /^.*node_modules\//,
    "",
  );
  return `${n.callFrame.functionName || "(anonymous)"} ${url}:${n.callFrame.lineNumber + 1}`;
};

let total = 0;
const self = new Map<string, number>();
const inclusive = new Map<string, number>();
for (const [id, count] of hits) {
  if (count === 0) continue;
  total += count;
  const node = byId.get(id)!;
  self.set(label(node), (self.get(label(node)) ?? 0) + count);
  // Count each distinct function once per stack for inclusive time.
  const seen = new Set<string>();
  for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) {
    const l = label(byId.get(cur)!);
    if (seen.has(l)) continue;
    seen.add(l);
    inclusive.set(l, (inclusive.get(l) ?? 0) + count);
  }
}

const print = (title: string, m: Map<string, number>): void => {
  console.log(`\n${title} (${total} samples)`);
  for (const [name, n] of [...m].sort((a, b) => b[1] - a[1]).slice(0, top)) {
    console.log(`${((100 * n) / total).toFixed(1).padStart(6)}%  ${name}`);
  }
};
print("self time", self);
print("inclusive time", inclusive);
