// Route calls in Node through node:http(s), so that a private CA (trustPem) covers the route
// too; fetch in Node 20 cannot be given one.

import http from "node:http";
import https from "node:https";
import { ROUTE_CALL_TIMEOUT_MS, type HttpClient } from "../route.js";
import { tlsOptions } from "./tls-node.js";

export function nodeHttpClient(trustPem: string | undefined): HttpClient {
  return (request) =>
    new Promise((resolve, reject) => {
      const url = new URL(request.url);
      const secure = url.protocol === "https:";
      const options: https.RequestOptions = {
        method: request.method,
        headers: {
          ...request.headers,
          ...(request.body !== undefined ? { "content-length": Buffer.byteLength(request.body) } : {}),
        },
        timeout: ROUTE_CALL_TIMEOUT_MS,
        ...(secure ? tlsOptions(url.hostname.replace(/^\[|\]$/g, ""), trustPem) : {}),
      };
      const call = (secure ? https : http).request(url, options, (response) => {
        const chunks: Buffer[] = [];
        response.on("data", (chunk: Buffer) => chunks.push(chunk));
        response.on("error", reject);
        response.on("end", () => {
          const retryAfter = response.headers["retry-after"];
          resolve({
            status: response.statusCode ?? 0,
            retryAfter: typeof retryAfter === "string" ? retryAfter : null,
            text: Buffer.concat(chunks).toString("utf8"),
          });
        });
      });
      call.on("timeout", () => call.destroy(new Error(`no answer within ${ROUTE_CALL_TIMEOUT_MS} ms`)));
      call.on("error", reject);
      call.end(request.body);
    });
}
