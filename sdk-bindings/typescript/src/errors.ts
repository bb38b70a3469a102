// The error registry of spec §11.2 and the errors the SDK throws.
//
// Codes are an open set: a code this SDK does not know (from a newer peer) still travels as a
// number, and its class comes from its range (CIM-11.2-2, CIM-14.6-6).

/** Registry codes (spec §11.2), by name. Codes not listed here are valid too. */
export const ErrorCode = {
  MALFORMED_FRAME: 1000,
  FRAME_TOO_LARGE: 1001,
  BAD_LENGTH_PREFIX: 1002,
  UNKNOWN_FRAME: 1003,
  UNEXPECTED_FRAME: 1004,
  UNSUPPORTED_VERSION: 1005,
  HANDSHAKE_TIMEOUT: 1006,
  HEARTBEAT_TIMEOUT: 1007,
  INVALID_FIELD: 1008,
  UNAUTHENTICATED: 2000,
  TOKEN_EXPIRED: 2001,
  FORBIDDEN: 2002,
  UNKNOWN_RECIPIENT: 3000,
  BODY_TOO_LARGE: 3001,
  IN_FLIGHT_EXCEEDED: 3002,
  RATE_LIMITED: 3003,
  INVALID_CLIENT_MSG_ID: 3004,
  INBOX_FULL: 3005,
  TOO_MANY_SESSIONS: 4000,
  SLOW_CONSUMER: 4001,
  INTERNAL: 5000,
  UNAVAILABLE: 5001,
  SHUTTING_DOWN: 5002,
  OUTCOME_UNKNOWN: 5003,
  ALREADY_EXISTS: 6000,
  NOT_FOUND: 6001,
  INVALID_CREDENTIALS: 6002,
} as const;

/** What a client does after an error with this code (the "Retry" column of §11.2). */
export type Retry = "no" | "after" | "relogin";

/** Codes whose retry class is not the one of their range. */
const RETRY_EXCEPTIONS: ReadonlyMap<number, Retry> = new Map<number, Retry>([
  [ErrorCode.HANDSHAKE_TIMEOUT, "after"],
  [ErrorCode.HEARTBEAT_TIMEOUT, "after"],
  [ErrorCode.FORBIDDEN, "no"],
  [ErrorCode.IN_FLIGHT_EXCEEDED, "after"],
  [ErrorCode.RATE_LIMITED, "after"],
  [ErrorCode.SLOW_CONSUMER, "after"],
]);

const NAMES: ReadonlyMap<number, string> = new Map(
  Object.entries(ErrorCode).map(([name, code]) => [code, name]),
);

/** The registry name of `code`, or `UNKNOWN_<code>` for one this SDK does not know. */
export function errorName(code: number): string {
  return NAMES.get(code) ?? `UNKNOWN_${code}`;
}

/** The retry class of `code`; unknown codes by their range (CIM-11.2-2). */
export function retryOf(code: number): Retry {
  const exception = RETRY_EXCEPTIONS.get(code);
  if (exception !== undefined) return exception;
  if (code >= 5000 && code <= 5999) return "after";
  if (code >= 2000 && code <= 2999) return "relogin";
  return "no";
}

/** The few kinds of failure an application tells apart (the same kinds as the other SDKs). */
export type ErrorKind = "authentication" | "unavailable" | "rejected" | "invalid_input" | "closed";

/** Every error this SDK throws or rejects with. `code` is the registry code, when one applies. */
export class CimError extends Error {
  override name = "CimError";
  /** What the failure means for the caller. */
  readonly kind: ErrorKind;
  /** The registry code (§11.2), or `undefined` when the failure has none (a lost connection). */
  readonly code: number | undefined;
  /** How long the peer asked to wait before trying again, if it said. */
  readonly retryAfterMs: number | undefined;

  constructor(kind: ErrorKind, message: string, code?: number, retryAfterMs?: number) {
    super(message);
    this.kind = kind;
    this.code = code;
    this.retryAfterMs = retryAfterMs;
  }

  /** The registry name of `code` (`INVALID_CREDENTIALS`, …), if there is a code. */
  get codeName(): string | undefined {
    return this.code === undefined ? undefined : errorName(this.code);
  }
}

/** Wrong credentials, or a token that is no longer accepted. */
export class AuthenticationError extends CimError {
  override name = "AuthenticationError";
  constructor(message: string, code?: number) {
    super("authentication", message, code);
  }
}

/** The route or server cannot be reached or is overloaded; trying later may help. */
export class UnavailableError extends CimError {
  override name = "UnavailableError";
  constructor(message: string, code?: number, retryAfterMs?: number) {
    super("unavailable", message, code, retryAfterMs);
  }
}

/** The request was refused: an unknown recipient, a name taken, a body too large, … */
export class RejectedError extends CimError {
  override name = "RejectedError";
  constructor(message: string, code?: number) {
    super("rejected", message, code);
  }
}

/** An argument cannot be used as given; a mistake in the calling code. */
export class InvalidInputError extends CimError {
  override name = "InvalidInputError";
  constructor(message: string, code?: number) {
    super("invalid_input", message, code);
  }
}

/** The client is closed, or closed before the call could finish. */
export class ClosedError extends CimError {
  override name = "ClosedError";
  constructor(message: string, code?: number) {
    super("closed", message, code);
  }
}

const AUTHENTICATION_CODES: ReadonlySet<number> = new Set([
  ErrorCode.INVALID_CREDENTIALS,
  ErrorCode.UNAUTHENTICATED,
  ErrorCode.TOKEN_EXPIRED,
]);

/** The error for a refusal carrying registry `code`, of the kind its code implies. */
export function errorForCode(code: number, message: string, retryAfterMs?: number): CimError {
  if (AUTHENTICATION_CODES.has(code) || (retryOf(code) === "relogin" && code !== ErrorCode.FORBIDDEN)) {
    return new AuthenticationError(message, code);
  }
  if (retryOf(code) === "after") return new UnavailableError(message, code, retryAfterMs);
  return new RejectedError(message, code);
}
