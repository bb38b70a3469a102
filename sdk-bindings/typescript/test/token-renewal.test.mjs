// Route calls after the session token expired, with the real Client against the scripted
// route of test/support/fake-node.mjs: the client logs in again (one login for concurrent
// calls, the same device) and makes the call once more; the session stays up.
import assert from "node:assert/strict";
import { test } from "node:test";
import { AuthenticationError, Client, ErrorCode } from "../dist/node.js";
import { startFakeNode, welcome } from "./support/fake-node.mjs";

/** A client of `node`, welcomed on its first connection. */
async function loggedIn(node, options = { userName: "alice", password: "pw" }) {
  const loggingIn = Client.login(node.route, { ...options, deviceId: "d1", transport: "tcp" });
  const conn = await node.connection(0);
  conn.send(welcome(await conn.next("hello")));
  return { client: await loggingIn, conn };
}

test("route calls after the token expired log in again once, for the same device, and are made again", { timeout: 30_000 }, async () => {
  const node = await startFakeNode();
  const route = node.routeState;
  try {
    const { client, conn } = await loggedIn(node);
    assert.deepEqual((await client.groups()).map((g) => g.groupId), ["team"]);
    route.expired.add("v1.token-1"); // the token's lifetime is over
    route.loginDelayMs = 200; // the calls below all meet the one login
    const [groups, bob, online, joined, members] = await Promise.all([
      client.groups(),
      client.userIdOf("bob"),
      client.onlineUsers(),
      client.joinGroup("team"),
      client.usersByName("carol"),
    ]);
    assert.equal(groups[0].groupId, "team");
    assert.equal(bob, "id-of-bob");
    assert.equal(online[0].userId, "alice");
    assert.equal(joined.memberCount, 3);
    assert.equal(members[0].userName, "carol");

    assert.equal(node.logins.length, 2, "one new login for five calls");
    assert.equal(node.logins[1].device_id, "d1", "the same device (CIM-5.2-3)");
    assert.equal(node.logins[1].password, "pw");
    const retried = route.calls.filter((c) => c.token === "v1.token-2").map((c) => c.path).sort();
    assert.deepEqual(retried, ["/v1/groups", "/v1/groups/team/join", "/v1/online", "/v1/users/by-name/bob", "/v1/users/by-name/carol"]);

    // Later calls take the new token at once.
    route.calls.length = 0;
    await client.groups();
    assert.deepEqual(route.calls.map((c) => c.token), ["v1.token-2"]);

    // The session stayed up; a reconnect presents the new token.
    assert.equal(conn.closed, false);
    conn.close();
    const again = await node.connection(1);
    assert.equal((await again.next("hello")).token, "v1.token-2");
    await client.close();
  } finally {
    await node.stop();
  }
});

test("a client logged in with a JWT logs in again with it", { timeout: 30_000 }, async () => {
  const node = await startFakeNode();
  try {
    const { client } = await loggedIn(node, { jwt: "header.payload.signature" });
    node.routeState.expired.add("v1.token-1");
    await client.logout();
    assert.equal(node.logins.length, 2);
    assert.equal(node.logins[1].jwt, "header.payload.signature");
    assert.equal(node.logins[1].device_id, "d1");
    assert.deepEqual(node.routeState.calls.map((c) => [c.path, c.token]), [["/v1/logout", "v1.token-1"], ["/v1/logout", "v1.token-2"]]);
    assert.equal(client.isClosed, true);
  } finally {
    await node.stop();
  }
});

test("a refused login, a new token refused too, or a closed client: the error reaches the caller", { timeout: 30_000 }, async () => {
  const node = await startFakeNode();
  const route = node.routeState;
  try {
    const { client } = await loggedIn(node);
    route.expired.add("v1.token-1");
    route.refuseLogins = true;
    await assert.rejects(client.groups(), (e) => e instanceof AuthenticationError && e.code === ErrorCode.INVALID_CREDENTIALS);
    assert.equal(node.logins.length, 2);
    assert.equal(route.calls.length, 1, "not made again without a new token");

    route.refuseLogins = false;
    route.expired.add("v1.token-3"); // the next login's token is refused as well
    route.calls.length = 0;
    await assert.rejects(client.groups(), (e) => e.code === ErrorCode.TOKEN_EXPIRED);
    assert.equal(node.logins.length, 3, "one new login only");
    assert.equal(route.calls.length, 2, "made once more, not again");

    await client.close();
    await assert.rejects(client.groups(), (e) => e.code === ErrorCode.TOKEN_EXPIRED);
    assert.equal(node.logins.length, 3, "a closed client does not log in again");
  } finally {
    await node.stop();
  }
});
