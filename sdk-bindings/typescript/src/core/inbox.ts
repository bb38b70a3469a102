// The client's side of the inbox (spec §8, §9.1): its resume point, which entries reach the
// application (once, in order), and what to acknowledge.
//
// Two positions are kept apart. *Handed* entries have been put in the application's event
// queue; *processed* ones the application has taken from it. The resume point and DeliverAck
// follow the second (CIM-8.3-1: nothing is acknowledged before the application has it); an
// entry handed over but not yet taken when a connection drops is sent again by the server and
// dropped here by its message id (CIM-9.1-7).

import { ResumeOutcome } from "../gen/cim/v1/frame_pb.js";

/** A device's position in its user's inbox (spec §8.4): store it to resume after a restart. */
export interface ResumePoint {
  epoch: bigint;
  /** The highest seq processed in `epoch`. */
  lastAckedSeq: bigint;
}

/** How an inbox failed to continue where this device left off (spec §8.4). */
export type Discontinuity = "epoch_changed" | "gap";

/** What became of the resume point, as `connected` events report it. */
export type ResumeKind = "fresh" | "resumed" | Discontinuity;

/** An entry handed to the application, to mark processed when it takes it. */
export interface Delivery {
  epoch: bigint;
  seq: bigint;
}

/** Message ids remembered to drop copies under new seqs (CIM-9.1-7: at least 1024). */
export const REMEMBERED_MESSAGE_IDS = 1024;

interface Unprocessed extends Delivery {
  /** A copy that was dropped: processed as soon as everything before it is. */
  hidden: boolean;
}

/** What to do with a Deliver. */
export type DeliverVerdict =
  | { hand: true; delivery: Delivery | undefined }
  | { hand: false; violation?: string };

export class Inbox {
  private point: ResumePoint | undefined;
  private sentInHello: ResumePoint | undefined;
  private readonly recentIds = new Set<string>();
  private readonly recentOrder: string[] = [];
  private readonly unprocessed: Unprocessed[] = [];
  // Per session:
  private sessionEpoch = 0n;
  private expectedSeq = 0n;
  /** The highest seq the server sent on this session, or `next_seq` − 1 before any. */
  private sessionHigh = 0n;
  private ackedOnSession = 0n;

  constructor(resume?: ResumePoint) {
    this.point = resume;
  }

  /** The resume point, if the device has one. */
  get resumePoint(): ResumePoint | undefined {
    return this.point && { ...this.point };
  }

  /** The resume point to put in Hello.resume (CIM-8.4-2), remembered to judge the Welcome. */
  helloResume(): ResumePoint | undefined {
    this.sentInHello = this.point && { ...this.point };
    return this.sentInHello;
  }

  /** Takes the Welcome's ResumeResult; returns how it continued and whether to report a loss. */
  welcome(outcome: number, epoch: bigint, nextSeq: bigint): { kind: ResumeKind; lost?: Discontinuity } {
    const sent = this.sentInHello;
    const lost = discontinuity(outcome, epoch, sent);
    const startsAt = nextSeq > 0n ? nextSeq - 1n : 0n;
    if (this.point && this.point.epoch === epoch && lost === undefined) {
      // RESUMED: the application may have processed more since the Hello left.
      if (startsAt > this.point.lastAckedSeq) this.point.lastAckedSeq = startsAt;
    } else {
      this.point = { epoch, lastAckedSeq: startsAt }; // CIM-8.4-1
    }
    this.sessionEpoch = epoch;
    this.expectedSeq = nextSeq;
    this.sessionHigh = startsAt;
    this.ackedOnSession = startsAt; // the server records next_seq − 1 itself (CIM-8.4-15)
    const kind: ResumeKind = lost ?? (outcome === ResumeOutcome.RESUMED ? "resumed" : "fresh");
    return lost === undefined ? { kind } : { kind, lost };
  }

  /** Judges a Deliver of `seq` carrying `messageId` on the current session. */
  deliver(seq: bigint, messageId: string): DeliverVerdict {
    if (seq === 0n) {
      // A live-only broadcast: no seq, no resume point, but never twice (CIM-7.4-6, CIM-9.1-7).
      if (this.recentIds.has(messageId)) return { hand: false };
      this.remember(messageId);
      return { hand: true, delivery: undefined };
    }
    if (seq !== this.expectedSeq) {
      // CIM-8.2-6: a server that skips or repeats entries has lost track of this session.
      return { hand: false, violation: `Deliver seq ${seq} where ${this.expectedSeq} was due` };
    }
    this.expectedSeq = seq + 1n;
    this.sessionHigh = seq;
    const epoch = this.sessionEpoch;
    // Already processed (CIM-9.1-6). Entries handed over but not yet taken when the last
    // connection dropped come again too; their message ids drop them below.
    if (this.point && this.point.epoch === epoch && seq <= this.point.lastAckedSeq) return { hand: false };
    if (this.recentIds.has(messageId)) {
      // The same message under a new seq: dropped, and processed in its turn.
      this.unprocessed.push({ epoch, seq, hidden: true });
      this.processHidden();
      return { hand: false };
    }
    this.remember(messageId);
    this.unprocessed.push({ epoch, seq, hidden: false });
    return { hand: true, delivery: { epoch, seq } };
  }

  /** The application took the entry of `delivery`: it counts in the resume point (CIM-8.4-1). */
  processed(delivery: Delivery): void {
    const index = this.unprocessed.findIndex((u) => u.epoch === delivery.epoch && u.seq === delivery.seq);
    if (index < 0) return;
    // Events are taken in order, so everything before it was processed already.
    const done = this.unprocessed.splice(0, index + 1);
    for (const entry of done) this.advance(entry);
    this.processHidden();
  }

  /** The `up_to_seq` of a DeliverAck due now on this session, if one is. */
  ackDue(): bigint | undefined {
    if (!this.point || this.point.epoch !== this.sessionEpoch) return undefined;
    // Never beyond what this session was sent (the server refuses that: CIM-8.3-4).
    const upTo = this.point.lastAckedSeq < this.sessionHigh ? this.point.lastAckedSeq : this.sessionHigh;
    return upTo > this.ackedOnSession && upTo > 0n ? upTo : undefined;
  }

  /** A DeliverAck up to `upTo` went out. */
  acked(upTo: bigint): void {
    this.ackedOnSession = upTo;
  }

  private processHidden(): void {
    while (this.unprocessed.length > 0 && this.unprocessed[0]!.hidden) {
      this.advance(this.unprocessed.shift()!);
    }
  }

  private advance(entry: Delivery): void {
    if (this.point && this.point.epoch === entry.epoch && entry.seq > this.point.lastAckedSeq) {
      this.point.lastAckedSeq = entry.seq;
    }
  }

  private remember(messageId: string): void {
    this.recentIds.add(messageId);
    this.recentOrder.push(messageId);
    if (this.recentOrder.length > REMEMBERED_MESSAGE_IDS) {
      this.recentIds.delete(this.recentOrder.shift()!);
    }
  }
}

/** Whether a Welcome's resume result means that messages may have been lost (§8.4). */
export function discontinuity(
  outcome: number,
  epoch: bigint,
  sent: ResumePoint | undefined,
): Discontinuity | undefined {
  if (outcome === ResumeOutcome.EPOCH_CHANGED) return "epoch_changed";
  if (sent !== undefined && sent.epoch !== 0n && sent.epoch !== epoch) return "epoch_changed"; // CIM-8.4-11
  if (outcome === ResumeOutcome.GAP) return "gap"; // CIM-8.4-12
  if (sent === undefined) return undefined; // nothing to continue from, nothing lost
  if (outcome !== ResumeOutcome.RESUMED && outcome !== ResumeOutcome.FRESH) return "gap"; // CIM-8.4-13
  return undefined;
}
