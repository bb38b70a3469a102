#!/usr/bin/env node
// The conformance driver of the TypeScript SDK (spec/v1/driver.md):
//
//   cim-conformance client -- node dist/driver.js
//
// JSON-line commands on standard input become calls of the SDK's public API, and what the
// client reports becomes event lines on standard output. It decides nothing itself: every
// behaviour the harness sees is the SDK's.

import { createInterface } from "node:readline";
import { CimError, Client, type ClientEvent, type Target } from "./node.js";

type Json = Record<string, unknown>;

function emit(event: Json): void {
  process.stdout.write(JSON.stringify(event) + "\n");
}

const log = (line: string): void => {
  process.stderr.write(`[cim-sdk ${new Date().toISOString()}] ${line}\n`);
};

function codeOf(e: unknown): number {
  return e instanceof CimError && e.code !== undefined ? e.code : 0;
}

function messageOf(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/** The client of one `login` command. */
class Session {
  private readonly abort = new AbortController();
  private readonly client: Promise<Client | undefined>;
  private pump: Promise<void> = Promise.resolve();

  constructor(route: string, command: Json) {
    const transport = command.transport === "websocket" ? "websocket" : "tcp";
    const options = {
      userName: String(command.user_name ?? ""),
      password: String(command.password ?? ""),
      deviceId: String(command.device_id ?? ""),
      transport,
      // Long enough for the harness's cases that fail several attempts before a Welcome.
      connectTimeoutMs: 120_000,
      logger: log,
      signal: this.abort.signal,
      ...(typeof command.trust_pem === "string" ? { trustPem: command.trust_pem } : {}),
    } as const;
    this.client = Client.login(route, options).then(
      (client) => {
        this.pump = this.forward(client);
        return client;
      },
      (e: unknown) => {
        if (!this.abort.signal.aborted) emit({ event: "login_failed", code: codeOf(e), message: messageOf(e) });
        return undefined;
      },
    );
  }

  /** Hands a message to the client at once, whether or not it is connected yet (DRV-3-3). */
  send(command: Json): void {
    const ref = command.ref ?? "";
    const to = (command.to ?? {}) as Json;
    const target: Target = typeof to.user_id === "string" ? { userId: to.user_id }
      : typeof to.group_id === "string" ? { groupId: to.group_id }
      : { everyone: true };
    const contentType = typeof command.content_type === "string" ? command.content_type : "text/plain";
    const body = String(command.body ?? "");
    void this.client.then(async (client) => {
      if (!client) return emit({ event: "send_failed", ref, code: 0, message: "not logged in" });
      try {
        const ack = await client.send(target, body, contentType);
        emit({ event: "sent", ref, message_id: ack.messageId, duplicate: ack.duplicate });
      } catch (e) {
        emit({ event: "send_failed", ref, code: codeOf(e), message: messageOf(e) });
      }
    });
  }

  onlineUsers(): void {
    void this.client.then(async (client) => {
      if (!client) return emit({ event: "call_failed", cmd: "online_users", code: 0, message: "not logged in" });
      try {
        const users = await client.onlineUsers();
        emit({ event: "online_users", user_ids: users.map((u) => u.userId) });
      } catch (e) {
        emit({ event: "call_failed", cmd: "online_users", code: codeOf(e), message: messageOf(e) });
      }
    });
  }

  /** Closes the client, even one still logging in (DRV-3-4), and waits for its last event. */
  async close(): Promise<void> {
    this.abort.abort();
    const client = await this.client;
    if (client) {
      await client.close();
      await this.pump;
    }
  }

  private async forward(client: Client): Promise<void> {
    for await (const event of client.events()) emit(eventLine(event));
  }
}

function eventLine(event: ClientEvent): Json {
  switch (event.type) {
    case "connected":
      return { event: "connected", session_id: event.sessionId };
    case "message":
      return {
        event: "message",
        message_id: event.messageId,
        from_user_id: event.fromUserId,
        seq: event.seq,
        content_type: event.contentType,
        body: event.text,
      };
    case "messages_lost":
      return { event: "messages_lost", reason: event.reason };
    case "disconnected":
      return { event: "disconnected", message: event.message };
    case "closed":
      return { event: "closed", message: event.message };
  }
}

async function main(): Promise<void> {
  const route = process.env.CIM_CONFORMANCE_ROUTE ?? "";
  const lines = createInterface({ input: process.stdin, crlfDelay: Infinity });
  let session: Session | undefined;
  emit({ event: "ready" });
  for await (const line of lines) {
    if (line.trim() === "") continue;
    let command: Json;
    try {
      command = JSON.parse(line) as Json;
      if (typeof command.cmd !== "string") throw new Error("no cmd");
    } catch {
      emit({ event: "unsupported", cmd: "", message: "not a JSON command" });
      continue;
    }
    const cmd = command.cmd as string;
    if (cmd === "login") {
      if (command.transport !== undefined && command.transport !== "tcp" && command.transport !== "websocket") {
        emit({ event: "unsupported", cmd, message: `unknown transport ${JSON.stringify(command.transport)}` });
        continue;
      }
      await session?.close();
      session = new Session(route, command);
    } else if (cmd === "send" || cmd === "online_users") {
      if (!session) emit({ event: "unsupported", cmd, message: `${cmd} before login` });
      else if (cmd === "send") session.send(command);
      else session.onlineUsers();
    } else if (cmd === "close") {
      break;
    } else {
      emit({ event: "unsupported", cmd, message: "this driver does not know the command" });
    }
  }
  await session?.close();
  // Let stdout drain, then end even if a socket still lingers (DRV-1-3).
  process.stdout.write("", () => process.exit(0));
}

main().catch((e: unknown) => {
  log(`driver failed: ${messageOf(e)}`);
  process.exit(1);
});
