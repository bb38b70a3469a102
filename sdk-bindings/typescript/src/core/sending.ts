// The sending side of the client's state machine (spec §7.1, §7.2, §10.3, §13.2): the
// messages the application sent, which of them may go out now, and what the server's answers
// to them settle. The session (./session.ts) owns the connection and gives this its Sends'
// way out while a session is open.

import type { MessageInitShape } from "@bufbuild/protobuf";
import { CimError, ErrorCode, InvalidInputError, RejectedError, errorForCode, errorName, retryOf } from "../errors.js";
import type { Error as ErrorFrame, RecipientSchema, SendSchema } from "../gen/cim/v1/frame_pb.js";
import type { SendAck, Target } from "../types.js";
import { backoffDelayMs } from "./backoff.js";
import { encodeFrame } from "./codec.js";
import type { Limits, SendBucket } from "./limits.js";
import { Outbox, type PendingSend } from "./outbox.js";

/** Rejections whose retry is After are tried again this often before the send fails. */
export const MAX_SEND_RETRIES = 5;

/** An open session as Sends see it: its limits, its rate and the way to write a Send. */
export interface SendChannel {
  limits: Limits;
  bucket: SendBucket;
  write(send: MessageInitShape<typeof SendSchema>): void;
}

export interface SendingHost {
  /** The outcome of the message queued with `handle`. */
  settle(handle: number, ack: SendAck | undefined, error?: CimError): void;
  log(line: string): void;
  random(): number;
}

export class Sending {
  private readonly outbox = new Outbox();
  /** Set while the send rate holds messages back (CIM-10.3-5). */
  private pacedUntil: number | undefined;

  constructor(private readonly host: SendingHost) {}

  /** Queues a message; `pump` sends it. */
  add(handle: number, clientMsgId: string, to: Target, contentType: string, body: Uint8Array, now: number): void {
    this.outbox.add({ handle, clientMsgId, to: recipientOf(to), contentType, body, createdAt: now });
  }

  /** When `pump` has work on an open session next: a retry's time or the rate's next token. */
  nextDue(now: number): number | undefined {
    const waiting = this.outbox.nextNotBefore(now);
    if (waiting === undefined) return this.pacedUntil;
    return this.pacedUntil === undefined ? waiting : Math.min(waiting, this.pacedUntil);
  }

  /** Fails what waited too long, then sends what may go out now on `channel` (none while no
   * session is open): in order, within max_in_flight and the rate (§10.3). */
  pump(now: number, channel: SendChannel | undefined): void {
    for (const expired of this.outbox.takeExpired(now)) {
      this.host.settle(expired.handle, undefined, new RejectedError("no answer from the server within 24 hours"));
    }
    if (!channel) return;
    const { limits, bucket } = channel;
    this.pacedUntil = undefined;
    while (this.outbox.inFlightCount() < limits.maxInFlight) { // CIM-10.3-1
      const entry = this.outbox.nextToSend(now);
      if (!entry) return;
      const refusal = sizeRefusal(entry, limits.maxFrameSize, limits.maxBodySize);
      if (refusal) {
        this.outbox.remove(entry);
        this.host.settle(entry.handle, undefined, refusal);
        continue;
      }
      if (!bucket.take(now)) {
        this.pacedUntil = bucket.nextTokenAt(now);
        return;
      }
      entry.inFlight = true;
      channel.write(sendOf(entry));
    }
  }

  /** A SendAck; false when it answers nothing in flight. */
  acked(clientMsgId: string, ack: { messageId: string; sentAtMs: bigint; duplicate: boolean; liveOnly: boolean }): boolean {
    const entry = this.outbox.inFlight(clientMsgId); // matched by id, not order (CIM-7.2-6)
    if (!entry) {
      this.host.log(`a SendAck for ${clientMsgId}, which is not in flight: ignored`); // CIM-7.2-8
      return false;
    }
    this.outbox.remove(entry);
    const sentAtMs = Number(ack.sentAtMs);
    this.host.settle(entry.handle, { messageId: ack.messageId, sentAtMs, duplicate: ack.duplicate, liveOnly: ack.liveOnly });
    return true;
  }

  /** An Error rejecting one Send; the connection stays open whatever the code (CIM-11.1-7).
   * False when it answers nothing in flight. */
  rejected(error: ErrorFrame, now: number): boolean {
    const entry = this.outbox.inFlight(error.clientMsgId);
    if (!entry) {
      this.host.log(`an Error for ${error.clientMsgId}, which is not in flight: ignored`); // CIM-11.1-8
      return false;
    }
    const unlimited = error.code === ErrorCode.OUTCOME_UNKNOWN || error.code === ErrorCode.RATE_LIMITED ||
      error.code === ErrorCode.IN_FLIGHT_EXCEEDED;
    if (retryOf(error.code) === "after" && (unlimited || entry.retries < MAX_SEND_RETRIES)) {
      // Sent again unchanged (CIM-7.2-11), not before retry_after_ms (CIM-11.3-3), and never
      // reported failed for OUTCOME_UNKNOWN (CIM-7.2-12).
      const wait = Math.max(error.retryAfterMs, backoffDelayMs(entry.retries, () => this.host.random()));
      entry.retries++;
      entry.inFlight = false;
      entry.notBefore = now + wait;
      this.host.log(`${errorName(error.code)} for ${entry.clientMsgId}: sent again in ${wait} ms`);
    } else {
      // A code whose retry is No is reported, not retried (CIM-11.3-1).
      this.outbox.remove(entry);
      this.host.settle(entry.handle, undefined, errorForCode(error.code, error.message || errorName(error.code), error.retryAfterMs));
    }
    return true;
  }

  /** The connection ended: everything in flight goes out again on the next (CIM-13.2-1). */
  connectionEnded(): void {
    this.outbox.connectionEnded();
    this.pacedUntil = undefined;
  }

  /** The client stops: every message still unanswered fails with `error`. */
  failAll(error: () => CimError): void {
    for (const entry of this.outbox.takeAll()) this.host.settle(entry.handle, undefined, error());
  }
}

/** Why `entry` cannot be sent on a session with these limits, if it cannot (CIM-10.2-2). */
function sizeRefusal(entry: PendingSend, maxFrameSize: number, maxBodySize: number): CimError | undefined {
  if (entry.body.length > maxBodySize) {
    return new RejectedError(`a body of ${entry.body.length} bytes is over the server's limit of ${maxBodySize}`, ErrorCode.BODY_TOO_LARGE);
  }
  const size = encodeFrame({ case: "send", value: sendOf(entry) }).length;
  if (size > maxFrameSize) {
    return new InvalidInputError(`the message makes a frame of ${size} bytes, over the server's limit of ${maxFrameSize}`, ErrorCode.FRAME_TOO_LARGE);
  }
  return undefined;
}

function recipientOf(to: Target): MessageInitShape<typeof RecipientSchema> {
  if ("userId" in to) return { kind: { case: "userId", value: to.userId } };
  if ("groupId" in to) return { kind: { case: "groupId", value: to.groupId } };
  return { kind: { case: "everyone", value: {} } };
}

function sendOf(entry: PendingSend): MessageInitShape<typeof SendSchema> {
  return { clientMsgId: entry.clientMsgId, to: entry.to, contentType: entry.contentType, body: entry.body };
}
