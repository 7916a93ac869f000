/**
 * Headless Chromium for page tests on Deno and Bun (node:child_process): load a URL, let the
 * page run (virtual time), and return the DOM Chromium prints. Used by status_page_test.ts; a
 * test of the whole edge node can load its status page the same way.
 */

import process from "node:process";
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import assert from "node:assert/strict";

export const CHROMIUM = process.env.CHROMIUM ?? "/usr/bin/chromium";
export const IN_CI = /^(1|true|yes)$/i.test(process.env.CI ?? "");
/** How long Chromium gets to load, run and print the page, ms (a cold start on 2 busy cores). */
const CHROMIUM_TIMEOUT_MS = 90_000;

export const SKIP: string | false = !IN_CI && !existsSync(CHROMIUM)
  ? `${CHROMIUM} not found (install Debian's chromium; CI=true makes this a failure)`
  : false;

/** Run Chromium on `url` and resolve with the DOM it prints. */
export function dumpDom(url: string): Promise<string> {
  const profile = mkdtempSync(join(tmpdir(), "libp2p-status-page-"));
  const child = spawn(CHROMIUM, [
    "--headless=new",
    "--no-sandbox", // CI runs as root, where Chromium's sandbox refuses to start
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--no-first-run",
    "--no-default-browser-check",
    "--disable-extensions",
    "--disable-background-networking",
    "--disable-component-update",
    `--user-data-dir=${profile}`,
    // Virtual time runs the page's timers fast and waits for its fetches: several polls.
    "--virtual-time-budget=10000",
    "--dump-dom",
    url,
  ], { stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  let err = "";
  child.stdout!.setEncoding("utf8");
  child.stderr!.setEncoding("utf8");
  child.stdout!.on("data", (d: string) => out += d);
  child.stderr!.on("data", (d: string) => err = (err + d).slice(-8192));
  return new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`Chromium printed nothing in ${CHROMIUM_TIMEOUT_MS} ms\n${err}`));
    }, CHROMIUM_TIMEOUT_MS);
    child.on("error", (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.on("close", (code) => {
      clearTimeout(timer);
      try {
        rmSync(profile, { recursive: true, force: true });
      } catch { /* best effort */ }
      if (out.includes("</html>")) resolve(out);
      else reject(new Error(`Chromium exited with ${code} without a DOM\n${err}`));
    });
  });
}

/** The text content of the element with `id` (the page's leaf elements hold plain text). */
export function textOf(dom: string, id: string): string {
  const m = new RegExp(`id="${id}"[^>]*>([^<]*)<`).exec(dom);
  assert.ok(m !== null, `no element #${id} in the dumped DOM`);
  return m[1];
}

export function attrOf(dom: string, id: string, attr: string): string {
  const tag = new RegExp(`<[^>]*id="${id}"[^>]*>`).exec(dom)?.[0];
  assert.ok(tag !== undefined, `no element #${id}`);
  const m = new RegExp(`${attr}="([^"]*)"`).exec(tag);
  assert.ok(m !== null, `#${id} has no ${attr}`);
  return m[1];
}
