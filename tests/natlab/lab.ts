/**
 * The NAT lab's network: Linux network namespaces linked only to each other by veth pairs, never
 * to the host's network, with addresses from the documentation ranges on the public side.
 *
 *   inet   the "internet": a bridge, 203.0.113.0/24, nothing else
 *   relay  a public host, 203.0.113.10 (the relay server runs here)
 *   ra/rb  routers: WAN 203.0.113.21 / .22, LAN 10.0.1.1 / 10.0.2.1, nftables masquerade (source
 *          NAT) of the LAN behind the WAN address, forwarding on, and a stateful firewall that
 *          silently drops anything new arriving from the WAN (see natRules)
 *   ha/hb  private hosts 10.0.1.2 / 10.0.2.2, default route via their router
 *
 * Namespace names carry a per-run tag (the test process's pid and a random part), so parallel
 * runs and leftovers of a killed run do not clash, and leftovers of a run whose process is gone
 * are deleted before a new lab is built ({@link sweepStaleLabs}); {@link Lab.destroy} deletes every namespace (which removes their links and rules) and
 * is safe to call more than once and after a partial build. Needs root (CAP_NET_ADMIN), `ip`
 * (iproute2) and `nft` (nftables).
 */

import { execFileSync } from "node:child_process";
import process from "node:process";

/** The public ("internet") prefix: TEST-NET-3 (RFC 5737). */
export const PUBLIC_PREFIX = "203.0.113";
/** The relay host's public address. */
export const RELAY_IP = `${PUBLIC_PREFIX}.10`;
/** The routers' public (WAN) addresses, which the private hosts appear as after NAT. */
export const ROUTER_WAN_IP = { a: `${PUBLIC_PREFIX}.21`, b: `${PUBLIC_PREFIX}.22` } as const;
/** The private hosts' addresses. */
export const HOST_IP = { a: "10.0.1.2", b: "10.0.2.2" } as const;

/** Names of one lab's namespaces. */
export interface Lab {
  /** The per-run tag in every name. */
  tag: string;
  /** Namespace names by role. */
  ns: { inet: string; relay: string; ra: string; rb: string; ha: string; hb: string };
  /** Delete every namespace of this lab (idempotent, never throws). */
  destroy(): void;
}

function run(cmd: string, args: string[], input?: string): string {
  return execFileSync(cmd, args, {
    input,
    stdio: ["pipe", "pipe", "pipe"],
    timeout: 10_000, // one `ip`/`nft` call never blocks the suite (HARDENING.md rule 8)
  }).toString();
}

function hasTool(name: string, versionFlag: string): boolean {
  try {
    run(name, [versionFlag]);
    return true;
  } catch {
    return false;
  }
}

/**
 * Why the lab cannot run here, or `false` when it can: root, `ip` and `nft`, and namespaces that
 * can actually be made (a container without CAP_NET_ADMIN refuses).
 */
export function labUnavailable(): string | false {
  if (process.platform !== "linux") return "the NAT lab needs Linux network namespaces";
  if (typeof process.getuid !== "function" || process.getuid() !== 0) {
    return "the NAT lab needs root (ip netns, nft)";
  }
  if (!hasTool("ip", "-V")) return "`ip` (iproute2) not found";
  if (!hasTool("nft", "-v")) return "`nft` not found (apt-get install nftables; .ci/run does)";
  const probe = `nlprobe${process.pid}`;
  try {
    run("ip", ["netns", "add", probe]);
  } catch (e) {
    return `cannot create a network namespace: ${(e as Error).message.split("\n")[0]}`;
  } finally {
    try {
      run("ip", ["netns", "del", probe]);
    } catch { /* not created */ }
  }
  return false;
}

/**
 * A router's rule set, a home router's: masquerade what leaves by the WAN link, and drop (not
 * refuse) anything new that arrives on it, for the router itself or for the LAN; only replies to
 * what the LAN sent get in. (A refusal, a TCP RST, would break a hole punch whose SYN arrives
 * first; real NATs stay silent.)
 */
function natRules(): string {
  return [
    "table ip natlab {",
    "  chain postrouting {",
    "    type nat hook postrouting priority srcnat; policy accept;",
    '    oifname "wan" masquerade',
    "  }",
    "  chain input {",
    "    type filter hook input priority filter; policy accept;",
    '    iifname "wan" ct state established,related accept',
    '    iifname "wan" drop',
    "  }",
    "  chain forward {",
    "    type filter hook forward priority filter; policy accept;",
    '    iifname "wan" ct state established,related accept',
    '    iifname "wan" drop',
    "  }",
    "}",
    "",
  ].join("\n");
}

/** A lab namespace's name: `nl<pid base 36><4 random chars>-<role>`. */
const LAB_NS_NAME = /^nl([0-9a-z]+)[0-9a-z]{4}-(inet|relay|ra|rb|ha|hb)$/;

/**
 * Delete the namespaces of earlier runs whose test process is gone (a run killed before its
 * `after`): only names of exactly the lab's pattern whose pid no longer exists.
 */
export function sweepStaleLabs(): string[] {
  const swept: string[] = [];
  const names = run("ip", ["netns", "list"]).split("\n").map((l) => l.split(" ")[0]);
  for (const name of names) {
    const m = LAB_NS_NAME.exec(name);
    if (m === null) continue;
    const pid = parseInt(m[1], 36);
    if (pid === process.pid) continue;
    try {
      process.kill(pid, 0);
      continue; // its run is still going
    } catch (e) {
      if ((e as { code?: string }).code !== "ESRCH") continue; // alive, not ours to signal
    }
    try {
      run("ip", ["netns", "del", name]);
      swept.push(name);
    } catch { /* gone meanwhile */ }
  }
  return swept;
}

/** Build the lab; on any failure what was built is removed and the error thrown. */
export function buildLab(): Lab {
  sweepStaleLabs();
  const tag = `nl${process.pid.toString(36)}${Math.random().toString(36).slice(2, 6)}`;
  const ns = {
    inet: `${tag}-inet`,
    relay: `${tag}-relay`,
    ra: `${tag}-ra`,
    rb: `${tag}-rb`,
    ha: `${tag}-ha`,
    hb: `${tag}-hb`,
  };
  const made: string[] = [];
  const lab: Lab = {
    tag,
    ns,
    destroy() {
      for (const n of made.splice(0).reverse()) {
        try {
          run("ip", ["netns", "del", n]);
        } catch { /* already gone */ }
      }
    },
  };
  const ip = (n: string, ...args: string[]): string => run("ip", ["-n", n, ...args]);
  // A veth pair with one end in each namespace (created there directly: no name in the host's
  // namespace, so nothing clashes with the host or another run).
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
    ip(a, "link", "set", aName, "up");
    ip(b, "link", "set", bName, "up");
  };
  try {
    for (const n of Object.values(ns)) {
      run("ip", ["netns", "add", n]);
      made.push(n);
      ip(n, "link", "set", "lo", "up");
    }
    ip(ns.inet, "link", "add", "br0", "type", "bridge");
    ip(ns.inet, "link", "set", "br0", "up");
    veth(ns.relay, "wan", ns.inet, "p-relay");
    veth(ns.ra, "wan", ns.inet, "p-ra");
    veth(ns.rb, "wan", ns.inet, "p-rb");
    for (const port of ["p-relay", "p-ra", "p-rb"]) {
      ip(ns.inet, "link", "set", port, "master", "br0");
    }
    ip(ns.relay, "addr", "add", `${RELAY_IP}/24`, "dev", "wan");
    for (const side of ["a", "b"] as const) {
      const router = side === "a" ? ns.ra : ns.rb;
      const host = side === "a" ? ns.ha : ns.hb;
      const lan = side === "a" ? "10.0.1" : "10.0.2";
      ip(router, "addr", "add", `${ROUTER_WAN_IP[side]}/24`, "dev", "wan");
      veth(router, "lan", host, "eth0");
      ip(router, "addr", "add", `${lan}.1/24`, "dev", "lan");
      ip(host, "addr", "add", `${HOST_IP[side]}/24`, "dev", "eth0");
      ip(host, "route", "add", "default", "via", `${lan}.1`);
      run("ip", ["netns", "exec", router, "sysctl", "-q", "-w", "net.ipv4.ip_forward=1"]);
      run("ip", ["netns", "exec", router, "nft", "-f", "-"], natRules());
    }
  } catch (e) {
    lab.destroy();
    throw e;
  }
  return lab;
}
