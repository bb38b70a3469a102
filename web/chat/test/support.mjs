// What the browser tests share: child processes that are always stopped, free ports, waiting
// for HTTP, a browser with one context per user, and the page actions a person would do.

import { spawn, execFileSync } from "node:child_process";
import { createWriteStream, mkdirSync, readFileSync } from "node:fs";
import { createServer } from "node:http";
import { createServer as createNetServer, connect } from "node:net";
import { randomBytes } from "node:crypto";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { setTimeout as sleep } from "node:timers/promises";
import puppeteer from "puppeteer-core";

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..");
export const CIM_BIN = process.env.CIM_BIN || undefined;
export const BIN_DIR = CIM_BIN ? dirname(CIM_BIN) : undefined;
export const ARTIFACTS = process.env.CIM_ARTIFACTS || join(ROOT, "artifacts");
export const CHROMIUM = process.env.CHROMIUM || "/usr/bin/chromium";
export const SKIP = CIM_BIN ? false : "CIM_BIN is not set: point it at the cim binary (e.g. target/debug/cim) to run the browser tests";

/** A suffix that makes the names of one run unique. */
export const RUN = `${Date.now().toString(36)}${randomBytes(2).toString("hex")}`;

mkdirSync(join(ARTIFACTS, "logs"), { recursive: true });

/** Child processes of one scenario, each logged to ARTIFACTS/logs; `stopAll` ends them all. */
export class Processes {
  #running = new Set();

  /** Starts `command`; resolves when its output matched `ready` (if given). */
  start(name, command, args, { env = {}, ready, timeoutMs = 30_000 } = {}) {
    const child = spawn(command, args, { env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"] });
    const log = createWriteStream(join(ARTIFACTS, "logs", `${name}.log`), { flags: "a" });
    log.write(`\n$ ${commandLine(command, args)}\n`);
    const proc = { name, child, output: "", exited: false, exitCode: null };
    const onData = (chunk) => {
      proc.output += chunk.toString();
      log.write(chunk);
    };
    child.stdout.on("data", onData);
    child.stderr.on("data", onData);
    proc.done = new Promise((resolve) => child.on("exit", (code, signal) => {
      proc.exited = true;
      proc.exitCode = code ?? signal;
      this.#running.delete(proc);
      log.end(`\n[exited: ${code ?? signal}]\n`);
      resolve(proc.exitCode);
    }));
    child.on("error", (e) => onData(`\n[spawn error: ${e.message}]\n`));
    this.#running.add(proc);
    if (!ready) return Promise.resolve(proc);
    return waitFor(`${name}: ${ready}`, () => {
      if (proc.exited) throw new Error(`${name} exited (${proc.exitCode}) before it was ready:\n${proc.output}`);
      return ready.test(proc.output);
    }, timeoutMs).then(() => proc);
  }

  /** Ends one process: SIGTERM, then SIGKILL (or SIGKILL at once). */
  async stop(proc, signal = "SIGTERM") {
    if (proc.exited) return;
    proc.child.kill(signal);
    const killed = await Promise.race([proc.done.then(() => true), sleep(5000).then(() => false)]);
    if (!killed) {
      proc.child.kill("SIGKILL");
      await proc.done;
    }
  }

  async stopAll() {
    await Promise.all([...this.#running].map((p) => this.stop(p)));
  }
}

/** Runs a command to its end; resolves with its exit code and output. */
export function run(name, command, args, { env = {}, timeoutMs = 30_000 } = {}) {
  return new Promise((resolve) => {
    const child = spawn(command, args, { env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"] });
    let output = "";
    child.stdout.on("data", (c) => { output += c; });
    child.stderr.on("data", (c) => { output += c; });
    const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
    child.on("exit", (code, signal) => {
      clearTimeout(timer);
      const log = createWriteStream(join(ARTIFACTS, "logs", `${name}.log`), { flags: "a" });
      log.end(`$ ${commandLine(command, args)}\n${output}\n[exited: ${code ?? signal}]\n`);
      resolve({ code: code ?? signal, output });
    });
    child.on("error", (e) => { output += e.message; });
  });
}

function commandLine(command, args) {
  return [command, ...args].map((a) => (/^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replaceAll("'", "'\\''")}'`)).join(" ");
}

/** Polls `check` until it returns something truthy. */
export async function waitFor(what, check, timeoutMs = 20_000, everyMs = 100) {
  const deadline = Date.now() + timeoutMs;
  let last;
  for (;;) {
    try {
      const value = await check();
      if (value) return value;
    } catch (e) {
      if (e instanceof Error && /exited/.test(e.message)) throw e;
      last = e;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${last ? `: ${last.message ?? last}` : ""}`);
    await sleep(everyMs);
  }
}

/** A port free on 127.0.0.1 now. */
export function freePort() {
  return new Promise((resolve, reject) => {
    const server = createNetServer();
    server.unref();
    server.on("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

/** `count` distinct free ports. */
export async function freePorts(count) {
  const ports = new Set();
  while (ports.size < count) ports.add(await freePort());
  return [...ports];
}

export async function waitForHttp(url, timeoutMs = 30_000) {
  return waitFor(url, async () => {
    const response = await fetch(url, { signal: AbortSignal.timeout(2000) });
    return response.ok ? response : undefined;
  }, timeoutMs, 200);
}

export async function waitForTcp(port, timeoutMs = 30_000) {
  return waitFor(`a listener on port ${port}`, () => new Promise((resolve) => {
    const socket = connect(port, "127.0.0.1");
    socket.on("connect", () => { socket.destroy(); resolve(true); });
    socket.on("error", () => resolve(false));
  }), timeoutMs, 200);
}

/** Whether `cim <command> --help` lists `flag`. */
export function hasFlag(command, flag) {
  try {
    return execFileSync(CIM_BIN, [...command, "--help"], { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] }).includes(flag);
  } catch {
    return false;
  }
}

/**
 * Serves the page as `cim web` does, for binaries built before it existed: the three files,
 * the route's URL in the meta tag, the same Content-Security-Policy. With `proxy`, the page
 * is told the route is at its own origin and route calls are passed on (no CORS needed).
 */
export function serveLikeCimWeb(routeUrl, port, { proxy = false } = {}) {
  const pageRoute = proxy ? `http://127.0.0.1:${port}` : routeUrl;
  const policy = `default-src 'self'; connect-src 'self' ${pageRoute} ws: wss:; img-src 'self' data:; frame-ancestors 'none'`;
  const files = {
    "/": ["text/html; charset=utf-8", () => readFileSync(join(ROOT, "index.html"), "utf8").replaceAll("%CIM_ROUTE%", pageRoute.replaceAll("&", "&amp;").replaceAll('"', "&quot;"))],
    "/chat.js": ["text/javascript; charset=utf-8", () => readFileSync(join(ROOT, "dist/chat.js"))],
    "/chat.css": ["text/css; charset=utf-8", () => readFileSync(join(ROOT, "chat.css"))],
  };
  const server = createServer(async (request, response) => {
    const path = request.url ?? "/";
    if (proxy && (path.startsWith("/v1/") || path === "/healthz")) {
      const chunks = [];
      for await (const c of request) chunks.push(c);
      const headers = { ...request.headers };
      delete headers.host;
      delete headers.origin;
      const init = { method: request.method, headers };
      if (chunks.length) init.body = Buffer.concat(chunks);
      try {
        const answer = await fetch(routeUrl + path, init);
        response.writeHead(answer.status, { "content-type": answer.headers.get("content-type") ?? "application/json" });
        response.end(Buffer.from(await answer.arrayBuffer()));
      } catch (e) {
        response.writeHead(502).end(String(e));
      }
      return;
    }
    const file = files[path];
    if (!file || request.method !== "GET") return void response.writeHead(404).end();
    response.writeHead(200, { "content-type": file[0], "content-security-policy": policy, "cache-control": "no-cache" });
    response.end(file[1]());
  });
  return new Promise((resolve) => server.listen(port, "127.0.0.1", () => resolve({ close: () => new Promise((r) => { server.closeAllConnections(); server.close(() => r()); }) })));
}

// ----- the browser -----

export async function launchBrowser() {
  const args = ["--disable-dev-shm-usage", "--no-first-run", "--no-default-browser-check", "--window-size=1200,800"];
  if (process.getuid?.() === 0) args.push("--no-sandbox");
  return puppeteer.launch({ executablePath: CHROMIUM, headless: true, args, defaultViewport: { width: 1200, height: 800 } });
}

/**
 * A page in a browser context of its own (its own localStorage, so its own device), which
 * records every URL it loads or connects to and every error of its scripts.
 */
export async function newUserPage(context, label) {
  const page = await context.newPage();
  const record = { label, requests: [], websockets: [], errors: [] };
  page.on("request", (r) => record.requests.push(r.url()));
  page.on("pageerror", (e) => record.errors.push(`page error: ${e.message}`));
  page.on("console", (m) => {
    if (m.type() === "error" && !/Failed to load resource|WebSocket connection to/.test(m.text())) record.errors.push(`console: ${m.text()}`);
    if (/Content.Security.Policy/i.test(m.text())) record.errors.push(`CSP: ${m.text()}`);
  });
  const cdp = await page.createCDPSession();
  await cdp.send("Network.enable");
  cdp.on("Network.webSocketCreated", (e) => record.websockets.push(e.url));
  page.record = record;
  return page;
}

export async function screenshot(page, name) {
  const path = join(ARTIFACTS, `${name}.png`);
  await page.screenshot({ path });
  return path;
}

/** Fills the login form and waits for the chat view. */
export async function logIn(page, webUrl, userName, password, { register = false, goto = true } = {}) {
  if (goto) await page.goto(webUrl, { waitUntil: "load" });
  await page.waitForSelector("#login-name", { visible: true });
  await page.$eval("#login-name", (e) => { e.value = ""; });
  await page.type("#login-name", userName);
  await page.type("#login-password", password);
  await page.click(register ? "#register-button" : "#login-button");
  await page.waitForSelector("#chat-view:not([hidden])", { timeout: 20_000 });
  await waitForStatus(page, "connected");
}

export async function waitForStatus(page, status, timeoutMs = 20_000) {
  await page.waitForSelector(`#connection-status[data-status="${status}"]`, { timeout: timeoutMs });
}

const peer = (name) => `button[data-testid="peer"][data-user-name="${name}"]`;
const group = (id) => `button[data-testid="group"][data-group-id="${id}"]`;

export async function waitForPeer(page, name, { online } = {}, timeoutMs = 15_000) {
  const state = online === undefined ? "" : online ? "[data-online]" : ":not([data-online])";
  await page.waitForSelector(peer(name) + state, { timeout: timeoutMs });
}

export async function openPeer(page, name) {
  await page.waitForSelector(peer(name), { timeout: 15_000 });
  await page.click(peer(name));
  await page.waitForSelector(`${peer(name)}[aria-current="true"]`);
}

export async function openGroup(page, id) {
  await page.waitForSelector(group(id), { timeout: 15_000 });
  await page.click(group(id));
  await page.waitForSelector(`${group(id)}[aria-current="true"]`);
}

/** The unread count shown beside a peer (0 when there is no badge). */
export async function unreadOf(page, name) {
  return page.$eval(peer(name), (b) => Number(b.querySelector('[data-testid="unread"]')?.textContent ?? 0));
}

export async function chatWith(page, name) {
  await page.type("#chat-with-name", name);
  await page.click("#chat-with-button");
  await page.waitForSelector(`${peer(name)}[aria-current="true"]`);
}

export async function createGroup(page, id) {
  await page.type("#group-id", id);
  await page.click("#group-create");
  await page.waitForSelector(`${group(id)}[aria-current="true"]`);
}

export async function joinGroup(page, id) {
  await page.type("#group-id", id);
  await page.click("#group-join");
  await page.waitForSelector(`${group(id)}[aria-current="true"]`);
}

/** Types a message and presses Enter; waits until the server stored it. */
export async function send(page, text, { confirmed = true } = {}) {
  const lines = text.split("\n");
  for (const [i, line] of lines.entries()) {
    if (i > 0) {
      await page.keyboard.down("Shift");
      await page.keyboard.press("Enter");
      await page.keyboard.up("Shift");
    }
    await page.type("#message-input", line);
  }
  await page.keyboard.press("Enter");
  if (confirmed) await waitForMessage(page, text, { status: "sent" });
}

/** Waits for a message with this text in the open conversation. */
export async function waitForMessage(page, text, { status, timeoutMs = 15_000 } = {}) {
  await page.waitForFunction((text, status) => [...document.querySelectorAll('#messages [data-testid="message"]')].some(
    (m) => m.querySelector('[data-testid="message-text"]')?.textContent === text && (!status || m.dataset.status === status)),
  { timeout: timeoutMs, polling: 100 }, text, status);
}

/** The open conversation's messages: sender, text, own. */
export async function messages(page) {
  return page.$$eval('#messages [data-testid="message"]', (items) => items.map((m) => ({
    sender: m.querySelector('[data-testid="sender"]')?.textContent,
    text: m.querySelector('[data-testid="message-text"]')?.textContent,
    own: m.dataset.own !== undefined,
  })));
}

/** Every URL the pages reached whose origin is not one of `allowed` (http(s) and ws). */
export function foreignRequests(pages, allowed) {
  const foreign = [];
  for (const page of pages) {
    for (const url of [...page.record.requests, ...page.record.websockets]) {
      if (url.startsWith("data:")) continue;
      const u = new URL(url);
      if (!allowed.includes(`${u.protocol}//${u.host}`)) foreign.push(`${page.record.label}: ${url}`);
    }
  }
  return foreign;
}

/** A Promise that rejects after `ms`, for bounding a scenario. */
export function within(ms, what, promise) {
  let timer;
  return Promise.race([
    promise.finally(() => clearTimeout(timer)),
    new Promise((_, reject) => { timer = setTimeout(() => reject(new Error(`${what} took longer than ${ms / 1000} s`)), ms); }),
  ]);
}
