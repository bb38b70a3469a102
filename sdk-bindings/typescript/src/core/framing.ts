// Frame boundaries on the two transports (spec §3.1, §3.2). Bytes in, frame payloads out;
// no protobuf here.

import { ErrorCode } from "../errors.js";

/** The largest frame either side accepts before Welcome, and the client's own maximum
 * (it sends `Hello.max_frame_size` 0, which means this): spec §10.2. */
export const DEFAULT_MAX_FRAME_SIZE = 65_536;

/** How the frames of one connection are marked. */
export type Framing = "tcp" | "websocket";

/** A framing violation by the peer: the code of the fatal Error to answer it with. */
export interface FramingError {
  code: number;
  message: string;
}

/** `payload` behind its length as an unsigned LEB128 varint, shortest form (CIM-3.1-1). */
export function lengthPrefixed(payload: Uint8Array): Uint8Array {
  const prefix: number[] = [];
  let length = payload.length;
  while (length >= 0x80) {
    prefix.push((length & 0x7f) | 0x80);
    length >>>= 7;
  }
  prefix.push(length);
  const out = new Uint8Array(prefix.length + payload.length);
  out.set(prefix, 0);
  out.set(payload, prefix.length);
  return out;
}

/** What one call of {@link TcpFrameDecoder.push} found. */
export interface Decoded {
  frames: Uint8Array[];
  /** Set when the stream broke the framing rules; frames after the fault are not returned. */
  error?: FramingError;
}

/**
 * Splits a TCP byte stream into frame payloads. An incomplete frame stays buffered until its
 * last byte arrives; if the connection ends first it is simply never returned (CIM-3.1-5).
 */
export class TcpFrameDecoder {
  private buffer: Uint8Array = new Uint8Array(0);
  private failed = false;

  constructor(private readonly maxFrameSize: number = DEFAULT_MAX_FRAME_SIZE) {}

  push(chunk: Uint8Array): Decoded {
    const frames: Uint8Array[] = [];
    if (this.failed) return { frames };
    this.buffer = this.buffer.length === 0 ? chunk : concat(this.buffer, chunk);
    let offset = 0;
    for (;;) {
      const prefix = readLengthPrefix(this.buffer, offset);
      if (prefix === "incomplete") break;
      if ("error" in prefix) {
        this.failed = true;
        this.buffer = new Uint8Array(0);
        return { frames, error: prefix.error };
      }
      // Checked on the prefix alone, before waiting for (or buffering) the frame (CIM-3.1-4).
      if (prefix.length > this.maxFrameSize) {
        this.failed = true;
        this.buffer = new Uint8Array(0);
        const message = `a frame of ${prefix.length} bytes is over the limit of ${this.maxFrameSize}`;
        return { frames, error: { code: ErrorCode.FRAME_TOO_LARGE, message } };
      }
      const start = offset + prefix.size;
      const end = start + prefix.length;
      if (end > this.buffer.length) break;
      frames.push(this.buffer.slice(start, end));
      offset = end;
    }
    this.buffer = offset === 0 ? this.buffer : this.buffer.slice(offset);
    return { frames };
  }
}

type Prefix = { length: number; size: number } | { error: FramingError } | "incomplete";

/** Reads a varint of at most 5 bytes; any form, shortest or not, is accepted (CIM-3.1-2). */
function readLengthPrefix(buffer: Uint8Array, offset: number): Prefix {
  let value = 0;
  for (let i = 0; i < 5; i++) {
    if (offset + i >= buffer.length) return "incomplete";
    const byte = buffer[offset + i]!;
    value += (byte & 0x7f) * 2 ** (7 * i);
    if ((byte & 0x80) === 0) {
      if (value > 0xffff_ffff) {
        return { error: { code: ErrorCode.BAD_LENGTH_PREFIX, message: "a length prefix over 4294967295" } };
      }
      return { length: value, size: i + 1 };
    }
  }
  return { error: { code: ErrorCode.BAD_LENGTH_PREFIX, message: "a length prefix of more than 5 bytes" } };
}

/** A WebSocket message as a frame payload (CIM-3.2-1), or the violation it is. */
export function websocketPayload(
  message: Uint8Array | string,
  maxFrameSize: number = DEFAULT_MAX_FRAME_SIZE,
): Uint8Array | FramingError {
  if (typeof message === "string") {
    return { code: ErrorCode.MALFORMED_FRAME, message: "a WebSocket text message, not a binary one" };
  }
  if (message.length > maxFrameSize) {
    const text = `a WebSocket message of ${message.length} bytes is over the limit of ${maxFrameSize}`;
    return { code: ErrorCode.FRAME_TOO_LARGE, message: text };
  }
  return message;
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a, 0);
  out.set(b, a.length);
  return out;
}
