// Frame decoding (spec §3.4) and the golden vectors of spec/v1/vectors.
import assert from "node:assert/strict";
import { readFileSync, readdirSync } from "node:fs";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import { equals, fromJson, toBinary } from "@bufbuild/protobuf";
import { decodeFrame, encodeFrame } from "../dist/core/codec.js";
import { lengthPrefixed } from "../dist/core/framing.js";
import { ErrorCode } from "../dist/errors.js";
import { FrameSchema } from "../dist/gen/cim/v1/frame_pb.js";

const vectorsDir = fileURLToPath(new URL("../../../spec/v1/vectors/", import.meta.url));
const vectors = readdirSync(vectorsDir).filter((f) => f.endsWith(".json"));
const hex = (bytes) => Buffer.from(bytes).toString("hex");

test("the golden vectors are there", () => {
  assert.ok(vectors.length >= 10, `only ${vectors.length} vectors in ${vectorsDir}`);
});

for (const file of vectors) {
  const vector = JSON.parse(readFileSync(vectorsDir + file, "utf8"));
  test(`vector ${vector.name}: encodes to its bytes and decodes to its fields`, () => {
    const frame = fromJson(FrameSchema, vector.frame);
    const encoded = toBinary(FrameSchema, frame);
    assert.equal(hex(encoded), vector.protobuf_hex);
    assert.equal(hex(lengthPrefixed(encoded)), vector.tcp_hex);
    const decoded = decodeFrame(Buffer.from(vector.protobuf_hex, "hex"));
    if (!("body" in decoded)) assert.fail(`decoded to an error: ${decoded.message}`);
    assert.ok(equals(FrameSchema, decoded, frame), "decoded fields differ from the vector's");
  });
}

test("bytes that are not a Frame are MALFORMED_FRAME", () => {
  assert.equal(decodeFrame(new Uint8Array([0x0f, 0x01])).code, ErrorCode.MALFORMED_FRAME);
  assert.equal(decodeFrame(new Uint8Array(64).fill(0xff)).code, ErrorCode.MALFORMED_FRAME);
});

test("a string that is not UTF-8 is MALFORMED_FRAME", () => {
  // Frame.error (9) { message (2): 0xff 0xfe }
  const error = new Uint8Array([0x12, 0x02, 0xff, 0xfe]);
  assert.equal(decodeFrame(new Uint8Array([0x4a, error.length, ...error])).code, ErrorCode.MALFORMED_FRAME);
});

test("a Frame with no body, or a body of a later version, is UNKNOWN_FRAME", () => {
  assert.equal(decodeFrame(new Uint8Array(0)).code, ErrorCode.UNKNOWN_FRAME);
  assert.equal(decodeFrame(new Uint8Array([0xd2, 0x02, 0x01, 0x78])).code, ErrorCode.UNKNOWN_FRAME); // field 42
});

test("unknown fields inside a known message are ignored", () => {
  const ping = encodeFrame({ case: "ping", value: { nonce: 5n } });
  // Frame.ping (3) { nonce: 5, field 99: varint 7 }
  const inner = new Uint8Array([0x08, 0x05, 0x98, 0x06, 0x07]);
  const decoded = decodeFrame(new Uint8Array([0x1a, inner.length, ...inner]));
  assert.equal(decoded.body.case, "ping");
  assert.equal(decoded.body.value.nonce, 5n);
  assert.equal(decodeFrame(ping).body.value.nonce, 5n);
});

test("an enum value this version does not know is kept as its number", () => {
  // Frame.go_away (10) { reason: 99 }
  const decoded = decodeFrame(new Uint8Array([0x52, 0x02, 0x08, 99]));
  assert.equal(decoded.body.case, "goAway");
  assert.equal(decoded.body.value.reason, 99);
});
