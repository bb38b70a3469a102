// TCP, with TLS when ServerInfo.tcp_tls says so (CIM-3.3-4), for Node.

import net from "node:net";
import tls from "node:tls";
import { CLOSE_LINGER_MS, type Connector } from "./link.js";
import { tcpAddressOf } from "./endpoints.js";
import { tlsOptions } from "./tls-node.js";

export const tcpConnector: Connector = (server, options, callbacks) => {
  const { host, port } = tcpAddressOf(server);
  let socket: net.Socket;
  if (server.tcpTls) {
    socket = tls.connect({ host, port, ...tlsOptions(host, options.trustPem) });
    socket.once("secureConnect", () => callbacks.onOpen());
  } else {
    socket = net.connect({ host, port });
    socket.once("connect", () => callbacks.onOpen());
  }
  socket.setNoDelay(true);
  let why = "closed by the server";
  socket.on("data", (chunk: Buffer) => {
    // A plain view: the decoder's slices must copy, not alias Node's buffer.
    callbacks.onData(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength));
  });
  socket.on("error", (e) => {
    why = e.message;
  });
  socket.once("close", () => callbacks.onClose(why));
  return {
    send: (bytes) => {
      if (!socket.destroyed) socket.write(bytes);
    },
    pause: () => socket.pause(),
    resume: () => socket.resume(),
    close: () => {
      why = "closed by the client";
      socket.end(); // flushes, then FIN: a fatal Error reaches the peer first (CIM-11.1-11)
      setTimeout(() => socket.destroy(), CLOSE_LINGER_MS).unref();
    },
  };
};
