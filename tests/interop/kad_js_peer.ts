/**
 * A js-libp2p node with `@libp2p/kad-dht` 16.4.5 (server mode) run as a separate Deno process:
 * the js half of the DHT interop network. It listens on loopback TCP and takes commands on
 * stdin, one JSON object a line, answering each on stdout with the same `id`:
 *
 *   {"id":1,"op":"dial","addr":"/ip4/127.0.0.1/tcp/…/p2p/…"}         -> {"id":1,"ok":true}
 *   {"id":2,"op":"findPeer","peer":"12D3…"}                         -> {"id":2,"ok":true,"result":["/ip4/…"]}
 *   {"id":3,"op":"provide","cid":"Qm…"}                             -> {"id":3,"ok":true}
 *   {"id":4,"op":"findProviders","cid":"Qm…","limit":1}             -> {"id":4,"ok":true,"result":["12D3…"]}
 *   {"id":5,"op":"put","key":"<hex>","value":"<hex>"}               -> {"id":5,"ok":true}
 *   {"id":6,"op":"get","key":"<hex>"}                               -> {"id":6,"ok":true,"result":"<hex>"}
 *   {"id":7,"op":"table"}                                           -> {"id":7,"ok":true,"result":n}
 *   {"id":8,"op":"refresh"}                                         -> {"id":8,"ok":true}
 *   {"id":9,"op":"inTable","peers":["12D3…"]}                       -> {"id":9,"ok":true,"result":["12D3…"]}
 *   {"id":10,"op":"ipnsPut","value":"/ipfs/…","seq":1}              -> {"id":10,"ok":true,"result":{"key":"<hex>","record":"<hex>"}}
 *
 * Failures answer {"id":…,"ok":false,"error":"…"}. The first line is
 * {"event":"listening","peerId":"…","addrs":[…]}. It exits when stdin closes.
 *
 * Private (loopback) addresses are kept with `passthroughMapper`: js's default mapper drops
 * peers whose only addresses are private, which would leave a loopback network empty. `/ipns`
 * records are validated and selected by the `ipns` package's validator and selector (js's
 * kad-dht ships only the `/pk` validator; IPNS nodes such as Helia pass these two).
 */

import { createLibp2p } from "libp2p";
import { tcp } from "@libp2p/tcp";
import { noise } from "@chainsafe/libp2p-noise";
import { yamux } from "@chainsafe/libp2p-yamux";
import { identify } from "@libp2p/identify";
import { ping } from "@libp2p/ping";
import { kadDHT, passthroughMapper } from "@libp2p/kad-dht";
import { peerIdFromString } from "@libp2p/peer-id";
import { multiaddr } from "@multiformats/multiaddr";
import { generateKeyPair } from "@libp2p/crypto/keys";
import { createIPNSRecord, marshalIPNSRecord, multihashToIPNSRoutingKey } from "ipns";
import { ipnsValidator } from "ipns/validator";
import { ipnsSelector } from "ipns/selector";
import { serveJsonCommands } from "./json_commands.ts";

const fromHex = (s: string): Uint8Array =>
  new Uint8Array(s.match(/../g)?.map((b) => parseInt(b, 16)) ?? []);
const toHex = (b: Uint8Array): string =>
  Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");

const node = await createLibp2p({
  addresses: { listen: ["/ip4/127.0.0.1/tcp/0"] },
  transports: [tcp()],
  connectionEncrypters: [noise()],
  streamMuxers: [yamux()],
  // Every peer connects from 127.0.0.1: js's per-host inbound threshold (5/s) is lifted.
  connectionManager: { inboundConnectionThreshold: 10_000, maxIncomingPendingConnections: 256 },
  services: {
    identify: identify(),
    ping: ping(),
    dht: kadDHT({
      clientMode: false,
      peerInfoMapper: passthroughMapper,
      // The test drives the lookups: no self-query storm at start-up.
      initialQuerySelfInterval: 60_000,
      validators: { ipns: ipnsValidator },
      selectors: { ipns: ipnsSelector },
    }),
  },
});

// The CID class of js's multiformats, reached through a peer id (multiformats is not a direct
// dependency of this repository).
type JsCID = ReturnType<ReturnType<typeof peerIdFromString>["toCID"]>;
const CIDClass = node.peerId.toCID().constructor as unknown as {
  parse(text: string, base?: unknown): JsCID;
  decode(bytes: Uint8Array): JsCID;
};
function cid(text: string): JsCID {
  // CIDv0 text ("Qm…") is parsed by js's CID.parse as well.
  return CIDClass.parse(text);
}

async function run(cmd: Record<string, unknown>): Promise<unknown> {
  const signal = AbortSignal.timeout(Number(cmd.timeoutMs ?? 60_000));
  switch (cmd.op) {
    case "dial":
      await node.dial(multiaddr(String(cmd.addr)), { signal });
      return null;
    case "findPeer": {
      // useCache: false makes js ask the network. Its local shortcut (findPeerLocal) answers
      // from the peer store even when the entry has no address, which proves nothing (js side).
      const info = await node.peerRouting.findPeer(peerIdFromString(String(cmd.peer)), {
        signal,
        useCache: false,
      });
      return info.multiaddrs.map((a) => a.toString());
    }
    case "provide":
      await node.contentRouting.provide(cid(String(cmd.cid)), { signal });
      return null;
    case "findProviders": {
      const out: string[] = [];
      const limit = Number(cmd.limit ?? 1);
      for await (const p of node.contentRouting.findProviders(cid(String(cmd.cid)), { signal })) {
        if (!out.includes(p.id.toString())) out.push(p.id.toString());
        if (out.length >= limit) break;
      }
      return out;
    }
    case "put":
      await node.contentRouting.put(fromHex(String(cmd.key)), fromHex(String(cmd.value)), {
        signal,
      });
      return null;
    case "get":
      return toHex(await node.contentRouting.get(fromHex(String(cmd.key)), { signal }));
    case "table": {
      // deno-lint-ignore no-explicit-any
      const dht = node.services.dht as any;
      return dht.routingTable?.size ?? dht.wan?.routingTable?.size ?? -1;
    }
    case "inTable": {
      // deno-lint-ignore no-explicit-any
      const table = (node.services.dht as any).routingTable;
      const out: string[] = [];
      for (const id of cmd.peers as string[]) {
        if (await table.find(peerIdFromString(id)) !== undefined) out.push(id);
      }
      return out;
    }
    case "ipnsPut": {
      // A fresh Ed25519 name: its public key is inlined in the name, so the record needs no
      // pubKey field. V1-compatible (signatureV1 and the V1 fields too), as js makes by default.
      const key = await generateKeyPair("Ed25519");
      const record = await createIPNSRecord(
        key,
        String(cmd.value),
        Number(cmd.seq ?? 1),
        3_600_000,
      );
      const routingKey = multihashToIPNSRoutingKey(key.publicKey.toMultihash());
      const bytes = marshalIPNSRecord(record);
      await node.contentRouting.put(routingKey, bytes, { signal });
      return { key: toHex(routingKey), record: toHex(bytes) };
    }
    case "refresh":
      await node.services.dht.refreshRoutingTable({ signal });
      return null;
    default:
      throw new Error(`unknown op ${String(cmd.op)}`);
  }
}

serveJsonCommands(
  { peerId: node.peerId.toString(), addrs: () => node.getMultiaddrs().map(String) },
  run,
  () => node.stop(),
);
