// Checks of what the application passes in, so that a mistake fails at once with a message
// that says what to change, instead of as a protocol error later.

import { InvalidInputError } from "./errors.js";
import type { Platform } from "./platform.js";
import type { Credentials } from "./route.js";
import type { Target } from "./types.js";

const utf8 = new TextEncoder();

function byteLength(text: string): number {
  return utf8.encode(text).length;
}

/** The credentials and device id of login options. */
export function validateLoginOptions(
  options: { userName?: string; password?: string; jwt?: string; deviceId?: string; transport?: string },
  platform: Platform,
): { credentials: Credentials; deviceId: string } {
  if (typeof options !== "object" || options === null) {
    throw new InvalidInputError("login options are an object: { userName, password } or { jwt }");
  }
  let credentials: Credentials;
  if (options.jwt !== undefined) {
    if (options.userName !== undefined || options.password !== undefined) {
      throw new InvalidInputError("give either jwt or userName and password, not both");
    }
    credentials = { jwt: options.jwt };
  } else {
    if (typeof options.userName !== "string" || options.userName === "") {
      throw new InvalidInputError("userName is a non-empty string (or give jwt)");
    }
    if (typeof options.password !== "string") throw new InvalidInputError("password is a string");
    credentials = { userName: options.userName, password: options.password };
  }
  if (options.transport !== undefined && options.transport !== "tcp" && options.transport !== "websocket") {
    throw new InvalidInputError(`transport is "tcp" or "websocket", not ${JSON.stringify(options.transport)}`);
  }
  const deviceId = options.deviceId ?? platform.defaultDeviceId();
  const length = typeof deviceId === "string" ? byteLength(deviceId) : 0;
  if (length < 1 || length > 128) throw new InvalidInputError("deviceId is a string of 1 to 128 bytes (CIM-4.3-1)");
  return { credentials, deviceId };
}

/** A recipient: exactly one of a user id, a group id or everyone. */
export function validateTarget(to: Target): void {
  if (typeof to !== "object" || to === null) {
    throw new InvalidInputError("a recipient is { userId }, { groupId } or { everyone: true }");
  }
  const keys = ["userId", "groupId", "everyone"].filter((k) => k in to);
  if (keys.length !== 1) throw new InvalidInputError("give exactly one of userId, groupId or everyone");
  if ("everyone" in to) {
    if (to.everyone !== true) throw new InvalidInputError("everyone is true");
    return;
  }
  const id = "userId" in to ? to.userId : to.groupId;
  const length = typeof id === "string" ? byteLength(id) : 0;
  if (length < 1 || length > 128) {
    throw new InvalidInputError(`${keys[0]} is an id of 1 to 128 bytes, got ${JSON.stringify(id)}`);
  }
}

/** A body as bytes: text as UTF-8. */
export function bytesOf(body: Uint8Array | string): Uint8Array {
  if (typeof body === "string") return utf8.encode(body);
  if (body instanceof Uint8Array) return body;
  throw new InvalidInputError("a body is a string or a Uint8Array");
}

/** A client message id of 128 random bits, as 32 hex digits (CIM-7.1-1, CIM-7.1-2). */
export function newClientMsgId(): string {
  const bytes = new Uint8Array(16);
  globalThis.crypto.getRandomValues(bytes);
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}
