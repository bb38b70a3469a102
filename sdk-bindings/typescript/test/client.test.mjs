// The real Client, its links and route calls, against a scripted route and server in this
// process (test/support/fake-node.mjs).
import assert from "node:assert/strict";
import { test } from "node:test";
import { Client, ClosedError, InvalidInputError } from "../dist/node.js";
import { deliver, startFakeNode, welcome } from "./support/fake-node.mjs";

for (const transport of ["tcp", "websocket"]) {
  test(`over ${transport}: login, a message each way, acknowledgement, and resume after a drop`, { timeout: 30_000 }, async () => {
    const node = await startFakeNode();
    try {
      const loggingIn = Client.login(node.route, { userName: "alice", password: "pw", deviceId: "d1", transport });
      const conn = await node.connection(0);
      const hello = await conn.next("hello");
      assert.equal(hello.token, "v1.token-1");
      assert.deepEqual(node.logins[0].transports, transport === "tcp" ? ["tcp", "tcp_tls"] : ["websocket", "websocket_tls"]);
      conn.send(welcome(hello));
      const client = await loggingIn;
      const events = client.events();
      assert.equal((await events.next()).value.type, "connected");

      const sending = client.sendToUser("bob", "hi bob");
      const send = await conn.next("send");
      assert.equal(new TextDecoder().decode(send.body), "hi bob");
      conn.send({ case: "sendAck", value: { clientMsgId: send.clientMsgId, messageId: "M1", sentAtMs: 9n } });
      assert.equal((await sending).messageId, "M1");

      conn.send(deliver(1, "D1", "hi alice"));
      const message = (await events.next()).value;
      assert.equal(message.text, "hi alice");
      assert.equal(message.contentType, "text/plain");
      assert.equal((await conn.next("deliverAck", 1_500)).upToSeq, 1n);

      conn.close();
      assert.equal((await events.next()).value.type, "disconnected");
      const again = await node.connection(1);
      const second = await again.next("hello");
      assert.deepEqual([second.resume.epoch, second.resume.lastAckedSeq], [5n, 1n]);
      assert.equal(second.token, "v1.token-1", "the same token after a plain drop");
      again.send(welcome(second));
      assert.equal((await events.next()).value.resumed, "resumed");
      await client.close();
      assert.equal((await events.next()).value.type, "closed");
      assert.equal((await events.next()).done, true);
    } finally {
      await node.stop();
    }
  });
}

test("sends still unanswered when the client closes reject with ClosedError", { timeout: 30_000 }, async () => {
  const node = await startFakeNode();
  try {
    const loggingIn = Client.login(node.route, { userName: "alice", password: "pw", deviceId: "d1" });
    const conn = await node.connection(0);
    conn.send(welcome(await conn.next("hello")));
    const client = await loggingIn;
    const pending = client.sendToGroup("team", "anyone?");
    await conn.next("send");
    await client.close();
    await assert.rejects(pending, ClosedError);
    await assert.rejects(client.sendToUser("bob", "late"), ClosedError);
  } finally {
    await node.stop();
  }
});

test("invalid usage fails at once with a clear error", async () => {
  await assert.rejects(Client.login("not a url", { userName: "a", password: "b", deviceId: "d" }), InvalidInputError);
  await assert.rejects(Client.login("http://127.0.0.1:1", { userName: "", password: "b" }), /userName/);
  await assert.rejects(Client.login("http://127.0.0.1:1", { userName: "a", password: "b", deviceId: "x".repeat(129) }), /deviceId/);
  await assert.rejects(Client.login("http://127.0.0.1:1", { userName: "a", password: "b", transport: "carrier-pigeon" }), /transport/);
  await assert.rejects(Client.login("http://127.0.0.1:1", { userName: "a", password: "b", deviceId: "d" }), (e) => e.kind === "unavailable");
});

test("the browser entry works over a WHATWG-style global WebSocket, with fetch for the route", { timeout: 30_000 }, async () => {
  const { WebSocket } = await import("ws"); // the shape of a browser's WebSocket, for Node 20
  const browser = await import("../dist/index.js");
  const node = await startFakeNode();
  globalThis.WebSocket = WebSocket;
  try {
    const loggingIn = browser.Client.login(node.route, { userName: "alice", password: "pw", deviceId: "web-1" });
    const conn = await node.connection(0);
    assert.equal(conn.framing, "websocket");
    conn.send(welcome(await conn.next("hello")));
    const client = await loggingIn;
    conn.send(deliver(1, "D1", "to the browser"));
    const events = client.events();
    assert.equal((await events.next()).value.type, "connected");
    assert.equal((await events.next()).value.text, "to the browser");
    await assert.rejects(browser.Client.login(node.route, { userName: "a", password: "b", transport: "tcp" }), /not available in browser/);
    await client.close();
  } finally {
    delete globalThis.WebSocket;
    await node.stop();
  }
});
