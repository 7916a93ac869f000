import { describe, it } from "node:test";
import assert from "node:assert/strict";
import {
  type CliOptions,
  DEFAULT_KEY_FILE,
  DEFAULT_LISTEN,
  MAX_ADDRESS_FLAGS,
  parseCliArgs,
  USAGE,
} from "../../app/cli/args.ts";

function run(args: string[]): CliOptions {
  const cmd = parseCliArgs(args);
  assert.equal(cmd.kind, "run");
  return (cmd as { options: CliOptions }).options;
}

const A = "/ip4/127.0.0.1/tcp/4001";
const B = "/ip4/127.0.0.1/tcp/4002/ws";

describe("parseCliArgs", () => {
  it("defaults: listen on 0.0.0.0:4001, ./node.key, nothing else", () => {
    assert.deepEqual(run([]), {
      listen: [DEFAULT_LISTEN],
      keyFile: DEFAULT_KEY_FILE,
      dataDir: "./node.data",
      dial: [],
      announce: [],
      appendAnnounce: [],
      noAnnounce: [],
      exitAfterDial: false,
      perf: false,
      echo: false,
      logLevel: "normal",
      dht: "off",
      dhtPrivateAddrs: false,
      findPeer: [],
      findProviders: [],
      subscribe: [],
      publish: undefined,
      pubsub: "gossipsub",
    });
    assert.equal(DEFAULT_LISTEN, "/ip4/0.0.0.0/tcp/4001");
    assert.equal(DEFAULT_KEY_FILE, "./node.key");
  });

  it("--data-dir, or a folder named after the key file next to it", () => {
    assert.equal(run(["--data-dir", "/var/lib/edge"]).dataDir, "/var/lib/edge");
    assert.equal(run(["--key", "/etc/edge/id.key"]).dataDir, "/etc/edge/id.data");
    assert.equal(run(["--key", "/etc/edge.d/id"]).dataDir, "/etc/edge.d/id.data");
    assert.equal(run(["--key", ".hidden"]).dataDir, ".hidden.data");
    assert.throws(() => run(["--data-dir", "a", "--data-dir", "b"]), SyntaxError);
    assert.throws(() => run(["--data-dir"]), SyntaxError);
  });

  it("--listen is repeatable, keeps order and replaces the default", () => {
    assert.deepEqual(run(["--listen", A]).listen, [A]);
    assert.deepEqual(run(["--listen", A, "--listen", B]).listen, [A, B]);
    assert.deepEqual(run(["--listen", B, "--listen", A]).listen, [B, A]);
  });

  it("pubsub: --subscribe repeats, --publish once, --pubsub floodsub|gossipsub", () => {
    const o = run(["--subscribe", "a", "--subscribe=b", "--publish", "a", "--pubsub", "floodsub"]);
    assert.deepEqual(o.subscribe, ["a", "b"]);
    assert.equal(o.publish, "a");
    assert.equal(o.pubsub, "floodsub");
    assert.throws(
      () => run(["--publish", "a", "--publish", "b"]),
      /--publish given more than once/,
    );
    assert.throws(() => run(["--pubsub", "meshsub"]), /--pubsub is floodsub or gossipsub/);
    assert.throws(() => run(["--subscribe"]), /--subscribe needs a value/);
  });

  it("--dial is repeatable and keeps order", () => {
    const o = run(["--dial", A, "--dial", B]);
    assert.deepEqual(o.dial, [A, B]);
    assert.deepEqual(o.listen, [DEFAULT_LISTEN]);
  });

  it("--announce, --append-announce and --no-announce are repeatable and keep order", () => {
    const o = run([
      "--announce",
      A,
      "--announce=" + B,
      "--append-announce",
      "/dns4/example.com/tcp/443/wss",
      "--no-announce",
      A,
    ]);
    assert.deepEqual(o.announce, [A, B]);
    assert.deepEqual(o.appendAnnounce, ["/dns4/example.com/tcp/443/wss"]);
    assert.deepEqual(o.noAnnounce, [A]);
    assert.deepEqual(o.listen, [DEFAULT_LISTEN], "announcing does not change listening");
    assert.throws(() => parseCliArgs(["--announce"]), SyntaxError);
    assert.throws(() => parseCliArgs(["--no-announce", "--echo"]), SyntaxError);
    const many = Array.from({ length: MAX_ADDRESS_FLAGS + 1 }, () => ["--append-announce", A])
      .flat();
    assert.throws(() => parseCliArgs(many), RangeError);
    for (const flag of ["--announce", "--append-announce", "--no-announce"]) {
      assert.ok(USAGE.includes(flag), flag);
    }
  });

  it("--key sets the key file", () => {
    assert.equal(run(["--key", "/tmp/x.key"]).keyFile, "/tmp/x.key");
    assert.equal(run(["--key", "-"]).keyFile, "-");
  });

  it("boolean flags", () => {
    assert.equal(run(["--echo"]).echo, true);
    assert.equal(run(["--perf"]).perf, true);
    assert.equal(run(["--quiet"]).logLevel, "quiet");
    assert.equal(run(["--verbose"]).logLevel, "verbose");
    const o = run(["--dial", A, "--exit-after-dial"]);
    assert.equal(o.exitAfterDial, true);
  });

  it("--exit-after-dial without --listen listens nowhere; with --listen it keeps them", () => {
    assert.deepEqual(run(["--dial", A, "--exit-after-dial"]).listen, []);
    assert.deepEqual(run(["--exit-after-dial", "--dial", A, "--listen", B]).listen, [B]);
  });

  it("--flag=value form", () => {
    const o = run([`--listen=${A}`, `--dial=${B}`, "--key=k.key"]);
    assert.deepEqual(o.listen, [A]);
    assert.deepEqual(o.dial, [B]);
    assert.equal(o.keyFile, "k.key");
  });

  it("skips -- wherever deno task puts it", () => {
    assert.deepEqual(run(["--", "--listen", A, "--echo"]), run(["--listen", A, "--echo"]));
    assert.deepEqual(run(["--listen", A, "--", "--echo"]).echo, true);
    assert.deepEqual(run(["--"]).listen, [DEFAULT_LISTEN]);
  });

  it("--help and -h ask for the usage text, even with other flags", () => {
    assert.deepEqual(parseCliArgs(["--help"]), { kind: "help" });
    assert.deepEqual(parseCliArgs(["-h"]), { kind: "help" });
    assert.deepEqual(parseCliArgs(["--", "--listen", A, "--help"]), { kind: "help" });
  });

  it("the usage text names every flag and has an example", () => {
    for (
      const flag of [
        "--listen",
        "--key",
        "--dial",
        "--exit-after-dial",
        "--echo",
        "--perf",
        "--quiet",
        "--verbose",
        "--help",
      ]
    ) {
      assert.ok(USAGE.includes(flag), flag);
    }
    assert.match(USAGE, /Example:\n\s+start --listen/);
  });

  it("usage errors are SyntaxErrors with a clear message", () => {
    const cases: [string[], RegExp][] = [
      [["--bogus"], /unknown option --bogus/],
      [["--bogus=1"], /unknown option --bogus/],
      [["-x"], /unknown option -x/],
      [["positional"], /unexpected argument "positional"/],
      [["--listen"], /--listen needs a value/],
      [["--listen", "--echo"], /--listen needs a value/],
      [["--dial"], /--dial needs a value/],
      [["--key"], /--key needs a value/],
      [["--key="], /--key needs a value/],
      [["--key", "a", "--key", "b"], /--key given more than once/],
      [["--echo", "--echo"], /--echo given more than once/],
      [["--echo=yes"], /--echo takes no value/],
      [["--quiet", "--verbose"], /exclude each other/],
      [["--exit-after-dial"], /needs at least one --dial/],
    ];
    for (const [args, message] of cases) {
      assert.throws(() => parseCliArgs(args), (err: unknown) => {
        assert.ok(err instanceof SyntaxError, `${args.join(" ")}: ${err}`);
        assert.match((err as Error).message, message);
        return true;
      });
    }
  });

  it("caps the number of addresses", () => {
    const many = Array.from({ length: MAX_ADDRESS_FLAGS }, () => ["--listen", A]).flat();
    assert.equal(run(many).listen.length, MAX_ADDRESS_FLAGS);
    assert.throws(() => parseCliArgs([...many, "--listen", A]), RangeError);
  });

  it("does not validate multiaddrs (that is a runtime error of the node setup)", () => {
    assert.deepEqual(run(["--listen", "/nope"]).listen, ["/nope"]);
  });
});
