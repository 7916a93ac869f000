/**
 * tools/check_layers.ts on small in-memory trees: each rule is flagged with its file and line, a
 * clean tree passes, and imports in comments and strings are not taken for real ones.
 */

import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { checkLayers, type Violation } from "../../tools/check_layers.ts";
import { blankLiterals, relativeImports } from "../../tools/imports.ts";

/** A clean tree: every allowed kind of import once. */
const CLEAN: Record<string, string> = {
  "mod.ts": 'export * from "./src/api.ts";\nexport { tcp } from "./transports/tcp/mod.ts";\n',
  "cli.ts": 'import { main } from "./app/cli/main.ts";\nawait main();\n',
  "app/cli/main.ts": 'import { node } from "../../mod.ts";\nexport const main = () => node;\n',
  "src/api.ts": 'import { b } from "./bytes.ts";\nimport type { K } from "./keys/types.ts";\n' +
    "export const node = b;\nexport type { K };\n",
  "src/bytes.ts": "export const b = 1;\n",
  "src/keys/types.ts": 'import { b } from "../bytes.ts";\nexport type K = typeof b;\n',
  "protocols/noise/mod.ts": 'export { n } from "./session.ts";\n',
  "protocols/noise/session.ts": 'import { b } from "../../src/bytes.ts";\nexport const n = b;\n',
  "protocols/identify/mod.ts": 'import { n } from "../noise/mod.ts";\nexport const i = n;\n',
  "transports/tcp/mod.ts": "import { b } from '../../src/bytes.ts';\n" +
    "export const tcp = () => import('./deno.ts');\nexport { b };\n",
  "transports/tcp/deno.ts": 'import { tcp } from "./mod.ts";\nexport const d = tcp;\n',
  "transports/webtransport/mod.ts": 'import { n } from "../../protocols/noise/mod.ts";\n' +
    'import { tcp } from "../tcp/mod.ts";\nexport const w = [n, tcp];\n',
  "tests/api_test.ts": 'import { main } from "../app/cli/main.ts";\n' +
    'import { n } from "../protocols/noise/session.ts";\nexport const t = [main, n];\n',
};

function tree(extra: Record<string, string>): Map<string, string> {
  return new Map(Object.entries({ ...CLEAN, ...extra }));
}

function only(found: Violation[]): Violation {
  assert.equal(found.length, 1, JSON.stringify(found, null, 2));
  return found[0];
}

/**
 * The one layer violation of `found`. An upward import may close a component cycle as well
 * (src -> app -> mod.ts -> src): that is reported too, as a cycle, and allowed here.
 */
function layer(found: Violation[]): Violation {
  return only(found.filter((v) => !v.rule.startsWith("no import cycle")));
}

describe("check_layers", () => {
  it("passes a clean tree", () => {
    assert.deepEqual(checkLayers(tree({})), []);
  });

  it("flags src/ importing a protocol, a transport or app/", () => {
    for (
      const target of [
        "../protocols/noise/mod.ts",
        "../transports/tcp/mod.ts",
        "../app/cli/main.ts",
      ]
    ) {
      const v = layer(checkLayers(tree({ "src/bad.ts": `\n\nimport { x } from "${target}";\n` })));
      assert.equal(v.file, "src/bad.ts");
      assert.equal(v.line, 3);
      assert.equal(v.importText, target);
      assert.match(v.rule, target.includes("app") ? /app\// : /^src\/ must not import/);
    }
  });

  it("stores/ imports src/ only; src/ never imports stores/", () => {
    assert.deepEqual(
      checkLayers(tree({
        "stores/mod.ts":
          'import { b } from "../src/bytes.ts";\nexport const s = () => import("./kv.ts");\n',
        "stores/kv.ts": 'import { s } from "./mod.ts";\nexport const k = s;\n',
      })),
      [],
    );
    for (const target of ["../protocols/noise/mod.ts", "../transports/tcp/mod.ts"]) {
      const v = layer(checkLayers(tree({ "stores/bad.ts": `import { x } from "${target}";\n` })));
      assert.match(v.rule, /stores\/ imports only src\//);
    }
    const up = layer(
      checkLayers(tree({ "src/bad.ts": 'import { s } from "../stores/mod.ts";\n' })),
    );
    assert.match(up.rule, /^src\/ must not import/);
  });

  it("flags a protocol importing another protocol's internals, and any transport", () => {
    const inner = only(checkLayers(tree({
      "protocols/ping/mod.ts": 'import { n } from "../noise/session.ts";\nexport const p = n;\n',
    })));
    assert.equal(inner.file, "protocols/ping/mod.ts");
    assert.match(inner.rule, /another protocol only through its mod\.ts/);
    const transport = only(checkLayers(tree({
      "protocols/ping/mod.ts": 'import { tcp } from "../../transports/tcp/mod.ts";\n',
    })));
    assert.match(transport.rule, /a protocol must not import a transport/);
  });

  it("flags a transport importing another transport's (or a protocol's) internals", () => {
    const v = only(checkLayers(tree({
      "transports/websocket/mod.ts": 'export { d } from "../tcp/deno.ts";\n',
    })));
    assert.match(v.rule, /another transport only through its mod\.ts/);
    const p = only(checkLayers(tree({
      "transports/websocket/mod.ts": 'import type { n } from "../../protocols/noise/session.ts";\n',
    })));
    assert.match(p.rule, /a protocol only through its mod\.ts/);
  });

  it("flags the library importing app/ (dynamic imports too), and allows cli.ts and tests", () => {
    const root = layer(checkLayers(tree({
      "mod.ts":
        'export * from "./src/api.ts";\nexport const m = () => import("./app/cli/main.ts");\n',
    })));
    assert.equal(root.file, "mod.ts");
    assert.equal(root.line, 2);
    assert.match(root.rule, /only cli\.ts, app\/, tests and bench may import app\//);
    const transport = layer(checkLayers(tree({
      "transports/tcp/bun.ts": 'import { main } from "../../app/cli/main.ts";\n',
    })));
    assert.match(transport.rule, /app\//);
  });

  it("flags library code importing tests/", () => {
    const v = layer(
      checkLayers(tree({ "src/x.ts": 'import { t } from "../tests/api_test.ts";\n' })),
    );
    assert.match(v.rule, /must not import tests\//);
  });

  it("flags a file cycle inside one folder, type-only imports included", () => {
    const v = only(checkLayers(tree({
      "src/bytes.ts": 'import type { K } from "./keys/types.ts";\nexport const b = 1;\n',
    })));
    assert.match(v.rule, /no import cycle between files/);
    assert.match(v.importText, /src\/bytes\.ts -> src\/keys\/types\.ts -> src\/bytes\.ts/);
  });

  it("flags a component cycle that is no file cycle (two protocols through their mod.ts)", () => {
    const v = only(checkLayers(tree({
      "protocols/noise/extra.ts": 'import { i } from "../identify/mod.ts";\nexport const e = i;\n',
    })));
    assert.match(v.rule, /no import cycle between components/);
    assert.match(v.importText, /protocols\/identify -> protocols\/noise -> protocols\/identify/);
  });

  it("does not count a dynamic import of an adapter as a cycle", () => {
    // CLEAN has transports/tcp/mod.ts -> import("./deno.ts") and deno.ts -> mod.ts.
    assert.deepEqual(checkLayers(tree({})), []);
    const v = only(checkLayers(tree({
      "transports/tcp/mod.ts": 'import { d } from "./deno.ts";\nexport const tcp = d;\n',
    })));
    assert.match(v.rule, /between files/);
  });
});

describe("relativeImports", () => {
  it("ignores imports in comments, strings and regular expressions", () => {
    const source = [
      "/**",
      ' * import { x } from "../protocols/a/b.ts";',
      " */",
      '// import "../transports/t/x.ts";',
      "const s = \"import { y } from '../app/z.ts'\";",
      'const r = /import "..\\/q.ts"/;',
      "const t = `${1} import('../w.ts')`;",
      "import {",
      "  a,",
      "  type B,",
      '} from "./real.ts";',
      'export type { C } from "./types.ts";',
      'const d = await import("./lazy.ts");',
      'import "./side.ts";',
    ].join("\n");
    assert.deepEqual(
      relativeImports("src/f.ts", source).map((r) => [r.line, r.target, r.typeOnly, r.dynamic]),
      [
        [11, "src/real.ts", false, false],
        [12, "src/types.ts", true, false],
        [13, "src/lazy.ts", false, true],
        [14, "src/side.ts", false, false],
      ],
    );
  });

  it("keeps offsets and lines when blanking", () => {
    const source = 'a("x\\"y"); // c\n/* d\n e */ b`t`;';
    const blanked = blankLiterals(source);
    assert.equal(blanked.length, source.length);
    assert.equal(blanked.split("\n").length, source.split("\n").length);
    assert.ok(!blanked.includes("x") && !blanked.includes("d") && blanked.includes("b`"));
  });
});
