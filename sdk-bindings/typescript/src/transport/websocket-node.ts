// WebSocket in Node 20, through the `ws` package: Node 20 has no stable global WebSocket, and
// `ws` can be given a private CA (trustPem) and TLS settings, which a WHATWG WebSocket cannot.

import WebSocket from "ws";
import { DEFAULT_MAX_FRAME_SIZE } from "../core/framing.js";
import { CLOSE_LINGER_MS, type Connector } from "./link.js";
import { websocketUrlOf } from "./endpoints.js";
import { tlsOptions } from "./tls-node.js";

/** Messages above this are cut off by `ws` itself (close 1009, no cim Error); anything between
 * the frame limit and this reaches the core, which answers FRAME_TOO_LARGE (CIM-3.2-3). */
const WS_MAX_PAYLOAD = 64 * DEFAULT_MAX_FRAME_SIZE;

export const nodeWebSocketConnector: Connector = (server, options, callbacks) => {
  const url = new URL(websocketUrlOf(server));
  const secure = url.protocol === "wss:";
  const host = url.hostname.replace(/^\[|\]$/g, "");
  const socket = new WebSocket(url, {
    ...(secure ? tlsOptions(host, options.trustPem) : {}),
    maxPayload: WS_MAX_PAYLOAD,
    perMessageDeflate: false,
    handshakeTimeout: 10_000,
  });
  let why = "closed by the server";
  socket.on("open", () => callbacks.onOpen());
  socket.on("message", (data: WebSocket.RawData, isBinary: boolean) => {
    const bytes = Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data as ArrayBuffer);
    // A text message reaches the core as a string, which it refuses (CIM-3.2-2).
    callbacks.onData(isBinary ? new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength) : bytes.toString("utf8"));
  });
  socket.on("error", (e) => {
    why = e.message;
  });
  socket.once("close", (code: number) => callbacks.onClose(`${why} (WebSocket ${code})`));
  return {
    send: (bytes) => {
      if (socket.readyState === WebSocket.OPEN) socket.send(bytes, { binary: true }); // CIM-3.2-1
    },
    pause: () => socket.pause(),
    resume: () => socket.resume(),
    close: () => {
      why = "closed by the client";
      if (socket.readyState === WebSocket.CONNECTING) return socket.terminate();
      socket.close(1000);
      setTimeout(() => socket.terminate(), CLOSE_LINGER_MS).unref();
    },
  };
};
