// Bundles src/app.ts with the SDK's browser entry into one reviewable file:
// `node scripts/build.mjs <outfile>` (npm run build writes dist/chat.js).
// Not minified, no source map, and nothing in it depends on the time or the machine, so the
// same sources always give the same bytes (scripts/check-bundle.mjs relies on that).

import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import * as esbuild from "esbuild";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const outfile = process.argv[2];
if (!outfile) {
  console.error("usage: node scripts/build.mjs <outfile>");
  process.exit(2);
}
const sdk = join(root, "../../sdk-bindings/typescript");
if (!existsSync(join(sdk, "dist/index.js")) || !existsSync(join(sdk, "node_modules/@bufbuild/protobuf"))) {
  console.error("the SDK is not built: run `npm ci && npm run build` in sdk-bindings/typescript first");
  process.exit(1);
}

await esbuild.build({
  absWorkingDir: root,
  entryPoints: ["src/app.ts"],
  outfile,
  bundle: true,
  platform: "browser",
  format: "iife",
  target: "es2020",
  minify: false,
  sourcemap: false,
  charset: "utf8",
  legalComments: "eof",
  logLevel: "warning",
  banner: {
    js: "// cim web chat: built by `npm run build` in web/chat from src/ and the cim-sdk browser entry. Do not edit.",
  },
});
