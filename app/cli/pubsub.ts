/**
 * The CLI's pubsub part: `--subscribe <topic>` prints every message received on the topic as
 * one line (its data as UTF-8 text), `--publish <topic>` sends each line of standard input.
 * Together they make a two-terminal chat (README "Chat over pubsub").
 *
 * @module
 */

import type { PubsubService } from "../../protocols/floodsub/mod.ts";
import { errorLine } from "./node.ts";
import type { CliOutput } from "./node.ts";

/**
 * Subscribe to the `--subscribe` topics and print each message as one line.
 *
 * @example
 * ```ts ignore
 * import { subscribeTopics } from "./pubsub.ts";
 * subscribeTopics(node.services.pubsub!, ["chat"], { out: console.log, err: console.error });
 * ```
 */
export function subscribeTopics(
  pubsub: PubsubService,
  topics: readonly string[],
  output: CliOutput,
): void {
  if (topics.length === 0) return;
  const wanted = new Set(topics);
  const decoder = new TextDecoder();
  pubsub.addEventListener("message", (e) => {
    if (!wanted.has(e.detail.topic)) return;
    // One message, one line: line breaks inside the data would split it.
    output.out(decoder.decode(e.detail.data).replace(/\r?\n/g, " "));
  });
  for (const topic of topics) pubsub.subscribe(topic);
}

/**
 * Publish each line of `lines` on `topic`; resolves when the lines end (or `signal` aborts).
 * A failed publish is reported on stderr and the next line is still sent.
 *
 * @example
 * ```ts ignore
 * import { publishLines } from "./pubsub.ts";
 * await publishLines(node.services.pubsub!, "chat", stdinLines(), output, false);
 * ```
 */
export async function publishLines(
  pubsub: PubsubService,
  topic: string,
  lines: AsyncIterable<string>,
  output: CliOutput,
  verbose: boolean,
  signal?: AbortSignal,
): Promise<void> {
  const encoder = new TextEncoder();
  for await (const line of lines) {
    if (signal?.aborted) return;
    if (line === "") continue;
    try {
      const { recipients } = await pubsub.publish(topic, encoder.encode(line), { signal });
      if (verbose) output.err(`published to ${recipients.length} peers`);
    } catch (err) {
      output.err(errorLine("publish: ", err, verbose));
    }
  }
}

/** Longest stdin line published, bytes (a pubsub message stays well under the 1 MiB cap). */
export const MAX_LINE_BYTES = 64 * 1024;

/**
 * The lines of a byte stream (standard input), without their line breaks. A line longer than
 * {@link MAX_LINE_BYTES} is cut there.
 *
 * @example
 * ```ts
 * import { linesOf } from "./pubsub.ts";
 * const lines: string[] = [];
 * for await (const l of linesOf(new Blob(["a\nb\n"]).stream())) lines.push(l); // ["a", "b"]
 * ```
 */
export async function* linesOf(
  input: AsyncIterable<Uint8Array> | ReadableStream<Uint8Array>,
): AsyncGenerator<string> {
  const decoder = new TextDecoder();
  let buf = "";
  for await (const chunk of input as AsyncIterable<Uint8Array>) {
    buf += decoder.decode(chunk, { stream: true });
    let i: number;
    while ((i = buf.indexOf("\n")) >= 0) {
      yield buf.slice(0, i).replace(/\r$/, "");
      buf = buf.slice(i + 1);
    }
    if (buf.length > MAX_LINE_BYTES) {
      yield buf.slice(0, MAX_LINE_BYTES);
      buf = buf.slice(MAX_LINE_BYTES);
    }
  }
  buf += decoder.decode();
  if (buf !== "") yield buf;
}
