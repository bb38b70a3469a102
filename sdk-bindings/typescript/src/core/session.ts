// The client's protocol state machine, without I/O (spec §4–§13).
//
// It never reads a clock, opens a socket or sets a timer: every input carries `now`
// (milliseconds on any monotonic clock), and what it wants done comes out of `poll()`. A
// driver (see ../client.ts) does, after every input:
//
//   1. drain `poll()` and carry out each output in order (log in, open a link, write bytes,
//      close a link, stop or resume reading one, hand an event to the application, settle a
//      send);
//   2. arm one timer for `pollTimeout()` and call `handleTimeout(now)` when it fires;
//   3. call `handleTaken` whenever the application takes an event.
//
// The messages the application sends are kept and paced by ./sending.ts.
//
// Links are numbered; input about a link that is no longer the current one is ignored, so a
// late callback from a closed socket can do no harm.

import { ClosedError, CimError, ErrorCode, errorName, retryOf } from "../errors.js";
import { GoAwayReason, type Deliver, type Error as ErrorFrame, type GoAway, type Welcome } from "../gen/cim/v1/frame_pb.js";
import type { ClientEvent, Login, SendAck, Target } from "../types.js";
import { RELOGIN_AFTER_FAILED_ATTEMPTS, backoffDelayMs, goAwayDelayMs } from "./backoff.js";
import { decodeFrame, encodeFrame, type KnownFrame } from "./codec.js";
import { TcpFrameDecoder, lengthPrefixed, websocketPayload, type Framing, type FramingError } from "./framing.js";
import { Inbox, type Delivery, type ResumePoint } from "./inbox.js";
import { SendBucket, WELCOME_TIMEOUT_MS, sessionTerms, type SessionTerms } from "./limits.js";
import { Sending, type SendChannel } from "./sending.js";

export { MAX_SEND_RETRIES } from "./sending.js";

/** The versions this client speaks (CIM-4.2-1). */
export const SUPPORTED_VERSIONS: readonly number[] = [1];
/** How long opening a link (TCP, TLS, WebSocket upgrade) may take before it counts as failed. */
export const LINK_OPEN_TIMEOUT_MS = 10_000;
/** How long to wait for the server to close after its GoAway (it should within 5 s: CIM-12.1-4). */
export const GOAWAY_CLOSE_WAIT_MS = 10_000;
/** Processed entries are acknowledged together after this delay, well within 1 s (CIM-8.3-2). */
export const ACK_DELAY_MS = 100;
/** Events waiting for the application at most (the Rust SDK's bound): past it, Delivers are
 * held back instead of handed over, and new connections wait. Not above the message ids the
 * inbox remembers (REMEMBERED_MESSAGE_IDS), so that a replay of every waiting message is
 * recognised. */
export const MAX_EVENTS_WAITING = 1024;
/** Bytes of held-back Delivers past which the client stops reading the connection; it reads
 * again once they are down to half. */
export const MAX_HELD_BYTES = 256 * 1024;
/** Held bytes past which a link that cannot stop reading (a browser WebSocket) is closed. */
export const HELD_BYTES_CLOSE = 1024 * 1024;

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
  /** Stop reading from the link (the application is behind), or read again. */
  | { kind: "pause_link"; linkId: number }
  | { kind: "resume_link"; linkId: number }
  /** Report each event's taking with `handleTaken`. */
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
  /** Delivers read while the application was behind, in order, not yet handed over. */
  held: Array<{ deliver: Deliver; size: number }>;
  heldBytes: number;
  /** The driver was asked to stop reading this link. */
  paused: boolean;
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
  private readonly sending = new Sending({
    settle: (handle, ack, error) => this.settle(handle, ack, error),
    log: (line) => this.log(line),
    random: () => this.config.random(),
  });
  /** The `now` of the latest input. */
  private lastNow = 0;
  private login: Login | undefined;
  private nextLinkId = 1;
  /** Attempts since the last Welcome that did not reach one (§13.1). */
  private failedAttempts = 0;
  private failedLogins = 0;
  private userId: string;
  /** Events handed to the driver and not yet taken by the application. */
  private waiting = 0;

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
    // While the application is behind, the next attempt waits for it (handleTaken).
    if (p.name === "waiting") return this.behind ? undefined : p.until;
    if (p.name !== "linked") return undefined;
    const link = p.link;
    const times = [link.deadline];
    if (link.terms) {
      times.push(link.lastReceivedAt + link.terms.heartbeatTimeoutMs);
      times.push(link.lastSentAt + link.terms.heartbeatIntervalMs);
    }
    if (link.ackAt !== undefined) times.push(link.ackAt);
    if (link.stage === "open") {
      const due = this.sending.nextDue(this.lastNow);
      if (due !== undefined) times.push(due);
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

  /** Events handed out (`event` outputs) that the application has not taken yet. */
  get eventsWaiting(): number {
    return this.waiting;
  }

  /** Whether the application is so far behind that nothing more is handed over. */
  private get behind(): boolean {
    return this.waiting >= MAX_EVENTS_WAITING;
  }

  // ----- inputs from the application -----

  /** Queues a message; its outcome comes out as `send_done` with `handle`. */
  submitSend(handle: number, clientMsgId: string, to: Target, contentType: string, body: Uint8Array, now: number): void {
    if (this.phase.name === "closed") {
      this.settle(handle, undefined, new ClosedError("the client is closed"));
      return;
    }
    this.sending.add(handle, clientMsgId, to, contentType, body, now);
    this.pump(now);
  }

  /** The application took an event; `delivery` is the one the event carried, if any: that
   * message is now processed (CIM-8.3-1). */
  handleTaken(delivery: Delivery | undefined, now: number): void {
    this.lastNow = now;
    if (this.waiting > 0) this.waiting--;
    if (delivery) {
      this.inbox.processed(delivery);
      this.scheduleAck(now);
    }
    if (this.phase.name === "linked") this.handOverHeld(this.phase.link, now);
  }

  /** Stops for good: closes the link and fails what is unanswered. */
  close(message: string, now: number): void {
    this.lastNow = now;
    if (this.phase.name === "closed") return;
    if (this.phase.name === "linked") this.output({ kind: "close_link", linkId: this.phase.link.id });
    this.stop(message, undefined);
  }

  // ----- inputs from the route -----

  /** A login made for the route calls' sake (the session stays up, §14.2) gave a new token
   * for the same device: the next Hello presents it, on the server this session has. */
  handleTokenRenewed(login: Login, now: number): void {
    this.lastNow = now;
    if (!this.login || login.userId !== this.login.userId) return;
    this.login = { ...this.login, token: login.token, tokenExpiresAtMs: login.tokenExpiresAtMs };
  }

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
      const body = frame.body;
      if (body.case === "deliver" && link.stage !== "handshake" && (this.behind || link.held.length > 0)) {
        // The application is behind: the entry waits here, behind the others (CIM-8.2-5),
        // while every other frame is still handled at once (Ping, Pong, SendAck, GoAway).
        this.hold(link, body.value, payload.length, now);
      } else {
        this.handleFrame(link, frame, now);
      }
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
      if (now >= p.until && !this.behind) {
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
        // CIM-6.3-4, telling the server why first (CIM-6.3-5). That holds while reading is
        // paused too: the client then connects again once the application has caught up.
        const why = link.paused ? " (reading paused: the application has not taken its events)" : "";
        this.protocolViolation(link, ErrorCode.HEARTBEAT_TIMEOUT, `nothing received within the heartbeat timeout${why}`, now);
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
        if (this.sending.acked(body.value.clientMsgId, body.value)) this.pump(now);
        return;
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
    this.output({
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

  private handleError(link: Link, error: ErrorFrame, now: number): void {
    if (error.clientMsgId) {
      if (this.sending.rejected(error, now)) this.pump(now);
      return;
    }
    // A fatal Error: this connection is over (CIM-11.1-2), what follows is not read (CIM-11.1-4).
    this.output({ kind: "close_link", linkId: link.id });
    const message = `the server ended the connection: ${errorName(error.code)} (${error.code}) ${error.message}`;
    const retry = retryOf(error.code);
    const then = retry === "no" ? "stop" : retry === "relogin" ? "relogin" : "reconnect"; // CIM-11.3-4, CIM-5.2-8
    this.ended(link, { message, code: error.code, then, minDelayMs: error.retryAfterMs }, now); // CIM-11.3-3
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
    if (this.behind) {
      // A new session would be held back at once: wait for the application (handleTaken).
      this.phase = { name: "waiting", until: now, then: "connect" };
      return;
    }
    const link: Link = {
      id: this.nextLinkId++,
      stage: "opening",
      deadline: now + LINK_OPEN_TIMEOUT_MS,
      decoder: new TcpFrameDecoder(),
      lastSentAt: now,
      lastReceivedAt: now,
      nextPingNonce: 1n,
      pingsOut: new Map(),
      held: [],
      heldBytes: 0,
      paused: false,
    };
    this.phase = { name: "linked", link };
    this.output({ kind: "connect", linkId: link.id, login: this.login });
  }

  /** The connection of `link` is over; decide what comes next. */
  private ended(link: Link, ending: Ending, now: number): void {
    const welcomed = link.terms !== undefined;
    this.sending.connectionEnded(); // everything in flight goes out again (CIM-13.2-1)
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
    this.sending.failAll(() => new ClosedError(`the client closed before the server answered: ${message}`, code));
    this.log(`closed: ${message}`);
    this.event({ type: "closed", message, code });
  }

  private currentLink(linkId: number): Link | undefined {
    return this.phase.name === "linked" && this.phase.link.id === linkId ? this.phase.link : undefined;
  }

  // ----- flow control toward the application -----

  /** Keeps a Deliver back while the application is behind; stops reading when too many are. */
  private hold(link: Link, deliver: Deliver, size: number, now: number): void {
    link.held.push({ deliver, size });
    link.heldBytes += size;
    if (link.heldBytes > HELD_BYTES_CLOSE) {
      // The link went on reading although it was asked to stop (a browser WebSocket cannot):
      // let it go; the server keeps the entries in the inbox for the next session (§8.4).
      this.output({ kind: "close_link", linkId: link.id });
      this.ended(link, { message: "the application has not taken its events; reconnecting once it has", then: "reconnect" }, now);
    } else if (link.heldBytes > MAX_HELD_BYTES && !link.paused) {
      link.paused = true;
      this.log(`${this.waiting} events wait for the application: reading paused`);
      this.output({ kind: "pause_link", linkId: link.id });
    }
  }

  /** Hands held Delivers over, in order, while the application has room for them. */
  private handOverHeld(link: Link, now: number): void {
    while (link.held.length > 0 && !this.behind) {
      const { deliver, size } = link.held.shift()!;
      link.heldBytes -= size;
      this.handleDeliver(link, deliver, now);
      if (this.currentLink(link.id) !== link) return;
    }
    if (link.paused && link.heldBytes <= MAX_HELD_BYTES / 2) {
      link.paused = false;
      this.log("reading again");
      this.output({ kind: "resume_link", linkId: link.id });
    }
  }

  // ----- sending and acknowledging -----

  /** Sends what may go out now, if a session is open (see sending.ts). */
  private pump(now: number): void {
    this.lastNow = now;
    const p = this.phase;
    let channel: SendChannel | undefined;
    if (p.name === "linked" && p.link.stage === "open" && p.link.terms && p.link.bucket) {
      const link = p.link;
      channel = {
        limits: p.link.terms.limits,
        bucket: p.link.bucket,
        write: (send) => this.transmit(link, { case: "send", value: send }, now),
      };
    }
    this.sending.pump(now, channel);
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
    if (output.kind === "event") this.waiting++;
    this.outputs.push(output);
  }

  private log(line: string): void {
    this.config.log(line);
  }
}

function targetOf(deliver: Deliver): Target {
  const kind = deliver.to?.kind;
  if (kind?.case === "groupId") return { groupId: kind.value };
  if (kind?.case === "everyone") return { everyone: true };
  if (kind?.case === "userId") return { userId: kind.value };
  return { userId: "" };
}
