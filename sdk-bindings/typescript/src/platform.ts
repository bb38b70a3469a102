// What differs between Node and browsers: which transports exist and how HTTP is done. The
// browser entry (index.ts) uses `browserPlatform`; the Node entry (node.ts) its own, so that
// the browser build never imports node:net, node:tls or ws.

import { fetchHttpClient, type HttpClient } from "./route.js";
import type { TransportName } from "./types.js";
import type { Connector } from "./transport/link.js";
import { globalWebSocketConnector } from "./transport/websocket-browser.js";

export interface Platform {
  readonly name: string;
  readonly defaultTransport: TransportName;
  readonly connectors: Partial<Record<TransportName, Connector>>;
  /** An HTTP client for route calls, trusting `trustPem` too where the platform can. */
  http(trustPem: string | undefined): HttpClient;
  /** A device id for this installation when the application gives none. */
  defaultDeviceId(): string;
}

export const browserPlatform: Platform = {
  name: "browser",
  defaultTransport: "websocket",
  connectors: { websocket: globalWebSocketConnector },
  http: () => fetchHttpClient,
  defaultDeviceId: browserDeviceId,
};

/** A random id, kept in localStorage where there is one so that it stays the same across
 * reloads (CIM-4.3-2). */
function browserDeviceId(): string {
  const key = "cim-sdk.device-id";
  const storage = (globalThis as { localStorage?: Storage }).localStorage;
  try {
    const kept = storage?.getItem(key);
    if (kept) return kept;
  } catch {
    // Storage can be disabled; a fresh id per page load is the fallback.
  }
  const bytes = new Uint8Array(8);
  globalThis.crypto.getRandomValues(bytes);
  const id = "web-" + Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
  try {
    storage?.setItem(key, id);
  } catch {
    // as above
  }
  return id;
}
