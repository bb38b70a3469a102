// A route and a server in this process, scripted by the test: enough of both to run the
// real Client (its event loop, links and route calls) without the cim binary.
import { createServer } from "node:http";
import net from "node:net";
import { WebSocketServer } from "ws";
import { create, toBinary } from "@bufbuild/protobuf";
import { decodeFrame } from "../../dist/core/codec.js";
import { TcpFrameDecoder, lengthPrefixed } from "../../dist/core/framing.js";
import { FrameSchema } from "../../dist/gen/cim/v1/frame_pb.js";

/** One client connection as the server sees it. */
class Conn {
  constructor(write, close, framing) {
    this.frames = [];
    this.waiters = [];
    this.writeRaw = write;
    this.closeRaw = close;
    this.framing = framing;
    this.closed = false;
  }
  received(frame) {
    this.frames.push(frame);
    for (const wake of this.waiters.splice(0)) wake();
  }
  send(body) {
    const payload = toBinary(FrameSchema, create(FrameSchema, { body }));
    this.writeRaw(this.framing === "tcp" ? lengthPrefixed(payload) : payload);
  }
  close() {
    this.closeRaw();
  }
  /** The next frame of `kind` the client sends, within `ms`. */
  async next(kind, ms = 5_000) {
    const deadline = Date.now() + ms;
    for (;;) {
      const index = this.frames.findIndex((f) => f.body.case === kind);
      if (index >= 0) return this.frames.splice(index, 1)[0].body.value;
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no ${kind} within ${ms} ms`);
      await new Promise((resolve) => {
        const timer = setTimeout(resolve, left);
        this.waiters.push(() => { clearTimeout(timer); resolve(); });
      });
    }
  }
}

export async function startFakeNode() {
  const conns = [];
  const connWaiters = [];
  const logins = [];
  const accept = (conn) => {
    conns.push(conn);
    for (const wake of connWaiters.splice(0)) wake();
  };
  const tcp = net.createServer((socket) => {
    const decoder = new TcpFrameDecoder();
    const conn = new Conn((b) => socket.write(b), () => socket.destroy(), "tcp");
    socket.on("data", (chunk) => { for (const p of decoder.push(new Uint8Array(chunk)).frames) conn.received(decodeFrame(p)); });
    socket.on("close", () => (conn.closed = true));
    socket.on("error", () => {});
    accept(conn);
  });
  await new Promise((r) => tcp.listen(0, "127.0.0.1", r));
  const wss = new WebSocketServer({ host: "127.0.0.1", port: 0 });
  await new Promise((r) => wss.once("listening", r));
  wss.on("connection", (ws) => {
    const conn = new Conn((b) => ws.send(b), () => ws.terminate(), "websocket");
    ws.on("message", (data) => conn.received(decodeFrame(new Uint8Array(data))));
    ws.on("close", () => (conn.closed = true));
    accept(conn);
  });
  // The route: Login, and the calls that act for a user, with tokens the test can expire.
  const route = {
    /** Tokens answered 401 TOKEN_EXPIRED from now on. */
    expired: new Set(),
    /** Every call that carried a token: { method, path, token }. */
    calls: [],
    /** Delays each Login answer (to let calls overlap one). */
    loginDelayMs: 0,
    /** Refuses each Login with INVALID_CREDENTIALS. */
    refuseLogins: false,
  };
  const answer = (res, status, body, headers = {}) => {
    res.writeHead(status, { "content-type": "application/json", ...headers });
    res.end(JSON.stringify(body));
  };
  const http = createServer((req, res) => {
    let body = "";
    req.on("data", (c) => (body += c));
    req.on("end", async () => {
      const path = req.url.split("?")[0];
      if (path === "/v1/login") {
        const request = JSON.parse(body);
        logins.push(request);
        const number = logins.length;
        if (route.loginDelayMs) await new Promise((r) => setTimeout(r, route.loginDelayMs));
        if (route.refuseLogins) return answer(res, 401, { code: 6002, name: "INVALID_CREDENTIALS", message: "wrong user name or password" });
        const userId = request.user_name ?? "jwt-user";
        return answer(res, 200, {
          user_id: userId, user_name: userId, token: `v1.token-${number}`, token_expires_at_ms: 1,
          server: { server_id: "fake", tcp_endpoint: `127.0.0.1:${tcp.address().port}`, ws_url: `ws://127.0.0.1:${wss.address().port}/ws`, tcp_tls: false },
          from_a_later_version: true,
        });
      }
      const token = (req.headers.authorization ?? "").replace(/^Bearer /, "");
      route.calls.push({ method: req.method, path, token });
      if (token === "" || route.expired.has(token)) {
        return answer(res, 401, { code: 2001, name: "TOKEN_EXPIRED", message: "the session token has expired" }, { "www-authenticate": "Bearer" });
      }
      if (req.method === "GET" && path === "/v1/groups") return answer(res, 200, { groups: [{ group_id: "team", member_count: 2 }] });
      if (req.method === "GET" && path.startsWith("/v1/users/by-name/")) {
        return answer(res, 200, { users: [{ user_id: `id-of-${decodeURIComponent(path.slice(18))}`, user_name: decodeURIComponent(path.slice(18)), online: true }] });
      }
      if (req.method === "GET" && path === "/v1/online") return answer(res, 200, { users: [{ user_id: "alice", user_name: "alice", online: true }], next_page_token: "", total_online: 1 });
      if (req.method === "POST" && path.startsWith("/v1/groups/") && path.endsWith("/join")) {
        return answer(res, 200, { group: { group_id: decodeURIComponent(path.slice(11, -5)), member_count: 3 } });
      }
      if (req.method === "POST" && path === "/v1/logout") return answer(res, 200, {});
      return answer(res, 404, { code: 6001, name: "NOT_FOUND", message: "no such path" });
    });
  });
  await new Promise((r) => http.listen(0, "127.0.0.1", r));
  return {
    route: `http://127.0.0.1:${http.address().port}`,
    logins,
    routeState: route,
    /** The next connection the client opens, after `seen` earlier ones. */
    async connection(index, ms = 10_000) {
      const deadline = Date.now() + ms;
      while (conns.length <= index) {
        const left = deadline - Date.now();
        if (left <= 0) throw new Error(`no connection #${index} within ${ms} ms`);
        await new Promise((resolve) => {
          const timer = setTimeout(resolve, left);
          connWaiters.push(() => { clearTimeout(timer); resolve(); });
        });
      }
      return conns[index];
    },
    async stop() {
      for (const c of conns) c.close();
      await new Promise((r) => tcp.close(r));
      await new Promise((r) => wss.close(r));
      http.closeAllConnections?.();
      await new Promise((r) => http.close(r));
    },
  };
}

export function welcome(hello, overrides = {}) {
  return {
    case: "welcome",
    value: {
      version: 1, sessionId: "sess", userId: "alice", heartbeatIntervalMs: 30_000, heartbeatTimeoutMs: 75_000,
      resume: hello.resume ? { outcome: 2, epoch: hello.resume.epoch, nextSeq: hello.resume.lastAckedSeq + 1n } : { outcome: 1, epoch: 5n, nextSeq: 1n },
      ...overrides,
    },
  };
}

export function deliver(seq, messageId, text) {
  return {
    case: "deliver",
    value: { seq: BigInt(seq), messageId, fromUserId: "bob", to: { kind: { case: "userId", value: "alice" } }, contentType: "", body: new TextEncoder().encode(text), sentAtMs: 1_700_000_000_000n },
  };
}
