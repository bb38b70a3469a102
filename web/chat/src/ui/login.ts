// The login form: a user name and a password, and either "Log in" or "Register and log in".

import { byId } from "./dom.js";

export interface LoginRequest {
  userName: string;
  password: string;
  register: boolean;
}

export class LoginView {
  private readonly view = byId("login-view");
  private readonly form = byId<HTMLFormElement>("login-form");
  private readonly name = byId<HTMLInputElement>("login-name");
  private readonly password = byId<HTMLInputElement>("login-password");
  private readonly buttons = [byId<HTMLButtonElement>("login-button"), byId<HTMLButtonElement>("register-button")];
  private readonly progress = byId("login-progress");

  constructor(routeUrl: string, onSubmit: (request: LoginRequest) => Promise<void>) {
    byId("route-url").textContent = routeUrl;
    this.form.addEventListener("submit", (event) => {
      event.preventDefault();
      // The button that submitted the form, or "Log in" for Enter in a field.
      const register = (event as SubmitEvent).submitter?.id === "register-button";
      const request = { userName: this.name.value.trim(), password: this.password.value, register };
      this.busy(register ? "Registering…" : "Logging in…");
      onSubmit(request).finally(() => this.busy(""));
    });
  }

  private busy(text: string): void {
    for (const button of this.buttons) button.disabled = text !== "";
    this.progress.textContent = text;
  }

  show(userName = ""): void {
    this.view.hidden = false;
    if (userName) this.name.value = userName;
    this.password.value = "";
    (userName ? this.password : this.name).focus();
  }

  hide(): void {
    this.view.hidden = true;
    this.password.value = "";
  }
}
