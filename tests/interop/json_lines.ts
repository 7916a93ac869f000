/**
 * The js peer processes (js_process.ts, kad_js_process.ts) report one JSON object per line on
 * stdout; this reads them. Lines that are not JSON objects (a library's own logging) are skipped.
 */

import type { ChildProcess } from "node:child_process";
import process from "node:process";

const DEBUG = process.env.DEBUG_JS !== undefined;

/** Call `onObject` with each JSON-object line `child` prints; `label` prefixes debug output. */
export function onJsonLines(
  child: ChildProcess,
  label: string,
  onObject: (obj: Record<string, unknown>) => void,
): void {
  const decoder = new TextDecoder();
  let buf = "";
  child.stdout!.on("data", (d: Uint8Array) => {
    buf += decoder.decode(d, { stream: true });
    let i: number;
    while ((i = buf.indexOf("\n")) >= 0) {
      const line = buf.slice(0, i).trim();
      buf = buf.slice(i + 1);
      if (!line.startsWith("{")) continue;
      if (DEBUG) console.error(label, line.slice(0, 300));
      onObject(JSON.parse(line) as Record<string, unknown>);
    }
  });
}
