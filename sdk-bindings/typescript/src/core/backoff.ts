// Delays before reconnecting (spec §12.2, §13.1). `random` returns a number in [0, 1), like
// Math.random, so that tests can pin it.

/** Base of the backoff, CIM-13.1-2. */
export const BACKOFF_BASE_MS = 500;
/** Cap of the backoff, CIM-13.1-2. */
export const BACKOFF_CAP_MS = 30_000;
/** Failed attempts after which the client logs in again to be assigned a server (CIM-13.1-4). */
export const RELOGIN_AFTER_FAILED_ATTEMPTS = 3;

/** The upper bound of the delay before attempt `attempt` (0 right after a Welcome). */
export function backoffBoundMs(attempt: number): number {
  // 2^attempt overflows nothing before the cap: 500 * 2^6 is already past 30 s.
  return Math.min(BACKOFF_CAP_MS, BACKOFF_BASE_MS * 2 ** Math.min(attempt, 16));
}

/** "Full jitter": uniform in [0, min(cap, base × 2^attempt)] (CIM-13.1-1). */
export function backoffDelayMs(attempt: number, random: () => number): number {
  return Math.floor(random() * backoffBoundMs(attempt));
}

/**
 * The wait after a GoAway: `reconnect_after_ms` plus a uniform share of it (CIM-12.2-7), so
 * that the sessions of a server that shuts down do not all come back at once. `undefined`
 * when the server gave no delay: then the backoff applies.
 */
export function goAwayDelayMs(reconnectAfterMs: number, random: () => number): number | undefined {
  if (reconnectAfterMs <= 0) return undefined;
  return reconnectAfterMs + Math.floor(random() * reconnectAfterMs);
}
