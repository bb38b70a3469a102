// What both entries export besides Client and register.

export {
  AuthenticationError,
  CimError,
  ClosedError,
  ErrorCode,
  InvalidInputError,
  RejectedError,
  UnavailableError,
  errorName,
  retryOf,
} from "./errors.js";
export type { ErrorKind, Retry } from "./errors.js";
export { SDK_VERSION } from "./client.js";
export { RouteClient } from "./route.js";
export type { Credentials } from "./route.js";
export type * from "./types.js";
