// The client's protocol state machine against a scripted server, in virtual time.
import assert from "node:assert/strict";
import { test } from "node:test";
import { ErrorCode } from "../dist/errors.js";
import { World } from "./support/world.mjs";

function welcomed(options) {
  const world = new World(options);
  world.advance(0);
  world.connectAndWelcome();
  return world;
}

test("the first frame is a Hello with version 1, the device and the token as issued", () => {
  const world = new World();
  world.advance(0);
  assert.equal(world.connects.length, 1);
  world.open();
  const [hello] = world.take("hello");
  assert.deepEqual(hello.versions, [1]);
  assert.equal(hello.deviceId, "d1");
  assert.equal(hello.token, "v1.token-for-tests");
  assert.equal(hello.resume, undefined);
});

test("nothing but the Hello goes out before Welcome; queued sends follow it", () => {
  const world = new World();
  world.advance(0);
  world.open();
  world.core.submitSend(1, "c1", { userId: "bob" }, "text/plain", new Uint8Array([1]), world.now);
  world.step();
  assert.deepEqual(world.take("send"), []);
  world.welcome();
  assert.deepEqual(world.eventTypes(), ["connected"]);
  assert.equal(world.take("send")[0].clientMsgId, "c1");
});

test("a send is settled by its own SendAck, matched by id, and a stray one is ignored", () => {
  const world = welcomed();
  world.core.submitSend(1, "c1", { userId: "bob" }, "", new Uint8Array(), world.now);
  world.step();
  world.serverSends({ case: "sendAck", value: { clientMsgId: "other", messageId: "X" } });
  assert.deepEqual(world.settled, []);
  world.serverSends({ case: "sendAck", value: { clientMsgId: "c1", messageId: "M1", sentAtMs: 5n } });
  assert.equal(world.settled[0].ack.messageId, "M1");
});

test("processed entries are acknowledged within a second, never beyond what was read", () => {
  const world = welcomed();
  world.deliver(1, "A");
  world.deliver(2, "B");
  world.advance(2000);
  assert.deepEqual(world.take("deliverAck"), [], "nothing read, nothing acknowledged");
  const [first] = world.events.filter((e) => e.event.type === "message");
  world.events.splice(world.events.indexOf(first), 1);
  world.core.handleTaken(first.delivery, world.now);
  world.step();
  world.advance(1000);
  assert.deepEqual(world.take("deliverAck").map((a) => a.upToSeq), [1n]);
});

test("the client pings after the interval and gives up after the timeout, then reconnects", () => {
  const world = welcomed();
  world.advance(29_999);
  assert.equal(world.take("ping").length, 0);
  world.advance(1);
  assert.equal(world.take("ping").length, 1);
  world.advance(75_000 - 30_000 - 1);
  assert.equal(world.closedLinks.length, 0);
  world.advance(1);
  assert.deepEqual(world.take("error").map((e) => e.code), [ErrorCode.HEARTBEAT_TIMEOUT]);
  assert.equal(world.closedLinks.length, 1);
  world.advance(500);
  assert.equal(world.connects.length, 2, "a new attempt within the first backoff bound");
});

test("heartbeat values of 0 mean 30 s and 75 s", () => {
  const world = new World();
  world.advance(0);
  world.connectAndWelcome({ heartbeatIntervalMs: 0, heartbeatTimeoutMs: 0 });
  world.advance(29_000);
  assert.equal(world.take("ping").length, 0);
  world.advance(1_000);
  assert.equal(world.take("ping").length, 1);
});

test("without a Welcome within 10 s the client closes and tries again", () => {
  const world = new World();
  world.advance(0);
  world.open();
  world.advance(9_999);
  assert.equal(world.closedLinks.length, 0);
  world.advance(1);
  assert.equal(world.closedLinks.length, 1);
  world.advance(1_000);
  assert.equal(world.connects.length, 2);
});

test("unanswered sends go out again, unchanged and in order, on the next session", () => {
  const world = welcomed();
  for (const id of ["c1", "c2"]) world.core.submitSend(id === "c1" ? 1 : 2, id, { groupId: "g" }, "text/plain", new TextEncoder().encode(id), world.now);
  world.step();
  const first = world.take("send");
  world.linkCloses();
  assert.equal(world.eventTypes().at(-1), "disconnected");
  world.advance(1_000);
  world.connectAndWelcome({ resume: { outcome: 2, epoch: 7n, nextSeq: 1n } });
  const again = world.take("send");
  assert.deepEqual(again.map((s) => s.clientMsgId), ["c1", "c2"]);
  assert.deepEqual(again.map((s) => [...s.body]), first.map((s) => [...s.body]));
});

test("a fatal Error is followed by its retry class: No stops, After waits retry_after_ms, Relogin logs in", () => {
  const no = welcomed();
  no.serverSends({ case: "error", value: { code: 1999, message: "x" } });
  assert.equal(no.eventTypes().at(-1), "closed");
  no.advance(60_000);
  assert.equal(no.connects.length, 1);

  const after = welcomed();
  after.serverSends({ case: "error", value: { code: ErrorCode.UNAVAILABLE, retryAfterMs: 2000 } });
  after.advance(1_999);
  assert.equal(after.connects.length, 1);
  after.advance(1);
  assert.equal(after.connects.length, 2);

  const relogin = welcomed();
  relogin.serverSends({ case: "error", value: { code: ErrorCode.UNAUTHENTICATED } });
  relogin.advance(1_000);
  assert.equal(relogin.logins, 1);
  assert.equal(relogin.connects.length, 1, "no connection with the refused token");
});

test("frames after a fatal one in the same read are not processed", () => {
  const world = welcomed();
  world.events.splice(0);
  const bad = new Uint8Array([2, 0x0f, 0x01]);
  world.core.handleLinkData(world.link, new Uint8Array([...bad]), world.now);
  world.step();
  world.deliver(1, "late");
  assert.equal(world.take("error")[0].code, ErrorCode.MALFORMED_FRAME);
  assert.ok(!world.eventTypes().includes("message"));
});

test("a second Welcome is UNEXPECTED_FRAME", () => {
  const world = welcomed();
  world.welcome();
  assert.equal(world.take("error")[0].code, ErrorCode.UNEXPECTED_FRAME);
});

test("a Welcome of another version or without resume is INVALID_FIELD", () => {
  const a = new World();
  a.advance(0);
  a.connectAndWelcome({ version: 2 });
  assert.equal(a.take("error")[0]?.code, ErrorCode.INVALID_FIELD);
  const b = new World();
  b.advance(0);
  b.connectAndWelcome({ resume: undefined });
  assert.equal(b.take("error")[0]?.code, ErrorCode.INVALID_FIELD);
});

test("at most max_in_flight Sends are unanswered", () => {
  const world = new World();
  world.advance(0);
  world.connectAndWelcome({ limits: { maxInFlight: 2 } });
  for (let i = 1; i <= 5; i++) world.core.submitSend(i, `c${i}`, { userId: "bob" }, "", new Uint8Array(), world.now);
  world.step();
  assert.equal(world.take("send").length, 2);
  world.serverSends({ case: "sendAck", value: { clientMsgId: "c1", messageId: "M" } });
  assert.deepEqual(world.take("send").map((s) => s.clientMsgId), ["c3"]);
});

test("OUTCOME_UNKNOWN sends the message again after retry_after_ms and never fails it", () => {
  const world = welcomed();
  world.core.submitSend(1, "c1", { userId: "bob" }, "", new Uint8Array([9]), world.now);
  world.step();
  world.take("send");
  world.serverSends({ case: "error", value: { code: ErrorCode.OUTCOME_UNKNOWN, clientMsgId: "c1", retryAfterMs: 300 } });
  assert.deepEqual(world.settled, []);
  world.advance(299);
  assert.equal(world.take("send").length, 0);
  world.advance(300);
  assert.equal(world.take("send")[0].clientMsgId, "c1");
  assert.equal(world.closedLinks.length, 0);
});

test("a rejection whose retry is No fails the send and keeps the connection", () => {
  const world = welcomed();
  world.core.submitSend(1, "c1", { userId: "nobody" }, "", new Uint8Array(), world.now);
  world.step();
  world.serverSends({ case: "error", value: { code: ErrorCode.UNKNOWN_RECIPIENT, clientMsgId: "c1" } });
  assert.equal(world.settled[0].error.code, ErrorCode.UNKNOWN_RECIPIENT);
  world.advance(5_000);
  assert.equal(world.take("send").length, 1, "sent once only");
  assert.equal(world.closedLinks.length, 0);
});

test("after GoAway SHUTDOWN: no Send there, a wait of reconnect_after_ms and more, then a new login", () => {
  const world = welcomed({ random: () => 0.5 });
  world.serverSends({ case: "goAway", value: { reason: 1, reconnectAfterMs: 600 } });
  world.core.submitSend(1, "c1", { userId: "bob" }, "", new Uint8Array(), world.now);
  world.step();
  assert.equal(world.take("send").length, 0);
  world.linkCloses();
  world.advance(899);
  assert.equal(world.logins, 0);
  world.advance(1);
  assert.equal(world.logins, 1);
});

test("after GoAway SESSION_REPLACED the client stops", () => {
  const world = welcomed();
  world.serverSends({ case: "goAway", value: { reason: 2 } });
  world.linkCloses();
  assert.equal(world.eventTypes().at(-1), "closed");
  world.advance(60_000);
  assert.equal(world.connects.length, 1);
  assert.equal(world.logins, 0);
});

test("failed attempts back off, log in again after three, and a Welcome resets the count", () => {
  const world = new World({ random: () => 0.999, answerLogins: true });
  world.advance(0);
  const waits = [];
  for (let i = 0; i < 5; i++) {
    const closedAt = world.now;
    world.linkCloses();
    world.advance(world.core.pollTimeout() - world.now); // the next attempt, nothing after it
    waits.push(world.connects.at(-1).at - closedAt);
  }
  assert.deepEqual(waits, [999, 1998, 3996, 7992, 15984]);
  assert.equal(world.logins, 1, "a new login after 3 failed attempts");
  world.connectAndWelcome();
  const closedAt = world.now;
  world.linkCloses();
  world.advance(world.core.pollTimeout() - world.now);
  assert.equal(world.connects.at(-1).at - closedAt, 499, "back within the base delay");
});

test("a new epoch is reported before the first entry of it", () => {
  const world = welcomed();
  world.deliver(1, "A");
  world.readAll();
  world.linkCloses();
  world.advance(1_000);
  world.open();
  assert.deepEqual(world.take("hello").at(-1).resume, { $typeName: "cim.v1.ResumePoint", epoch: 7n, lastAckedSeq: 1n });
  world.welcome({ resume: { outcome: 3, epoch: 99n, nextSeq: 1n } });
  world.deliver(1, "B");
  const types = world.readAll().map((e) => e.type);
  assert.deepEqual(types.slice(-3), ["connected", "messages_lost", "message"]);
});
