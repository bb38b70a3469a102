// Framing on TCP and WebSocket (spec §3.1, §3.2).
import assert from "node:assert/strict";
import { test } from "node:test";
import { TcpFrameDecoder, lengthPrefixed, websocketPayload } from "../dist/core/framing.js";
import { ErrorCode } from "../dist/errors.js";

test("a length prefix is the shortest varint of the frame's size", () => {
  assert.deepEqual([...lengthPrefixed(new Uint8Array(0))], [0]);
  assert.deepEqual([...lengthPrefixed(new Uint8Array(127)).subarray(0, 1)], [127]);
  assert.deepEqual([...lengthPrefixed(new Uint8Array(128)).subarray(0, 2)], [0x80, 0x01]);
  assert.deepEqual([...lengthPrefixed(new Uint8Array(300)).subarray(0, 2)], [0xac, 0x02]);
  assert.equal(lengthPrefixed(new Uint8Array(65_536)).length, 65_536 + 3);
});

test("frames split across reads, one byte at a time, come out whole and in order", () => {
  const stream = new Uint8Array([...lengthPrefixed(new Uint8Array([1, 2, 3])), ...lengthPrefixed(new Uint8Array(200).fill(7))]);
  const decoder = new TcpFrameDecoder();
  const frames = [];
  for (const byte of stream) {
    const decoded = decoder.push(new Uint8Array([byte]));
    assert.equal(decoded.error, undefined);
    frames.push(...decoded.frames);
  }
  assert.equal(frames.length, 2);
  assert.deepEqual([...frames[0]], [1, 2, 3]);
  assert.equal(frames[1].length, 200);
});

test("a padded 5-byte prefix is accepted", () => {
  const decoded = new TcpFrameDecoder().push(new Uint8Array([0x82, 0x80, 0x80, 0x80, 0x00, 9, 9]));
  assert.equal(decoded.error, undefined);
  assert.deepEqual(decoded.frames.map((f) => [...f]), [[9, 9]]);
});

test("a prefix of more than 5 bytes is BAD_LENGTH_PREFIX", () => {
  const decoded = new TcpFrameDecoder().push(new Uint8Array([0x80, 0x80, 0x80, 0x80, 0x80, 0x01]));
  assert.equal(decoded.error?.code, ErrorCode.BAD_LENGTH_PREFIX);
});

test("a 5-byte prefix over 4294967295 is BAD_LENGTH_PREFIX", () => {
  const decoded = new TcpFrameDecoder().push(new Uint8Array([0xff, 0xff, 0xff, 0xff, 0x7f]));
  assert.equal(decoded.error?.code, ErrorCode.BAD_LENGTH_PREFIX);
});

test("a prefix over the maximum frame size is FRAME_TOO_LARGE before any frame byte arrives", () => {
  const prefix = lengthPrefixed(new Uint8Array(65_537)).subarray(0, 3);
  const decoded = new TcpFrameDecoder().push(prefix);
  assert.equal(decoded.error?.code, ErrorCode.FRAME_TOO_LARGE);
});

test("a frame cut off is held back, never returned in part", () => {
  const whole = lengthPrefixed(new Uint8Array(10).fill(1));
  const decoder = new TcpFrameDecoder();
  assert.deepEqual(decoder.push(whole.subarray(0, whole.length - 3)).frames, []);
});

test("frames after a framing fault in the same read are not returned", () => {
  const stream = new Uint8Array([...lengthPrefixed(new Uint8Array([5])), 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, ...lengthPrefixed(new Uint8Array([6]))]);
  const decoded = new TcpFrameDecoder().push(stream);
  assert.deepEqual(decoded.frames.map((f) => [...f]), [[5]]);
  assert.equal(decoded.error?.code, ErrorCode.BAD_LENGTH_PREFIX);
  assert.deepEqual(new TcpFrameDecoder().push(new Uint8Array()).frames, []);
});

test("a WebSocket text message is MALFORMED_FRAME and an oversized one FRAME_TOO_LARGE", () => {
  assert.equal(websocketPayload("{}").code, ErrorCode.MALFORMED_FRAME);
  assert.equal(websocketPayload(new Uint8Array(65_537)).code, ErrorCode.FRAME_TOO_LARGE);
  assert.equal(websocketPayload(new Uint8Array(65_536)).length, 65_536);
});
