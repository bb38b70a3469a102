// What the page knows: who is online, the groups, the conversations and their messages. The
// views subscribe to its changes; nothing here touches the DOM or the network.
//
// Conversations and known names are kept in localStorage per route and user, since a message
// is acknowledged to the server once the page has it and will not be delivered again.

import type { Group, Message, SendAck, User } from "cim-sdk";

export type ConversationKind = "user" | "group" | "everyone";

export interface ChatMessage {
  /** Unique within the page: the server's message id once there is one. */
  localId: string;
  messageId?: string;
  fromUserId: string;
  own: boolean;
  text: string;
  atMs: number;
  status: "sending" | "sent" | "failed" | "received";
  error?: string;
}

export interface Conversation {
  key: string;
  kind: ConversationKind;
  /** The peer's user id, the group id, or "" for everyone. */
  id: string;
  messages: ChatMessage[];
  unread: number;
  lastAtMs: number;
}

export type Status = "connecting" | "connected" | "reconnecting" | "offline";

export type Change =
  | { kind: "status" }
  | { kind: "sidebar" }
  | { kind: "active" }
  | { kind: "message"; key: string; message: ChatMessage; added: boolean }
  | { kind: "notice"; text: string };

/** How many messages of a conversation are kept in storage. */
export const KEPT_PER_CONVERSATION = 200;

export function keyOf(kind: ConversationKind, id: string): string {
  return kind === "everyone" ? "everyone" : `${kind}:${id}`;
}

interface Stored {
  version: 1;
  names: Array<[string, string]>;
  conversations: Array<{ kind: ConversationKind; id: string; messages: ChatMessage[] }>;
}

export class ChatState {
  status: Status = "connecting";
  statusDetail = "";
  /** Names of the users met so far, by id (user ids are not names). */
  readonly names = new Map<string, string>();
  /** Online users other than me, by name. */
  online: User[] = [];
  /** My groups and their member counts. */
  readonly groups = new Map<string, number>();
  readonly conversations = new Map<string, Conversation>();
  active: string | undefined;
  private readonly listeners = new Set<(change: Change) => void>();
  private readonly sentIds = new Set<string>();
  private nextLocal = 1;
  private saveTimer: ReturnType<typeof setTimeout> | undefined;

  constructor(
    readonly me: { userId: string; userName: string },
    private readonly storage: Storage | undefined,
    private readonly storageKey: string,
  ) {
    this.names.set(me.userId, me.userName);
    this.load();
  }

  subscribe(listener: (change: Change) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private emit(change: Change): void {
    for (const listener of this.listeners) listener(change);
  }

  setStatus(status: Status, detail = ""): void {
    if (status === this.status && detail === this.statusDetail) return;
    this.status = status;
    this.statusDetail = detail;
    this.emit({ kind: "status" });
  }

  notice(text: string): void {
    this.emit({ kind: "notice", text });
  }

  nameOf(userId: string): string {
    return this.names.get(userId) ?? userId;
  }

  isOnline(userId: string): boolean {
    return this.online.some((u) => u.userId === userId);
  }

  learnName(userId: string, userName: string): void {
    if (userName === "" || this.names.get(userId) === userName) return;
    this.names.set(userId, userName);
    this.scheduleSave();
    this.emit({ kind: "sidebar" });
  }

  setOnline(users: User[]): void {
    const others = users.filter((u) => u.userId !== this.me.userId).sort((a, b) => a.userName.localeCompare(b.userName));
    let changed = others.length !== this.online.length || others.some((u, i) => u.userId !== this.online[i]?.userId);
    for (const u of others) {
      if (u.userName !== "" && this.names.get(u.userId) !== u.userName) {
        this.names.set(u.userId, u.userName);
        changed = true;
      }
    }
    this.online = others;
    if (changed) {
      this.scheduleSave();
      this.emit({ kind: "sidebar" });
    }
  }

  setGroups(groups: Group[]): void {
    const before = JSON.stringify([...this.groups]);
    this.groups.clear();
    for (const g of groups) this.groups.set(g.groupId, g.memberCount);
    if (JSON.stringify([...this.groups]) !== before) this.emit({ kind: "sidebar" });
  }

  putGroup(group: Group): void {
    this.groups.set(group.groupId, group.memberCount);
    this.emit({ kind: "sidebar" });
  }

  dropGroup(groupId: string): void {
    this.groups.delete(groupId);
    this.emit({ kind: "sidebar" });
  }

  conversation(kind: ConversationKind, id: string): Conversation {
    const key = keyOf(kind, id);
    let conversation = this.conversations.get(key);
    if (!conversation) {
      conversation = { key, kind, id, messages: [], unread: 0, lastAtMs: 0 };
      this.conversations.set(key, conversation);
    }
    return conversation;
  }

  open(kind: ConversationKind, id: string): void {
    const conversation = this.conversation(kind, id);
    conversation.unread = 0;
    this.active = conversation.key;
    this.emit({ kind: "active" });
    this.emit({ kind: "sidebar" });
  }

  get activeConversation(): Conversation | undefined {
    return this.active === undefined ? undefined : this.conversations.get(this.active);
  }

  /** A message from the inbox; false when the page had it already. */
  addReceived(message: Message): boolean {
    if (this.sentIds.has(message.messageId)) return false;
    const to = message.to;
    const conversation = "groupId" in to
      ? this.conversation("group", to.groupId)
      : "userId" in to
        ? this.conversation("user", message.fromUserId === this.me.userId ? to.userId : message.fromUserId)
        : this.conversation("everyone", "");
    const entry: ChatMessage = {
      localId: message.messageId,
      messageId: message.messageId,
      fromUserId: message.fromUserId,
      own: message.fromUserId === this.me.userId,
      text: message.text,
      atMs: message.sentAtMs,
      status: "received",
    };
    this.sentIds.add(message.messageId);
    this.push(conversation, entry, conversation.key !== this.active);
    this.save();
    return true;
  }

  /** A message this page is sending, shown at once. */
  addOwn(key: string, text: string): ChatMessage {
    const conversation = this.conversations.get(key);
    if (!conversation) throw new Error(`no conversation ${key}`);
    const entry: ChatMessage = {
      localId: `local-${this.nextLocal++}`,
      fromUserId: this.me.userId,
      own: true,
      text,
      atMs: Date.now(),
      status: "sending",
    };
    this.push(conversation, entry, false);
    return entry;
  }

  sent(key: string, entry: ChatMessage, ack: SendAck): void {
    entry.status = "sent";
    entry.messageId = ack.messageId;
    entry.atMs = ack.sentAtMs || entry.atMs;
    this.sentIds.add(ack.messageId);
    this.emit({ kind: "message", key, message: entry, added: false });
    this.scheduleSave();
  }

  failed(key: string, entry: ChatMessage, why: string): void {
    entry.status = "failed";
    entry.error = why;
    this.emit({ kind: "message", key, message: entry, added: false });
    this.scheduleSave();
  }

  private push(conversation: Conversation, entry: ChatMessage, unread: boolean): void {
    conversation.messages.push(entry);
    conversation.lastAtMs = Math.max(conversation.lastAtMs, entry.atMs);
    if (unread) conversation.unread += 1;
    this.emit({ kind: "message", key: conversation.key, message: entry, added: true });
    this.emit({ kind: "sidebar" });
  }

  // ----- storage -----

  private load(): void {
    let stored: Stored | undefined;
    try {
      const text = this.storage?.getItem(this.storageKey);
      if (text) stored = JSON.parse(text) as Stored;
    } catch {
      stored = undefined; // unreadable: start afresh
    }
    if (stored?.version !== 1) return;
    for (const [id, name] of stored.names) this.names.set(id, name);
    this.names.set(this.me.userId, this.me.userName);
    for (const c of stored.conversations) {
      const conversation = this.conversation(c.kind, c.id);
      for (const m of c.messages) {
        // A send the page never saw answered may or may not have been stored.
        const entry: ChatMessage = m.status === "sending" ? { ...m, status: "failed", error: "not confirmed before the page was closed" } : m;
        conversation.messages.push(entry);
        conversation.lastAtMs = Math.max(conversation.lastAtMs, entry.atMs);
        if (entry.messageId) this.sentIds.add(entry.messageId);
      }
    }
  }

  private scheduleSave(): void {
    if (this.saveTimer !== undefined) return;
    this.saveTimer = setTimeout(() => this.save(), 500);
  }

  /** Writes the conversations to storage now. */
  save(): void {
    if (this.saveTimer !== undefined) clearTimeout(this.saveTimer);
    this.saveTimer = undefined;
    if (!this.storage) return;
    const stored: Stored = {
      version: 1,
      names: [...this.names],
      conversations: [...this.conversations.values()]
        .filter((c) => c.messages.length > 0)
        .map((c) => ({ kind: c.kind, id: c.id, messages: c.messages.slice(-KEPT_PER_CONVERSATION) })),
    };
    try {
      this.storage.setItem(this.storageKey, JSON.stringify(stored));
    } catch {
      // Full or disabled storage: the history lasts as long as the page.
    }
  }
}
