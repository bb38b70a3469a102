// A scripted server around the client core, in virtual time: the tests say which frames the
// server sends and read back what the client wrote, with no socket and no sleep.
import { create, toBinary } from "@bufbuild/protobuf";
import { decodeFrame } from "../../dist/core/codec.js";
import { TcpFrameDecoder, lengthPrefixed } from "../../dist/core/framing.js";
import { ClientCore } from "../../dist/core/session.js";
import { FrameSchema } from "../../dist/gen/cim/v1/frame_pb.js";

export const LOGIN = {
  userId: "alice",
  userName: "alice",
  token: "v1.token-for-tests",
  tokenExpiresAtMs: 0,
  server: { serverId: "s1", tcpEndpoint: "127.0.0.1:1", wsUrl: "", tcpTls: false, draining: false },
};

export class World {
  constructor({ random = () => 0.5, resume, answerLogins = false, canPause = true } = {}) {
    this.now = 0;
    this.answerLogins = answerLogins;
    this.canPause = canPause; // false: a link that reads on (a browser WebSocket)
    this.lines = [];
    this.core = new ClientCore(
      { deviceId: "d1", framing: "tcp", clientName: "test", heartbeatIntervalMs: 0, resume, random, log: (l) => this.lines.push(l) },
      LOGIN,
      0,
    );
    this.events = [];
    this.settled = [];
    this.logins = 0;
    this.connects = [];
    this.closedLinks = [];
    this.link = undefined;
    this.written = [];
    this.decoder = new TcpFrameDecoder(1 << 20);
    // A paused link: what the server sends meanwhile waits here, as in the network's buffers.
    this.paused = false;
    this.unread = [];
    this.pauses = 0;
    this.step();
  }

  /** Drains the core's outputs (and, while the link reads, what waited for it). */
  step() {
    for (;;) {
      for (let out = this.core.poll(); out; out = this.core.poll()) this.perform(out);
      if (this.pendingLogin) {
        this.pendingLogin = false;
        this.core.handleLoginResult({ login: { ...LOGIN, token: `v1.login-${this.logins}` } }, this.now);
        continue;
      }
      if (!this.paused && this.unread.length > 0) {
        // Reading again: the link hands over what waited, one read at a time.
        this.core.handleLinkData(this.link, this.unread.shift(), this.now);
        continue;
      }
      return;
    }
  }

  perform(out) {
    switch (out.kind) {
      case "login":
        this.logins++;
        if (this.answerLogins) this.pendingLogin = true; // answered once the outputs are drained
        break;
      case "connect":
        this.connects.push({ at: this.now, linkId: out.linkId });
        this.link = out.linkId;
        this.decoder = new TcpFrameDecoder(1 << 20);
        this.paused = false;
        this.unread = [];
        break;
      case "pause_link":
        this.pauses++;
        if (out.linkId === this.link && this.canPause) this.paused = true;
        break;
      case "resume_link": if (out.linkId === this.link) this.paused = false; break;
      case "transmit":
        if (out.linkId === this.link) {
          for (const payload of this.decoder.push(out.bytes).frames) this.written.push(decodeFrame(payload));
        }
        break;
      case "close_link": this.closedLinks.push(out.linkId); break;
      case "event": this.events.push(out); break;
      case "send_done": this.settled.push(out); break;
    }
  }

  /** Moves the clock to `until`, firing every timeout due on the way. */
  advance(ms) {
    const until = this.now + ms;
    for (;;) {
      const at = this.core.pollTimeout();
      if (at === undefined || at > until) break;
      this.now = Math.max(this.now, at);
      this.core.handleTimeout(this.now);
      this.step();
    }
    this.now = until;
  }

  /** The link opens and the client's Hello goes out. */
  open() {
    this.core.handleLinkOpened(this.link, this.now);
    this.step();
  }

  /** The server sends a frame, given as a Frame body. */
  serverSends(body) {
    this.serverSendsBytes(lengthPrefixed(toBinary(FrameSchema, create(FrameSchema, { body }))));
  }

  serverSendsBytes(bytes) {
    if (this.paused || this.unread.length > 0) {
      this.unread.push(bytes);
      return;
    }
    this.core.handleLinkData(this.link, bytes, this.now);
    this.step();
  }

  welcome(overrides = {}) {
    this.serverSends({
      case: "welcome",
      value: {
        version: 1, sessionId: `s-${this.link}`, userId: "alice", heartbeatIntervalMs: 30000, heartbeatTimeoutMs: 75000,
        resume: { outcome: 1, epoch: 7n, nextSeq: 1n }, ...overrides,
      },
    });
  }

  /** Opens the pending link and welcomes it. */
  connectAndWelcome(overrides) {
    this.open();
    this.welcome(overrides);
  }

  linkCloses() {
    this.core.handleLinkClosed(this.link, "test", this.now);
    this.step();
  }

  deliver(seq, messageId, text = "hi") {
    this.serverSends({
      case: "deliver",
      value: { seq: BigInt(seq), messageId, fromUserId: "bob", to: { kind: { case: "userId", value: "alice" } }, contentType: "text/plain", body: new TextEncoder().encode(text), sentAtMs: 1n },
    });
  }

  /** Frames the client wrote of one kind, taken out of the record. */
  take(kind) {
    const found = this.written.filter((f) => f.body?.case === kind);
    this.written = this.written.filter((f) => f.body?.case !== kind);
    return found.map((f) => f.body.value);
  }

  eventTypes() {
    return this.events.map((e) => e.event.type);
  }

  /** The application takes every waiting event, as `for await` would (events handed over
   * while it reads are taken too). */
  readAll() {
    const taken = [];
    while (this.events.length > 0) {
      const e = this.events.shift();
      taken.push(e.event);
      this.core.handleTaken(e.delivery, this.now);
      this.step();
    }
    return taken;
  }

  /** The application takes the `n` oldest events. */
  read(n) {
    const taken = [];
    while (taken.length < n && this.events.length > 0) {
      const e = this.events.shift();
      taken.push(e.event);
      this.core.handleTaken(e.delivery, this.now);
      this.step();
    }
    return taken;
  }
}

