// Messages the application sent that the server has not answered yet (spec §7.2, §10.3,
// §13.2). They outlive connections: whatever is unanswered when one ends goes out again on
// the next session, unchanged and in its original order.

import type { MessageInitShape } from "@bufbuild/protobuf";
import type { RecipientSchema } from "../gen/cim/v1/frame_pb.js";

/** How long a message may wait for its SendAck before it is reported failed (CIM-13.2-3):
 * after that the server may have forgotten its client message id (§9.1). */
export const SEND_GIVE_UP_MS = 24 * 60 * 60 * 1000;

export interface PendingSend {
  /** The application's handle, reported back with the outcome. */
  readonly handle: number;
  readonly clientMsgId: string;
  readonly to: MessageInitShape<typeof RecipientSchema>;
  readonly contentType: string;
  readonly body: Uint8Array;
  readonly createdAt: number;
  inFlight: boolean;
  /** Not sent (again) before this time: a rejection's `retry_after_ms`. */
  notBefore: number;
  /** How often a rejection whose retry is After sent it again. */
  retries: number;
}

export class Outbox {
  private readonly entries: PendingSend[] = [];

  add(entry: Omit<PendingSend, "inFlight" | "notBefore" | "retries">): void {
    this.entries.push({ ...entry, inFlight: false, notBefore: 0, retries: 0 });
  }

  get size(): number {
    return this.entries.length;
  }

  inFlightCount(): number {
    let count = 0;
    for (const entry of this.entries) if (entry.inFlight) count++;
    return count;
  }

  /** The Send in flight with this id; an answer to anything else is ignored (CIM-7.2-8). */
  inFlight(clientMsgId: string): PendingSend | undefined {
    return this.entries.find((e) => e.inFlight && e.clientMsgId === clientMsgId);
  }

  /** The oldest message that may go out at `now`: retransmissions come first since they are
   * older (CIM-9.2-3). */
  nextToSend(now: number): PendingSend | undefined {
    return this.entries.find((e) => !e.inFlight && e.notBefore <= now);
  }

  /** The earliest time a waiting message may go out, if one waits for its time. */
  nextNotBefore(now: number): number | undefined {
    let earliest: number | undefined;
    for (const e of this.entries) {
      if (!e.inFlight && e.notBefore > now && (earliest === undefined || e.notBefore < earliest)) {
        earliest = e.notBefore;
      }
    }
    return earliest;
  }

  remove(entry: PendingSend): void {
    const index = this.entries.indexOf(entry);
    if (index >= 0) this.entries.splice(index, 1);
  }

  /** The connection ended: every Send in flight is unanswered and goes out again (CIM-13.2-1). */
  connectionEnded(): void {
    for (const entry of this.entries) entry.inFlight = false;
  }

  /** Removes and returns the messages older than {@link SEND_GIVE_UP_MS}. */
  takeExpired(now: number): PendingSend[] {
    const expired = this.entries.filter((e) => now - e.createdAt >= SEND_GIVE_UP_MS);
    for (const entry of expired) this.remove(entry);
    return expired;
  }

  /** Removes and returns everything (the client closes). */
  takeAll(): PendingSend[] {
    return this.entries.splice(0, this.entries.length);
  }
}
