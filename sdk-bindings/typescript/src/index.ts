// cim-sdk for browsers (and any platform with a global WebSocket and fetch): WebSocket only.
// Node gets ./node.ts through the package's "node" export condition, with TCP as well.

import { registerWith } from "./client.js";
import { browserPlatform } from "./platform.js";

export { Client } from "./client.js";
export type { LoginOptions } from "./client.js";
export * from "./common.js";

/** Creates a built-in account at the route at `routeUrl`; returns its user id. */
export function register(routeUrl: string, userName: string, password: string): Promise<string> {
  return registerWith(browserPlatform, routeUrl, userName, password);
}
