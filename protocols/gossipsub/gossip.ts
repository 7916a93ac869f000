/**
 * Gossip (libp2p/specs `gossipsub-v1.0.md` "Control Messages", `-v1.1.md` "Adaptive Gossip
 * Dissemination" and "Spam Protection Measures", `-v1.2.md` "IDONTWANT Message"): IHAVE emission,
 * IHAVE/IWANT handling with per-heartbeat caps and promise tracking, and IDONTWANT both ways.
 *
 * @module
 */

import {
  type ControlIDontWant,
  type ControlIHave,
  type ControlIWant,
  messageIdKey,
} from "../pubsub/mod.ts";
import { isGossipsub, type RouterState, speaksV12 } from "./state.ts";

/** Heartbeat step 7: IHAVE for the gossip windows to max(D_lazy, factor x eligible) non-mesh peers. */
export function emitGossip(s: RouterState, now: number): void {
  const topics = new Set<string>([...s.mesh.keys(), ...s.fanout.keys()]);
  for (const topic of topics) {
    let ids = s.mcache.gossipIds(topic);
    if (ids.length === 0) continue;
    const exclude = s.mesh.get(topic) ?? s.fanout.get(topic)!;
    const eligible: string[] = [];
    for (const id of s.topics.get(topic) ?? []) {
      if (exclude.has(id)) continue;
      const p = s.peers.get(id);
      if (p === undefined || p.direct || !isGossipsub(p)) continue;
      if (s.scoreOf(id, now) < s.thresholds.gossipThreshold) continue;
      eligible.push(id);
    }
    const target = Math.max(s.params.Dlazy, Math.floor(eligible.length * s.params.gossipFactor));
    if (ids.length > s.params.maxIHaveLength) {
      ids = s.shuffle([...ids]).slice(0, s.params.maxIHaveLength);
    }
    for (const id of s.shuffle(eligible).slice(0, target)) {
      s.control(id).ihave.push({ topic, messageIds: ids });
    }
  }
}

/** Handle IHAVEs: within the per-heartbeat caps, ask for unseen ids and track one promise per IHAVE. */
export function handleIHave(
  s: RouterState,
  peer: string,
  ihaves: ControlIHave[],
  now: number,
): void {
  const p = s.peers.get(peer);
  if (p === undefined || ihaves.length === 0) return;
  if (s.scoreOf(peer, now) < s.thresholds.gossipThreshold) return;
  const want: Uint8Array[] = [];
  const wantKeys = new Set<string>();
  for (const ihave of ihaves) {
    if (++p.ihaves > s.params.maxIHaveMessages) break;
    if (p.iasked >= s.params.maxIHaveLength) break;
    if (!s.mesh.has(ihave.topic)) continue;
    const fresh: { id: Uint8Array; key: string }[] = [];
    for (const id of ihave.messageIds) {
      const key = messageIdKey(id);
      if (wantKeys.has(key) || s.seen.has(key, now)) continue;
      fresh.push({ id, key });
    }
    if (fresh.length === 0) continue;
    const room = s.params.maxIHaveLength - p.iasked;
    const asked = fresh.length > room ? s.shuffle(fresh).slice(0, room) : fresh;
    p.iasked += asked.length;
    for (const a of asked) {
      want.push(a.id);
      wantKeys.add(a.key);
    }
    // Track one random id of this advertisement (v1.1 "Spam Protection Measures").
    const tracked = asked[Math.floor(s.random() * asked.length)];
    let byPeer = s.promises.get(tracked.key);
    if (byPeer === undefined) {
      byPeer = new Map();
      s.promises.set(tracked.key, byPeer);
    }
    if (!byPeer.has(peer)) byPeer.set(peer, now + s.params.iwantFollowupTimeMs);
  }
  if (want.length > 0) s.control(peer).iwant.push({ messageIds: want });
}

/** Serve IWANTs from the message cache, each message at most `gossipRetransmission` times per peer. */
export function handleIWant(
  s: RouterState,
  peer: string,
  iwants: ControlIWant[],
  now: number,
): void {
  const p = s.peers.get(peer);
  if (p === undefined) return;
  if (s.scoreOf(peer, now) < s.thresholds.gossipThreshold) return;
  for (const iwant of iwants) {
    for (const id of iwant.messageIds) {
      const key = messageIdKey(id);
      if (p.dontSend.has(key)) continue;
      const message = s.mcache.getForPeer(key, peer);
      if (message !== undefined) s.sendMessage(peer, message);
    }
  }
}

/** A first-seen message fulfils every promise for it. */
export function fulfilPromise(s: RouterState, idKey: string): void {
  s.promises.delete(idKey);
}

/** Heartbeat: penalise each peer once per expired promise (P7) and forget the expired ones. */
export function applyBrokenPromises(s: RouterState, now: number): void {
  const broken = new Map<string, number>();
  for (const [key, byPeer] of s.promises) {
    for (const [peer, expiry] of byPeer) {
      if (expiry > now) continue;
      byPeer.delete(peer);
      broken.set(peer, (broken.get(peer) ?? 0) + 1);
    }
    if (byPeer.size === 0) s.promises.delete(key);
  }
  for (const [peer, count] of broken) {
    if (s.peers.has(peer)) s.score.addPenalty(peer, count, "broken-promise");
  }
}

/** Remember IDONTWANTs (v1.2), capped per RPC and per heartbeat (HARDENING.md rule 4). */
export function handleIDontWant(s: RouterState, peer: string, msgs: ControlIDontWant[]): void {
  const p = s.peers.get(peer);
  if (p === undefined || !speaksV12(p)) return;
  let taken = 0;
  const expires = s.tick + s.params.idontwantTtlHeartbeats;
  for (const msg of msgs) {
    if (++p.idontwants > s.params.maxIDontWantMessages) return;
    for (const id of msg.messageIds) {
      if (taken >= s.params.maxIDontWantLength) return;
      taken++;
      p.dontSend.set(messageIdKey(id), expires);
    }
  }
}

/** Send IDONTWANT for a large first-seen message to the mesh peers that speak v1.2. */
export function sendIDontWant(
  s: RouterState,
  from: string,
  topic: string,
  id: Uint8Array,
  size: number,
): void {
  if (size < s.params.idontwantMessageThreshold) return;
  const mesh = s.mesh.get(topic);
  if (mesh === undefined) return;
  for (const peer of mesh) {
    if (peer === from) continue;
    const p = s.peers.get(peer);
    if (p === undefined || !speaksV12(p)) continue;
    s.control(peer).idontwant.push({ messageIds: [id] });
  }
}

/** Heartbeat: reset per-heartbeat counters and expire IDONTWANT entries. */
export function resetPeerCounters(s: RouterState): void {
  for (const p of s.peers.values()) {
    p.ihaves = 0;
    p.iasked = 0;
    p.idontwants = 0;
    for (const [key, expires] of p.dontSend) {
      if (expires <= s.tick) p.dontSend.delete(key);
    }
  }
}
