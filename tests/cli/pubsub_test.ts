/**
 * The README's two-terminal chat, with the CLI started as users start it (through npx, on the
 * runtime running the test): one node `--subscribe chat`, the other `--dial` it and
 * `--publish chat` from its standard input. Each line typed on one side is printed as one line
 * on the other; closing the publisher's input stops it. Once with gossipsub (the default) and
 * once with `--pubsub floodsub`. Loopback only.
 */

import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { CLI_RUNTIME, type CliRun, startCli } from "./cli_process.ts";

const T = { timeout: 120_000 };
let dir: string;
const running: CliRun[] = [];

before(async () => {
  dir = await mkdtemp(join(tmpdir(), "p2p-edge-cli-pubsub-"));
});
after(async () => {
  await Promise.all(running.map((r) => r.kill()));
  await rm(dir, { recursive: true, force: true });
});

for (const router of ["gossipsub", "floodsub"] as const) {
  describe(`CLI chat over ${router} on ${CLI_RUNTIME}`, () => {
    it(
      "a line published on one node is printed on the other; end of input stops it",
      T,
      async () => {
        const flags = router === "floodsub" ? ["--pubsub", "floodsub"] : [];
        const sub = startCli([
          "--listen",
          "/ip4/127.0.0.1/tcp/0",
          "--key",
          join(dir, `${router}-sub.key`),
          "--subscribe",
          "chat",
          ...flags,
        ]);
        running.push(sub);
        const addr = (await sub.line(/^listening /)).slice("listening ".length);
        const pub = startCli([
          "--listen",
          "/ip4/127.0.0.1/tcp/0",
          "--key",
          join(dir, `${router}-pub.key`),
          "--dial",
          addr,
          "--publish",
          "chat",
          ...flags,
        ], { stdin: true });
        running.push(pub);
        await pub.line(/^ping /);
        // The subscription reaches the publisher shortly after the connection: send numbered
        // lines until one arrives, then one more that must arrive as typed.
        let got: string | undefined;
        for (let i = 0; i < 60 && got === undefined; i++) {
          pub.child.stdin!.write(`hello ${i}\n`);
          got = await Promise.race([
            sub.line(/^hello \d+$/),
            new Promise<undefined>((r) => setTimeout(() => r(undefined), 500)),
          ]);
        }
        assert.ok(
          got !== undefined,
          `no line arrived; publisher stderr:\n${pub.stderr.join("\n")}`,
        );
        pub.child.stdin!.write("the last line, with spaces\n");
        assert.equal(await sub.line(/^the last line/), "the last line, with spaces");
        pub.child.stdin!.end();
        assert.equal(await pub.exited, 0);
        sub.signal("SIGINT");
        assert.equal(await sub.exited, 0);
      },
    );
  });
}
