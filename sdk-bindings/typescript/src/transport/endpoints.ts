// Where a server is reached, from the ServerInfo the route returned (spec §14.2).

import { InvalidInputError } from "../errors.js";
import type { ServerInfo } from "../types.js";

/** `host` and `port` of `tcp_endpoint` (`host:port`, `[v6]:port`). */
export function tcpAddressOf(server: ServerInfo): { host: string; port: number } {
  const endpoint = server.tcpEndpoint;
  const colon = endpoint.lastIndexOf(":");
  const port = Number(endpoint.slice(colon + 1));
  let host = endpoint.slice(0, colon);
  if (host.startsWith("[") && host.endsWith("]")) host = host.slice(1, -1);
  if (!endpoint || colon <= 0 || !Number.isInteger(port) || port <= 0 || port > 65_535) {
    throw new InvalidInputError(`server ${server.serverId} offers no TCP endpoint (got ${JSON.stringify(endpoint)}); use the websocket transport`);
  }
  return { host, port };
}

/** The `ws://` or `wss://` URL; TLS exactly when the scheme is wss (CIM-3.3-4). */
export function websocketUrlOf(server: ServerInfo): string {
  if (!/^wss?:\/\//i.test(server.wsUrl)) {
    throw new InvalidInputError(`server ${server.serverId} offers no WebSocket URL (got ${JSON.stringify(server.wsUrl)}); use the tcp transport`);
  }
  return server.wsUrl;
}
