// TLS settings shared by TCP and WebSocket in Node.

import net from "node:net";
import tls from "node:tls";

/**
 * TLS 1.2 or later (CIM-3.3-2), the certificate chain and host name checked by Node's
 * defaults (CIM-3.3-3); `trustPem` is trusted in addition to the usual roots, as a private
 * CA is, never instead of the checks.
 */
export function tlsOptions(host: string, trustPem: string | undefined): tls.ConnectionOptions {
  const options: tls.ConnectionOptions = { minVersion: "TLSv1.2", rejectUnauthorized: true };
  // SNI takes names only; an IP address is still checked against the certificate's IP SANs.
  if (net.isIP(host) === 0) options.servername = host;
  if (trustPem) options.ca = [...tls.rootCertificates, trustPem];
  return options;
}
