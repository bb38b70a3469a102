// Node's platform: TCP (with TLS), WebSocket through `ws`, and route calls through node:http(s)
// so that `trustPem` covers all three.

import os from "node:os";
import type { Platform } from "./platform.js";
import { nodeHttpClient } from "./transport/http-node.js";
import { tcpConnector } from "./transport/tcp-node.js";
import { nodeWebSocketConnector } from "./transport/websocket-node.js";

export const nodePlatform: Platform = {
  name: "node",
  defaultTransport: "tcp",
  connectors: { tcp: tcpConnector, websocket: nodeWebSocketConnector },
  http: nodeHttpClient,
  defaultDeviceId: () => `ts-${os.hostname()}`.slice(0, 128),
};
