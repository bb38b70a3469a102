// WebSocket through the platform's own `WebSocket` (browsers, Deno, Node 22+). TLS trust is
// the browser's: a private CA is installed in the system, not passed here.

import { InvalidInputError } from "../errors.js";
import type { Connector } from "./link.js";
import { websocketUrlOf } from "./endpoints.js";

export const globalWebSocketConnector: Connector = (server, options, callbacks) => {
  if (options.trustPem) {
    throw new InvalidInputError("a browser WebSocket trusts what the browser trusts: trustPem works in Node only");
  }
  const WebSocketClass = (globalThis as { WebSocket?: typeof WebSocket }).WebSocket;
  if (!WebSocketClass) throw new InvalidInputError("this platform has no WebSocket; in Node import cim-sdk/node");
  const socket = new WebSocketClass(websocketUrlOf(server));
  socket.binaryType = "arraybuffer";
  let closed = false;
  socket.onopen = () => callbacks.onOpen();
  socket.onmessage = (e: MessageEvent) => {
    callbacks.onData(typeof e.data === "string" ? e.data : new Uint8Array(e.data as ArrayBuffer));
  };
  socket.onclose = (e: CloseEvent) => {
    if (closed) return;
    closed = true;
    callbacks.onClose(`WebSocket closed (${e.code}${e.reason ? ` ${e.reason}` : ""})`);
  };
  return {
    send: (bytes) => {
      if (socket.readyState === WebSocketClass.OPEN) socket.send(bytes);
    },
    close: () => socket.close(1000),
  };
};
