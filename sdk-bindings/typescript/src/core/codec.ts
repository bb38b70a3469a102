// Frame payloads to and from protobuf (spec §3.4).

import { create, fromBinary, toBinary, type MessageInitShape } from "@bufbuild/protobuf";
import { ErrorCode } from "../errors.js";
import { FrameSchema, type Frame } from "../gen/cim/v1/frame_pb.js";
import type { FramingError } from "./framing.js";

/** The members of `Frame.body` this version knows. */
const KNOWN_BODIES: ReadonlySet<string> = new Set([
  "hello",
  "welcome",
  "ping",
  "pong",
  "send",
  "sendAck",
  "deliver",
  "deliverAck",
  "error",
  "goAway",
]);

/** A decoded frame whose body is set. */
export type KnownFrame = Frame & { body: Exclude<Frame["body"], { case: undefined }> };

/**
 * Decodes one frame payload. Bytes that are not a `Frame`, including strings that are not
 * UTF-8, are MALFORMED_FRAME (CIM-3.4-1); a Frame without a body this version knows is
 * UNKNOWN_FRAME (CIM-3.4-2). Unknown fields inside known messages are kept aside by the
 * decoder and otherwise ignored (CIM-3.4-3), and enum values are taken as numbers (CIM-3.4-4).
 */
export function decodeFrame(payload: Uint8Array): KnownFrame | FramingError {
  let frame: Frame;
  try {
    frame = fromBinary(FrameSchema, payload);
  } catch (e) {
    return { code: ErrorCode.MALFORMED_FRAME, message: `not a Frame: ${(e as Error).message}` };
  }
  if (frame.body.case === undefined || !KNOWN_BODIES.has(frame.body.case)) {
    return { code: ErrorCode.UNKNOWN_FRAME, message: "a Frame without a body this client knows" };
  }
  return frame as KnownFrame;
}

/** Encodes a frame given as its body, e.g. `{ case: "ping", value: { nonce: 1n } }`. */
export function encodeFrame(body: MessageInitShape<typeof FrameSchema>["body"]): Uint8Array {
  return toBinary(FrameSchema, create(FrameSchema, { body }));
}

