// The cim web chat page: reads the route's URL from <meta name="cim-route">, shows the login
// form, and once logged in the sidebar and the conversation pane.

import { ErrorCode, errorName } from "cim-sdk";
import { ChatSession } from "./session.js";
import { ConversationView } from "./ui/conversation.js";
import { byId } from "./ui/dom.js";
import { LoginView, type LoginRequest } from "./ui/login.js";
import { clearNotices, showError, showInfo, showProblem } from "./ui/notices.js";
import { Sidebar } from "./ui/sidebar.js";

/** The route the page talks to: the server that serves the page fills the meta tag in. */
function routeUrl(): string {
  const meta = document.querySelector<HTMLMetaElement>('meta[name="cim-route"]')?.content.trim() ?? "";
  if (meta !== "" && !meta.includes("%CIM_ROUTE%")) return meta;
  return "http://127.0.0.1:8083";
}

class App {
  private readonly route = routeUrl();
  private readonly login: LoginView;
  private readonly chatView = byId("chat-view");
  private session: ChatSession | undefined;
  private sidebar: Sidebar | undefined;
  private conversation: ConversationView | undefined;

  constructor() {
    this.login = new LoginView(this.route, (request) => this.logIn(request));
    Sidebar.wireForms(() => this.session);
    ConversationView.wire(() => this.conversation);
    byId("logout-button").addEventListener("click", () => {
      this.session?.logout().catch(showError);
    });
    // A page that goes away closes its connection (its messages wait in the inbox).
    window.addEventListener("pagehide", () => this.session?.close());
    window.addEventListener("online", () => this.session?.networkChanged());
    window.addEventListener("offline", () => this.session?.networkChanged());
    this.login.show();
  }

  private async logIn(request: LoginRequest): Promise<void> {
    if (request.userName === "" || request.password === "") {
      showError(new Error("Enter a user name and a password."));
      return;
    }
    try {
      const session = await ChatSession.start(this.route, request.userName, request.password, request.register, {
        onError: showError,
        onEnded: (reason) => this.ended(session, reason),
      });
      this.enter(session);
    } catch (e) {
      showError(e);
    }
  }

  private enter(session: ChatSession): void {
    clearNotices();
    this.session = session;
    this.sidebar = new Sidebar(session);
    this.conversation = new ConversationView(session);
    session.state.subscribe((change) => {
      switch (change.kind) {
        case "status":
          this.sidebar?.renderStatus();
          break;
        case "sidebar":
          this.sidebar?.render();
          this.conversation?.renderHeader();
          this.updateTitle();
          break;
        case "active":
          this.conversation?.render();
          break;
        case "message":
          this.conversation?.update(change.key, change.message, change.added);
          break;
        case "notice":
          showInfo(change.text);
          break;
      }
    });
    this.login.hide();
    this.chatView.hidden = false;
    document.body.dataset.view = "chat";
    this.updateTitle();
  }

  private ended(session: ChatSession, reason: { byUser: boolean; message: string; code: number | undefined }): void {
    if (this.session !== session) return;
    this.session = undefined;
    this.sidebar = undefined;
    this.conversation = undefined;
    this.chatView.hidden = true;
    document.body.dataset.view = "login";
    if (!reason.byUser) {
      const why = reason.code === ErrorCode.TOO_MANY_SESSIONS
        ? "Too many sessions of this user are open."
        : reason.message;
      showProblem(`Disconnected: ${why}`, reason.code === undefined ? undefined : errorName(reason.code));
    }
    this.login.show(session.state.me.userName);
    document.title = "cim chat";
  }

  private updateTitle(): void {
    const unread = [...(this.session?.state.conversations.values() ?? [])].reduce((n, c) => n + c.unread, 0);
    document.title = unread > 0 ? `(${unread}) cim chat` : "cim chat";
  }
}

if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", () => new App());
else new App();
