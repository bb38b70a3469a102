// An application that does not read its events, against a scripted server in virtual time:
// the events waiting for it stay bounded, heartbeats go on, and once it reads, the rest of
// the inbox arrives in order, none lost, none twice.
import assert from "node:assert/strict";
import { test } from "node:test";
import { ErrorCode } from "../dist/errors.js";
import { HELD_BYTES_CLOSE, MAX_EVENTS_WAITING, MAX_HELD_BYTES } from "../dist/core/session.js";
import { World } from "./support/world.mjs";

const BIG = "x".repeat(1000); // 1000 Delivers of this are over MAX_HELD_BYTES

function welcomed(options) {
  const world = new World(options);
  world.advance(0);
  world.connectAndWelcome();
  return world;
}

/** The seqs of the message events among `events`. */
const seqsOf = (events) => events.filter((e) => e.type === "message").map((e) => e.seq);
const range = (from, to) => Array.from({ length: to - from + 1 }, (_, i) => from + i);

test("the bound is the Rust SDK's, and replays of every waiting message are recognised", () => {
  assert.equal(MAX_EVENTS_WAITING, 1024);
  assert.ok(MAX_HELD_BYTES < HELD_BYTES_CLOSE);
});

test("an application that does not read has at most 1024 events waiting; after it reads, the rest arrives in order, once", () => {
  const world = welcomed();
  const total = 3000;
  for (let seq = 1; seq <= total; seq++) {
    world.deliver(seq, `M${seq}`, BIG);
    assert.ok(world.events.length <= MAX_EVENTS_WAITING, `${world.events.length} events wait after seq ${seq}`);
  }
  assert.equal(world.events.length, MAX_EVENTS_WAITING, "connected and 1023 messages");
  assert.equal(world.core.eventsWaiting, MAX_EVENTS_WAITING);
  assert.equal(world.pauses, 1, "reading paused once the held Delivers passed the budget");
  assert.ok(world.unread.length > 1000, "the rest waits at the server's side, unread");
  world.advance(5_000);
  assert.deepEqual(world.take("deliverAck"), [], "nothing read, nothing acknowledged");

  const seqs = [];
  while (seqs.length < total) {
    const before = seqs.length;
    seqs.push(...seqsOf(world.read(100)));
    assert.ok(seqs.length > before, `stuck after ${before} messages`);
    assert.ok(world.events.length <= MAX_EVENTS_WAITING);
  }
  assert.deepEqual(seqs, range(1, total), "in order, none lost, none twice");
  assert.equal(world.unread.length, 0);
  assert.equal(world.paused, false);
  world.advance(1_000);
  assert.equal(world.take("deliverAck").at(-1).upToSeq, BigInt(total));
  assert.equal(world.closedLinks.length, 0, "the same session throughout");
});

test("while the application is behind, Pings go out, the server's are answered and sends are settled", () => {
  const world = welcomed();
  for (let seq = 1; seq <= 1100; seq++) world.deliver(seq, `M${seq}`, "small");
  assert.equal(world.events.length, MAX_EVENTS_WAITING);
  assert.equal(world.pauses, 0, "77 small Delivers held back: still reading");

  world.core.submitSend(1, "c1", { userId: "bob" }, "text/plain", new Uint8Array([1]), world.now);
  world.step();
  assert.equal(world.take("send")[0].clientMsgId, "c1");
  world.serverSends({ case: "sendAck", value: { clientMsgId: "c1", messageId: "S1", sentAtMs: 1n } });
  assert.equal(world.settled[0].ack.messageId, "S1");
  world.serverSends({ case: "ping", value: { nonce: 42n } });
  assert.deepEqual(world.take("pong").map((p) => p.nonce), [42n], "CIM-6.2-3");

  for (let i = 0; i < 5; i++) {
    world.advance(30_000);
    const pings = world.take("ping");
    assert.equal(pings.length, 1, "CIM-6.2-1");
    world.serverSends({ case: "pong", value: { nonce: pings[0].nonce } });
  }
  assert.equal(world.closedLinks.length, 0, "150 s behind, the connection is alive");
  world.deliver(1101, "M1101", "small");
  assert.deepEqual(seqsOf(world.readAll()), range(1, 1101));
});

test("paused for the heartbeat timeout, the client closes (CIM-6.3-4), waits for the application, then resumes where it left off", () => {
  const world = welcomed();
  const total = 2500;
  for (let seq = 1; seq <= total; seq++) world.deliver(seq, `M${seq}`, BIG);
  assert.equal(world.pauses, 1);
  world.advance(74_999);
  assert.equal(world.take("ping").length, 2, "Pings go out while paused (CIM-6.2-1)");
  assert.equal(world.closedLinks.length, 0);
  world.advance(1);
  assert.deepEqual(world.take("error").map((e) => e.code), [ErrorCode.HEARTBEAT_TIMEOUT]);
  assert.equal(world.closedLinks.length, 1);
  world.advance(120_000);
  assert.equal(world.connects.length, 1, "no new session while 1024 events wait");

  const first = world.readAll();
  assert.equal(first.at(-1).type, "disconnected");
  const seqs = seqsOf(first);
  assert.deepEqual(seqs, range(1, 1023));
  world.advance(1_000);
  assert.equal(world.connects.length, 2, "connects once the application has read");
  world.open();
  const hello = world.take("hello").at(-1);
  assert.equal(hello.resume.lastAckedSeq, 1023n);
  world.welcome({ resume: { outcome: 2, epoch: 7n, nextSeq: 1024n } });
  for (let seq = 1024; seq <= total; seq++) {
    world.deliver(seq, `M${seq}`, BIG);
    if (seq % 500 === 0) seqs.push(...seqsOf(world.readAll()));
  }
  seqs.push(...seqsOf(world.readAll()));
  assert.deepEqual(seqs, range(1, total));
});

test("a replay of messages that wait unread is not handed over twice", () => {
  const world = welcomed();
  for (let seq = 1; seq <= 1500; seq++) world.deliver(seq, `M${seq}`, "small");
  world.linkCloses(); // the connection drops while 1023 messages wait, 477 held back
  const seqs = seqsOf(world.read(500));
  world.advance(0);
  world.advance(world.core.pollTimeout() - world.now);
  assert.equal(world.connects.length, 2);
  world.open();
  world.welcome({ resume: { outcome: 2, epoch: 7n, nextSeq: 500n } });
  for (let seq = 500; seq <= 1500; seq++) world.deliver(seq, `M${seq}`, "small");
  seqs.push(...seqsOf(world.readAll()));
  assert.deepEqual(seqs, range(1, 1500));
});

test("a link that cannot pause (a browser WebSocket) is closed past the held budget and reopened once the application reads", () => {
  const world = welcomed({ canPause: false });
  let seq = 0;
  while (world.closedLinks.length === 0) {
    seq++;
    world.deliver(seq, `M${seq}`, BIG);
    assert.ok(seq < 3000, "never closed");
  }
  assert.ok(seq * 1000 > HELD_BYTES_CLOSE);
  assert.deepEqual(world.take("error"), [], "a healthy connection: no Error, only a close");
  world.advance(60_000);
  assert.equal(world.connects.length, 1);
  const seqs = seqsOf(world.readAll());
  world.advance(1_000);
  assert.equal(world.connects.length, 2);
  world.open();
  world.welcome({ resume: { outcome: 2, epoch: 7n, nextSeq: 1024n } });
  for (let s = 1024; s <= seq; s++) world.deliver(s, `M${s}`, BIG);
  seqs.push(...seqsOf(world.readAll()));
  assert.deepEqual(seqs, range(1, seq));
});

for (const transport of ["tcp", "websocket"]) {
  test(`over ${transport}, the real client stops reading at the bound and reads on when the application does`, { timeout: 60_000 }, async () => {
    const { Client } = await import("../dist/node.js");
    const { deliver, startFakeNode, welcome } = await import("./support/fake-node.mjs");
    const node = await startFakeNode();
    try {
      const lines = [];
      const logger = (line) => lines.push(line);
      const loggingIn = Client.login(node.route, { userName: "alice", password: "pw", deviceId: "d1", transport, logger });
      const conn = await node.connection(0);
      conn.send(welcome(await conn.next("hello")));
      const client = await loggingIn;
      const total = 3000;
      for (let seq = 1; seq <= total; seq++) conn.send(deliver(seq, `M${seq}`, `${seq} ${BIG}`));
      // Long enough for the whole backlog to arrive, were it read.
      let waiting = -1;
      for (let i = 0; i < 20 && client.eventsWaiting !== waiting; i++) {
        waiting = client.eventsWaiting;
        await new Promise((r) => setTimeout(r, 100));
      }
      assert.equal(client.eventsWaiting, MAX_EVENTS_WAITING, "connected and 1023 messages, no more");
      assert.ok(lines.some((l) => l.endsWith("reading paused")), "the link stopped reading");

      const seqs = [];
      for await (const event of client.events()) {
        assert.ok(client.eventsWaiting <= MAX_EVENTS_WAITING);
        if (event.type !== "message") continue;
        assert.equal(event.text.split(" ")[0], String(event.seq));
        seqs.push(event.seq);
        if (seqs.length === total) break;
      }
      assert.deepEqual(seqs, range(1, total), "in order, none lost, none twice");
      let acked = 0n;
      while (acked < BigInt(total)) acked = (await conn.next("deliverAck", 2_000)).upToSeq;
      assert.ok(lines.some((l) => l === "reading again"));
      assert.equal(conn.closed, false, "the same connection throughout");
      await client.close();
    } finally {
      await node.stop();
    }
  });
}
