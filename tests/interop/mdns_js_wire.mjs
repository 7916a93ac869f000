// js-libp2p @libp2p/mdns 12's own record code (dist/src/query.js: gotQuery, gotResponse, queryLAN)
// and the dns-packet encoder/decoder its multicast-dns socket uses, run on Node without a socket.
// Usage: node tests/interop/mdns_js_wire.mjs <our response hex> <our query hex> <js peer id>
// Prints one JSON line:
//   jsResponse: hex of the response js builds for a PTR query (what multicast-dns would send)
//   jsQuery: hex of js's periodic query
//   oursParsed: what js's gotResponse makes of our response ({ id, multiaddrs } or null)
//   answersOurQuery: whether js's gotQuery answers our query
import { createRequire } from "node:module";
import { realpathSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import process from "node:process";

const [ourResponseHex, ourQueryHex, jsPeerId] = process.argv.slice(2);
const root = fileURLToPath(new URL("../../", import.meta.url));
const mdnsDir = realpathSync(join(root, "node_modules/@libp2p/mdns"));
const fromMdns = createRequire(join(mdnsDir, "package.json"));
const fromMulticast = createRequire(fromMdns.resolve("multicast-dns"));
const packet = fromMulticast("dns-packet");
const query = await import(pathToFileURL(join(mdnsDir, "dist/src/query.js")).href);
const { multiaddr } = await import(
  pathToFileURL(fromMdns.resolve("@multiformats/multiaddr")).href
);

const log = Object.assign(() => {}, { trace() {}, error() {} });
const SERVICE = "_p2p._udp.local";
const jsName = "j".repeat(63);

// multicast-dns's respond()/query() in effect: set type and the AA flag, then packet.encode
function fakeSocket(sink) {
  return {
    respond(answers) {
      sink.push(packet.encode({ type: "response", flags: packet.AUTHORITATIVE_ANSWER, answers }));
    },
    query(q) {
      sink.push(packet.encode({ ...q, type: "query" }));
    },
  };
}

const responses = [];
const jsAddrs = [
  multiaddr(`/ip4/192.168.1.5/tcp/4001/p2p/${jsPeerId}`),
  multiaddr(`/ip4/8.8.8.8/tcp/4001/p2p/${jsPeerId}`), // public: js leaves it out
];
query.gotQuery(
  { questions: [{ name: SERVICE, type: "PTR" }] },
  fakeSocket(responses),
  jsName,
  jsAddrs,
  SERVICE,
  true,
  { log },
);

const queries = [];
clearInterval(query.queryLAN(fakeSocket(queries), SERVICE, 60_000, { log }));

const ours = packet.decode(Buffer.from(ourResponseHex, "hex"));
const parsed = query.gotResponse(ours, jsName, SERVICE, { log });

const answered = [];
query.gotQuery(
  packet.decode(Buffer.from(ourQueryHex, "hex")),
  fakeSocket(answered),
  jsName,
  jsAddrs,
  SERVICE,
  true,
  { log },
);

process.stdout.write(
  JSON.stringify({
    jsResponse: Buffer.from(responses[0]).toString("hex"),
    jsQuery: Buffer.from(queries[0]).toString("hex"),
    oursParsed: parsed == null
      ? null
      : { id: parsed.id.toString(), multiaddrs: parsed.multiaddrs.map(String) },
    answersOurQuery: answered.length === 1,
  }) + "\n",
);
