// A real `cim up` (route and server in one process, in memory) on free ports, for the
// integration tests, the example and scripts/pack-test.sh. The binary is $CIM_BIN.
import { spawn } from "node:child_process";
import { createServer } from "node:net";

/** A port that was free a moment ago on 127.0.0.1. */
export function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

/** Starts `$CIM_BIN up` and resolves once its route answers; `stop()` ends it. */
export async function startCimUp(binary = process.env.CIM_BIN, { timeoutMs = 20_000 } = {}) {
  if (!binary) throw new Error("CIM_BIN is not set: point it at the cim binary");
  const routePort = await freePort();
  const route = `http://127.0.0.1:${routePort}`;
  // The tests register many users from one address: no registration limit.
  const args = ["up", "--route-listen", `127.0.0.1:${routePort}`, "--free-ports", "--registrations-per-address", "0"];
  const child = spawn(binary, args, { stdio: ["ignore", "pipe", "pipe"] });
  let output = "";
  child.stdout.on("data", (chunk) => (output += chunk));
  child.stderr.on("data", (chunk) => (output += chunk));
  let exited = false;
  const exit = new Promise((resolve) => child.once("exit", (code, signal) => { exited = true; resolve({ code, signal }); }));
  const stop = async () => {
    if (exited) return;
    child.kill("SIGTERM");
    const timer = setTimeout(() => child.kill("SIGKILL"), 10_000);
    await exit;
    clearTimeout(timer);
  };
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const response = await fetch(`${route}/healthz`, { signal: AbortSignal.timeout(1_000) });
      if (response.ok) return { route, stop, output: () => output };
    } catch {
      // not up yet
    }
    if (exited || Date.now() > deadline) {
      await stop();
      throw new Error(`cim up did not start within ${timeoutMs} ms; it said:\n${output}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}
