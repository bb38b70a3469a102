// The values the public API hands out. The same shapes as the other cim SDKs, in TypeScript's
// naming (`fromUserId` for `from_user_id`).

import type { Discontinuity, ResumeKind, ResumePoint } from "./core/inbox.js";

export type { Discontinuity, ResumeKind, ResumePoint };

/** Who a message is for. */
export type Target = { userId: string } | { groupId: string } | { everyone: true };

/** The server stored a message (or, for a broadcast, handed it to the live sessions). */
export interface SendAck {
  /** The id the server gave the message. */
  messageId: string;
  /** When the server accepted it, ms since the Unix epoch. */
  sentAtMs: number;
  /** True when the server had it already (a retransmission): nothing was stored twice. */
  duplicate: boolean;
  /** True for a broadcast, which reaches live sessions only and is never stored. */
  liveOnly: boolean;
}

/** The session is up (again), after each Welcome. */
export interface Connected {
  type: "connected";
  sessionId: string;
  serverId: string;
  userId: string;
  /** What became of this device's place in the inbox. */
  resumed: ResumeKind;
}

/** A message arrived. `seq` orders the messages of this user's inbox (0 for a broadcast). */
export interface Message {
  type: "message";
  seq: number;
  messageId: string;
  fromUserId: string;
  /** What it was sent to: this user, a group, or everyone. */
  to: Target;
  /** `text/plain` when the sender gave none (CIM-7.1-11). */
  contentType: string;
  body: Uint8Array;
  /** The body as UTF-8 text, invalid bytes replaced. */
  text: string;
  sentAtMs: number;
  sentAt: Date;
}

/** The inbox did not continue where this device left off: messages may be missing. */
export interface MessagesLost {
  type: "messages_lost";
  reason: Discontinuity;
  /** The inbox epoch now. */
  epoch: bigint;
}

/** The connection is gone; the client tries again by itself after `retryInMs`. */
export interface Disconnected {
  type: "disconnected";
  message: string;
  /** The registry code of the error that ended the connection, if one did. */
  code: number | undefined;
  retryInMs: number;
}

/** The client stopped for good; no event follows. */
export interface Closed {
  type: "closed";
  message: string;
  /** The registry code of the error that stopped it, if one did. */
  code: number | undefined;
}

/** What {@link Client.events} yields. */
export type ClientEvent = Connected | Message | MessagesLost | Disconnected | Closed;

/** A user, as the route lists them. */
export interface User {
  userId: string;
  userName: string;
  online: boolean;
}

/** A group and how many members it has. */
export interface Group {
  groupId: string;
  memberCount: number;
}

/** One page of online users (spec §14.7). */
export interface OnlinePage {
  users: User[];
  /** Empty on the last page; otherwise pass it back unchanged for the next one. */
  nextPageToken: string;
  totalOnline: number;
}

/** A long-connection server, as the route assigns it at login. */
export interface ServerInfo {
  serverId: string;
  /** `host:port` for TCP; empty when not offered. */
  tcpEndpoint: string;
  /** `ws://` or `wss://` URL; empty when not offered. */
  wsUrl: string;
  tcpTls: boolean;
  draining: boolean;
}

/** What a successful login at the route returns. */
export interface Login {
  userId: string;
  userName: string;
  /** The session token: opaque, never logged (CIM-5.1-4, CIM-5.4-1). */
  token: string;
  tokenExpiresAtMs: number;
  server: ServerInfo;
}

/** The transports a client can use to reach its server. */
export type TransportName = "tcp" | "websocket";
