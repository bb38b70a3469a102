// The client's inbox: resume decisions (spec §8.4) and deduplication (§9.1).
import assert from "node:assert/strict";
import { test } from "node:test";
import { Inbox, discontinuity } from "../dist/core/inbox.js";

const FRESH = 1, RESUMED = 2, EPOCH_CHANGED = 3, GAP = 4;

test("what a Welcome's resume result means", () => {
  const sent = { epoch: 7n, lastAckedSeq: 3n };
  assert.equal(discontinuity(FRESH, 7n, undefined), undefined);
  assert.equal(discontinuity(RESUMED, 7n, sent), undefined);
  assert.equal(discontinuity(EPOCH_CHANGED, 8n, sent), "epoch_changed");
  assert.equal(discontinuity(RESUMED, 8n, sent), "epoch_changed"); // another epoch whatever the outcome
  assert.equal(discontinuity(GAP, 7n, sent), "gap");
  assert.equal(discontinuity(0, 7n, sent), "gap"); // unspecified, same epoch
  assert.equal(discontinuity(77, 7n, sent), "gap"); // unknown, same epoch
});

test("the resume point is the Welcome's, then follows what the application processed", () => {
  const inbox = new Inbox();
  assert.equal(inbox.helloResume(), undefined);
  inbox.welcome(FRESH, 9n, 5n);
  assert.deepEqual(inbox.resumePoint, { epoch: 9n, lastAckedSeq: 4n });
  const five = inbox.deliver(5n, "a");
  const six = inbox.deliver(6n, "b");
  assert.ok(five.hand && six.hand);
  assert.deepEqual(inbox.resumePoint, { epoch: 9n, lastAckedSeq: 4n }, "nothing processed yet");
  assert.equal(inbox.ackDue(), undefined);
  inbox.processed(five.delivery);
  assert.equal(inbox.ackDue(), 5n);
  inbox.acked(5n);
  assert.equal(inbox.ackDue(), undefined);
  inbox.processed(six.delivery);
  assert.deepEqual(inbox.resumePoint, { epoch: 9n, lastAckedSeq: 6n });
});

test("an entry already handed over is not handed over again after a resume", () => {
  const inbox = new Inbox();
  inbox.welcome(FRESH, 1n, 1n);
  const one = inbox.deliver(1n, "m1");
  inbox.deliver(2n, "m2");
  inbox.processed(one.delivery);
  // The connection drops before the application took m2; the server resends it.
  assert.deepEqual(inbox.helloResume(), { epoch: 1n, lastAckedSeq: 1n });
  inbox.welcome(RESUMED, 1n, 2n);
  assert.equal(inbox.deliver(2n, "m2").hand, false);
  assert.equal(inbox.deliver(3n, "m3").hand, true);
});

test("a message id already handed over is dropped under a new seq, and processed in its turn", () => {
  const inbox = new Inbox();
  inbox.welcome(FRESH, 1n, 1n);
  const one = inbox.deliver(1n, "same");
  assert.equal(inbox.deliver(2n, "same").hand, false);
  assert.deepEqual(inbox.resumePoint.lastAckedSeq, 0n, "the copy waits for the original");
  inbox.processed(one.delivery);
  assert.deepEqual(inbox.resumePoint.lastAckedSeq, 2n);
  assert.equal(inbox.ackDue(), 2n);
});

test("a seq out of order is a violation; seq 0 broadcasts leave the resume point alone", () => {
  const inbox = new Inbox();
  inbox.welcome(FRESH, 1n, 1n);
  assert.ok(inbox.deliver(2n, "x").violation);
  const inbox2 = new Inbox();
  inbox2.welcome(FRESH, 1n, 1n);
  const broadcast = inbox2.deliver(0n, "b");
  assert.equal(broadcast.hand, true);
  assert.equal(broadcast.delivery, undefined);
  assert.equal(inbox2.deliver(0n, "b").hand, false);
  assert.ok(inbox2.deliver(1n, "c").hand);
});

test("the acknowledgement never passes what this session was sent", () => {
  const inbox = new Inbox({ epoch: 4n, lastAckedSeq: 10n });
  inbox.helloResume();
  inbox.welcome(RESUMED, 4n, 11n);
  assert.equal(inbox.ackDue(), undefined, "10 is what the server recorded already");
});

test("a new epoch restarts the count, and old entries taken later do not move it", () => {
  const inbox = new Inbox();
  inbox.welcome(FRESH, 1n, 1n);
  const old = inbox.deliver(1n, "old");
  inbox.helloResume();
  assert.deepEqual(inbox.welcome(EPOCH_CHANGED, 2n, 1n), { kind: "epoch_changed", lost: "epoch_changed" });
  inbox.processed(old.delivery);
  assert.deepEqual(inbox.resumePoint, { epoch: 2n, lastAckedSeq: 0n });
  assert.ok(inbox.deliver(1n, "new").hand);
});

test("at least 1024 message ids are remembered", () => {
  const inbox = new Inbox();
  inbox.welcome(FRESH, 1n, 1n);
  for (let i = 1; i <= 1024; i++) inbox.deliver(BigInt(i), `id-${i}`);
  assert.equal(inbox.deliver(1025n, "id-1").hand, false);
});
