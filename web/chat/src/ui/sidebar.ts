// The sidebar: who I am and the connection status, the people (online users and those I
// have talked with), my groups, and the forms to open a chat by name and to create or join
// a group.

import type { ChatSession } from "../session.js";
import { keyOf, type Conversation, type Status } from "../state.js";
import { byId, h, replaceChildren } from "./dom.js";
import { showError } from "./notices.js";

const STATUS_TEXT: Record<Status, string> = {
  connecting: "connecting…",
  connected: "connected",
  reconnecting: "reconnecting…",
  offline: "offline",
};

export class Sidebar {
  private readonly people = byId("people");
  private readonly groups = byId("groups");
  private readonly status = byId("connection-status");
  private lastPeople = "";
  private lastGroups = "";

  constructor(private readonly session: ChatSession) {
    byId("me-name").textContent = session.state.me.userName;
    this.lastPeople = this.lastGroups = "";
    this.renderStatus();
    this.render();
  }

  /** Wires the forms once for the page; they act on whatever session is current. */
  static wireForms(current: () => ChatSession | undefined): void {
    const chatForm = byId<HTMLFormElement>("chat-with-form");
    const chatName = byId<HTMLInputElement>("chat-with-name");
    chatForm.addEventListener("submit", (event) => {
      event.preventDefault();
      const session = current();
      const name = chatName.value.trim();
      if (!session || name === "") return;
      session.openUserByName(name).then(() => { chatName.value = ""; }, showError);
    });
    const groupForm = byId<HTMLFormElement>("group-form");
    const groupId = byId<HTMLInputElement>("group-id");
    groupForm.addEventListener("submit", (event) => {
      event.preventDefault();
      const session = current();
      const id = groupId.value.trim();
      if (!session || id === "") return;
      const create = (event as SubmitEvent).submitter?.id === "group-create";
      (create ? session.createGroup(id) : session.joinGroup(id)).then(() => { groupId.value = ""; }, showError);
    });
  }

  renderStatus(): void {
    const { status, statusDetail } = this.session.state;
    this.status.dataset.status = status;
    this.status.textContent = STATUS_TEXT[status];
    this.status.title = statusDetail;
  }

  render(): void {
    const state = this.session.state;
    // People: everyone online, then those I have a conversation with.
    const entries = new Map<string, { name: string; online: boolean; conversation: Conversation | undefined }>();
    for (const u of state.online) {
      entries.set(u.userId, { name: u.userName, online: true, conversation: state.conversations.get(keyOf("user", u.userId)) });
    }
    const talked = [...state.conversations.values()]
      .filter((c) => c.kind === "user" && !entries.has(c.id) && (c.messages.length > 0 || c.key === state.active))
      .sort((a, b) => b.lastAtMs - a.lastAtMs);
    for (const c of talked) entries.set(c.id, { name: state.nameOf(c.id), online: false, conversation: c });
    const people = [...entries].map(([userId, e]) => ({ userId, ...e, unread: e.conversation?.unread ?? 0, active: state.active === keyOf("user", userId) }));
    const peopleSignature = JSON.stringify(people.map((p) => [p.userId, p.name, p.online, p.unread, p.active]));
    if (peopleSignature !== this.lastPeople) {
      this.lastPeople = peopleSignature;
      replaceChildren(this.people, people.length === 0
        ? [h("li", { class: "empty" }, "Nobody else is online.")]
        : people.map((p) => h("li", {},
          h("button", {
            type: "button",
            class: "entry peer",
            "data-testid": "peer",
            "data-key": keyOf("user", p.userId),
            "data-user-id": p.userId,
            "data-user-name": p.name,
            "data-online": p.online,
            "aria-current": p.active ? "true" : undefined,
          },
          h("span", { class: `presence ${p.online ? "online" : "offline"}`, role: "img", "aria-label": p.online ? "online" : "offline" }),
          h("span", { class: "entry-name" }, state.names.has(p.userId) ? p.name : `user ${p.userId}`),
          unreadBadge(p.unread)))));
      for (const button of this.people.querySelectorAll<HTMLButtonElement>("button.peer")) {
        button.addEventListener("click", () => state.open("user", button.dataset.userId ?? ""));
      }
    }

    // Groups: mine, and any conversation of a group (one I left, or everyone's broadcasts).
    const groupIds = new Set<string>(state.groups.keys());
    for (const c of state.conversations.values()) if (c.kind === "group" && c.messages.length > 0) groupIds.add(c.id);
    const groups = [...groupIds].sort().map((id) => {
      const c = state.conversations.get(keyOf("group", id));
      return { id, members: state.groups.get(id), unread: c?.unread ?? 0, active: state.active === keyOf("group", id) };
    });
    const everyone = state.conversations.get("everyone");
    const groupsSignature = JSON.stringify([groups, everyone?.unread, everyone?.key === state.active, everyone !== undefined]);
    if (groupsSignature !== this.lastGroups) {
      this.lastGroups = groupsSignature;
      const items = groups.map((g) => h("li", {},
        h("button", {
          type: "button",
          class: "entry group",
          "data-testid": "group",
          "data-key": keyOf("group", g.id),
          "data-group-id": g.id,
          "aria-current": g.active ? "true" : undefined,
        },
        h("span", { class: "entry-hash", "aria-hidden": "true" }, "#"),
        h("span", { class: "entry-name" }, g.id),
        g.members === undefined
          ? h("span", { class: "entry-meta" }, "left")
          : h("span", { class: "entry-meta", "aria-label": `${g.members} members` }, String(g.members)),
        unreadBadge(g.unread))));
      if (everyone) {
        items.push(h("li", {},
          h("button", { type: "button", class: "entry everyone", "data-testid": "everyone", "data-key": "everyone", "aria-current": everyone.key === state.active ? "true" : undefined },
            h("span", { class: "entry-hash", "aria-hidden": "true" }, "*"),
            h("span", { class: "entry-name" }, "Everyone"),
            unreadBadge(everyone.unread))));
      }
      replaceChildren(this.groups, items.length === 0 ? [h("li", { class: "empty" }, "No groups yet.")] : items);
      for (const button of this.groups.querySelectorAll<HTMLButtonElement>("button.group")) {
        button.addEventListener("click", () => state.open("group", button.dataset.groupId ?? ""));
      }
      this.groups.querySelector<HTMLButtonElement>("button.everyone")?.addEventListener("click", () => state.open("everyone", ""));
    }
  }
}

function unreadBadge(count: number): HTMLElement | null {
  if (count === 0) return null;
  return h("span", { class: "unread", "data-testid": "unread", "aria-label": `${count} unread` }, String(count));
}
