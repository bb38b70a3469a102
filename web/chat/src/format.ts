// How times and errors read on the page.

import { CimError } from "cim-sdk";

/** `14:05` today, `3 Mar 14:05` on another day. */
export function shortTime(at: Date, now = new Date()): string {
  const time = at.toLocaleTimeString(undefined, { hour: "2-digit", minute: "2-digit" });
  if (at.toDateString() === now.toDateString()) return time;
  return `${at.toLocaleDateString(undefined, { day: "numeric", month: "short" })} ${time}`;
}

export function fullTime(at: Date): string {
  return at.toLocaleString();
}

/** What went wrong, as the SDK says it, and the registry name of its code if it has one. */
export interface ErrorText {
  message: string;
  code?: string;
}

export function describeError(e: unknown): ErrorText {
  if (e instanceof CimError) {
    const text: ErrorText = { message: e.message };
    if (e.codeName !== undefined) text.code = e.codeName;
    return text;
  }
  if (e instanceof Error) return { message: e.message };
  return { message: String(e) };
}
