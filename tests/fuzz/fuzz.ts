/**
 * Shared plumbing of the property-based and fuzz tests (fast-check): iteration counts and seeds
 * from the environment, a wrapper around `fc.assert` that names the property and prints how to
 * reproduce a failure, and checks that a decoder throws only the library's own error classes.
 *
 * Environment:
 * - `FUZZ_RUNS`: runs per property (default 200, so the whole tests/fuzz/ run stays short in CI;
 *   each property may scale it down when one run is expensive, never below 1).
 * - `FUZZ_SEED`: unset = a fixed seed per property (derived from its name: CI runs are
 *   reproducible); an integer = that seed for every property (paste the seed a failure printed);
 *   `random` = a fresh seed per property, printed on failure.
 * - `FUZZ_PATH`: with `FUZZ_SEED`, replay one counterexample path printed by a failure.
 *
 * @module
 */

import fc from "fast-check";
import process from "node:process";
import { AssertionError } from "node:assert/strict";

function env(name: string): string | undefined {
  try {
    const value = process.env[name];
    return value === undefined || value === "" ? undefined : value;
  } catch {
    return undefined; // no env permission: defaults
  }
}

function readRuns(): number {
  const text = env("FUZZ_RUNS");
  if (text === undefined) return 200;
  const n = Number(text);
  if (!Number.isSafeInteger(n) || n < 1) throw new RangeError(`FUZZ_RUNS must be >= 1: ${text}`);
  return n;
}

/** Runs per property for this process (`FUZZ_RUNS`, default 200). */
export const FUZZ_RUNS: number = readRuns();

const SEED_TEXT = env("FUZZ_SEED");
const PATH = env("FUZZ_PATH");

/** FNV-1a of the property name: a stable per-property seed. */
function nameSeed(name: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < name.length; i++) {
    h ^= name.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h | 0;
}

/** The seed a property runs with (see the module doc). */
export function seedFor(name: string): number {
  if (SEED_TEXT === undefined) return nameSeed(name);
  if (SEED_TEXT === "random") return (Math.random() * 0x1_0000_0000) | 0;
  const n = Number(SEED_TEXT);
  if (!Number.isSafeInteger(n)) throw new RangeError(`FUZZ_SEED must be an integer or "random"`);
  return n | 0;
}

/** Runs for a property whose single run costs `scale` times less (or more) than usual. */
export function runs(scale = 1): number {
  return Math.max(1, Math.round(FUZZ_RUNS * scale));
}

/** Options of {@link check}. */
export interface CheckOptions {
  /** Multiply FUZZ_RUNS by this (expensive properties use less than 1). */
  scale?: number;
  /** Per-run timeout of async properties in ms (a hang is a failure). Default 10 000. */
  timeout?: number;
}

// deno-lint-ignore no-explicit-any
type AnyProperty = fc.IProperty<any> | fc.IAsyncProperty<any>;

function describeFailure(name: string, seed: number, numRuns: number, err: unknown): Error {
  const message = `[fuzz] property "${name}" failed (seed ${seed}, ${numRuns} runs).\n` +
    `Reproduce: FUZZ_SEED=${seed} FUZZ_RUNS=${numRuns} and FUZZ_PATH=<path below>\n` +
    (err instanceof Error ? err.message : String(err)) +
    // fast-check attaches what the property threw as the cause.
    (err instanceof Error && err.cause !== undefined
      ? `\nCaused by: ${err.cause instanceof Error ? err.cause.stack : String(err.cause)}`
      : "");
  console.error(message);
  return new AssertionError({ message });
}

/**
 * Run `property` with the configured runs and seed. Synchronous properties return nothing;
 * async ones return a promise (await it). On failure the error names the property, its seed and
 * fast-check's counterexample path.
 */
export function check(
  name: string,
  property: fc.IProperty<unknown[]>,
  options?: CheckOptions,
): void;
export function check(
  name: string,
  property: fc.IAsyncProperty<unknown[]>,
  options?: CheckOptions,
): Promise<void>;
export function check(
  name: string,
  property: AnyProperty,
  options: CheckOptions = {},
): void | Promise<void> {
  const seed = seedFor(name);
  const numRuns = runs(options.scale);
  const params: fc.Parameters<unknown> = { seed, numRuns };
  if (PATH !== undefined && SEED_TEXT !== undefined) params.path = PATH;
  if (property.isAsync()) params.timeout = options.timeout ?? 10_000;
  let result: void | Promise<void>;
  try {
    // deno-lint-ignore no-explicit-any
    result = fc.assert(property as any, params);
  } catch (err) {
    throw describeFailure(name, seed, numRuns, err);
  }
  if (result instanceof Promise) {
    return result.catch((err) => {
      throw describeFailure(name, seed, numRuns, err);
    });
  }
}

/** An error class. */
// deno-lint-ignore no-explicit-any
export type ErrorClass = abstract new (...args: any[]) => Error;

function allowedError(err: unknown, allowed: readonly ErrorClass[]): boolean {
  return allowed.some((cls) => err instanceof cls);
}

function unexpected(err: unknown, allowed: readonly ErrorClass[], what: string): AssertionError {
  const names = allowed.map((c) => c.name).join(" | ");
  const detail = err instanceof Error ? `${err.name}: ${err.message}\n${err.stack}` : String(err);
  return new AssertionError({
    message: `${what} threw something other than ${names}:\n${detail}`,
  });
}

/** What a guarded call produced: its value, or the (allowed) error it threw. */
export type Outcome<T> = { ok: true; value: T } | { ok: false; error: Error };

/**
 * Call `fn`; return its value or the error it threw, and fail the property (AssertionError) when
 * it threw anything that is not an instance of one of `allowed`.
 */
export function only<T>(allowed: readonly ErrorClass[], fn: () => T, what = "decoder"): Outcome<T> {
  try {
    return { ok: true, value: fn() };
  } catch (err) {
    if (allowedError(err, allowed)) return { ok: false, error: err as Error };
    throw unexpected(err, allowed, what);
  }
}

/** Async form of {@link only}. */
export async function onlyAsync<T>(
  allowed: readonly ErrorClass[],
  fn: () => Promise<T>,
  what = "decoder",
): Promise<Outcome<T>> {
  try {
    return { ok: true, value: await fn() };
  } catch (err) {
    if (allowedError(err, allowed)) return { ok: false, error: err as Error };
    throw unexpected(err, allowed, what);
  }
}

/** Arbitrary bytes of up to `maxLength` bytes. */
export function bytes(maxLength = 64, minLength = 0): fc.Arbitrary<Uint8Array> {
  // size "max": lengths spread over the whole range (the default "small" stays near 10).
  return fc.uint8Array({ minLength, maxLength, size: "max" }).map((b) => new Uint8Array(b));
}

/** Copy of `input` with bit `bit` (0 .. 8*length-1) flipped. */
export function flipBit(input: Uint8Array, bit: number): Uint8Array {
  const out = input.slice();
  out[bit >>> 3] ^= 1 << (bit & 7);
  return out;
}

/** A bit position inside `length` bytes, as an arbitrary (length must be > 0). */
export function bitIndex(length: number): fc.Arbitrary<number> {
  return fc.integer({ min: 0, max: length * 8 - 1 });
}

/** Split `input` into consecutive chunks at the given cut points (any order, duplicates ok). */
export function splitAt(input: Uint8Array, cuts: readonly number[]): Uint8Array[] {
  const points = [...new Set(cuts.map((c) => Math.max(0, Math.min(input.byteLength, c))))]
    .sort((a, b) => a - b);
  const out: Uint8Array[] = [];
  let start = 0;
  for (const p of points) {
    if (p > start) out.push(input.subarray(start, p));
    start = Math.max(start, p);
  }
  if (start < input.byteLength) out.push(input.subarray(start));
  return out;
}
