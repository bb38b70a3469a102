// The client's protocol state machine, without I/O (spec §4–§13).
//
// It never reads a clock, opens a socket or sets a timer: every input carries `now`
// (milliseconds on any monotonic clock), and what it wants done comes out of `poll()`. A
// driver (see ../client.ts) does, after every input:
//
//   1. drain `poll()` and carry out each output in order (log in, open a link, write bytes,
//      close a link, hand an event to the application, settle a send);
//   2. arm one timer for `pollTimeout()` and call `handleTimeout(now)` when it fires.
//
// Links are numbered; input about a link that is no longer the current one is ignored, so a
// late callback from a closed socket can do no harm.

import type { MessageInitShape } from "@bufbuild/protobuf";
import {
  ClosedError,
  CimError,
  ErrorCode,
  InvalidInputError,
  RejectedError,
  errorForCode,
  errorName,
  retryOf,
} from "../errors.js";
import { GoAwayReason, type Deliver, type Error as ErrorFrame, type GoAway, type RecipientSchema, type Welcome } from "../gen/cim/v1/frame_pb.js";
import type { ClientEvent, Login, SendAck, Target } from "../types.js";
import { RELOGIN_AFTER_FAILED_ATTEMPTS, backoffDelayMs, goAwayDelayMs } from "./backoff.js";
import { decodeFrame, encodeFrame, type KnownFrame } from "./codec.js";
import { TcpFrameDecoder, lengthPrefixed, websocketPayload, type Framing, type FramingError } from "./framing.js";
import { Inbox, type Delivery, type ResumePoint } from "./inbox.js";
import { SendBucket, WELCOME_TIMEOUT_MS, sessionTerms, type SessionTerms } from "./limits.js";
import { Outbox, type PendingSend } from "./outbox.js";

/** The versions this client speaks (CIM-4.2-1). */
export const SUPPORTED_VERSIONS: readonly number[] = [1];
/** How long opening a link (TCP, TLS, WebSocket upgrade) may take before it counts as failed. */
export const LINK_OPEN_TIMEOUT_MS = 10_000;
/** How long to wait for the server to close after its GoAway (it should within 5 s: CIM-12.1-4). */
export const GOAWAY_CLOSE_WAIT_MS = 10_000;
/** Processed entries are acknowledged together after this delay, well within 1 s (CIM-8.3-2). */
export const ACK_DELAY_MS = 100;
/** Rejections whose retry is After are tried again this often before the send fails. */
export const MAX_SEND_RETRIES = 5;

export interface CoreConfig {
  deviceId: string;
  framing: Framing;
  /** `Hello.client_name`, informational. */
  clientName: string;
  /** The heartbeat interval to ask for; 0 lets the server choose. */
  heartbeatIntervalMs: number;
  resume: ResumePoint | undefined;
  /** Uniform in [0, 1): jitter and backoff. */
  random: () => number;
  log: (line: string) => void;
}

/** What the driver is asked to do. */
export type Output =
  | { kind: "login" }
  | { kind: "connect"; linkId: number; login: Login }
  | { kind: "transmit"; linkId: number; bytes: Uint8Array }
  | { kind: "close_link"; linkId: number }
  | { kind: "event"; event: ClientEvent; delivery?: Delivery }
  | { kind: "send_done"; handle: number; ack?: SendAck; error?: CimError };

/** How a connection that ended is followed up. */
interface Ending {
  message: string;
  code?: number;
  then: "reconnect" | "relogin" | "stop";
  /** Not sooner than this many ms (an Error's `retry_after_ms`). */
  minDelayMs?: number;
  /** Exactly this wait instead of the backoff (after a GoAway). */
  delayMs?: number;
}

/** The state of the current connection. */
interface Link {
  id: number;
  stage: "opening" | "handshake" | "open" | "draining";
  deadline: number;
  decoder: TcpFrameDecoder;
  lastSentAt: number;
  lastReceivedAt: number;
  terms?: SessionTerms;
  bucket?: SendBucket;
  nextPingNonce: bigint;
  pingsOut: Map<bigint, number>;
  ackAt?: number;
  goAway?: Ending;
}

type Phase =
  | { name: "waiting"; until: number; then: "login" | "connect" }
  | { name: "logging_in" }
  | { name: "linked"; link: Link }
  | { name: "closed" };

export class ClientCore {
  private phase: Phase;
  private readonly outputs: Output[] = [];
  private readonly inbox: Inbox;
  private readonly outbox = new Outbox();
  private login: Login | undefined;
  private nextLinkId = 1;
  /** Attempts since the last Welcome that did not reach one (§13.1). */
  private failedAttempts = 0;
  private failedLogins = 0;
  private userId: string;

  constructor(private readonly config: CoreConfig, login: Login | undefined, now: number) {
    this.inbox = new Inbox(config.resume);
    this.login = login;
    this.userId = login?.userId ?? "";
    this.phase = { name: "waiting", until: now, then: login ? "connect" : "login" };
  }

  // ----- outputs -----

  poll(): Output | undefined {
    return this.outputs.shift();
  }

  /** When `handleTimeout` is due next, if ever. */
  pollTimeout(): number | undefined {
    const p = this.phase;
    if (p.name === "waiting") return p.until;
    if (p.name !== "linked") return undefined;
    const link = p.link;
    const times = [link.deadline];
    if (link.terms) {
      times.push(link.lastReceivedAt + link.terms.heartbeatTimeoutMs);
      times.push(link.lastSentAt + link.terms.heartbeatIntervalMs);
    }
    if (link.ackAt !== undefined) times.push(link.ackAt);
    if (link.stage === "open") {
      const waiting = this.outbox.nextNotBefore(this.lastNow);
      if (waiting !== undefined) times.push(waiting);
      if (this.pacedUntil !== undefined) times.push(this.pacedUntil);
    }
    return Math.min(...times);
  }

  get closed(): boolean {
    return this.phase.name === "closed";
  }

  get resumePoint(): ResumePoint | undefined {
    return this.inbox.resumePoint;
  }

  get currentUserId(): string {
    return this.userId;
  }

  /** The token of the current login, for route calls (never logged). */
  get token(): string | undefined {
    return this.login?.token;
  }

  // ----- inputs from the application -----

  /** Queues a message; its outcome comes out as `send_done` with `handle`. */
  submitSend(handle: number, clientMsgId: string, to: Target, contentType: string, body: Uint8Array, now: number): void {
    if (this.phase.name === "closed") {
      this.settle(handle, undefined, new ClosedError("the client is closed"));
      return;
    }
    this.outbox.add({ handle, clientMsgId, to: recipientOf(to), contentType, body, createdAt: now });
    this.pump(now);
  }

  /** The application took the event that carried `delivery`. */
  handleProcessed(delivery: Delivery, now: number): void {
    this.inbox.processed(delivery);
    this.scheduleAck(now);
  }

  /** Stops for good: closes the link and fails what is unanswered. */
  close(message: string, now: number): void {
    this.lastNow = now;
    if (this.phase.name === "closed") return;
    if (this.phase.name === "linked") this.output({ kind: "close_link", linkId: this.phase.link.id });
    this.stop(message, undefined);
  }

  // ----- inputs from the route -----

  handleLoginResult(result: { login: Login } | { error: CimError }, now: number): void {
    this.lastNow = now;
    if (this.phase.name !== "logging_in") return;
    if ("login" in result) {
      this.login = result.login;
      this.userId = result.login.userId;
      this.failedLogins = 0;
      this.connect(now);
      return;
    }
    const { error } = result;
    // A login that failed with a code whose retry is No (or Relogin: logging in again is what
    // failed) is not repeated (CIM-14.6-7); one whose retry is After is, after Retry-After
    // (CIM-14.6-8). No answer at all (the route is unreachable) is retried as well.
    const retry = error.code === undefined ? "after" : retryOf(error.code);
    if (retry !== "after") {
      this.stop(`login refused: ${error.message}`, error.code);
      return;
    }
    const delay = Math.max(backoffDelayMs(this.failedLogins++, this.config.random), error.retryAfterMs ?? 0);
    this.log(`login failed (${error.message}); again in ${delay} ms`);
    this.phase = { name: "waiting", until: now + delay, then: "login" };
    this.event({ type: "disconnected", message: `login failed: ${error.message}`, code: error.code, retryInMs: delay });
  }

  // ----- inputs from links -----

  handleLinkOpened(linkId: number, now: number): void {
    this.lastNow = now;
    const link = this.currentLink(linkId);
    if (!link || link.stage !== "opening" || !this.login) return;
    link.stage = "handshake";
    link.deadline = now + WELCOME_TIMEOUT_MS;
    link.lastReceivedAt = now;
    const resume = this.inbox.helloResume();
    this.transmit(link, {
      case: "hello",
      value: {
        versions: [...SUPPORTED_VERSIONS],
        token: this.login.token, // as issued, never parsed (CIM-5.1-4)
        deviceId: this.config.deviceId,
        resume: resume && { epoch: resume.epoch, lastAckedSeq: resume.lastAckedSeq },
        clientName: this.config.clientName,
        maxFrameSize: 0, // 65536, the minimum; Limits keep every Deliver within it (CIM-10.1-4)
        heartbeatIntervalMs: this.config.heartbeatIntervalMs,
      },
    }, now);
  }

  /** Bytes (TCP) or a message (WebSocket) arrived on a link. */
  handleLinkData(linkId: number, data: Uint8Array | string, now: number): void {
    this.lastNow = now;
    const link = this.currentLink(linkId);
    if (!link || link.stage === "opening") return;
    let payloads: Uint8Array[];
    let fault: FramingError | undefined;
    if (this.config.framing === "tcp") {
      if (typeof data === "string") return;
      const decoded = link.decoder.push(data);
      payloads = decoded.frames;
      fault = decoded.error;
    } else {
      const payload = websocketPayload(data);
      payloads = payload instanceof Uint8Array ? [payload] : [];
      fault = payload instanceof Uint8Array ? undefined : payload;
    }
    for (const payload of payloads) {
      const frame = decodeFrame(payload);
      if (!("body" in frame)) {
        this.protocolViolation(link, frame.code, frame.message, now);
        return;
      }
      link.lastReceivedAt = now; // any frame is a sign of life (CIM-6.3-1)
      this.handleFrame(link, frame, now);
      // After a fatal frame nothing more of this connection is processed (CIM-11.1-4).
      if (this.currentLink(linkId) !== link) return;
    }
    if (fault) this.protocolViolation(link, fault.code, fault.message, now);
  }

  /** The link closed, or could not be opened; `why` is for people. */
  handleLinkClosed(linkId: number, why: string, now: number): void {
    this.lastNow = now;
    const link = this.currentLink(linkId);
    if (!link) return;
    if (link.goAway) {
      this.ended(link, link.goAway, now);
    } else {
      this.ended(link, { message: `connection lost: ${why}`, then: "reconnect" }, now);
    }
  }

  handleTimeout(now: number): void {
    this.lastNow = now;
    const p = this.phase;
    if (p.name === "waiting") {
      if (now >= p.until) {
        if (p.then === "login" || !this.login) this.startLogin();
        else this.connect(now);
      }
      return;
    }
    if (p.name !== "linked") return;
    const link = p.link;
    if (now >= link.deadline) {
      this.output({ kind: "close_link", linkId: link.id });
      const ending: Ending = link.goAway ?? {
        message: link.stage === "opening" ? "could not connect in time" : "no Welcome within 10 s",
        then: "reconnect",
      };
      this.ended(link, ending, now);
      return;
    }
    if (link.terms) {
      if (now - link.lastReceivedAt >= link.terms.heartbeatTimeoutMs) {
        // CIM-6.3-4, telling the server why first (CIM-6.3-5).
        this.protocolViolation(link, ErrorCode.HEARTBEAT_TIMEOUT, "nothing received within the heartbeat timeout", now);
        return;
      }
      if (now - link.lastSentAt >= link.terms.heartbeatIntervalMs) {
        const nonce = link.nextPingNonce++;
        link.pingsOut.set(nonce, now);
        this.transmit(link, { case: "ping", value: { nonce } }, now); // CIM-6.2-1
      }
    }
    if (link.ackAt !== undefined && now >= link.ackAt) {
      link.ackAt = undefined;
      this.sendAck(link, now);
    }
    this.pump(now);
  }

  // ----- frames -----

  private handleFrame(link: Link, frame: KnownFrame, now: number): void {
    const body = frame.body;
    if (link.stage === "handshake") {
      if (body.case === "welcome") return this.handleWelcome(link, body.value, now);
      if (body.case === "error") return this.handleError(link, body.value, now);
      if (body.case === "goAway") return this.handleGoAway(link, body.value, now);
      return this.protocolViolation(link, ErrorCode.UNEXPECTED_FRAME, `${body.case} before Welcome`, now); // CIM-4.1-5
    }
    switch (body.case) {
      case "ping":
        this.transmit(link, { case: "pong", value: { nonce: body.value.nonce } }, now); // CIM-6.2-3
        return;
      case "pong":
        // A Pong for no Ping of ours is ignored (CIM-6.2-5).
        link.pingsOut.delete(body.value.nonce);
        return;
      case "sendAck":
        return this.handleSendAck(body.value.clientMsgId, body.value, now);
      case "deliver":
        return this.handleDeliver(link, body.value, now);
      case "error":
        return this.handleError(link, body.value, now);
      case "goAway":
        return this.handleGoAway(link, body.value, now);
      default:
        // Hello, Send, DeliverAck or a second Welcome (CIM-4.1-8).
        return this.protocolViolation(link, ErrorCode.UNEXPECTED_FRAME, `${body.case} from the server`, now);
    }
  }

  private handleWelcome(link: Link, welcome: Welcome, now: number): void {
    if (!SUPPORTED_VERSIONS.includes(welcome.version)) {
      return this.protocolViolation(link, ErrorCode.INVALID_FIELD, `Welcome.version ${welcome.version} was not offered`, now); // CIM-4.2-5
    }
    if (!welcome.sessionId || !welcome.userId || !welcome.resume) {
      return this.protocolViolation(link, ErrorCode.INVALID_FIELD, "Welcome without session_id, user_id or resume", now); // CIM-4.4-6
    }
    link.stage = "open";
    link.deadline = Number.POSITIVE_INFINITY;
    link.terms = sessionTerms(welcome);
    link.bucket = new SendBucket(link.terms.limits, now);
    link.lastSentAt = now;
    this.failedAttempts = 0; // CIM-13.1-3
    const r = welcome.resume;
    const { kind, lost } = this.inbox.welcome(r.outcome, r.epoch, r.nextSeq);
    this.log(`session ${welcome.sessionId} on ${welcome.serverId || "?"}: ${kind}, next seq ${r.nextSeq}`);
    this.event({ type: "connected", sessionId: welcome.sessionId, serverId: welcome.serverId, userId: welcome.userId, resumed: kind });
    // Before any entry of the session (CIM-8.4-11, CIM-8.4-12).
    if (lost) this.event({ type: "messages_lost", reason: lost, epoch: r.epoch });
    this.pump(now);
  }

  private handleDeliver(link: Link, deliver: Deliver, now: number): void {
    const verdict = this.inbox.deliver(deliver.seq, deliver.messageId);
    if (!verdict.hand) {
      if (verdict.violation) this.protocolViolation(link, ErrorCode.INVALID_FIELD, verdict.violation, now);
      else this.scheduleAck(now);
      return;
    }
    const sentAtMs = Number(deliver.sentAtMs);
    this.outputs.push({
      kind: "event",
      event: {
        type: "message",
        seq: Number(deliver.seq),
        messageId: deliver.messageId, // opaque (CIM-7.5-5)
        fromUserId: deliver.fromUserId,
        to: targetOf(deliver),
        contentType: deliver.contentType || "text/plain", // CIM-7.1-11
        body: deliver.body,
        text: new TextDecoder().decode(deliver.body),
        sentAtMs,
        sentAt: new Date(sentAtMs),
      },
      ...(verdict.delivery ? { delivery: verdict.delivery } : {}),
    });
  }

  private handleSendAck(clientMsgId: string, ack: { messageId: string; sentAtMs: bigint; duplicate: boolean; liveOnly: boolean }, now: number): void {
    const entry = this.outbox.inFlight(clientMsgId); // matched by id, not order (CIM-7.2-6)
    if (!entry) return this.log(`a SendAck for ${clientMsgId}, which is not in flight: ignored`); // CIM-7.2-8
    this.outbox.remove(entry);
    const sentAtMs = Number(ack.sentAtMs);
    this.settle(entry.handle, { messageId: ack.messageId, sentAtMs, duplicate: ack.duplicate, liveOnly: ack.liveOnly });
    this.pump(now);
  }

  private handleError(link: Link, error: ErrorFrame, now: number): void {
    if (error.clientMsgId) return this.handleRejection(error, now);
    // A fatal Error: this connection is over (CIM-11.1-2), what follows is not read (CIM-11.1-4).
    this.output({ kind: "close_link", linkId: link.id });
    const message = `the server ended the connection: ${errorName(error.code)} (${error.code}) ${error.message}`;
    const retry = retryOf(error.code);
    const then = retry === "no" ? "stop" : retry === "relogin" ? "relogin" : "reconnect"; // CIM-11.3-4, CIM-5.2-8
    this.ended(link, { message, code: error.code, then, minDelayMs: error.retryAfterMs }, now); // CIM-11.3-3
  }

  /** An Error rejecting one Send; the connection stays open whatever the code (CIM-11.1-7). */
  private handleRejection(error: ErrorFrame, now: number): void {
    const entry = this.outbox.inFlight(error.clientMsgId);
    if (!entry) return this.log(`an Error for ${error.clientMsgId}, which is not in flight: ignored`); // CIM-11.1-8
    const unlimited = error.code === ErrorCode.OUTCOME_UNKNOWN || error.code === ErrorCode.RATE_LIMITED ||
      error.code === ErrorCode.IN_FLIGHT_EXCEEDED;
    if (retryOf(error.code) === "after" && (unlimited || entry.retries < MAX_SEND_RETRIES)) {
      // Sent again unchanged (CIM-7.2-11), not before retry_after_ms (CIM-11.3-3), and never
      // reported failed for OUTCOME_UNKNOWN (CIM-7.2-12).
      const wait = Math.max(error.retryAfterMs, backoffDelayMs(entry.retries, this.config.random));
      entry.retries++;
      entry.inFlight = false;
      entry.notBefore = now + wait;
      this.log(`${errorName(error.code)} for ${entry.clientMsgId}: sent again in ${wait} ms`);
    } else {
      // A code whose retry is No is reported, not retried (CIM-11.3-1).
      this.outbox.remove(entry);
      this.settle(entry.handle, undefined, errorForCode(error.code, error.message || errorName(error.code), error.retryAfterMs));
    }
    this.pump(now);
  }

  private handleGoAway(link: Link, goAway: GoAway, now: number): void {
    if (link.goAway) return;
    const reason = goAway.reason;
    const name = GoAwayReason[reason] ?? `reason ${reason}`;
    const message = `the server is closing the connection (${name}): ${goAway.message}`;
    const delayMs = goAwayDelayMs(goAway.reconnectAfterMs, this.config.random); // CIM-12.2-7
    let then: Ending["then"];
    if (reason === GoAwayReason.SESSION_REPLACED || reason === GoAwayReason.LOGGED_OUT) {
      then = "stop"; // CIM-12.2-5
    } else {
      // TOKEN_EXPIRED (CIM-12.2-4), SHUTDOWN, REBALANCE and any other reason (CIM-12.2-6):
      // log in again to be assigned a server (CIM-12.2-3).
      then = "relogin";
    }
    const ending: Ending = { message, then };
    if (delayMs !== undefined) ending.delayMs = delayMs;
    link.goAway = ending;
    // No more Sends here (CIM-12.2-1), but keep reading and acknowledging until the server
    // closes (CIM-12.2-2).
    link.stage = link.stage === "open" ? "draining" : link.stage;
    link.deadline = now + GOAWAY_CLOSE_WAIT_MS;
    this.log(message);
  }

  /** The server broke the protocol: tell it why, close, and try again with backoff. */
  private protocolViolation(link: Link, code: number, message: string, now: number): void {
    this.log(`closing the connection: ${errorName(code)}: ${message}`);
    // A fatal Error carries no client_msg_id (CIM-11.1-5) and is the last frame (CIM-11.1-1).
    this.transmit(link, { case: "error", value: { code, message } }, now);
    this.output({ kind: "close_link", linkId: link.id });
    this.ended(link, { message: `protocol error: ${errorName(code)}: ${message}`, code, then: "reconnect" }, now);
  }

  // ----- connections -----

  private startLogin(): void {
    this.phase = { name: "logging_in" };
    this.output({ kind: "login" });
  }

  private connect(now: number): void {
    if (!this.login) return this.startLogin();
    const link: Link = {
      id: this.nextLinkId++,
      stage: "opening",
      deadline: now + LINK_OPEN_TIMEOUT_MS,
      decoder: new TcpFrameDecoder(),
      lastSentAt: now,
      lastReceivedAt: now,
      nextPingNonce: 1n,
      pingsOut: new Map(),
    };
    this.phase = { name: "linked", link };
    this.output({ kind: "connect", linkId: link.id, login: this.login });
  }

  /** The connection of `link` is over; decide what comes next. */
  private ended(link: Link, ending: Ending, now: number): void {
    const welcomed = link.terms !== undefined;
    this.outbox.connectionEnded(); // everything in flight goes out again (CIM-13.2-1)
    this.pacedUntil = undefined;
    if (ending.then === "stop") return this.stop(ending.message, ending.code);
    if (!welcomed) this.failedAttempts++;
    let relogin = ending.then === "relogin";
    if (this.failedAttempts > 0 && this.failedAttempts % RELOGIN_AFTER_FAILED_ATTEMPTS === 0) relogin = true; // CIM-13.1-4
    if (relogin) this.login = undefined; // the token is not presented again (CIM-5.2-8)
    let delay = ending.delayMs ?? backoffDelayMs(this.failedAttempts, this.config.random); // CIM-13.1-1
    delay = Math.max(delay, ending.minDelayMs ?? 0);
    this.phase = { name: "waiting", until: now + delay, then: relogin ? "login" : "connect" };
    this.log(`${ending.message}; ${relogin ? "logging in" : "connecting"} again in ${delay} ms`);
    const event: ClientEvent = { type: "disconnected", message: ending.message, code: ending.code, retryInMs: delay };
    this.event(event);
  }

  private stop(message: string, code: number | undefined): void {
    this.phase = { name: "closed" };
    for (const entry of this.outbox.takeAll()) {
      this.settle(entry.handle, undefined, new ClosedError(`the client closed before the server answered: ${message}`, code));
    }
    this.log(`closed: ${message}`);
    this.event({ type: "closed", message, code });
  }

  private currentLink(linkId: number): Link | undefined {
    return this.phase.name === "linked" && this.phase.link.id === linkId ? this.phase.link : undefined;
  }

  // ----- sending -----

  /** Set while the send rate holds messages back (CIM-10.3-5). */
  private pacedUntil: number | undefined;
  private lastNow = 0;

  /** Sends what may go out now: in order, within max_in_flight and the rate (§10.3). */
  private pump(now: number): void {
    this.lastNow = now;
    for (const expired of this.outbox.takeExpired(now)) {
      this.settle(expired.handle, undefined, new RejectedError("no answer from the server within 24 hours"));
    }
    const p = this.phase;
    if (p.name !== "linked" || p.link.stage !== "open" || !p.link.terms || !p.link.bucket) return;
    const { link } = p;
    const limits = p.link.terms.limits;
    this.pacedUntil = undefined;
    while (this.outbox.inFlightCount() < limits.maxInFlight) { // CIM-10.3-1
      const entry = this.outbox.nextToSend(now);
      if (!entry) return;
      const refusal = this.sizeRefusal(entry, limits.maxFrameSize, limits.maxBodySize);
      if (refusal) {
        this.outbox.remove(entry);
        this.settle(entry.handle, undefined, refusal);
        continue;
      }
      if (!p.link.bucket.take(now)) {
        this.pacedUntil = p.link.bucket.nextTokenAt(now);
        return;
      }
      entry.inFlight = true;
      this.transmit(link, { case: "send", value: sendOf(entry) }, now);
    }
  }

  /** Why `entry` cannot be sent on a session with these limits, if it cannot (CIM-10.2-2). */
  private sizeRefusal(entry: PendingSend, maxFrameSize: number, maxBodySize: number): CimError | undefined {
    if (entry.body.length > maxBodySize) {
      return new RejectedError(`a body of ${entry.body.length} bytes is over the server's limit of ${maxBodySize}`, ErrorCode.BODY_TOO_LARGE);
    }
    const size = encodeFrame({ case: "send", value: sendOf(entry) }).length;
    if (size > maxFrameSize) {
      return new InvalidInputError(`the message makes a frame of ${size} bytes, over the server's limit of ${maxFrameSize}`, ErrorCode.FRAME_TOO_LARGE);
    }
    return undefined;
  }

  private scheduleAck(now: number): void {
    const p = this.phase;
    if (p.name !== "linked" || !p.link.terms || p.link.ackAt !== undefined) return;
    if (this.inbox.ackDue() !== undefined) p.link.ackAt = now + ACK_DELAY_MS;
  }

  private sendAck(link: Link, now: number): void {
    const upTo = this.inbox.ackDue();
    if (upTo === undefined) return;
    this.inbox.acked(upTo);
    this.transmit(link, { case: "deliverAck", value: { upToSeq: upTo } }, now);
  }

  // ----- plumbing -----

  private transmit(link: Link, body: Parameters<typeof encodeFrame>[0], now: number): void {
    const payload = encodeFrame(body);
    const bytes = this.config.framing === "tcp" ? lengthPrefixed(payload) : payload;
    link.lastSentAt = now;
    this.output({ kind: "transmit", linkId: link.id, bytes });
  }

  private settle(handle: number, ack: SendAck | undefined, error?: CimError): void {
    this.output(ack ? { kind: "send_done", handle, ack } : { kind: "send_done", handle, ...(error ? { error } : {}) });
  }

  private event(event: ClientEvent): void {
    this.output({ kind: "event", event });
  }

  private output(output: Output): void {
    this.outputs.push(output);
  }

  private log(line: string): void {
    this.config.log(line);
  }
}

function recipientOf(to: Target): MessageInitShape<typeof RecipientSchema> {
  if ("userId" in to) return { kind: { case: "userId", value: to.userId } };
  if ("groupId" in to) return { kind: { case: "groupId", value: to.groupId } };
  return { kind: { case: "everyone", value: {} } };
}

function targetOf(deliver: Deliver): Target {
  const kind = deliver.to?.kind;
  if (kind?.case === "groupId") return { groupId: kind.value };
  if (kind?.case === "everyone") return { everyone: true };
  if (kind?.case === "userId") return { userId: kind.value };
  return { userId: "" };
}

function sendOf(entry: PendingSend) {
  return { clientMsgId: entry.clientMsgId, to: entry.to, contentType: entry.contentType, body: entry.body };
}
