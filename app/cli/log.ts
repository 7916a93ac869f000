/**
 * The CLI's JSON log mode (`--log-format json`): every line the CLI prints becomes one JSON
 * object on its own line, `{"time","level","event","msg"}`, for log collectors. `event` is the
 * line's first word (`listening`, `connected`, `ping`, `error`, ...), `msg` the line as the text
 * mode prints it; `level` is "error" for standard error, "debug" for the lines only `--verbose`
 * prints, "info" otherwise. The text mode stays the default: one line per event.
 *
 * @module
 */

import type { CliOutput } from "./node.ts";

/** The log formats of `--log-format`. */
export type LogFormat = "text" | "json";

/** Events printed only with `--verbose`: logged at level "debug". */
const DEBUG_EVENTS = new Set(["identified", "announcing", "handler"]);

/** One JSON log line. */
export interface JsonLogLine {
  /** ISO 8601 time. */
  time: string;
  /** "debug", "info" or "error". */
  level: "debug" | "info" | "error";
  /** The line's first word, without a trailing colon. */
  event: string;
  /** The text line. */
  msg: string;
}

/**
 * The JSON object for one text line.
 *
 * @example
 * ```ts
 * import { jsonLogLine } from "./log.ts";
 * jsonLogLine("ping 12D3KooW... 0.61 ms", "out", new Date(0)).event; // "ping"
 * ```
 */
export function jsonLogLine(line: string, stream: "out" | "err", at: Date): JsonLogLine {
  const first = /^\S+/.exec(line)?.[0] ?? "";
  const event = first.endsWith(":") ? first.slice(0, -1) : first;
  const level = stream === "err" && !DEBUG_EVENTS.has(event)
    ? "error"
    : DEBUG_EVENTS.has(event)
    ? "debug"
    : "info";
  return { time: at.toISOString(), level, event, msg: line };
}

/**
 * `output` with every line turned into a JSON log line (multi-line text, such as an error with
 * its stack, stays one JSON line: newlines are escaped by JSON).
 *
 * @example
 * ```ts
 * import { jsonOutput } from "./log.ts";
 * const out = jsonOutput({ out: console.log, err: console.error });
 * out.out("listening /ip4/127.0.0.1/tcp/4001/p2p/12D3KooW...");
 * ```
 */
export function jsonOutput(output: CliOutput, now: () => Date = () => new Date()): CliOutput {
  return {
    out: (line) => output.out(JSON.stringify(jsonLogLine(line, "out", now()))),
    err: (line) => output.err(JSON.stringify(jsonLogLine(line, "err", now()))),
  };
}
