// Two users, one message: alice sends, bob prints what he receives.
//
//   node examples/hello.mjs [ROUTE_URL]     (default: $CIM_ROUTE or http://127.0.0.1:8083)
//
// Start a node first with `cim up`. Exits 0 once bob has the message.
import { randomBytes } from "node:crypto";
import { Client, ErrorCode, register } from "cim-sdk";

const route = process.argv[2] ?? process.env.CIM_ROUTE ?? "http://127.0.0.1:8083";
const suffix = randomBytes(3).toString("hex"); // fresh names: the node may have seen these before
const password = "hello-example-password";

async function signUp(name) {
  try {
    await register(route, name, password);
  } catch (e) {
    if (e.code !== ErrorCode.ALREADY_EXISTS) throw e;
  }
  return Client.login(route, { userName: name, password, deviceId: `hello-${name}` });
}

const alice = await signUp(`alice-${suffix}`);
const bob = await signUp(`bob-${suffix}`);
const timer = setTimeout(() => {
  console.error("no message within 10 s");
  process.exit(1);
}, 10_000);

const bobId = await alice.userIdOf(`bob-${suffix}`); // ids are not names
const ack = await alice.sendToUser(bobId, "hello, bob");
console.log(`alice sent ${ack.messageId}`);

for await (const event of bob.events()) {
  if (event.type === "message") {
    console.log(`bob received from ${event.fromUserId}: ${event.text}`);
    break;
  }
}
clearTimeout(timer);
await alice.close();
await bob.close();
