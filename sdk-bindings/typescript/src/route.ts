// The route's HTTP/JSON API (spec §14.4), as a client of it uses it.

import {
  CimError,
  ErrorCode,
  InvalidInputError,
  UnavailableError,
  errorForCode,
  errorName,
} from "./errors.js";
import type { Group, Login, OnlinePage, TransportName, User } from "./types.js";

/** One HTTP exchange; the platform decides how (fetch in browsers, node:http in Node). */
export interface HttpRequest {
  method: "GET" | "POST";
  url: string;
  headers: Record<string, string>;
  body?: string;
}

export interface HttpResponse {
  status: number;
  /** The `Retry-After` header, if any. */
  retryAfter: string | null;
  text: string;
}

export type HttpClient = (request: HttpRequest) => Promise<HttpResponse>;

/** How long one route call may take. */
export const ROUTE_CALL_TIMEOUT_MS = 15_000;

/** `fetch`, as every browser and Node 20 have it. */
export const fetchHttpClient: HttpClient = async (request) => {
  const init: RequestInit = {
    method: request.method,
    headers: request.headers,
    signal: AbortSignal.timeout(ROUTE_CALL_TIMEOUT_MS),
  };
  if (request.body !== undefined) init.body = request.body;
  const response = await fetch(request.url, init);
  return { status: response.status, retryAfter: response.headers.get("retry-after"), text: await response.text() };
};

/** The credentials of a login. */
export type Credentials = { userName: string; password: string } | { jwt: string };

type Json = Record<string, unknown>;

/** Calls the route at one base URL. Route calls that act for a user take its token. */
export class RouteClient {
  readonly baseUrl: string;

  constructor(baseUrl: string, private readonly http: HttpClient = fetchHttpClient) {
    let url: URL;
    try {
      url = new URL(baseUrl);
    } catch {
      throw new InvalidInputError(`not a route URL: ${JSON.stringify(baseUrl)} (expected e.g. http://127.0.0.1:8083)`);
    }
    if (url.protocol !== "http:" && url.protocol !== "https:") {
      throw new InvalidInputError(`a route URL is http:// or https://, not ${url.protocol}//`);
    }
    this.baseUrl = baseUrl.replace(/\/+$/, "");
  }

  /** Creates a built-in account; returns its user id. */
  async register(userName: string, password: string): Promise<string> {
    const answer = await this.call("POST", "/v1/register", undefined, { user_name: userName, password });
    return str(answer.user_id);
  }

  /** Logs in for `deviceId`, asking for a server that offers `transport` (CIM-14.2-11). */
  async login(credentials: Credentials, deviceId: string, transport: TransportName): Promise<Login> {
    const transports = transport === "tcp" ? ["tcp", "tcp_tls"] : ["websocket", "websocket_tls"];
    const body: Json = "jwt" in credentials
      ? { jwt: credentials.jwt, device_id: deviceId, transports }
      : { user_name: credentials.userName, password: credentials.password, device_id: deviceId, transports };
    const answer = await this.call("POST", "/v1/login", undefined, body);
    const server = obj(answer.server);
    return {
      userId: str(answer.user_id),
      userName: str(answer.user_name),
      token: str(answer.token),
      tokenExpiresAtMs: num(answer.token_expires_at_ms),
      server: {
        serverId: str(server.server_id),
        tcpEndpoint: str(server.tcp_endpoint),
        wsUrl: str(server.ws_url),
        tcpTls: server.tcp_tls === true,
        draining: server.draining === true,
      },
    };
  }

  async logout(token: string, allDevices: boolean): Promise<void> {
    await this.call("POST", "/v1/logout", token, { all_devices: allDevices });
  }

  /** One page of online users. `pageToken` is the previous page's, passed unchanged (CIM-14.7-5). */
  async onlineUsers(token: string, pageToken = "", pageSize = 0): Promise<OnlinePage> {
    const query = `page_token=${encodeURIComponent(pageToken)}` + (pageSize > 0 ? `&page_size=${pageSize}` : "");
    const answer = await this.call("GET", `/v1/online?${query}`, token);
    return {
      users: users(answer.users),
      nextPageToken: str(answer.next_page_token),
      totalOnline: num(answer.total_online),
    };
  }

  /** Every online user, following the pages until an empty token ends them (CIM-14.7-6). */
  async allOnlineUsers(token: string, pageSize = 0): Promise<User[]> {
    const all: User[] = [];
    let pageToken = "";
    do {
      const page = await this.onlineUsers(token, pageToken, pageSize);
      all.push(...page.users);
      pageToken = page.nextPageToken;
    } while (pageToken !== "");
    return all;
  }

  async usersByPrefix(token: string, prefix: string, limit = 0): Promise<User[]> {
    const query = `prefix=${encodeURIComponent(prefix)}` + (limit > 0 ? `&limit=${limit}` : "");
    return users((await this.call("GET", `/v1/users?${query}`, token)).users);
  }

  async usersByName(token: string, userName: string): Promise<User[]> {
    return users((await this.call("GET", `/v1/users/by-name/${encodeURIComponent(userName)}`, token)).users);
  }

  /** The id of the one user named `userName` (CIM-14.4-41); never chosen among several
   * (CIM-14.4-42). */
  async userIdOf(token: string, userName: string): Promise<string> {
    const found = await this.usersByName(token, userName);
    if (found.length === 0) throw errorForCode(ErrorCode.NOT_FOUND, `no user is named ${JSON.stringify(userName)}`);
    if (found.length > 1) {
      const ids = found.map((u) => JSON.stringify(u.userId)).join(", ");
      throw new InvalidInputError(`${found.length} users are named ${JSON.stringify(userName)} (${ids}): choose one by id`);
    }
    return found[0]!.userId;
  }

  async createGroup(token: string, groupId: string, memberUserIds: string[] = []): Promise<Group> {
    return group((await this.call("POST", "/v1/groups", token, { group_id: groupId, member_user_ids: memberUserIds })).group);
  }

  async joinGroup(token: string, groupId: string): Promise<Group> {
    return group((await this.call("POST", `/v1/groups/${encodeURIComponent(groupId)}/join`, token, {})).group);
  }

  async leaveGroup(token: string, groupId: string): Promise<Group> {
    return group((await this.call("POST", `/v1/groups/${encodeURIComponent(groupId)}/leave`, token, {})).group);
  }

  async groupMembers(token: string, groupId: string): Promise<User[]> {
    return users((await this.call("GET", `/v1/groups/${encodeURIComponent(groupId)}/members`, token)).members);
  }

  async myGroups(token: string): Promise<Group[]> {
    const answer = await this.call("GET", "/v1/groups", token);
    return Array.isArray(answer.groups) ? answer.groups.map(group) : [];
  }

  private async call(method: "GET" | "POST", path: string, token: string | undefined, body?: Json): Promise<Json> {
    const headers: Record<string, string> = { accept: "application/json" };
    if (token !== undefined) headers.authorization = `Bearer ${token}`;
    const request: HttpRequest = { method, url: this.baseUrl + path, headers };
    if (body !== undefined) {
      headers["content-type"] = "application/json"; // CIM-14.4-1
      request.body = JSON.stringify(body);
    }
    let response: HttpResponse;
    try {
      response = await this.http(request);
    } catch (e) {
      throw new UnavailableError(`cannot reach the route at ${this.baseUrl}: ${describe(e)}`);
    }
    if (response.status >= 200 && response.status < 300) {
      if (response.text.trim() === "") return {};
      try {
        return obj(JSON.parse(response.text));
      } catch {
        throw new UnavailableError(`the route at ${this.baseUrl} answered ${path} with something that is not JSON`);
      }
    }
    throw refusal(response, `${method} ${path.split("?")[0]}`);
  }
}

/** The error of a failed route call: by its registry code, else by its status (CIM-14.6-5). */
export function refusal(response: HttpResponse, what: string): CimError {
  let code: number | undefined;
  let message = "";
  try {
    const body = obj(JSON.parse(response.text));
    if (typeof body.code === "number" && body.code > 0) code = body.code;
    message = str(body.message);
  } catch {
    // Not JSON: from something in front of the route (§14.6); the status speaks.
  }
  code ??= codeOfStatus(response.status);
  const retryAfterMs = retryAfterMsOf(response.retryAfter);
  const text = `${what} failed: ${errorName(code)} (${code})${message ? `: ${message}` : ` with HTTP ${response.status}`}`;
  return errorForCode(code, text, retryAfterMs);
}

/** The code an answer without one stands for, by its HTTP status (§14.6). */
export function codeOfStatus(status: number): number {
  switch (status) {
    case 400: return ErrorCode.INVALID_FIELD;
    case 401: return ErrorCode.UNAUTHENTICATED;
    case 403: return ErrorCode.FORBIDDEN;
    case 404: return ErrorCode.NOT_FOUND;
    case 409: return ErrorCode.ALREADY_EXISTS;
    case 413: return ErrorCode.BODY_TOO_LARGE;
    case 429: return ErrorCode.RATE_LIMITED;
    case 500: return ErrorCode.INTERNAL;
    case 503: return ErrorCode.UNAVAILABLE;
    default: return status >= 400 && status < 500 ? ErrorCode.INVALID_FIELD : ErrorCode.UNAVAILABLE;
  }
}

/** `Retry-After` in whole seconds (or an HTTP date), as milliseconds. */
export function retryAfterMsOf(header: string | null): number | undefined {
  if (header === null || header.trim() === "") return undefined;
  const seconds = Number(header.trim());
  if (Number.isFinite(seconds) && seconds >= 0) return Math.ceil(seconds * 1000);
  const date = Date.parse(header);
  return Number.isNaN(date) ? undefined : Math.max(0, date - Date.now());
}

// Absent or null response members are their empty value (CIM-14.4-6).
function obj(value: unknown): Json {
  return typeof value === "object" && value !== null && !Array.isArray(value) ? (value as Json) : {};
}
function str(value: unknown): string {
  return typeof value === "string" ? value : "";
}
function num(value: unknown): number {
  return typeof value === "number" ? value : 0;
}
function users(value: unknown): User[] {
  if (!Array.isArray(value)) return [];
  return value.map((v) => {
    const u = obj(v);
    return { userId: str(u.user_id), userName: str(u.user_name), online: u.online === true };
  });
}
function group(value: unknown): Group {
  const g = obj(value);
  return { groupId: str(g.group_id), memberCount: num(g.member_count) };
}
function describe(e: unknown): string {
  const error = e as { message?: string; cause?: { message?: string; code?: string } };
  const cause = error?.cause?.code ?? error?.cause?.message;
  return cause ? `${error.message} (${cause})` : String(error?.message ?? e);
}
