/**
 * Test helpers for multistream: scripted sources and collecting sinks.
 *
 * @module
 */

import { concat } from "../../src/bytes.ts";
import type { Duplex } from "../../src/stream/types.ts";

/** A readable that yields `chunks` one per pull, then closes (or stays open when `open`). */
export function chunkSource(
  chunks: readonly Uint8Array[],
  options: { open?: boolean } = {},
): { readable: ReadableStream<Uint8Array>; pulls: () => number; cancelled: () => unknown } {
  let i = 0;
  let pulls = 0;
  let cancelReason: unknown;
  const readable = new ReadableStream<Uint8Array>({
    pull(controller) {
      pulls++;
      if (i < chunks.length) controller.enqueue(chunks[i++]);
      else if (!options.open) controller.close();
      // when open: never resolve more data (silence)
    },
    cancel(reason) {
      cancelReason = reason ?? "cancelled";
    },
  }, { highWaterMark: 0 });
  return { readable, pulls: () => pulls, cancelled: () => cancelReason };
}

/** A writable that records every chunk written, and how it ended. */
export function collector(): {
  writable: WritableStream<Uint8Array>;
  chunks: Uint8Array[];
  bytes: () => Uint8Array;
  aborted: () => unknown;
} {
  const chunks: Uint8Array[] = [];
  let abortReason: unknown;
  const writable = new WritableStream<Uint8Array>({
    write(chunk) {
      chunks.push(chunk.slice());
    },
    abort(reason) {
      abortReason = reason ?? "aborted";
    },
  });
  return { writable, chunks, bytes: () => concat(chunks), aborted: () => abortReason };
}

/** Read a stream to its end and return every byte. */
export async function readAll(readable: ReadableStream<Uint8Array>): Promise<Uint8Array> {
  const parts: Uint8Array[] = [];
  const reader = readable.getReader();
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    parts.push(value);
  }
  reader.releaseLock();
  return concat(parts);
}

/** Read exactly `n` bytes (or fewer if the stream ends), keeping the stream open. */
export async function readN(readable: ReadableStream<Uint8Array>, n: number): Promise<Uint8Array> {
  const parts: Uint8Array[] = [];
  let got = 0;
  const reader = readable.getReader();
  try {
    while (got < n) {
      const { value, done } = await reader.read();
      if (done) break;
      parts.push(value);
      got += value.byteLength;
    }
  } finally {
    reader.releaseLock();
  }
  return concat(parts);
}

/** Write each chunk with its own writer lock, then release it. */
export async function writeChunks(d: Duplex, chunks: readonly Uint8Array[]): Promise<void> {
  const writer = d.writable.getWriter();
  try {
    for (const c of chunks) await writer.write(c);
  } finally {
    writer.releaseLock();
  }
}

/**
 * Count live timers: patches setTimeout/clearTimeout until `restore()`. Works on Deno and Bun
 * (node:test under Deno runs without Deno's op sanitizer, so leaks are checked explicitly).
 */
export function trackTimers(): {
  live: () => number;
  restore: () => void;
  /** Where each live timer was created (for failure messages). */
  describe: () => string;
} {
  const g = globalThis as unknown as {
    setTimeout: (fn: () => void, ms?: number) => unknown;
    clearTimeout: (id: unknown) => void;
  };
  const origSet = g.setTimeout;
  const origClear = g.clearTimeout;
  const live = new Map<unknown, string>();
  g.setTimeout = (fn: () => void, ms?: number) => {
    const id: unknown = origSet(() => {
      live.delete(id);
      fn();
    }, ms);
    live.set(id, `${ms} ms from ${new Error().stack?.split("\n").slice(2, 6).join(" <- ")}`);
    return id;
  };
  g.clearTimeout = (id: unknown) => {
    live.delete(id);
    origClear(id);
  };
  return {
    live: () => live.size,
    describe: () => [...live.values()].join("\n"),
    restore() {
      g.setTimeout = origSet;
      g.clearTimeout = origClear;
    },
  };
}

/** Count listeners currently registered on `signal` (added minus removed). */
export function trackListeners(signal: AbortSignal): () => number {
  const live = new Set<unknown>();
  const add = signal.addEventListener.bind(signal);
  const remove = signal.removeEventListener.bind(signal);
  signal.addEventListener = ((type: string, listener: EventListener, options?: unknown) => {
    live.add(listener);
    add(type, listener, options as AddEventListenerOptions);
  }) as typeof signal.addEventListener;
  signal.removeEventListener = ((type: string, listener: EventListener, options?: unknown) => {
    live.delete(listener);
    remove(type, listener, options as EventListenerOptions);
  }) as typeof signal.removeEventListener;
  return () => live.size;
}

/**
 * A duplex that speaks web streams only (no byte channel), over `d`'s streams: what a muxed
 * stream or a WebSocket looks like to multistream, for the stream contract (the original
 * `writable` handed back, the original `readable` when nothing was buffered).
 */
export function streamsOnly(d: Duplex): Duplex {
  return { readable: d.readable, writable: d.writable };
}
