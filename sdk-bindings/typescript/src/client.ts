// `Client`: a logged-in user. It runs the protocol core (core/session.ts) on the platform's
// event loop: timers, links and route calls feed the core, and the core's outputs become
// socket writes, events and settled sends.

import { ClosedError, CimError, InvalidInputError, UnavailableError, errorForCode, errorName, retryOf } from "./errors.js";
import { ClientCore, type Output } from "./core/session.js";
import type { Delivery, ResumePoint } from "./core/inbox.js";
import type { Platform } from "./platform.js";
import { browserPlatform } from "./platform.js";
import { RouteClient, type Credentials } from "./route.js";
import type { Link } from "./transport/link.js";
import type { ClientEvent, Group, Login, OnlinePage, SendAck, Target, TransportName, User } from "./types.js";
import { validateTarget, validateLoginOptions, newClientMsgId, bytesOf } from "./validate.js";

export const SDK_VERSION = "0.1.0";

/** How {@link Client.login} logs in and connects. */
export interface LoginOptions {
  /** A built-in account's name, with `password`. */
  userName?: string;
  password?: string;
  /** Or a JWT of the application's backend (spec §5.3), instead of a name and password. */
  jwt?: string;
  /** This installation's stable id (1..128 bytes); each device has its own place in the inbox.
   * Default: from the host name in Node, a random id in browsers. */
  deviceId?: string;
  /** Default: `tcp` in Node, `websocket` in browsers. */
  transport?: TransportName;
  /** A PEM certificate to trust for TLS besides the usual roots (Node only). */
  trustPem?: string;
  /** Where to resume the inbox: {@link Client.resumePoint} of an earlier run of this user and
   * device. Never give one obtained for another user (CIM-8.4-4). */
  resume?: ResumePoint;
  /** The heartbeat interval to ask the server for; the server decides. */
  heartbeatIntervalMs?: number;
  /** How long `login` waits for the first session before it gives up (default 30 s). */
  connectTimeoutMs?: number;
  /** Receives the client's log lines (never a token). */
  logger?: (line: string) => void;
  /** Aborts a login still in progress: `login` rejects with ClosedError and the client closes. */
  signal?: AbortSignal;
}

interface Queued {
  event: ClientEvent;
  delivery?: Delivery;
}

const now = (): number => performance.now();

/**
 * A user logged in to cim. It reconnects, resumes its inbox and sends unanswered messages
 * again by itself until {@link close}. Create one with {@link Client.login}.
 *
 * Read its events with one loop over {@link events} (or {@link nextEvent}). A message counts
 * as processed, and is acknowledged to the server, when that loop receives it: one that
 * arrived but was never taken is delivered again to a client that resumes.
 */
export class Client {
  /** Overridden by the Node entry, which adds TCP and Node's WebSocket. */
  protected static platform: Platform = browserPlatform;

  private readonly core: ClientCore;
  private readonly links = new Map<number, Link>();
  private readonly queue: Queued[] = [];
  private readonly readers: Array<() => void> = [];
  private readonly sends = new Map<number, { resolve: (ack: SendAck) => void; reject: (e: CimError) => void }>();
  private nextHandle = 1;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private driving = false;
  private ended = false;
  /** The token for route calls: the newest one any login gave (never logged). */
  private lastToken: string;
  /** A login at the route in progress, shared by everyone who needs one. */
  private loggingIn: Promise<Login> | undefined;
  private firstSession: { resolve: () => void; reject: (e: CimError) => void } | undefined;

  protected constructor(
    private readonly platform: Platform,
    private readonly route: RouteClient,
    private readonly credentials: Credentials,
    private readonly options: Required<Pick<LoginOptions, "deviceId" | "transport">> & LoginOptions,
    login: Login,
  ) {
    this.lastToken = login.token;
    this.core = new ClientCore(
      {
        deviceId: options.deviceId,
        framing: options.transport === "tcp" ? "tcp" : "websocket",
        clientName: `cim-sdk-typescript/${SDK_VERSION} (${platform.name})`,
        heartbeatIntervalMs: options.heartbeatIntervalMs ?? 0,
        resume: options.resume,
        random: Math.random,
        log: options.logger ?? (() => {}),
      },
      login,
      now(),
    );
  }

  /**
   * Logs in at the route at `routeUrl`, connects to the server it assigns and waits for the
   * first session. Rejects with an {@link AuthenticationError} for wrong credentials and an
   * {@link UnavailableError} when the route or server cannot be reached in time.
   */
  static async login(routeUrl: string, options: LoginOptions): Promise<Client> {
    const platform = this.platform;
    const transport = options.transport ?? platform.defaultTransport;
    const { credentials, deviceId } = validateLoginOptions(options, platform);
    if (!platform.connectors[transport]) {
      throw new InvalidInputError(`the ${transport} transport is not available in ${platform.name}` +
        (platform.name === "browser" ? " (TCP needs Node: import cim-sdk/node)" : ""));
    }
    const route = new RouteClient(routeUrl, platform.http(options.trustPem));
    options.signal?.throwIfAborted();
    const login = await route.login(credentials, deviceId, transport);
    if (options.signal?.aborted) throw new ClosedError("the login was aborted");
    if (transport === "tcp" ? !login.server.tcpEndpoint : !login.server.wsUrl) {
      throw new UnavailableError(`the route assigned server ${login.server.serverId}, which offers no ${transport} endpoint`);
    }
    const client = new this(platform, route, credentials, { ...options, deviceId, transport }, login);
    await client.waitForFirstSession(options.connectTimeoutMs ?? 30_000, options.signal);
    return client;
  }

  /** The logged-in user's id. */
  get userId(): string {
    return this.core.currentUserId;
  }

  /** Where this device is in its inbox: keep it to resume after a restart. */
  get resumePoint(): ResumePoint | undefined {
    return this.core.resumePoint;
  }

  /** Whether the client has stopped for good. */
  get isClosed(): boolean {
    return this.core.closed;
  }

  /** How many events wait to be taken. At most about 1024: past that the client holds
   * messages back and then stops reading from its server until the application catches up. */
  get eventsWaiting(): number {
    return this.queue.length;
  }

  // ----- messages -----

  /** Sends a text message to one user (by id, not name); resolves once the server stored it. */
  sendToUser(userId: string, text: string): Promise<SendAck> {
    return this.send({ userId }, text);
  }

  /** Sends a text message to every member of a group. */
  sendToGroup(groupId: string, text: string): Promise<SendAck> {
    return this.send({ groupId }, text);
  }

  /** Sends a text message to everyone online: live only, never stored. */
  broadcast(text: string): Promise<SendAck> {
    return this.send({ everyone: true }, text);
  }

  /**
   * Sends any body to `to`. Resolves with the server's acknowledgement; rejects with a
   * {@link CimError} carrying the registry code when the server refuses it, or a
   * {@link ClosedError} when the client closes first. A message sent while the connection is
   * down goes out after the reconnect, and messages go out in the order they were sent.
   */
  send(to: Target, body: Uint8Array | string, contentType = "text/plain"): Promise<SendAck> {
    try {
      validateTarget(to);
      if (typeof contentType !== "string" || new TextEncoder().encode(contentType).length > 255) {
        throw new InvalidInputError("contentType is a string of at most 255 bytes");
      }
      const bytes = bytesOf(body);
      const handle = this.nextHandle++;
      const settled = new Promise<SendAck>((resolve, reject) => this.sends.set(handle, { resolve, reject }));
      this.input((t) => this.core.submitSend(handle, newClientMsgId(), to, contentType, bytes, t));
      return settled;
    } catch (e) {
      return Promise.reject(e);
    }
  }

  // ----- events -----

  /** The next event, or `undefined` once the client is closed and every event was read. */
  nextEvent(): Promise<ClientEvent | undefined> {
    const queued = this.queued();
    if (queued) return Promise.resolve(queued.event);
    if (this.ended) return Promise.resolve(undefined);
    return new Promise((resolve) => this.readers.push(() => resolve(this.nextEvent())));
  }

  /** Takes the next queued event: its message is processed, and there is room for another. */
  private queued(): Queued | undefined {
    const queued = this.queue.shift();
    if (queued) this.input((t) => this.core.handleTaken(queued.delivery, t));
    return queued;
  }

  /** The events in order, until the client is closed: `for await (const e of client.events())`. */
  async *events(): AsyncGenerator<ClientEvent, void, undefined> {
    for (;;) {
      const event = await this.nextEvent();
      if (event === undefined) return;
      yield event;
    }
  }

  /** Closes the connection and stops reconnecting; unanswered sends reject with ClosedError. */
  async close(): Promise<void> {
    this.input((t) => this.core.close("closed by the application", t));
  }

  // ----- route calls -----
  //
  // Each takes the newest token. One the route refuses as expired or unknown (a code whose
  // retry is Relogin: UNAUTHENTICATED, TOKEN_EXPIRED) is renewed by logging in again with the
  // credentials of `login`, for the same device, and the call is made once more (§14.6). The
  // session stays up meanwhile: a Login ends none (§14.2).

  /** Every user online now, following all pages (spec §14.7). */
  onlineUsers(): Promise<User[]> {
    return this.withToken((token) => this.route.allOnlineUsers(token));
  }

  /** One page of online users; pass `nextPageToken` back unchanged for the next. */
  onlineUsersPage(pageToken = "", pageSize = 0): Promise<OnlinePage> {
    return this.withToken((token) => this.route.onlineUsers(token, pageToken, pageSize));
  }

  /** The id of the one user named `userName`. Send to ids, never to names: rejects with code
   * NOT_FOUND when nobody has the name and with InvalidInputError when several share it. */
  userIdOf(userName: string): Promise<string> {
    return this.withToken((token) => this.route.userIdOf(token, userName));
  }

  /** Every user whose name is exactly `userName`. */
  usersByName(userName: string): Promise<User[]> {
    return this.withToken((token) => this.route.usersByName(token, userName));
  }

  /** Users whose name starts with `prefix` (at most `limit`, 20 by default). */
  usersByPrefix(prefix: string, limit = 0): Promise<User[]> {
    return this.withToken((token) => this.route.usersByPrefix(token, prefix, limit));
  }

  /** Creates a group with this user as its only member; others join it themselves. */
  createGroup(groupId: string): Promise<Group> {
    return this.withToken((token) => this.route.createGroup(token, groupId));
  }

  /** Joins a group: its messages from now on reach this user. */
  joinGroup(groupId: string): Promise<Group> {
    return this.withToken((token) => this.route.joinGroup(token, groupId));
  }

  leaveGroup(groupId: string): Promise<Group> {
    return this.withToken((token) => this.route.leaveGroup(token, groupId));
  }

  groupMembers(groupId: string): Promise<User[]> {
    return this.withToken((token) => this.route.groupMembers(token, groupId));
  }

  /** The groups this user belongs to. */
  groups(): Promise<Group[]> {
    return this.withToken((token) => this.route.myGroups(token));
  }

  /** Ends this login (or every login of the user) at the route, then closes the client. */
  async logout(allDevices = false): Promise<void> {
    try {
      await this.withToken((token) => this.route.logout(token, allDevices));
    } finally {
      await this.close();
    }
  }

  /** Makes a route call with the newest token, and once more with a new one when the route
   * refused the token. */
  private async withToken<T>(call: (token: string) => Promise<T>): Promise<T> {
    const token = this.lastToken;
    try {
      return await call(token);
    } catch (e) {
      // A closed client logs in no more (after a logout, that would be a new login).
      if (!(e instanceof CimError) || e.code === undefined || retryOf(e.code) !== "relogin" || this.core.closed) throw e;
      return call(await this.renewedToken(token, e.code));
    }
  }

  /** A token newer than `refused`: the one another call or a reconnect got meanwhile, or one
   * from a new login, which every call that needs it shares. */
  private async renewedToken(refused: string, code: number): Promise<string> {
    if (this.lastToken !== refused) return this.lastToken;
    this.log(`the route refused the token (${errorName(code)}): logging in again`);
    const login = await this.freshLogin();
    this.input((t) => this.core.handleTokenRenewed(login, t));
    return login.token;
  }

  /** Logs in at the route for this device (CIM-5.2-3), or joins the login in progress. */
  private freshLogin(): Promise<Login> {
    this.loggingIn ??= this.route.login(this.credentials, this.options.deviceId, this.options.transport)
      .then((login) => {
        this.lastToken = login.token;
        return login;
      })
      .finally(() => {
        this.loggingIn = undefined;
      });
    return this.loggingIn;
  }

  private log(line: string): void {
    this.options.logger?.(line);
  }

  // ----- the loop -----

  /** Runs one input of the core, then carries out what it asks. */
  private input(step: (now: number) => void): void {
    step(now());
    this.drive();
  }

  private drive(): void {
    // Outputs that an output's handling adds are picked up by the loop that is running.
    if (this.driving) return;
    this.driving = true;
    try {
      for (let output = this.core.poll(); output; output = this.core.poll()) this.perform(output);
    } finally {
      this.driving = false;
    }
    this.arm();
  }

  private arm(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    const at = this.core.pollTimeout();
    if (at === undefined || !Number.isFinite(at)) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.input((t) => this.core.handleTimeout(t));
    }, Math.max(0, Math.ceil(at - now())));
  }

  private perform(output: Output): void {
    switch (output.kind) {
      case "login":
        return this.relogin();
      case "connect":
        return this.open(output.linkId, output.login);
      case "transmit":
        return this.links.get(output.linkId)?.send(output.bytes);
      case "close_link":
        this.links.get(output.linkId)?.close();
        this.links.delete(output.linkId);
        return;
      case "pause_link":
        return this.links.get(output.linkId)?.pause?.();
      case "resume_link":
        return this.links.get(output.linkId)?.resume?.();
      case "event":
        return this.deliver(output.delivery ? { event: output.event, delivery: output.delivery } : { event: output.event });
      case "send_done": {
        const waiter = this.sends.get(output.handle);
        this.sends.delete(output.handle);
        if (output.ack) waiter?.resolve(output.ack);
        else waiter?.reject(output.error ?? new ClosedError("the send was dropped"));
        return;
      }
    }
  }

  private relogin(): void {
    this.freshLogin().then(
      (login) => this.input((t) => this.core.handleLoginResult({ login }, t)),
      (e: unknown) => {
        const error = e instanceof CimError ? e : new UnavailableError(String(e));
        this.input((t) => this.core.handleLoginResult({ error }, t));
      },
    );
  }

  private open(linkId: number, login: Login): void {
    const connector = this.platform.connectors[this.options.transport]!;
    const linkOptions = this.options.trustPem ? { trustPem: this.options.trustPem } : {};
    try {
      const link = connector(login.server, linkOptions, {
        onOpen: () => this.input((t) => this.core.handleLinkOpened(linkId, t)),
        onData: (data) => this.input((t) => this.core.handleLinkData(linkId, data, t)),
        onClose: (why) => {
          this.links.delete(linkId);
          this.input((t) => this.core.handleLinkClosed(linkId, why, t));
        },
      });
      this.links.set(linkId, link);
    } catch (e) {
      const why = e instanceof Error ? e.message : String(e);
      queueMicrotask(() => this.input((t) => this.core.handleLinkClosed(linkId, why, t)));
    }
  }

  private deliver(queued: Queued): void {
    const { event } = queued;
    if (event.type === "connected") {
      this.firstSession?.resolve();
      this.firstSession = undefined;
    }
    if (event.type === "closed") {
      this.ended = true;
      if (this.timer !== undefined) clearTimeout(this.timer);
      this.timer = undefined;
      const code = event.code;
      this.firstSession?.reject(code === undefined ? new ClosedError(event.message) : errorForCode(code, event.message));
      this.firstSession = undefined;
    }
    this.queue.push(queued);
    for (const wake of this.readers.splice(0)) wake();
  }

  private waitForFirstSession(timeoutMs: number, signal: AbortSignal | undefined): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const giveUp = (error: CimError): void => {
        this.firstSession = undefined;
        cleanup();
        void this.close();
        reject(error);
      };
      const timer = setTimeout(() => giveUp(new UnavailableError(`no session with the server within ${timeoutMs} ms`)), timeoutMs);
      const onAbort = (): void => giveUp(new ClosedError("the login was aborted"));
      signal?.addEventListener("abort", onAbort, { once: true });
      const cleanup = (): void => {
        clearTimeout(timer);
        signal?.removeEventListener("abort", onAbort);
      };
      this.firstSession = {
        resolve: () => { cleanup(); resolve(); },
        reject: (e) => { cleanup(); reject(e); },
      };
      this.drive();
    });
  }
}

/** Creates a built-in account at the route at `routeUrl`; returns its user id. Rejects with
 * code ALREADY_EXISTS when the name is taken. */
export async function registerWith(platform: Platform, routeUrl: string, userName: string, password: string, trustPem?: string): Promise<string> {
  if (typeof userName !== "string" || userName === "") throw new InvalidInputError("userName is a non-empty string");
  if (typeof password !== "string") throw new InvalidInputError("password is a string");
  return new RouteClient(routeUrl, platform.http(trustPem)).register(userName, password);
}
