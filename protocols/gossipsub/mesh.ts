/**
 * Mesh maintenance (libp2p/specs `gossipsub-v1.0.md` "Mesh Maintenance", `-v1.1.md` "PRUNE
 * Backoff and Peer Exchange", "Outbound Mesh Quotas", "Heartbeat Maintenance", "Opportunistic
 * Grafting"): join and leave, GRAFT and PRUNE handling, and the heartbeat's mesh and fanout
 * upkeep. Functions over {@link RouterState}; they queue control messages, the router flushes.
 *
 * @module
 */

import type { ControlGraft, ControlPrune } from "../pubsub/mod.ts";
import { isGossipsub, type RouterState, speaksV11 } from "./state.ts";

/** Peers of `topic` we could graft: gossipsub speakers, not direct, not in mesh/backoff, score >= 0. */
function candidates(
  s: RouterState,
  topic: string,
  exclude: ReadonlySet<string>,
  now: number,
  accept: (peer: string, score: number) => boolean = (_p, score) => score >= 0,
): string[] {
  const out: string[] = [];
  for (const id of s.topics.get(topic) ?? []) {
    if (exclude.has(id)) continue;
    const p = s.peers.get(id);
    if (p === undefined || p.direct || !isGossipsub(p)) continue;
    if (s.inBackoff(topic, id, now)) continue;
    if (!accept(id, s.scoreOf(id, now))) continue;
    out.push(id);
  }
  return s.shuffle(out);
}

function addToMesh(
  s: RouterState,
  mesh: Set<string>,
  peer: string,
  topic: string,
  now: number,
): void {
  mesh.add(peer);
  s.score.graft(peer, topic, now);
  s.graft(peer, topic);
}

/** Join a topic: take up to D peers from fanout, top up with candidates, GRAFT them. */
export function join(s: RouterState, topic: string, now: number): void {
  if (s.mesh.has(topic)) return;
  const mesh = new Set<string>();
  s.mesh.set(topic, mesh);
  const fanout = s.fanout.get(topic);
  if (fanout !== undefined) {
    for (const id of fanout) {
      if (mesh.size >= s.params.D) break;
      if (s.inBackoff(topic, id, now) || s.scoreOf(id, now) < 0) continue;
      addToMesh(s, mesh, id, topic, now);
    }
    s.fanout.delete(topic);
    s.fanoutLastPub.delete(topic);
  }
  if (mesh.size < s.params.D) {
    for (const id of candidates(s, topic, mesh, now)) {
      if (mesh.size >= s.params.D) break;
      addToMesh(s, mesh, id, topic, now);
    }
  }
}

/** Leave a topic: PRUNE every mesh peer with the unsubscribe backoff. */
export function leave(s: RouterState, topic: string, now: number): void {
  const mesh = s.mesh.get(topic);
  if (mesh === undefined) return;
  s.mesh.delete(topic);
  for (const id of mesh) {
    s.score.prune(id, topic, now);
    s.prune(id, topic, s.params.unsubscribeBackoffMs, true, now);
  }
}

/** Handle GRAFTs (gossipsub-v1.1.md: backoff, direct peers, score, D_hi and outbound). */
export function handleGraft(
  s: RouterState,
  peer: string,
  grafts: ControlGraft[],
  now: number,
): void {
  const p = s.peers.get(peer);
  if (p === undefined) return;
  const seen = new Set<string>();
  for (const { topic } of grafts) {
    if (seen.has(topic)) continue;
    seen.add(topic);
    // GRAFTs for topics we are not in are ignored (v1.1 "Spam Protection Measures").
    const mesh = s.mesh.get(topic);
    if (mesh === undefined || mesh.has(peer)) continue;
    if (p.direct) {
      // "It is an error to GRAFT on an explicit peer ... rejected with a PRUNE" (v1.1).
      s.prune(peer, topic, s.params.pruneBackoffMs, false, now);
      continue;
    }
    const backoffEnd = s.backoff.get(topic)?.get(peer);
    if (backoffEnd !== undefined && backoffEnd > now) {
      // Regrafting during the backoff: P7, twice if within the flood threshold of the PRUNE.
      s.score.addPenalty(peer, 1, "graft-backoff");
      const prunedAt = backoffEnd - s.params.pruneBackoffMs;
      if (now < prunedAt + s.params.graftFloodThresholdMs) {
        s.score.addPenalty(peer, 1, "graft-flood");
      }
      s.prune(peer, topic, s.params.pruneBackoffMs, false, now);
      continue;
    }
    if (s.scoreOf(peer, now) < 0) {
      s.prune(peer, topic, s.params.pruneBackoffMs, false, now);
      continue;
    }
    if (mesh.size >= s.params.Dhi && !p.outbound) {
      s.prune(peer, topic, s.params.pruneBackoffMs, true, now);
      continue;
    }
    mesh.add(peer);
    s.score.graft(peer, topic, now);
  }
}

/** A PRUNE's backoff in ms: absent or 0 means the default; clamped (HARDENING.md rule 3). */
export function pruneBackoffMs(s: RouterState, backoff: number | undefined): number {
  if (backoff === undefined || !Number.isFinite(backoff) || backoff <= 0) {
    return s.params.pruneBackoffMs;
  }
  return Math.min(backoff * 1000, s.params.maxPruneBackoffMs);
}

/** Handle PRUNEs: leave the peer's mesh slot, obey its (clamped) backoff, maybe accept PX. */
export function handlePrune(
  s: RouterState,
  peer: string,
  prunes: ControlPrune[],
  now: number,
): void {
  const p = s.peers.get(peer);
  if (p === undefined) return;
  for (const prune of prunes) {
    const mesh = s.mesh.get(prune.topic);
    if (mesh === undefined) continue;
    if (mesh.delete(peer)) s.score.prune(peer, prune.topic, now);
    s.addBackoff(prune.topic, peer, pruneBackoffMs(s, prune.backoff), now);
    if (prune.peers.length === 0 || !speaksV11(p) || s.px.onPeerExchange === undefined) continue;
    if (s.scoreOf(peer, now) < s.thresholds.acceptPXThreshold) continue;
    s.px.onPeerExchange(peer, prune.topic, prune.peers.slice(0, s.params.prunePeers));
  }
}

function pruneFromMesh(
  s: RouterState,
  mesh: Set<string>,
  peer: string,
  topic: string,
  withPX: boolean,
  now: number,
): void {
  mesh.delete(peer);
  s.score.prune(peer, topic, now);
  s.prune(peer, topic, s.params.pruneBackoffMs, withPX, now);
}

function median(values: number[]): number {
  const v = [...values].sort((a, b) => a - b);
  const m = v.length >> 1;
  return v.length % 2 === 1 ? v[m] : (v[m - 1] + v[m]) / 2;
}

/** The heartbeat's mesh upkeep for every topic we are in (gossipsub-v1.1.md "Heartbeat Maintenance"). */
export function maintainMeshes(s: RouterState, now: number): void {
  const { D, Dlo, Dhi, Dscore, Dout } = s.params;
  for (const [topic, mesh] of s.mesh) {
    const scores = new Map<string, number>();
    const scoreOf = (id: string): number => {
      let v = scores.get(id);
      if (v === undefined) {
        v = s.scoreOf(id, now);
        scores.set(id, v);
      }
      return v;
    };
    // 1. Drop mesh peers with a negative score (no PX for them).
    for (const id of [...mesh]) {
      if (scoreOf(id) < 0) pruneFromMesh(s, mesh, id, topic, false, now);
    }
    // 2. Undersubscribed: graft up to D.
    if (mesh.size < Dlo) {
      for (const id of candidates(s, topic, mesh, now)) {
        if (mesh.size >= D) break;
        addToMesh(s, mesh, id, topic, now);
      }
    }
    // 3. Oversubscribed: keep the D_score best, the rest at random, with D_out outbound.
    if (mesh.size > Dhi) {
      const shuffled = s.shuffle([...mesh]);
      shuffled.sort((a, b) => scoreOf(b) - scoreOf(a));
      const keep = [...shuffled.slice(0, Dscore), ...s.shuffle(shuffled.slice(Dscore))].slice(0, D);
      const isOut = (id: string): boolean => s.peers.get(id)?.outbound === true;
      let outbound = keep.filter(isOut).length;
      if (outbound < Dout) {
        const spare = shuffled.filter((id) => !keep.includes(id) && isOut(id));
        // Replace the lowest-ranked inbound survivors (never the D_score best).
        for (let i = keep.length - 1; i >= Dscore && outbound < Dout && spare.length > 0; i--) {
          if (isOut(keep[i])) continue;
          keep[i] = spare.shift()!;
          outbound++;
        }
      }
      const kept = new Set(keep);
      for (const id of [...mesh]) {
        if (!kept.has(id)) pruneFromMesh(s, mesh, id, topic, true, now);
      }
    }
    // 4. Enough peers but too few outbound: graft outbound candidates.
    if (mesh.size >= Dlo) {
      let outbound = 0;
      for (const id of mesh) if (s.peers.get(id)?.outbound) outbound++;
      if (outbound < Dout) {
        for (const id of candidates(s, topic, mesh, now)) {
          if (outbound >= Dout) break;
          if (!s.peers.get(id)?.outbound) continue;
          addToMesh(s, mesh, id, topic, now);
          outbound++;
        }
      }
    }
    // 5. Opportunistic grafting when the median mesh score is low.
    if (s.tick % s.params.opportunisticGraftTicks === 0 && mesh.size > 1) {
      const med = median([...mesh].map(scoreOf));
      if (med < s.thresholds.opportunisticGraftThreshold) {
        let grafted = 0;
        for (const id of candidates(s, topic, mesh, now, (_p, score) => score > med)) {
          if (grafted >= s.params.opportunisticGraftPeers) break;
          addToMesh(s, mesh, id, topic, now);
          grafted++;
        }
      }
    }
  }
}

/** Expire idle fanout topics and keep the rest at D peers above the publish threshold. */
export function maintainFanout(s: RouterState, now: number): void {
  for (const [topic, last] of s.fanoutLastPub) {
    if (last + s.params.fanoutTtlMs <= now) {
      s.fanout.delete(topic);
      s.fanoutLastPub.delete(topic);
    }
  }
  for (const [topic, peers] of s.fanout) {
    const subscribers = s.topics.get(topic);
    for (const id of [...peers]) {
      if (!subscribers?.has(id) || s.scoreOf(id, now) < s.thresholds.publishThreshold) {
        peers.delete(id);
      }
    }
    if (peers.size < s.params.D) {
      const more = candidates(
        s,
        topic,
        peers,
        now,
        (_p, score) => score >= s.thresholds.publishThreshold,
      );
      for (const id of more) {
        if (peers.size >= s.params.D) break;
        peers.add(id);
      }
    }
  }
}

/** The fanout peers of a topic we publish to without being subscribed (created on demand). */
export function fanoutPeers(s: RouterState, topic: string, now: number): Set<string> {
  let peers = s.fanout.get(topic);
  if (peers === undefined) {
    peers = new Set();
    for (
      const id of candidates(
        s,
        topic,
        peers,
        now,
        (_p, score) => score >= s.thresholds.publishThreshold,
      )
    ) {
      if (peers.size >= s.params.D) break;
      peers.add(id);
    }
    s.fanout.set(topic, peers);
  }
  s.fanoutLastPub.set(topic, now);
  return peers;
}
