// Single-stream yamux throughput over an in-memory pipe (connPair): ours vs
// @chainsafe/libp2p-yamux 8 measured in the same run. No assertions; prints MB/s and the ratio.
//
//   npx -y deno@2.9.6 run -A bench/yamux_bench.ts
//
// js's muxer speaks js-libp2p's MessageStream API, so its connection ends are wrapped with the
// test adapter (tests/interop/js_stream_adapter.ts) over the same connPair; that wrapper is a
// thin pass-through but is part of js's measured path.
import { yamux as jsYamux } from "@chainsafe/libp2p-yamux";
import { connPair } from "../tests/helpers/conn.ts";
import { yamux } from "../protocols/yamux/mod.ts";
import { toJsStream } from "../tests/interop/js_stream_adapter.ts";

interface JsStream extends EventTarget {
  send(data: Uint8Array): boolean;
  onDrain(): Promise<void>;
  close(): Promise<void>;
}
interface JsMuxer extends EventTarget {
  createStream(): Promise<JsStream>;
  abort(err: Error): void;
}

async function ours(total: number, chunkSize: number): Promise<number> {
  const [a, b] = connPair();
  let done!: (n: number) => void;
  const received = new Promise<number>((r) => (done = r));
  const client = yamux({ keepAliveIntervalMs: 0 }).createStreamMuxer(a, { direction: "outbound" });
  const server = yamux({ keepAliveIntervalMs: 0 }).createStreamMuxer(b, {
    direction: "inbound",
    onIncomingStream: async (s) => {
      let n = 0;
      for await (const c of s.readable) n += c.byteLength;
      done(n);
    },
  });
  const chunk = new Uint8Array(chunkSize).fill(7);
  const t0 = performance.now();
  const s = await client.newStream();
  const w = s.writable.getWriter();
  for (let i = 0; i < total; i += chunkSize) await w.write(chunk);
  await w.close();
  const n = await received;
  const ms = performance.now() - t0;
  if (n !== total) throw new Error(`ours: got ${n} of ${total}`);
  client.abort();
  server.abort();
  return ms;
}

async function js(total: number, chunkSize: number): Promise<number> {
  const [a, b] = connPair();
  let done!: (n: number) => void;
  const received = new Promise<number>((r) => (done = r));
  const factory = () =>
    (jsYamux({ enableKeepAlive: false })() as unknown) as {
      createStreamMuxer(c: unknown): JsMuxer;
    };
  const client = factory().createStreamMuxer(toJsStream(a, { direction: "outbound" }));
  const server = factory().createStreamMuxer(toJsStream(b, { direction: "inbound" }));
  server.addEventListener("stream", (evt) => {
    const s = (evt as CustomEvent<JsStream>).detail;
    let n = 0;
    s.addEventListener("message", (e) => {
      n += (e as unknown as { data: { byteLength: number } }).data.byteLength;
    });
    s.addEventListener("remoteCloseWrite", () => done(n));
  });
  const chunk = new Uint8Array(chunkSize).fill(7);
  const t0 = performance.now();
  const s = await client.createStream();
  for (let i = 0; i < total; i += chunkSize) {
    if (!s.send(chunk)) await s.onDrain();
  }
  await s.close();
  const n = await received;
  const ms = performance.now() - t0;
  if (n !== total) throw new Error(`js: got ${n} of ${total}`);
  client.abort(new Error("done"));
  server.abort(new Error("done"));
  return ms;
}

const MiB = 1024 * 1024;
const cases: [string, number, number][] = [
  ["64 MiB in 64 KiB writes", 64 * MiB, 64 * 1024],
  ["8 MiB in 1 KiB writes", 8 * MiB, 1024],
  ["1 MiB in 64 B writes", 1 * MiB, 64],
];
const runs = 3;
console.log(`yamux single-stream throughput over connPair (best of ${runs})`);
for (const [name, total, chunk] of cases) {
  await ours(total / 8, chunk); // warm-up
  await js(total / 8, chunk);
  let bestOurs = Infinity;
  let bestJs = Infinity;
  for (let i = 0; i < runs; i++) {
    bestOurs = Math.min(bestOurs, await ours(total, chunk));
    bestJs = Math.min(bestJs, await js(total, chunk));
  }
  const mbps = (ms: number): string => (total / 1e6 / (ms / 1000)).toFixed(0).padStart(6);
  console.log(
    `${name.padEnd(26)} ours ${mbps(bestOurs)} MB/s   js ${mbps(bestJs)} MB/s   ratio ${
      (bestJs / bestOurs).toFixed(2)
    }x`,
  );
}
