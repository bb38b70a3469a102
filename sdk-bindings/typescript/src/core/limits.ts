// What the server's Welcome announces about timing and limits (spec §6.1, §10), with the
// defaults that stand in for zeros, and the send pacing they imply.

import type { Welcome } from "../gen/cim/v1/frame_pb.js";
import { DEFAULT_MAX_FRAME_SIZE } from "./framing.js";

export const DEFAULT_HEARTBEAT_INTERVAL_MS = 30_000;
export const DEFAULT_HEARTBEAT_TIMEOUT_MS = 75_000;
/** How long a client waits for Welcome or Error after its Hello (CIM-4.5-3). */
export const WELCOME_TIMEOUT_MS = 10_000;

export interface Limits {
  maxFrameSize: number;
  maxBodySize: number;
  maxInFlight: number;
  sendsPerSecond: number;
  sendBurst: number;
}

/** The timing and limits of a session; a 0 or an absent field means the default
 * (CIM-6.1-5, CIM-10.1-2). */
export interface SessionTerms {
  heartbeatIntervalMs: number;
  heartbeatTimeoutMs: number;
  limits: Limits;
}

export function sessionTerms(welcome: Welcome): SessionTerms {
  const l = welcome.limits;
  return {
    heartbeatIntervalMs: welcome.heartbeatIntervalMs || DEFAULT_HEARTBEAT_INTERVAL_MS,
    heartbeatTimeoutMs: welcome.heartbeatTimeoutMs || DEFAULT_HEARTBEAT_TIMEOUT_MS,
    limits: {
      maxFrameSize: l?.maxFrameSize || DEFAULT_MAX_FRAME_SIZE,
      maxBodySize: l?.maxBodySize || 32_768,
      maxInFlight: l?.maxInFlight || 64,
      sendsPerSecond: l?.sendsPerSecond || 100,
      sendBurst: l?.sendBurst || 200,
    },
  };
}

/** The token bucket of §10.3, kept on the client's side so that it never runs dry at the
 * server (CIM-10.3-5): full at Welcome, `sendsPerSecond` tokens a second, one per Send. */
export class SendBucket {
  private tokens: number;
  private refilledAt: number;

  constructor(private readonly limits: Limits, now: number) {
    this.tokens = limits.sendBurst;
    this.refilledAt = now;
  }

  /** Takes a token if there is one. */
  take(now: number): boolean {
    this.refill(now);
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }

  /** When the next token is there. */
  nextTokenAt(now: number): number {
    this.refill(now);
    if (this.tokens >= 1) return now;
    return now + Math.ceil(((1 - this.tokens) * 1000) / this.limits.sendsPerSecond);
  }

  private refill(now: number): void {
    const gained = ((now - this.refilledAt) * this.limits.sendsPerSecond) / 1000;
    this.tokens = Math.min(this.limits.sendBurst, this.tokens + gained);
    this.refilledAt = now;
  }
}
