/**
 * AutoNAT interop with js-libp2p (`@libp2p/autonat-v2` 2.0.15, `@libp2p/autonat` 3.0.28 for v1),
 * the js node a separate Deno process, over TCP.
 *
 * On plain loopback js refuses everything, with no option to allow it (read in their sources):
 * - js v2 server: a requested private/loopback IP throws inside its loop and is skipped with no
 *   DialResponse at all (the stream just closes); an address no js transport can dial gets
 *   E_DIAL_REFUSED.
 * - js v1 server: private addresses, and any address on js's own host, are filtered out:
 *   E_DIAL_REFUSED "no dialable addresses".
 * - js clients (v2 and v1) never send private addresses, so they ask us nothing on loopback.
 * These refusals are asserted below (our client gets no verdict, nobody dials).
 *
 * The full exchanges (dial data, dial-back with the nonce, js's client asking our server) need
 * addresses js deems public, and js counts every documentation and private range as private
 * (@libp2p/utils private-ip.ts): our test rules allow only those (loopback, or documentation and
 * private ranges inside a namespace lab), so they are not run against js. Our client and server
 * run those exchanges against each other in tests/autonat/client_test.ts and server_test.ts.
 */
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { multiaddr } from "../../src/multiaddr/mod.ts";
import type { Libp2pNode } from "../../src/node/node.ts";
import { identify } from "../../protocols/identify/mod.ts";
import {
  type AutoNAT,
  autoNAT,
  DialStatus,
  ResponseStatus,
  V1Status,
  V1Type,
} from "../../protocols/autonat/mod.ts";
import { stopAll, testTcpNode, until } from "../helpers/nodes.ts";
import { type AutoNATJsPeer, startAutoNATJsPeer } from "./autonat_js_process.ts";
import { receiveDialBacks, requestV1, requestV2 } from "./raw.ts";

const never = { setTimeout: () => 0, clearTimeout: () => {} };
type Node = Libp2pNode<{ autonat: AutoNAT }>;
const bare = (n: Libp2pNode): string => n.addrs()[0].decapsulateCode(421).toString();

describe("AutoNAT interop with js-libp2p on loopback (js refuses)", () => {
  let js: AutoNATJsPeer;
  before(async () => {
    js = await startAutoNATJsPeer();
  });
  after(async () => {
    await js?.stop();
  });

  it("js v2 server: loopback skipped with no response, an undialable transport refused", async () => {
    const ours = await testTcpNode();
    try {
      const nonces = receiveDialBacks(ours);
      const conn = await ours.dial(multiaddr(js.addrs[0]));
      const loop = await requestV2(conn, [multiaddr(bare(ours)).bytes], 1n);
      assert.deepEqual(loop.messages, []);
      assert.ok(loop.error !== undefined, "the stream ended without a DialResponse");
      const quic = await requestV2(conn, [
        multiaddr("/ip4/1.2.3.4/udp/1/quic-v1").bytes,
        multiaddr(bare(ours)).bytes,
      ], 2n);
      assert.deepEqual(quic.messages, [{
        type: "dialResponse",
        status: ResponseStatus.E_DIAL_REFUSED,
        addrIdx: 0,
        dialStatus: DialStatus.UNUSED,
      }]);
      assert.deepEqual(nonces, []);
    } finally {
      await stopAll(ours);
    }
  });

  it("js v1 server answers our DIAL with E_DIAL_REFUSED for loopback", async () => {
    const ours = await testTcpNode();
    try {
      const conn = await ours.dial(multiaddr(js.addrs[0]));
      const reply = await requestV1(conn, {
        type: V1Type.DIAL,
        peer: { id: ours.peerId.toBytes(), addrs: [multiaddr(bare(ours)).bytes] },
      });
      assert.equal(reply.type, V1Type.DIAL_RESPONSE);
      assert.equal(reply.response?.status, V1Status.E_DIAL_REFUSED);
    } finally {
      await stopAll(ours);
    }
  });

  it("our client with a js server as the only one: no verdict, reachability stays unknown", async () => {
    const ours: Node = await testTcpNode<{ autonat: AutoNAT }>({
      services: {
        identify: identify(),
        autonat: autoNAT({ server: false, allowPrivateAddresses: true, timers: never }),
      } as never,
    });
    try {
      await ours.dial(multiaddr(js.addrs[0]));
      await until(() => ours.services.autonat.client!.servers().v2.length === 1, 10_000);
      await ours.services.autonat.client!.probe();
      assert.equal(ours.addressManager.reachability, "unknown");
      assert.equal(ours.services.autonat.client!.addresses()[0].confidence, 0);
    } finally {
      await stopAll(ours);
    }
  });
});
