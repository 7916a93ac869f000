/**
 * Plumbing shared by the lab's node drivers (lab_node.ts, lab_js_node.ts): flags, JSON lines on
 * stdout, commands from stdin, and one echo round trip over a web stream pair.
 */

import process from "node:process";

/** `--name value` pairs (repeatable) by name. */
export function flags(argv: readonly string[]): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (let i = 0; i + 1 < argv.length; i += 2) {
    const name = argv[i].replace(/^--/, "");
    out.set(name, [...(out.get(name) ?? []), argv[i + 1]]);
  }
  return out;
}

/** Print one JSON object line (bigints as numbers). */
export function report(obj: Record<string, unknown>): void {
  process.stdout.write(
    JSON.stringify(obj, (_k, v) => typeof v === "bigint" ? Number(v) : v) + "\n",
  );
}

/** Run each stdin command line through `run` (concurrently); resolves when stdin ends. */
export function onCommands(
  run: (cmd: Record<string, unknown>) => Promise<unknown>,
): Promise<void> {
  return new Promise((resolve) => {
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
          (result) => report({ id: cmd.id, ok: true, result }),
          (err) => report({ id: cmd.id, ok: false, error: errorText(err) }),
        );
      }
    });
    process.stdin.on("end", () => resolve());
  });
}

/** An error as text: its stack, else name and message (Bun's DOMException has an empty stack). */
function errorText(err: unknown): string {
  if (err instanceof Error || err instanceof DOMException) {
    return err.stack || `${err.name}: ${err.message}`;
  }
  return String(err);
}

/** The echo payload: a fixed pattern, so a corrupted byte is caught. */
export function payload(size: number): Uint8Array {
  const data = new Uint8Array(size);
  for (let i = 0; i < size; i++) data[i] = (i * 31 + 7 + (i >> 11)) & 0xff;
  return data;
}

/** Throw unless `back` is exactly `sent`. */
export function sameBytes(sent: Uint8Array, back: Uint8Array): void {
  if (back.byteLength !== sent.byteLength) {
    throw new Error(`echoed ${back.byteLength} of ${sent.byteLength} bytes`);
  }
  for (let i = 0; i < sent.byteLength; i++) {
    if (back[i] !== sent[i]) throw new Error(`echoed byte ${i} differs`);
  }
}

/** Send `size` bytes on an echo stream, read them back, compare; resolves with the time, ms. */
export async function echoOver(
  stream: { readable: ReadableStream<Uint8Array>; writable: WritableStream<Uint8Array> },
  size: number,
): Promise<number> {
  const data = payload(size);
  const start = performance.now();
  const reading = (async () => {
    const back = new Uint8Array(size);
    let n = 0;
    for await (const chunk of stream.readable) {
      if (n + chunk.byteLength > size) throw new Error("echoed more than was sent");
      back.set(chunk, n);
      n += chunk.byteLength;
    }
    return back.subarray(0, n);
  })();
  reading.catch(() => {}); // awaited below; a failed write rejects first
  const writer = stream.writable.getWriter();
  for (let o = 0; o < size; o += 64 * 1024) await writer.write(data.subarray(o, o + 64 * 1024));
  await writer.close();
  sameBytes(data, await reading);
  return performance.now() - start;
}
