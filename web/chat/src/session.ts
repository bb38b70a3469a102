// A logged-in page: the SDK client, its event loop, the periodic refresh of who is online and
// of my groups, and the actions the views call. Errors of actions are thrown to the caller;
// those of the background work go to `onError`.

import { CimError, Client, ErrorCode, register, type ClientEvent, type ResumePoint } from "cim-sdk";
import { ChatState, type Conversation } from "./state.js";
import { describeError } from "./format.js";

/** How often the online users and groups are read again. */
export const REFRESH_MS = 3000;

export interface SessionHooks {
  onError(e: unknown): void;
  /** The client stopped for good: logged out here, or ended by the server. */
  onEnded(reason: { byUser: boolean; message: string; code: number | undefined }): void;
}

interface StoredResume {
  userId: string;
  epoch: string;
  lastAckedSeq: string;
}

export class ChatSession {
  private refreshTimer: ReturnType<typeof setInterval> | undefined;
  private loggingOut = false;
  private connected = true;
  private refreshFailing = false;

  private constructor(
    readonly routeUrl: string,
    readonly client: Client,
    readonly state: ChatState,
    private readonly hooks: SessionHooks,
    private readonly resumeKey: string,
  ) {}

  /** Registers first when asked, logs in, and starts the event loop and the refresh. */
  static async start(routeUrl: string, userName: string, password: string, registerFirst: boolean, hooks: SessionHooks): Promise<ChatSession> {
    if (registerFirst) await register(routeUrl, userName, password);
    const storage = storageOf();
    const resumeKey = `cim-chat.resume:${routeUrl}:${userName}`;
    const resume = readResume(storage, resumeKey);
    let client: Client;
    try {
      client = await Client.login(routeUrl, resume ? { userName, password, resume: resume.point } : { userName, password });
    } catch (e) {
      // A kept position the server refuses (its inbox was replaced): log in afresh once.
      if (!resume || !(e instanceof CimError) || e.code !== ErrorCode.INVALID_FIELD) throw e;
      storage?.removeItem(resumeKey);
      client = await Client.login(routeUrl, { userName, password });
    }
    if (resume && resume.userId !== client.userId) {
      // The name now belongs to someone else: forget the old position.
      storage?.removeItem(resumeKey);
    }
    const state = new ChatState({ userId: client.userId, userName }, storage, `cim-chat.history:${routeUrl}:${client.userId}`);
    const session = new ChatSession(routeUrl, client, state, hooks, resumeKey);
    state.setStatus("connected");
    void session.loop();
    session.refreshTimer = setInterval(() => void session.refresh(), REFRESH_MS);
    void session.refresh();
    return session;
  }

  /** Reads the events until the client closes. */
  private async loop(): Promise<void> {
    try {
      for await (const event of this.client.events()) this.handle(event);
    } catch (e) {
      this.hooks.onError(e);
    }
  }

  private handle(event: ClientEvent): void {
    const state = this.state;
    switch (event.type) {
      case "connected":
        this.connected = true;
        state.setStatus("connected");
        void this.refresh();
        return;
      case "disconnected":
        this.connected = false;
        this.showDisconnected(`${event.message}; trying again in ${Math.ceil(event.retryInMs / 1000)} s`);
        return;
      case "messages_lost":
        state.notice(event.reason === "gap"
          ? "Some messages were lost: the server no longer had them."
          : "Your inbox was reset on the server: earlier messages may be missing.");
        return;
      case "message":
        state.addReceived(event);
        this.saveResume();
        return;
      case "closed":
        if (this.refreshTimer !== undefined) clearInterval(this.refreshTimer);
        state.setStatus("offline", event.message);
        state.save();
        this.hooks.onEnded({ byUser: this.loggingOut, message: event.message, code: event.code });
        return;
    }
  }

  private saveResume(): void {
    const point = this.client.resumePoint;
    if (!point) return;
    const stored: StoredResume = { userId: this.client.userId, epoch: point.epoch.toString(), lastAckedSeq: point.lastAckedSeq.toString() };
    try {
      storageOf()?.setItem(this.resumeKey, JSON.stringify(stored));
    } catch {
      // as in ChatState.save
    }
  }

  /** "offline" while the browser says it has no network, else "reconnecting". */
  private showDisconnected(detail: string): void {
    const offline = typeof navigator !== "undefined" && navigator.onLine === false;
    this.state.setStatus(offline ? "offline" : "reconnecting", detail);
  }

  /** The browser's network came or went (its `online` and `offline` events). */
  networkChanged(): void {
    if (!this.connected && !this.client.isClosed) this.showDisconnected(this.state.statusDetail);
  }

  /** Reads who is online and my groups again; a failure is shown once until one succeeds. */
  async refresh(): Promise<void> {
    if (this.client.isClosed) return;
    try {
      const [online, groups] = await Promise.all([this.client.onlineUsers(), this.client.groups()]);
      this.state.setOnline(online);
      this.state.setGroups(groups);
      this.refreshFailing = false;
    } catch (e) {
      if (!this.client.isClosed && !this.refreshFailing) this.hooks.onError(e);
      this.refreshFailing = true;
    }
  }

  /** Sends `text` to the conversation `key`; the message shows at once and its fate after. */
  send(conversation: Conversation, text: string): void {
    const state = this.state;
    const entry = state.addOwn(conversation.key, text);
    const sending = conversation.kind === "user"
      ? this.client.sendToUser(conversation.id, text)
      : conversation.kind === "group"
        ? this.client.sendToGroup(conversation.id, text)
        : this.client.broadcast(text);
    sending.then(
      (ack) => state.sent(conversation.key, entry, ack),
      (e: unknown) => {
        const why = describeError(e);
        state.failed(conversation.key, entry, why.code ? `${why.message} [${why.code}]` : why.message);
        this.hooks.onError(e);
      },
    );
  }

  /** Opens the conversation with the user named `userName`. */
  async openUserByName(userName: string): Promise<void> {
    const userId = await this.client.userIdOf(userName);
    this.state.learnName(userId, userName);
    this.state.open("user", userId);
  }

  async createGroup(groupId: string): Promise<void> {
    const group = await this.client.createGroup(groupId);
    this.state.putGroup(group);
    this.state.open("group", group.groupId);
  }

  async joinGroup(groupId: string): Promise<void> {
    const group = await this.client.joinGroup(groupId);
    this.state.putGroup(group);
    this.state.open("group", group.groupId);
  }

  async leaveGroup(groupId: string): Promise<void> {
    await this.client.leaveGroup(groupId);
    this.state.dropGroup(groupId);
  }

  /** The names of a group's members. */
  async membersOf(groupId: string): Promise<string[]> {
    const members = await this.client.groupMembers(groupId);
    for (const m of members) this.state.learnName(m.userId, m.userName);
    return members.map((m) => m.userName || m.userId);
  }

  /** Ends the login at the route and closes; the page goes back to the login form. */
  async logout(): Promise<void> {
    this.loggingOut = true;
    if (this.refreshTimer !== undefined) clearInterval(this.refreshTimer);
    this.state.save();
    await this.client.logout();
  }

  /** Closes without logging out (the page is going away). */
  close(): void {
    this.loggingOut = true;
    if (this.refreshTimer !== undefined) clearInterval(this.refreshTimer);
    this.state.save();
    void this.client.close();
  }
}

function storageOf(): Storage | undefined {
  try {
    return globalThis.localStorage ?? undefined;
  } catch {
    return undefined;
  }
}

function readResume(storage: Storage | undefined, key: string): { userId: string; point: ResumePoint } | undefined {
  try {
    const text = storage?.getItem(key);
    if (!text) return undefined;
    const stored = JSON.parse(text) as StoredResume;
    return { userId: stored.userId, point: { epoch: BigInt(stored.epoch), lastAckedSeq: BigInt(stored.lastAckedSeq) } };
  } catch {
    return undefined;
  }
}
