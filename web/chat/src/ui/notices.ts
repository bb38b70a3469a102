// Errors and notices: a stack in a corner of the page that never blocks it. Each shows the
// SDK's message and, when there is one, the registry name of the error code.

import { describeError } from "../format.js";
import { byId, h } from "./dom.js";

const KEPT = 4;
const ERROR_MS = 12_000;
const INFO_MS = 6_000;

export function showError(e: unknown): void {
  const { message, code } = describeError(e);
  show("error", message, code);
}

/** An error known by its text and registry name rather than as a thrown error. */
export function showProblem(message: string, code: string | undefined): void {
  show("error", message, code);
}

export function showInfo(message: string): void {
  show("info", message, undefined);
}

function show(kind: "error" | "info", message: string, code: string | undefined): void {
  const area = byId("notices");
  const close = h("button", { type: "button", class: "notice-close", "aria-label": "Dismiss" }, "×");
  const notice = h(
    "div",
    { class: `notice ${kind}`, "data-testid": kind === "error" ? "error" : "info", "data-code": code },
    h("div", { class: "notice-body" },
      h("span", { class: "notice-text" }, message),
      code ? h("span", { class: "notice-code", "data-testid": "error-code" }, code) : null),
    close,
  );
  close.addEventListener("click", () => notice.remove());
  area.appendChild(notice);
  while (area.children.length > KEPT) area.firstElementChild?.remove();
  setTimeout(() => notice.remove(), kind === "error" ? ERROR_MS : INFO_MS);
}

export function clearNotices(): void {
  byId("notices").replaceChildren();
}
