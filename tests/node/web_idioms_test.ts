/**
 * The web-standards contract at the API edge (issue 16, section 2), over a real node pair on the
 * memory transport with Noise and yamux: a handler and a dialer get fresh, undisturbed
 * `readable`/`writable` (bytes read ahead during negotiation are replayed), so the idioms users
 * of a web-standards library write work on Deno and Bun. A failing handler is visible: a
 * "stream:handler:error" event, and its stream is reset.
 */

import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import type { Connection, Stream } from "../../src/connection.ts";
import type { Libp2pNode } from "../../src/node/node.ts";
import { nextEvent, stopAll, testNode } from "../helpers/nodes.ts";

const encoder = new TextEncoder();

/** A local HTTP server on 127.0.0.1 (Deno.serve or Bun.serve, whichever runtime runs this). */
interface LocalServer {
  url: string;
  close(): Promise<void>;
}

function serveLocal(handler: (request: Request) => Response | Promise<Response>): LocalServer {
  const g = globalThis as unknown as {
    Bun?: {
      serve(o: {
        port: number;
        hostname: string;
        fetch: (r: Request) => Response | Promise<Response>;
      }): { port: number; stop(force?: boolean): void };
    };
    Deno?: {
      serve(
        o: { port: number; hostname: string; onListen?: () => void },
        h: (r: Request) => Response | Promise<Response>,
      ): { addr: { port: number }; shutdown(): Promise<void> };
    };
  };
  if (g.Bun !== undefined) {
    const server = g.Bun.serve({ port: 0, hostname: "127.0.0.1", fetch: handler });
    return {
      url: `http://127.0.0.1:${server.port}/`,
      close: () => Promise.resolve(server.stop(true)),
    };
  }
  const server = g.Deno!.serve({ port: 0, hostname: "127.0.0.1", onListen() {} }, handler);
  return { url: `http://127.0.0.1:${server.addr.port}/`, close: () => server.shutdown() };
}

/** Write `text` and half-close, with the web-streams idiom users reach for. */
function send(stream: Stream, text: string): Promise<void> {
  return ReadableStream.from([encoder.encode(text)]).pipeTo(stream.writable);
}

/** Everything the stream's readable delivers, decoded with a TextDecoderStream. */
async function receiveText(stream: Stream): Promise<string> {
  let text = "";
  // (The cast only bridges TypeScript's DOM typing of TextDecoderStream's writable side.)
  const decoder = new TextDecoderStream() as unknown as TransformStream<Uint8Array, string>;
  for await (const part of stream.readable.pipeThrough(decoder)) text += part;
  return text;
}

describe("web idioms at the API edge (node pair, memory transport)", () => {
  let server: Libp2pNode;
  let client: Libp2pNode;
  let conn: Connection;

  before(async () => {
    server = await testNode();
    client = await testNode({ listen: [] });
    // Each handler uses one idiom on the inbound stream and answers with another.
    await server.handle("/idiom/text/1.0.0", async (s) => {
      const text = await new Response(s.readable).text(); // undisturbed after negotiation
      await ReadableStream.from([encoder.encode(text.toUpperCase())]).pipeTo(s.writable);
    });
    await server.handle("/idiom/json/1.0.0", async (s) => {
      const value = await new Response(s.readable).json();
      await send(s, JSON.stringify({ echoed: value }));
    });
    await server.handle("/idiom/echo/1.0.0", (s) => s.readable.pipeTo(s.writable));
    conn = await client.dial(server.addrs()[0]);
  });

  after(() => stopAll(client, server));

  it("new Response(stream.readable).text(), pipeTo(stream.writable), pipeThrough(TextDecoderStream)", async () => {
    const s = await conn.newStream("/idiom/text/1.0.0");
    // Written at once after the lazy select: these bytes arrive with the proposal and are read
    // ahead by the listener's negotiation, then replayed into the handler's fresh readable.
    await send(s, "hello over libp2p");
    assert.equal(await receiveText(s), "HELLO OVER LIBP2P");
  });

  it("new Response(stream.readable).json() on both ends", async () => {
    const s = await conn.newStream("/idiom/json/1.0.0");
    await send(s, JSON.stringify({ n: 42, list: [1, 2, 3] }));
    assert.deepEqual(await new Response(s.readable).json(), { echoed: { n: 42, list: [1, 2, 3] } });
  });

  it("fetch(url, { body: stream.readable, duplex: 'half' }) posts a libp2p stream to HTTP", async () => {
    const http = serveLocal(async (request) => {
      const body = await request.text();
      return new Response(`http got ${body.length} bytes: ${body}`);
    });
    try {
      await server.handle("/idiom/fetch/1.0.0", async (s) => {
        const response = await fetch(http.url, {
          method: "POST",
          body: s.readable,
          duplex: "half",
        } as RequestInit);
        await response.body!.pipeTo(s.writable);
      });
      const s = await conn.newStream("/idiom/fetch/1.0.0");
      await send(s, "posted through a stream");
      assert.equal(await receiveText(s), "http got 23 bytes: posted through a stream");
    } finally {
      await server.unhandle("/idiom/fetch/1.0.0");
      await http.close();
    }
  });

  it("an HTTP server response whose body is a libp2p stream's readable", async () => {
    const http = serveLocal(async (request) => {
      const s = await conn.newStream("/idiom/echo/1.0.0");
      await send(s, `echo of ${new URL(request.url).pathname}`);
      return new Response(s.readable, { headers: { "content-type": "text/plain" } });
    });
    try {
      const response = await fetch(`${http.url}some/path`);
      assert.equal(response.status, 200);
      assert.equal(await response.text(), "echo of /some/path");
    } finally {
      await http.close();
    }
  });
});

describe("a failing handler is visible", () => {
  for (const how of ["throws", "rejects"] as const) {
    it(`a handler that ${how}: "stream:handler:error" with protocol, peer and error; the stream is reset`, async () => {
      const server = await testNode();
      const client = await testNode({ listen: [] });
      try {
        const failure = new Error(`handler ${how}`);
        await server.handle(
          "/idiom/fail/1.0.0",
          how === "throws"
            ? () => {
              throw failure;
            }
            : async (s) => {
              await new Response(s.readable).text();
              throw failure;
            },
        );
        const event = nextEvent(server, "stream:handler:error");
        const conn = await client.dial(server.addrs()[0]);
        const s = await conn.newStream("/idiom/fail/1.0.0");
        // The write side may fail as well: a handler that throws at once can reset the stream
        // before our writes and FIN are through.
        const sent = send(s, "anything").then(() => "sent", (e: unknown) => e);
        const detail = await event;
        assert.equal(detail.protocol, "/idiom/fail/1.0.0");
        assert.ok(detail.peer.equals(client.peerId), "the remote peer of the stream");
        assert.equal(detail.error, failure);
        // The stream was reset: the dialer's reads fail instead of ending cleanly.
        await assert.rejects(new Response(s.readable).text());
        const outcome = await sent;
        assert.ok(
          outcome === "sent" || (how === "throws" && outcome instanceof Error),
          `the write side: ${outcome}`,
        );
      } finally {
        await stopAll(client, server);
      }
    });
  }
});
