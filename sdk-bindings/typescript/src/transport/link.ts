// What a transport gives the client: a dumb pipe. Framing, timing and every protocol
// decision stay in the core (../core/session.ts); a link only opens, carries and closes.

import type { ServerInfo } from "../types.js";

export interface LinkCallbacks {
  /** The connection (and its TLS or WebSocket handshake) is up. */
  onOpen(): void;
  /** Bytes from a TCP stream, or one WebSocket message (a string for a text message). */
  onData(data: Uint8Array | string): void;
  /** The connection ended or could not be opened; called once, last. */
  onClose(why: string): void;
}

export interface Link {
  send(bytes: Uint8Array): void;
  /** Flushes what was written, closes, and lets go within 2 s whatever the peer does
   * (CIM-11.1-11, CIM-11.1-13). */
  close(): void;
  /** Stops reading from the connection until `resume` (the application is behind); the
   * peer's writes then wait in the network's buffers. A link that cannot (a browser
   * WebSocket) leaves these out, and the core closes it when it has read too much. */
  pause?(): void;
  resume?(): void;
}

export interface LinkOptions {
  /** A PEM certificate to trust for TLS besides the usual roots (a private CA). */
  trustPem?: string;
}

/** Opens a link to the server the route assigned. Throws when the server does not offer
 * this transport. */
export type Connector = (server: ServerInfo, options: LinkOptions, callbacks: LinkCallbacks) => Link;

/** How long a closing link waits for its peer before it lets go. */
export const CLOSE_LINGER_MS = 2_000;
