// Against a real node (`$CIM_BIN up`): two users chat both ways over TCP and over WebSocket,
// and messages sent to a user who is away reach them when they come back. Skipped when
// CIM_BIN is not set.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { randomBytes } from "node:crypto";
import { Client, ErrorCode, RejectedError, register } from "../dist/node.js";
import { startCimUp } from "./support/cim-up.mjs";

const skip = process.env.CIM_BIN ? false : "CIM_BIN is not set";
let node;

before(async () => {
  if (!skip) node = await startCimUp();
}, { timeout: 30_000 });

after(async () => {
  await node?.stop();
});

const unique = (name) => `${name}-${randomBytes(4).toString("hex")}`;
const PASSWORD = "a-password-of-some-length";

/** The next message event, within `ms`. */
async function nextMessage(client, ms = 10_000) {
  const timeout = new Promise((_, reject) => setTimeout(() => reject(new Error(`no message within ${ms} ms`)), ms).unref());
  const message = (async () => {
    for (;;) {
      const event = await client.nextEvent();
      if (event === undefined) throw new Error("the client closed");
      if (event.type === "message") return event;
    }
  })();
  return Promise.race([message, timeout]);
}

async function pair(transport) {
  const [aliceName, bobName] = [unique("alice"), unique("bob")];
  await register(node.route, aliceName, PASSWORD);
  await register(node.route, bobName, PASSWORD);
  const alice = await Client.login(node.route, { userName: aliceName, password: PASSWORD, deviceId: "a1", transport });
  const bob = await Client.login(node.route, { userName: bobName, password: PASSWORD, deviceId: "b1", transport });
  return { alice, bob, aliceName, bobName };
}

for (const transport of ["tcp", "websocket"]) {
  test(`two users chat both ways over ${transport}`, { skip, timeout: 60_000 }, async () => {
    const { alice, bob, bobName } = await pair(transport);
    try {
      const bobId = await alice.userIdOf(bobName);
      assert.equal(bobId, bob.userId);
      const ack = await alice.sendToUser(bobId, `hello over ${transport}`);
      assert.equal(ack.duplicate, false);
      const atBob = await nextMessage(bob);
      assert.equal(atBob.text, `hello over ${transport}`);
      assert.equal(atBob.fromUserId, alice.userId);
      assert.equal(atBob.messageId, ack.messageId);
      await bob.sendToUser(alice.userId, "hello back");
      const atAlice = await nextMessage(alice);
      assert.equal(atAlice.text, "hello back");
      assert.ok(atAlice.seq >= 1);
      const online = (await alice.onlineUsers()).map((u) => u.userId);
      assert.ok(online.includes(alice.userId) && online.includes(bob.userId), `online: ${online}`);
    } finally {
      await alice.close();
      await bob.close();
    }
  });
}

test("messages sent while a user is away arrive, in order, when they come back", { skip, timeout: 60_000 }, async () => {
  const { alice, bob, bobName } = await pair("tcp");
  const bobId = bob.userId;
  await bob.close();
  try {
    for (const text of ["one", "two", "three"]) await alice.sendToUser(bobId, text);
    const back = await Client.login(node.route, { userName: bobName, password: PASSWORD, deviceId: "b1", transport: "websocket" });
    try {
      const texts = [];
      for (let i = 0; i < 3; i++) texts.push((await nextMessage(back)).text);
      assert.deepEqual(texts, ["one", "two", "three"]);
    } finally {
      await back.close();
    }
  } finally {
    await alice.close();
  }
});

test("group messages reach the members; a refused send carries its registry code", { skip, timeout: 60_000 }, async () => {
  const { alice, bob } = await pair("tcp");
  try {
    const group = unique("team");
    assert.equal((await alice.createGroup(group)).memberCount, 1);
    assert.equal((await bob.joinGroup(group)).memberCount, 2);
    await alice.sendToGroup(group, "to the team");
    assert.equal((await nextMessage(bob)).text, "to the team");
    await assert.rejects(alice.sendToUser(unique("nobody"), "hello?"), (e) => e instanceof RejectedError && e.code === ErrorCode.UNKNOWN_RECIPIENT);
  } finally {
    await alice.close();
    await bob.close();
  }
});

test("a wrong password is refused with INVALID_CREDENTIALS", { skip, timeout: 30_000 }, async () => {
  const name = unique("carol");
  await register(node.route, name, PASSWORD);
  await assert.rejects(
    Client.login(node.route, { userName: name, password: "not-the-password", deviceId: "c1" }),
    (e) => e.code === ErrorCode.INVALID_CREDENTIALS && e.kind === "authentication",
  );
});
