/**
 * tools/check_web.ts rules 1 and 2 on in-memory trees (rule 3 is `deno check` itself, run by
 * `deno task check:web`), and the parsing of `deno check` diagnostics.
 */

import { describe, it } from "node:test";
import assert from "node:assert/strict";
import {
  ADAPTERS,
  checkWebSources,
  FEATURE_DETECTION,
  isWebOnly,
  parseDiagnostics,
} from "../../tools/check_web.ts";

describe("check_web", () => {
  it("classifies files: adapters, tests and the CLI are not web-only", () => {
    assert.ok(isWebOnly("src/bytes.ts"));
    assert.ok(isWebOnly("transports/tcp/mod.ts"));
    assert.ok(isWebOnly("app/browser/mod.ts"));
    assert.ok(isWebOnly("stores/mod.ts"));
    assert.ok(!isWebOnly("stores/deno_kv.ts") && !isWebOnly("stores/bun_sqlite.ts"));
    assert.ok(isWebOnly("mod.ts"));
    assert.ok(isWebOnly(FEATURE_DETECTION));
    for (const adapter of ADAPTERS) assert.ok(!isWebOnly(adapter), adapter);
    assert.ok(!isWebOnly("app/cli/main.ts"));
    assert.ok(!isWebOnly("tests/tcp/tcp_test.ts"));
    assert.ok(!isWebOnly("cli.ts"));
  });

  it("flags the Deno or Bun global in a web-only file, not in comments, strings or adapters", () => {
    const found = checkWebSources(
      new Map([
        ["src/a.ts", "// Deno.exit()\nconst s = 'Bun.serve';\nexport const p = Deno.pid;\n"],
        ["protocols/x/agent.ts", "const g = globalThis as { Bun?: { version?: string } };\n"],
        ["src/runtime.ts", "export const d = (globalThis as { Deno?: unknown }).Deno;\n"],
        ["transports/tcp/deno.ts", "export const c = Deno.connect;\n"],
        ["tests/t_test.ts", "Deno.exit(0);\n"],
      ]),
    );
    assert.deepEqual(found.map((v) => [v.file, v.line, v.what.split(":")[0]]), [
      ["protocols/x/agent.ts", 1, "Bun"],
      ["src/a.ts", 3, "Deno"],
    ]);
    assert.match(found[0].rule, /only adapters and src\/runtime\.ts/);
  });

  it("flags a static import of an adapter (type-only too), allows a dynamic one", () => {
    const found = checkWebSources(
      new Map([
        ["transports/tcp/mod.ts", 'import { denoTcp } from "./deno.ts";\n'],
        ["transports/tcp/x.ts", 'import type { T } from "./bun.ts";\n'],
        ["transports/tcp/y.ts", 'export const load = () => import("./deno.ts");\n'],
        ["transports/tcp/bun.ts", 'import { x } from "./deno.ts";\n'],
      ]),
    );
    assert.deepEqual(found.map((v) => [v.file, v.line]), [
      ["transports/tcp/mod.ts", 1],
      ["transports/tcp/x.ts", 1],
    ]);
    assert.match(found[0].rule, /only by dynamic import\(\)/);
  });

  it("reads file and line of deno check diagnostics", () => {
    const output = [
      "TS2304 [ERROR]: Cannot find name 'Deno'.",
      "export const p = Deno.pid;",
      "                 ~~~~",
      "    at file:///repo/src/a%20b.ts:3:18",
      "",
      "error: Type checking failed.",
    ].join("\n");
    assert.deepEqual(parseDiagnostics(output), [
      { path: "/repo/src/a b.ts", line: 3, message: "TS2304 [ERROR]: Cannot find name 'Deno'." },
    ]);
  });
});
