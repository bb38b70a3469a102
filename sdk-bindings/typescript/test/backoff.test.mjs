// Reconnection delays (spec §12.2, §13.1).
import assert from "node:assert/strict";
import { test } from "node:test";
import { backoffBoundMs, backoffDelayMs, goAwayDelayMs } from "../dist/core/backoff.js";

test("the bound starts at 500 ms, doubles, and stops at 30 s", () => {
  assert.deepEqual([0, 1, 2, 3, 4, 5, 6, 7, 50, 5000].map(backoffBoundMs), [500, 1000, 2000, 4000, 8000, 16000, 30000, 30000, 30000, 30000]);
});

test("full jitter spans 0 up to the bound", () => {
  assert.equal(backoffDelayMs(3, () => 0), 0);
  assert.equal(backoffDelayMs(3, () => 0.999999), 3999);
  for (let attempt = 0; attempt < 12; attempt++) {
    for (let i = 0; i < 200; i++) {
      const delay = backoffDelayMs(attempt, Math.random);
      assert.ok(delay >= 0 && delay < backoffBoundMs(attempt), `${delay} for attempt ${attempt}`);
    }
  }
});

test("after a GoAway the wait is reconnect_after_ms plus up to as much again", () => {
  assert.equal(goAwayDelayMs(600, () => 0), 600);
  assert.equal(goAwayDelayMs(600, () => 0.5), 900);
  assert.ok(goAwayDelayMs(600, () => 0.999999) < 1200);
  assert.equal(goAwayDelayMs(0, () => 0.5), undefined);
});
