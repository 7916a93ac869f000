/**
 * The command loop of a peer script run as a child process (the js-libp2p peers): prints
 * `{"event":"listening","peerId","addrs"}`, then answers each JSON command line on stdin with
 * `{"id","ok":true,"result"}` or `{"id","ok":false,"error"}`, and stops the node and exits when
 * stdin closes. tests/interop/js_command_peer.ts is the other end.
 */

import process from "node:process";

/** Print one JSON line on stdout. */
export function reportLine(obj: Record<string, unknown>): void {
  process.stdout.write(JSON.stringify(obj) + "\n");
}

/** Serve commands until stdin ends; `stop` runs before the process exits. */
export function serveJsonCommands(
  info: { peerId: string; addrs: () => string[] },
  run: (cmd: Record<string, unknown>) => Promise<unknown>,
  stop: () => Promise<unknown> | unknown,
): void {
  reportLine({ event: "listening", peerId: info.peerId, addrs: info.addrs() });
  let buf = "";
  const decoder = new TextDecoder();
  process.stdin.on("data", (d: Uint8Array) => {
    buf += decoder.decode(d, { stream: true });
    let i: number;
    while ((i = buf.indexOf("\n")) >= 0) {
      const line = buf.slice(0, i).trim();
      buf = buf.slice(i + 1);
      if (line === "") continue;
      const cmd = JSON.parse(line) as Record<string, unknown>;
      run(cmd).then(
        (result) => reportLine({ id: cmd.id, ok: true, result }),
        (err) => reportLine({ id: cmd.id, ok: false, error: String(err?.stack ?? err) }),
      );
    }
  });
  process.stdin.on("end", async () => {
    await Promise.resolve().then(stop).catch(() => {});
    process.exit(0);
  });
}
