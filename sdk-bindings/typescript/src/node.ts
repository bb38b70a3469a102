// cim-sdk for Node 20+: TCP (the default, with TLS) and WebSocket.

import { Client as BaseClient, registerWith } from "./client.js";
import type { Platform } from "./platform.js";
import { nodePlatform } from "./platform-node.js";

export type { LoginOptions } from "./client.js";
export * from "./common.js";

/** {@link BaseClient} with Node's transports; `Client.login` defaults to TCP. */
export class Client extends BaseClient {
  protected static override platform: Platform = nodePlatform;
}

/** Creates a built-in account at the route at `routeUrl`; returns its user id. `trustPem`
 * adds a certificate to trust for an https route. */
export function register(routeUrl: string, userName: string, password: string, trustPem?: string): Promise<string> {
  return registerWith(nodePlatform, routeUrl, userName, password, trustPem);
}
