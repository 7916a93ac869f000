/**
 * The WAN bench's network: three Linux network namespaces linked only to each other, never to the
 * host's network (the same approach as tests/natlab/lab.ts), with TEST-NET-1 addresses (RFC 5737):
 *
 *   c  the client host, 192.0.2.1/24 on eth0
 *   w  the "WAN": no address; bench/wan/delay_line.py bridges its w0 <-> w1 with delay, jitter
 *      and loss (this machine's kernel has no sch_netem, so netem is emulated in user space)
 *   s  the server host, 192.0.2.2/24 on eth0
 *
 *   c:eth0 ==veth== w:w0   [delay_line.py]   w:w1 ==veth== s:eth0
 *
 * The rate cap is the kernel's TBF on c:eth0 and s:eth0 (egress), with a queue of about one
 * bandwidth-delay product, so a bulk transfer can add at most about one RTT of queueing.
 * Names carry a per-run tag (pid + random); leftovers of a run whose process is gone are deleted
 * first. {@link WanNet.destroy} deletes every namespace (which removes the links and qdiscs) and
 * the delay line, is idempotent and is also called on a failed build. Needs root, `ip`, `tc` and
 * python3.
 *
 * @module
 */

import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import process from "node:process";

/** The client's address. */
export const CLIENT_IP = "192.0.2.1";
/** The server's address. */
export const SERVER_IP = "192.0.2.2";
/** One `ip`/`tc` call never blocks the bench for longer (HARDENING.md rule 8). */
const CMD_TIMEOUT_MS = 10_000;
/** The delay line exits by itself after this long even if nobody stops it (bounded). */
const DELAY_LINE_MAX_SECONDS = 1_200;
/** Frames in flight + queued per direction in the delay line (netem's `limit`). */
const DELAY_LINE_QUEUE = 20_000;

const HERE = new URL(".", import.meta.url).pathname;

/** The link's shape. */
export interface LinkShape {
  /** Round-trip time added by the link, ms (half each way). */
  rttMs: number;
  /** Jitter each way, ms (uniform ±, never reordering). */
  jitterMs: number;
  /** Loss probability per packet, each direction (0.01 = 1%). */
  loss: number;
  /** Rate cap each direction, Mbit/s. */
  rateMbit: number;
}

/** One built network. */
export interface WanNet {
  /** Namespace names. */
  ns: { c: string; w: string; s: string };
  /** Apply a link shape (delay line and TBF); resolves once both took effect. */
  shape(link: LinkShape): Promise<void>;
  /** The delay line's counters. */
  stats(): Promise<Record<string, number>>;
  /** Delete everything (idempotent, never throws). */
  destroy(): void;
}

function run(cmd: string, args: string[]): string {
  return execFileSync(cmd, args, { stdio: ["pipe", "pipe", "pipe"], timeout: CMD_TIMEOUT_MS })
    .toString();
}

/** Why the bench cannot run here, or false. */
export function wanUnavailable(): string | false {
  if (process.platform !== "linux") return "needs Linux network namespaces";
  if (typeof process.getuid !== "function" || process.getuid() !== 0) return "needs root";
  for (const [tool, flag] of [["ip", "-V"], ["tc", "-V"], ["python3", "--version"]]) {
    try {
      run(tool, [flag]);
    } catch {
      return `\`${tool}\` not found`;
    }
  }
  return false;
}

const NAME = /^wn([0-9a-z]+)[0-9a-z]{4}-(c|w|s)$/;

/** Delete namespaces of earlier bench runs whose process is gone. */
export function sweepStale(): void {
  for (const name of run("ip", ["netns", "list"]).split("\n").map((l) => l.split(" ")[0])) {
    const m = NAME.exec(name);
    if (m === null) continue;
    const pid = parseInt(m[1], 36);
    if (pid === process.pid) continue;
    try {
      process.kill(pid, 0);
      continue;
    } catch (e) {
      if ((e as { code?: string }).code !== "ESRCH") continue;
    }
    try {
      run("ip", ["netns", "del", name]);
    } catch { /* gone */ }
  }
}

/** Options of {@link buildWan}. */
export interface WanOptions {
  /**
   * `net.ipv4.tcp_notsent_lowat` in both end hosts (bytes), a per-namespace sysctl: how much
   * not-yet-sent data a TCP socket holds before it stops being writable. Unset: the kernel's
   * default (no limit: the whole autotuned send buffer can queue ahead of a small message).
   */
  notsentLowat?: number;
  /**
   * `net.ipv4.tcp_congestion_control` in both end hosts (per namespace), e.g. "cubic"; unset: the
   * host's (BBR on this machine).
   */
  congestionControl?: string;
  /**
   * The largest TCP send buffer in both end hosts (`net.ipv4.tcp_wmem`'s max, per namespace);
   * unset: the host's (4 MiB here), which caps what one TCP connection keeps in flight below
   * 2 x BDP at 200 ms and 100 Mbit/s (a 2.5 MB BDP): raw TCP then gets about 65-70% of the link.
   */
  wmemMax?: number;
}

/** Build the network and start the delay line; on failure everything built is removed. */
export async function buildWan(opts: WanOptions = {}): Promise<WanNet> {
  sweepStale();
  const tag = `wn${process.pid.toString(36)}${Math.random().toString(36).slice(2, 6)}`;
  const ns = { c: `${tag}-c`, w: `${tag}-w`, s: `${tag}-s` };
  const made: string[] = [];
  let line: ChildProcess | undefined;
  let destroyed = false;
  const destroy = (): void => {
    if (destroyed) return;
    destroyed = true;
    try {
      line?.kill("SIGKILL");
    } catch { /* gone */ }
    for (const n of made.splice(0).reverse()) {
      try {
        run("ip", ["netns", "del", n]);
      } catch { /* gone */ }
    }
  };
  const ip = (n: string, ...args: string[]): string => run("ip", ["-n", n, ...args]);
  const veth = (a: string, aName: string, b: string, bName: string): void => {
    run("ip", [
      "link",
      "add",
      aName,
      "netns",
      a,
      "type",
      "veth",
      "peer",
      "name",
      bName,
      "netns",
      b,
    ]);
  };
  // Replies of the delay line, in order (one per command).
  const waiting: ((obj: Record<string, unknown>) => void)[] = [];
  try {
    for (const n of Object.values(ns)) {
      run("ip", ["netns", "add", n]);
      made.push(n);
      ip(n, "link", "set", "lo", "up");
    }
    veth(ns.c, "eth0", ns.w, "w0");
    veth(ns.s, "eth0", ns.w, "w1");
    for (const [n, dev] of [[ns.c, "eth0"], [ns.s, "eth0"], [ns.w, "w0"], [ns.w, "w1"]]) {
      // One MTU-sized packet per skb and complete checksums (see delay_line.py offload_off).
      ip(n, "link", "set", dev, "gso_max_segs", "1");
      run("ip", ["netns", "exec", n, "python3", `${HERE}delay_line.py`, "--offload-off", dev]);
      ip(n, "link", "set", dev, "up");
    }
    const sysctls = [
      ...(opts.notsentLowat === undefined
        ? []
        : [`net.ipv4.tcp_notsent_lowat=${opts.notsentLowat}`]),
      ...(opts.congestionControl === undefined
        ? []
        : [`net.ipv4.tcp_congestion_control=${opts.congestionControl}`]),
      ...(opts.wmemMax === undefined ? [] : [`net.ipv4.tcp_wmem=4096 16384 ${opts.wmemMax}`]),
    ];
    for (const setting of sysctls) {
      for (const n of [ns.c, ns.s]) {
        run("ip", ["netns", "exec", n, "sysctl", "-q", "-w", setting]);
      }
    }
    ip(ns.c, "addr", "add", `${CLIENT_IP}/24`, "dev", "eth0");
    ip(ns.s, "addr", "add", `${SERVER_IP}/24`, "dev", "eth0");
    line = spawn("ip", [
      "netns",
      "exec",
      ns.w,
      "python3",
      `${HERE}delay_line.py`,
      "w0",
      "w1",
      "--max-seconds",
      String(DELAY_LINE_MAX_SECONDS),
    ], { stdio: ["pipe", "pipe", "inherit"] });
    let buf = "";
    let ready!: () => void;
    const started = new Promise<void>((r) => (ready = r));
    line.stdout!.on("data", (d: Uint8Array) => {
      buf += new TextDecoder().decode(d);
      let i: number;
      while ((i = buf.indexOf("\n")) >= 0) {
        const obj = JSON.parse(buf.slice(0, i)) as Record<string, unknown>;
        buf = buf.slice(i + 1);
        if (obj.event === "ready") ready();
        else waiting.shift()?.(obj);
      }
    });
    const exited = new Promise<never>((_r, reject) =>
      line!.on("close", () => reject(new Error("the delay line exited")))
    );
    exited.catch(() => {});
    await Promise.race([started, exited, timeout(10_000, "the delay line did not start")]);
  } catch (e) {
    destroy();
    throw e;
  }
  const ask = (cmd: Record<string, unknown>): Promise<Record<string, unknown>> =>
    Promise.race([
      new Promise<Record<string, unknown>>((resolve) => {
        waiting.push(resolve);
        line!.stdin!.write(JSON.stringify(cmd) + "\n");
      }),
      timeout(10_000, "the delay line did not answer"),
    ]);
  return {
    ns,
    async shape(link) {
      await ask({
        delay_ms: link.rttMs / 2,
        jitter_ms: link.jitterMs,
        loss: link.loss,
        queue: DELAY_LINE_QUEUE,
      });
      // TBF queue: one bandwidth-delay product (at least 64 KiB), so queueing adds <= ~1 RTT.
      const bdp = Math.max(64 * 1024, Math.ceil(link.rateMbit * 1e6 / 8 * link.rttMs / 1000));
      for (const n of [ns.c, ns.s]) {
        run("ip", [
          "netns",
          "exec",
          n,
          "tc",
          "qdisc",
          "replace",
          "dev",
          "eth0",
          "root",
          "tbf",
          "rate",
          `${link.rateMbit}mbit`,
          "burst",
          "64kb",
          "limit",
          String(bdp),
        ]);
      }
    },
    async stats() {
      const r = await ask({ stats: true });
      delete r.ok;
      return r as Record<string, number>;
    },
    destroy,
  };
}

function timeout(ms: number, what: string): Promise<never> {
  return new Promise((_r, reject) => {
    const t = setTimeout(() => reject(new Error(what)), ms);
    (t as { unref?: () => void }).unref?.();
  });
}
