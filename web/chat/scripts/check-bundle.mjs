// Fails when dist/chat.js is not what the sources build to today (CI runs it, so that the
// bundle the Rust build embeds always matches src/).

import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const dir = mkdtempSync(join(tmpdir(), "cim-chat-bundle-"));
try {
  const fresh = join(dir, "chat.js");
  execFileSync(process.execPath, [join(root, "scripts/build.mjs"), fresh], { stdio: "inherit" });
  let committed;
  try {
    committed = readFileSync(join(root, "dist/chat.js"));
  } catch {
    console.error("web/chat/dist/chat.js is missing: run `npm run build` in web/chat and commit it");
    process.exit(1);
  }
  if (!committed.equals(readFileSync(fresh))) {
    console.error("web/chat/dist/chat.js differs from what src/ builds to: run `npm run build` in web/chat and commit dist/chat.js");
    try {
      execFileSync("diff", ["-u", join(root, "dist/chat.js"), fresh], { stdio: "inherit" });
    } catch {
      // diff exits 1 when the files differ; its output is what matters
    }
    process.exit(1);
  }
  console.log("dist/chat.js matches the sources");
} finally {
  rmSync(dir, { recursive: true, force: true });
}
