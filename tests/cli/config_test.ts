/**
 * Config layering (app/cli/config.ts): precedence flags > environment > --config file >
 * defaults, unknown file fields and environment variables, list values, --print-config and
 * --version through runCli, the edge preset's roles, and the flag table against the usage text.
 */

import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { parseCliArgs, USAGE } from "../../app/cli/args.ts";
import { configPath, layerConfig } from "../../app/cli/config.ts";
import { envName, fieldName, FLAGS } from "../../app/cli/flags.ts";
import { type CliProcess, runCli } from "../../app/cli/main.ts";
import { applyPreset, EDGE_LIMITS, presetLimits } from "../../app/cli/preset.ts";
import { PROGRAM, VERSION, versionLine } from "../../app/cli/version.ts";
import { cliPubsub, PUBSUB_BOOTSTRAPPER } from "../../app/cli/node.ts";

const file = (text: string) => ({ path: "node.json", text });

function options(args: string[], env = {}, text?: string) {
  const layered = layerConfig({ args, env, file: text === undefined ? undefined : file(text) });
  const cmd = parseCliArgs(layered.argv);
  assert.equal(cmd.kind, "run");
  return { layered, options: cmd.kind === "run" ? cmd.options : undefined! };
}

describe("config layering", () => {
  it("names: camelCase fields and P2P_EDGE_ upper snake case variables", () => {
    assert.equal(fieldName("--dht-private-addrs"), "dhtPrivateAddrs");
    assert.equal(fieldName("--listen"), "listen");
    assert.equal(envName("--dht-server"), "P2P_EDGE_DHT_SERVER");
    assert.equal(envName("--allow-private-addresses"), "P2P_EDGE_ALLOW_PRIVATE_ADDRESSES");
  });

  it("precedence: flags over environment over file over defaults, per flag", () => {
    const text = JSON.stringify({
      listen: ["/ip4/0.0.0.0/tcp/1"],
      key: "file.key",
      dnsServer: "127.0.0.1:53",
      echo: true,
      pubsub: "floodsub",
    });
    const env = { P2P_EDGE_LISTEN: "/ip4/0.0.0.0/tcp/2", P2P_EDGE_KEY: "env.key" };
    const { layered, options: o } = options(["--key", "flag.key"], env, text);
    assert.equal(o.keyFile, "flag.key"); // flag > env > file
    assert.deepEqual(o.listen, ["/ip4/0.0.0.0/tcp/2"]); // env > file
    assert.equal(o.dnsServer, "127.0.0.1:53"); // file > default
    assert.equal(o.echo, true);
    assert.equal(o.pubsub, "floodsub");
    assert.equal(o.perf, false); // default
    assert.deepEqual(layered.origins, {
      key: "args",
      listen: "env",
      dnsServer: "file",
      echo: "file",
      pubsub: "file",
    });
  });

  it("a list comes whole from the winning source, not concatenated", () => {
    const text = JSON.stringify({
      bootstrap: ["/ip4/10.0.0.1/tcp/1/p2p/a", "/ip4/10.0.0.2/tcp/1"],
    });
    const { options: o } = options(["--bootstrap", "/ip4/10.0.0.9/tcp/9"], {}, text);
    assert.deepEqual(o.bootstrap, ["/ip4/10.0.0.9/tcp/9"]);
  });

  it("environment lists split on commas and whitespace; booleans take 1/0, true/false", () => {
    const env = {
      P2P_EDGE_BOOTSTRAP: " /ip4/10.0.0.1/tcp/1, /ip4/10.0.0.2/tcp/2\n/dnsaddr/x.example ",
      P2P_EDGE_RELAY: "1",
      P2P_EDGE_ECHO: "false",
      P2P_EDGE_DHT_SERVER: "yes",
    };
    const { options: o } = options([], env, JSON.stringify({ echo: true }));
    assert.deepEqual(o.bootstrap, [
      "/ip4/10.0.0.1/tcp/1",
      "/ip4/10.0.0.2/tcp/2",
      "/dnsaddr/x.example",
    ]);
    assert.equal(o.relay, true);
    assert.equal(o.echo, false, "P2P_EDGE_ECHO=false beats the file's true");
    assert.equal(o.dht, "server");
    assert.throws(
      () => layerConfig({ args: [], env: { P2P_EDGE_RELAY: "maybe" } }),
      /P2P_EDGE_RELAY="maybe": expected true\/false/,
    );
  });

  it("unknown file fields and unknown P2P_EDGE_ variables are errors naming them", () => {
    assert.throws(
      () => layerConfig({ args: [], file: file('{"listen":[],"dhtSever":true}') }),
      (e: Error) => e instanceof SyntaxError && /unknown field "dhtSever"/.test(e.message),
    );
    assert.throws(
      () => layerConfig({ args: [], file: file('{"printConfig":true}') }),
      /unknown field "printConfig"/,
    );
    assert.throws(
      () => layerConfig({ args: [], env: { P2P_EDGE_DHT_SEVER: "1" } }),
      /unknown environment variable P2P_EDGE_DHT_SEVER/,
    );
    assert.throws(
      () => layerConfig({ args: [], env: { P2P_EDGE_PRINT_CONFIG: "1" } }),
      /command-line flag only/,
    );
    // Other variables and the reserved P2P_EDGE_COMMIT are not settings.
    layerConfig({ args: [], env: { HOME: "/root", P2P_EDGE_COMMIT: "abc" } });
  });

  it("file values of the wrong type, non-objects and bad JSON are errors", () => {
    assert.throws(() => layerConfig({ args: [], file: file('{"listen":"/ip4/x"}') }), /array/);
    assert.throws(() => layerConfig({ args: [], file: file('{"relay":"yes"}') }), /true or false/);
    assert.throws(() => layerConfig({ args: [], file: file('{"key":1}') }), /must be a string/);
    assert.throws(() => layerConfig({ args: [], file: file("[1]") }), /JSON object/);
    assert.throws(() => layerConfig({ args: [], file: file("{") }), /not JSON/);
  });

  it("values still go through the parser: a bad file value is the parser's usage error", () => {
    const layered = layerConfig({ args: [], file: file('{"pubsub":"meshsub"}') });
    assert.throws(() => parseCliArgs(layered.argv), /--pubsub is floodsub or gossipsub/);
    // A value starting with "-" is passed as --flag=value, never taken for a flag.
    const { options: o } = options([], { P2P_EDGE_PUBLISH: "-chat" });
    assert.equal(o.publish, "-chat");
  });

  it("--quiet in the file and --verbose on the command line: the command line wins", () => {
    const { options: o } = options(["--verbose"], {}, '{"quiet":true}');
    assert.equal(o.logLevel, "verbose");
    // Both on the command line is still the parser's error.
    assert.throws(() => parseCliArgs(layerConfig({ args: ["--quiet", "--verbose"] }).argv));
  });

  it("--config and P2P_EDGE_CONFIG name the file; --config twice is an error", () => {
    assert.equal(configPath(["--config=a.json"]), "a.json");
    assert.equal(configPath(["--config", "a.json"], { P2P_EDGE_CONFIG: "b.json" }), "a.json");
    assert.equal(configPath([], { P2P_EDGE_CONFIG: "b.json" }), "b.json");
    assert.equal(configPath([]), undefined);
    assert.throws(() => configPath(["--config", "a", "--config", "b"]), /more than once/);
    assert.throws(() => configPath(["--config"]), /--config needs a value/);
    assert.throws(() => configPath(["--config", "--echo"]), /--config needs a value/);
    assert.throws(() => layerConfig({ args: ["--version=1"] }), /--version takes no value/);
    // --config never reaches the parser.
    assert.deepEqual(layerConfig({ args: ["--config", "a.json", "--echo"] }).argv, ["--echo"]);
  });

  it("every usage flag has a table row, and every row is a flag the parser takes", () => {
    const inUsage = new Set(USAGE.match(/^ {2}(--[a-z-]+)/gm)!.map((s) => s.trim()));
    const rows = new Set(FLAGS.map((f) => f.flag));
    for (const flag of inUsage) assert.ok(rows.has(flag), `${flag} has a row in FLAGS`);
    for (const spec of FLAGS) {
      if (spec.sources === "env" || spec.flag === "--print-config" || spec.flag === "--version") {
        continue; // consumed by config.ts before the parser
      }
      assert.ok(inUsage.has(spec.flag), `${spec.flag} is in the usage text`);
      const value = spec.flag === "--preset"
        ? "edge"
        : spec.flag === "--pubsub"
        ? "gossipsub"
        : spec.flag === "--metrics" || spec.flag === "--dns-server"
        ? "127.0.0.1:8888"
        : spec.flag === "--log-format"
        ? "json"
        : "x";
      const args = spec.kind === "boolean" ? [spec.flag] : [`${spec.flag}=${value}`];
      if (spec.flag === "--exit-after-dial") args.push("--dial=/ip4/127.0.0.1/tcp/1");
      assert.doesNotThrow(() => parseCliArgs(args), spec.flag);
    }
  });
});

function fakeProcess(
  env: Record<string, string> = {},
  files: Record<string, string> = {},
): CliProcess & { stdout: string[]; stderr: string[] } {
  const p = {
    stdout: [] as string[],
    stderr: [] as string[],
    out: (l: string) => p.stdout.push(l),
    err: (l: string) => p.stderr.push(l),
    onSignal: () => () => {},
    exit: () => {},
    env,
    readTextFile: (path: string) =>
      path in files ? Promise.resolve(files[path]) : Promise.reject(new Error("ENOENT")),
  };
  return p;
}

describe("runCli with config sources", () => {
  it("--print-config prints the merged settings as JSON (a valid --config file), exit 0", async () => {
    const files = { "node.json": JSON.stringify({ listen: ["/ip4/127.0.0.1/tcp/0"], echo: true }) };
    const p = fakeProcess({ P2P_EDGE_RELAY: "true" }, files);
    const code = await runCli(["--config", "node.json", "--preset", "edge", "--print-config"], p);
    assert.equal(code, 0, p.stderr.join("\n"));
    const printed = JSON.parse(p.stdout.join("\n"));
    assert.deepEqual(printed.listen, ["/ip4/127.0.0.1/tcp/0"]);
    assert.equal(printed.echo, true);
    assert.equal(printed.relay, true);
    assert.equal(printed.preset, "edge");
    assert.equal(printed.key, "./node.key"); // default
    assert.equal(printed.dnsServer, null);
    assert.deepEqual(printed.bootstrap, [], "the preset adds no bootstrap peers");
    // Fed back as a file it gives the same settings.
    const again = fakeProcess({}, { "p.json": p.stdout.join("\n") });
    assert.equal(await runCli(["--config", "p.json", "--print-config"], again), 0);
    assert.deepEqual(JSON.parse(again.stdout.join("\n")), printed);
  });

  it("usage errors exit 2 naming the field or variable; an unreadable file exits 1", async () => {
    const p = fakeProcess({}, { "n.json": '{"relai":true}' });
    assert.equal(await runCli(["--config", "n.json"], p), 2);
    assert.match(p.stderr[0], /unknown field "relai"/);
    const q = fakeProcess({ P2P_EDGE_RELAI: "1" });
    assert.equal(await runCli(["--print-config"], q), 2);
    assert.match(q.stderr[0], /P2P_EDGE_RELAI/);
    const r = fakeProcess();
    assert.equal(await runCli(["--config", "missing.json"], r), 1);
    assert.match(r.stderr[0], /cannot read config file missing\.json/);
  });

  it("--version prints program, version, runtime and the commit when known", async () => {
    const p = fakeProcess({ P2P_EDGE_COMMIT: "0123abc" });
    assert.equal(await runCli(["--version"], p), 0);
    assert.match(
      p.stdout[0],
      /^p2p-edge-libp2p \d+\.\d+\.\d+ \((deno|bun) \d+\.\d+\.\d+\) commit 0123abc$/,
    );
    assert.equal(
      versionLine({ name: "bun", version: "1.4.5" }, undefined, {}),
      `${PROGRAM} ${VERSION} (bun 1.4.5)`,
    );
    const deno = JSON.parse(await readFile(new URL("../../deno.json", import.meta.url), "utf8"));
    assert.equal(VERSION, deno.version, "version.ts follows deno.json");
  });
});

describe("--preset edge", () => {
  it("turns on relay, DHT server, AutoNAT; --allow-private-addresses the private options", () => {
    const cmd = parseCliArgs(["--preset", "edge", "--allow-private-addresses"]);
    assert.equal(cmd.kind, "run");
    const o = applyPreset(cmd.kind === "run" ? cmd.options : undefined!);
    assert.equal(o.relay, true);
    assert.equal(o.dht, "server");
    assert.equal(o.autonat, true);
    assert.equal(o.dhtPrivateAddrs, true);
    assert.equal(o.relayPrivateAddrs, true);
    assert.equal(o.autonatPrivateAddrs, true);
    assert.equal(o.bootstrap, undefined, "no public bootstrap list");
    const plain = parseCliArgs([]);
    const p = applyPreset(plain.kind === "run" ? plain.options : undefined!);
    assert.ok(!p.relay && p.dht === "off" && !p.autonat && !p.dhtPrivateAddrs);
    assert.throws(() => parseCliArgs(["--preset", "cloud"]), /--preset is edge/);
  });

  it("limits are ordered and bounded", () => {
    assert.equal(presetLimits("edge"), EDGE_LIMITS);
    assert.equal(presetLimits(undefined), undefined);
    const cm = EDGE_LIMITS.connectionManager;
    assert.ok(cm.lowWatermark! < cm.highWatermark! && cm.highWatermark! <= cm.maxConnections!);
    assert.ok(EDGE_LIMITS.resources.maxMemory! <= 24 * 1024 ** 3 / 2, "at most half the RAM");
  });

  it("--pubsub-topic runs gossipsub as a bootstrapper with PX; floodsub is refused", () => {
    assert.ok(cliPubsub({ pubsubTopic: ["t"] }) !== undefined);
    assert.deepEqual(PUBSUB_BOOTSTRAPPER, { D: 0, Dlo: 0, Dhi: 0, Dout: 0, doPX: true });
    const cmd = parseCliArgs(["--pubsub-topic", "a", "--pubsub-topic=b"]);
    assert.deepEqual(cmd.kind === "run" ? cmd.options.pubsubTopic : [], ["a", "b"]);
    assert.throws(
      () => parseCliArgs(["--pubsub-topic", "a", "--pubsub", "floodsub"]),
      /needs gossipsub/,
    );
  });
});
