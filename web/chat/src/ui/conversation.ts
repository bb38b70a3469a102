// The conversation pane: its title, the messages (mine on the other side) and the send box,
// where Enter sends and Shift+Enter starts a new line.

import { fullTime, shortTime } from "../format.js";
import type { ChatSession } from "../session.js";
import type { ChatMessage, Conversation } from "../state.js";
import { byId, h } from "./dom.js";
import { showError } from "./notices.js";

export class ConversationView {
  private readonly title = byId("conversation-title");
  private readonly subtitle = byId("conversation-subtitle");
  private readonly leave = byId<HTMLButtonElement>("leave-group");
  private readonly empty = byId("conversation-empty");
  private readonly list = byId<HTMLOListElement>("messages");
  private readonly form = byId<HTMLFormElement>("send-form");
  private readonly input = byId<HTMLTextAreaElement>("message-input");
  private readonly sendButton = byId<HTMLButtonElement>("send-button");
  private readonly nodes = new Map<string, HTMLElement>();
  private shown: string | undefined;

  constructor(private readonly session: ChatSession) {
    this.shown = undefined;
    this.render();
  }

  /** Wires the send box and the leave button once for the page. */
  static wire(current: () => ConversationView | undefined): void {
    const form = byId<HTMLFormElement>("send-form");
    const input = byId<HTMLTextAreaElement>("message-input");
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      current()?.submit();
    });
    input.addEventListener("keydown", (event) => {
      if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
        event.preventDefault();
        current()?.submit();
      }
    });
    byId("leave-group").addEventListener("click", () => current()?.leaveGroup());
  }

  private submit(): void {
    const conversation = this.session.state.activeConversation;
    const text = this.input.value;
    if (!conversation || text.trim() === "") return;
    this.input.value = "";
    this.session.send(conversation, text);
  }

  private leaveGroup(): void {
    const conversation = this.session.state.activeConversation;
    if (conversation?.kind !== "group") return;
    this.session.leaveGroup(conversation.id).then(() => this.render(), showError);
  }

  /** Shows the active conversation afresh. */
  render(): void {
    const state = this.session.state;
    const conversation = state.activeConversation;
    this.shown = conversation?.key;
    this.nodes.clear();
    this.list.replaceChildren();
    const none = conversation === undefined;
    this.empty.hidden = !none;
    this.list.hidden = none;
    this.form.hidden = none;
    this.input.disabled = none;
    this.sendButton.disabled = none;
    this.leave.hidden = conversation?.kind !== "group" || !state.groups.has(conversation.id);
    if (!conversation) {
      this.title.textContent = "No conversation";
      this.subtitle.textContent = "";
      return;
    }
    this.renderHeader(conversation);
    for (const message of conversation.messages) this.list.appendChild(this.node(message));
    this.list.scrollTop = this.list.scrollHeight;
    this.input.focus();
    if (conversation.kind === "group" && state.groups.has(conversation.id)) {
      this.session.membersOf(conversation.id).then((names) => {
        if (this.shown === conversation.key) this.subtitle.textContent = `${members(names.length)}: ${names.join(", ")}`;
      }, () => { /* the count from the sidebar stays */ });
    }
  }

  /** Updates the header (presence, member count) without touching the messages. */
  renderHeader(conversation = this.session.state.activeConversation): void {
    if (!conversation || conversation.key !== this.shown) return;
    const state = this.session.state;
    this.title.dataset.kind = conversation.kind;
    if (conversation.kind === "user") {
      this.title.textContent = state.nameOf(conversation.id);
      this.subtitle.textContent = state.isOnline(conversation.id) ? "online" : "offline — messages wait in the inbox";
    } else if (conversation.kind === "group") {
      this.title.textContent = `# ${conversation.id}`;
      const count = state.groups.get(conversation.id);
      if (count === undefined) this.subtitle.textContent = "you are not a member";
      else if (!this.subtitle.textContent?.includes(":")) this.subtitle.textContent = members(count);
    } else {
      this.title.textContent = "Everyone";
      this.subtitle.textContent = "broadcasts reach the users online now and are not kept";
    }
    this.leave.hidden = conversation.kind !== "group" || !state.groups.has(conversation.id);
  }

  /** A message was added to, or changed in, conversation `key`. */
  update(key: string, message: ChatMessage, added: boolean): void {
    if (key !== this.shown) return;
    const existing = this.nodes.get(message.localId);
    if (existing && !added) {
      existing.replaceWith(this.node(message));
      return;
    }
    const atBottom = this.list.scrollHeight - this.list.scrollTop - this.list.clientHeight < 80;
    this.list.appendChild(this.node(message));
    if (atBottom || message.own) this.list.scrollTop = this.list.scrollHeight;
  }

  private node(message: ChatMessage): HTMLElement {
    const state = this.session.state;
    const at = new Date(message.atMs);
    const sender = message.own ? "You" : state.nameOf(message.fromUserId);
    const item = h("li", {
      class: `message ${message.own ? "own" : "theirs"} ${message.status}`,
      "data-testid": "message",
      "data-own": message.own,
      "data-status": message.status,
      "data-from": message.fromUserId,
      "data-message-id": message.messageId,
    },
    h("div", { class: "meta" },
      h("span", { class: "sender", "data-testid": "sender" }, sender),
      h("time", { class: "time", datetime: at.toISOString(), title: fullTime(at) }, shortTime(at)),
      message.status === "sending" ? h("span", { class: "state" }, "sending…") : null,
      message.status === "failed" ? h("span", { class: "state failed", title: message.error }, "not sent") : null),
    h("div", { class: "text", "data-testid": "message-text" }, message.text));
    this.nodes.set(message.localId, item);
    return item;
  }
}

function members(count: number): string {
  return count === 1 ? "1 member" : `${count} members`;
}
