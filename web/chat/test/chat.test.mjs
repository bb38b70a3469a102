// The web chat in Debian's chromium (headless, puppeteer-core): two pages chatting with each
// other and with `cim send`, offline messages, and reconnection after the server restarts.
//
//   CIM_BIN=…/target/debug/cim npm test        (screenshots and logs in CIM_ARTIFACTS, default ./artifacts)

import { test } from "node:test";
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import {
  ARTIFACTS, BIN_DIR, CIM_BIN, Processes, RUN, SKIP, chatWith, createGroup, foreignRequests, freePorts,
  hasFlag, joinGroup, launchBrowser, logIn, messages, newUserPage, openGroup, openPeer, run, screenshot,
  send, serveLikeCimWeb, unreadOf, waitFor, waitForHttp, waitForMessage, waitForPeer, waitForStatus,
  waitForTcp, within,
} from "./support.mjs";

const PASSWORD = "correct horse battery";
/** Set to 1 to test a binary built before `--web-listen` and `cim web` existed. */
const FALLBACK = process.env.CIM_WEB_FALLBACK === "1";

test("two pages chat with each other and with `cim send` on a `cim up` node", { skip: SKIP, timeout: 90_000 }, async (t) => {
  const processes = new Processes();
  let browser;
  let fallbackServer;
  try {
    await within(80_000, "the cim up scenario", (async () => {
      const [routePort, webPort] = await freePorts(2);
      const route = `http://127.0.0.1:${routePort}`;
      const web = `http://127.0.0.1:${webPort}`;
      const upArgs = ["up", "--free-ports", "--route-listen", `127.0.0.1:${routePort}`, "--registrations-per-address", "0"];
      const native = hasFlag(["up"], "--web-listen");
      if (native) upArgs.push("--web-listen", `127.0.0.1:${webPort}`);
      else if (!FALLBACK) assert.fail(`${CIM_BIN} has no \`cim up --web-listen\`: rebuild it (or set CIM_WEB_FALLBACK=1 to serve the page from the test)`);
      const up = await processes.start("a-cim-up", CIM_BIN, upArgs, { ready: /websocket ws:\/\/[^/\s]+/ });
      await waitForHttp(`${route}/healthz`);
      const wsOrigin = /websocket (ws:\/\/[^/\s]+)/.exec(up.output)?.[1];
      if (!native) {
        t.diagnostic("CIM_WEB_FALLBACK: the page is served by the test, route calls proxied through its origin");
        fallbackServer = await serveLikeCimWeb(route, webPort, { proxy: true });
      }

      // What the node serves: the page with its route filled in, and a policy allowing nothing else.
      const index = await waitForHttp(`${web}/`);
      const policy = index.headers.get("content-security-policy") ?? "";
      assert.match(policy, /default-src 'self'/);
      const html = await index.text();
      assert.ok(!html.includes("%CIM_ROUTE%"), "the route is filled in");
      assert.match(html, native ? new RegExp(`<meta name="cim-route" content="${route}">`) : /name="cim-route"/);

      browser = await launchBrowser();
      const alice = `alice-${RUN}`;
      const bob = `bob-${RUN}`;
      const carol = `carol-${RUN}`;
      const aliceContext = await browser.createBrowserContext();
      const bobContext = await browser.createBrowserContext();
      const a = await newUserPage(aliceContext, "alice");
      let b = await newUserPage(bobContext, "bob");
      const pages = [a, b];

      await t.test("a refused login shows the SDK's error and its code", async () => {
        await a.goto(web);
        await a.type("#login-name", alice);
        await a.type("#login-password", "not the password");
        await a.click("#login-button");
        const code = await a.waitForSelector('[data-testid="error"] [data-testid="error-code"]', { timeout: 10_000 });
        assert.equal(await code.evaluate((e) => e.textContent), "INVALID_CREDENTIALS");
        assert.ok(await a.$("#login-view:not([hidden])"), "the login form stays");
        await screenshot(a, "00-login-refused");
      });

      await t.test("register and log in", async () => {
        await logIn(a, web, alice, PASSWORD, { register: true });
        await screenshot(a, "01-alice-logged-in");
        await logIn(b, web, bob, PASSWORD, { register: true });
        assert.equal(await a.$eval("#me-name", (e) => e.textContent), alice);
        await waitForPeer(a, bob, { online: true });
        await waitForPeer(b, alice, { online: true });
        await screenshot(b, "02-bob-sees-alice-online");
      });

      await t.test("one-to-one both ways", async () => {
        await openPeer(a, bob);
        await send(a, "hi bob, it's alice");
        await waitFor("an unread count at bob's", async () => (await unreadOf(b, alice)) === 1, 10_000);
        await screenshot(b, "03-bob-has-an-unread-message");
        await openPeer(b, alice);
        await waitForMessage(b, "hi bob, it's alice");
        assert.equal(await unreadOf(b, alice), 0);
        await send(b, "hello alice!\nthis one has two lines");
        await waitForMessage(a, "hello alice!\nthis one has two lines");
        const seen = await messages(a);
        assert.deepEqual(seen.map((m) => [m.own, m.text]), [[true, "hi bob, it's alice"], [false, "hello alice!\nthis one has two lines"]]);
        assert.equal(seen[1].sender, bob);
        await screenshot(a, "04-alice-one-to-one");
      });

      const groupId = `team-${RUN}`;
      await t.test("group chat", async () => {
        await createGroup(a, groupId);
        await joinGroup(b, groupId);
        await send(a, "welcome to the group");
        await waitForMessage(b, "welcome to the group");
        await send(b, "glad to be here");
        await waitForMessage(a, "glad to be here");
        await waitFor("two members in alice's sidebar", async () => (await a.$eval(`button[data-group-id="${groupId}"] .entry-meta`, (e) => e.textContent)) === "2", 10_000);
        await screenshot(b, "05-bob-group-chat");
      });

      await t.test("a message from `cim send` in the shell", async () => {
        const registered = await run("a-cim-register-carol", CIM_BIN, ["register", "--route", route, "--user", carol, "--password", PASSWORD]);
        assert.equal(registered.code, 0, registered.output);
        const sent = await run("a-cim-send-carol", CIM_BIN, ["send", "--route", route, "--user", carol, "--password", PASSWORD, "--to", alice, "hi from the shell"]);
        assert.equal(sent.code, 0, sent.output);
        await waitFor("carol's message at alice's", async () => (await unreadOf(a, carol).catch(() => 0)) === 1, 10_000);
        await openPeer(a, carol);
        await waitForMessage(a, "hi from the shell");
        await screenshot(a, "06-alice-message-from-the-shell");
      });

      await t.test("offline messages on return", async () => {
        await b.close();
        await openPeer(a, bob);
        await waitForPeer(a, bob, { online: false }, 15_000);
        await send(a, "while you were away (1)");
        await send(a, "while you were away (2)");
        await screenshot(a, "07-alice-sends-to-offline-bob");
        b = await newUserPage(bobContext, "bob, again");
        pages.push(b);
        await logIn(b, web, bob, PASSWORD);
        await waitFor("2 unread from alice", async () => (await unreadOf(b, alice).catch(() => 0)) === 2, 15_000);
        await openPeer(b, alice);
        await waitForMessage(b, "while you were away (2)");
        const texts = (await messages(b)).filter((m) => !m.own).map((m) => m.text);
        assert.deepEqual(texts.slice(-2), ["while you were away (1)", "while you were away (2)"]);
        await screenshot(b, "08-bob-back-with-offline-messages");
      });

      await t.test("log out", async () => {
        await a.click("#logout-button");
        await a.waitForSelector("#login-view:not([hidden])", { timeout: 10_000 });
        assert.equal(await a.$eval("#login-name", (e) => e.value), alice);
        await waitForPeer(b, alice, { online: false }, 15_000);
        await screenshot(b, "09-bob-sees-alice-logged-out");
      });

      await t.test("the pages load nothing from elsewhere", () => {
        const allowed = [web, route, wsOrigin];
        assert.deepEqual(foreignRequests(pages, allowed), []);
        assert.ok(pages.some((p) => p.record.websockets.some((u) => u.startsWith(wsOrigin))), "the pages used the server's WebSocket");
        assert.deepEqual(pages.flatMap((p) => p.record.errors), []);
      });
    })());
  } finally {
    await browser?.close().catch(() => {});
    await fallbackServer?.close();
    await processes.stopAll();
  }
});

test("the pages reconnect after the server restarts (cluster: Redis, ZooKeeper, cim-server, cim-route, cim web)", { skip: SKIP, timeout: 130_000 }, async (t) => {
  const processes = new Processes();
  const dir = mkdtempSync(join(tmpdir(), "cim-web-cluster-"));
  let browser;
  let fallbackServer;
  try {
    await within(120_000, "the cluster scenario", (async () => {
      const [redisPort, zkPort, tcpPort, wsPort, internalPort, serverAdminPort, routePort, grpcPort, routeAdminPort, webPort] = await freePorts(10);
      const route = `http://127.0.0.1:${routePort}`;
      const web = `http://127.0.0.1:${webPort}`;
      const native = hasFlag(["web"], "--listen");
      if (!native && !FALLBACK) assert.fail(`${CIM_BIN} has no \`cim web\`: rebuild it (or set CIM_WEB_FALLBACK=1 to serve the page from the test)`);

      await processes.start("b-redis", "redis-server", ["--port", String(redisPort), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"], { ready: /Ready to accept connections/ });
      writeFileSync(join(dir, "zoo.cfg"), `tickTime=2000\ndataDir=${join(dir, "zk")}\nclientPort=${zkPort}\nclientPortAddress=127.0.0.1\nadmin.enableServer=false\n`);
      await processes.start("b-zookeeper", "java", ["-cp", "/etc/zookeeper/conf:/usr/share/java/*", "org.apache.zookeeper.server.ZooKeeperServerMain", join(dir, "zoo.cfg")]);
      await waitForTcp(zkPort, 30_000);

      const env = {
        CIM_TOKEN_SECRET: randomBytes(32).toString("hex"),
        CIM_REDIS: `redis://127.0.0.1:${redisPort}`,
        CIM_ZOOKEEPER: `127.0.0.1:${zkPort}`,
      };
      const serverArgs = ["--server-id", "s0", "--listen", `127.0.0.1:${tcpPort}`, "--ws-listen", `127.0.0.1:${wsPort}`,
        "--internal-listen", `127.0.0.1:${internalPort}`, "--admin-listen", `127.0.0.1:${serverAdminPort}`];
      const startServer = async (name) => {
        const server = await processes.start(name, join(BIN_DIR, "cim-server"), serverArgs, { env });
        await waitForHttp(`http://127.0.0.1:${serverAdminPort}/healthz`, 30_000);
        return server;
      };
      let server = await startServer("b-cim-server");
      const routeArgs = ["--listen", `127.0.0.1:${routePort}`, "--grpc-listen", `127.0.0.1:${grpcPort}`, "--admin-listen", `127.0.0.1:${routeAdminPort}`];
      if (native) routeArgs.push("--cors-origin", web);
      await processes.start("b-cim-route", join(BIN_DIR, "cim-route"), routeArgs, { env });
      await waitForHttp(`http://127.0.0.1:${routeAdminPort}/healthz`, 30_000);
      if (native) {
        await processes.start("b-cim-web", CIM_BIN, ["web", "--route", route, "--listen", `127.0.0.1:${webPort}`]);
      } else {
        t.diagnostic("CIM_WEB_FALLBACK: the page is served by the test, route calls proxied through its origin");
        fallbackServer = await serveLikeCimWeb(route, webPort, { proxy: true });
      }
      await waitForHttp(`${web}/`);

      browser = await launchBrowser();
      const alice = `alice-${RUN}`;
      const bob = `bob-${RUN}`;
      const carol = `carol-${RUN}`;
      const a = await newUserPage(await browser.createBrowserContext(), "alice");
      const b = await newUserPage(await browser.createBrowserContext(), "bob");
      await logIn(a, web, alice, PASSWORD, { register: true });
      await logIn(b, web, bob, PASSWORD, { register: true });
      await chatWith(a, bob);
      await send(a, "before the restart");
      await waitForPeer(b, alice);
      await openPeer(b, alice);
      await waitForMessage(b, "before the restart");
      const registered = await run("b-cim-register-carol", CIM_BIN, ["register", "--route", route, "--user", carol, "--password", PASSWORD]);
      assert.equal(registered.code, 0, registered.output);

      await t.test("kill -9 the server: the pages say they are reconnecting", async () => {
        await processes.stop(server, "SIGKILL");
        await waitForStatus(a, "reconnecting", 20_000);
        await waitForStatus(b, "reconnecting", 20_000);
        await screenshot(b, "11-bob-reconnecting");
      });

      // Sent while the server is away: alice's page holds hers until it is back, and `cim send`
      // keeps trying (or gives up, which the route may make it do: then that part is skipped).
      await send(a, "sent while the server was down", { confirmed: false });
      await screenshot(a, "12-alice-sends-while-reconnecting");
      const shell = run("b-cim-send-carol", CIM_BIN, ["send", "--route", route, "--user", carol, "--password", PASSWORD, "--to", bob, "from the shell while the server was down"], { timeoutMs: 60_000 });
      await sleep(1000);

      await t.test("restart the server: the pages connect again and messages flow", async () => {
        server = await startServer("b-cim-server-restarted");
        await waitForStatus(a, "connected", 60_000);
        await waitForStatus(b, "connected", 60_000);
        await waitForMessage(a, "sent while the server was down", { status: "sent", timeoutMs: 30_000 });
        await waitForMessage(b, "sent while the server was down", { timeoutMs: 30_000 });
        await send(a, "after the restart");
        await waitForMessage(b, "after the restart");
        const texts = (await messages(b)).map((m) => m.text);
        assert.deepEqual(texts, ["before the restart", "sent while the server was down", "after the restart"]);
        await screenshot(b, "13-bob-connected-again");
      });

      await t.test("`cim send` while the server was down", async (st) => {
        const sent = await shell;
        if (sent.code !== 0) {
          st.skip(`cim send gave up while the server was down (exit ${sent.code}): ${sent.output.trim().split("\n").pop()}`);
          return;
        }
        await waitFor("carol's message at bob's", async () => (await unreadOf(b, carol).catch(() => 0)) >= 1, 20_000);
        await openPeer(b, carol);
        await waitForMessage(b, "from the shell while the server was down");
        await screenshot(b, "14-bob-message-sent-by-the-shell-during-the-outage");
      });

      await t.test("the pages load nothing from elsewhere", () => {
        assert.deepEqual(foreignRequests([a, b], [web, route, `ws://127.0.0.1:${wsPort}`]), []);
        assert.deepEqual([a, b].flatMap((p) => p.record.errors), []);
      });
    })());
  } finally {
    await browser?.close().catch(() => {});
    await fallbackServer?.close();
    await processes.stopAll();
    rmSync(dir, { recursive: true, force: true });
  }
});
