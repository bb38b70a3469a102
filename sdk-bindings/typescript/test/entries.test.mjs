// The browser entry must load in a browser: nothing it imports, however indirectly, may be a
// Node built-in or the Node-only `ws` package.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const dist = fileURLToPath(new URL("../dist/", import.meta.url));

/** Every module specifier that `file` and the local modules it reaches import. */
function importsOf(file, seen = new Set()) {
  if (seen.has(file)) return [];
  seen.add(file);
  const source = readFileSync(file, "utf8");
  const found = [];
  for (const match of source.matchAll(/(?:import|export)\s[^;]*?from\s+"([^"]+)"|import\s+"([^"]+)"|import\(\s*"([^"]+)"\s*\)/g)) {
    const specifier = match[1] ?? match[2] ?? match[3];
    if (specifier.startsWith(".")) found.push(...importsOf(resolve(dirname(file), specifier), seen));
    else found.push(specifier);
  }
  return found;
}

test("the browser entry imports no Node built-in and not ws", () => {
  const external = new Set(importsOf(resolve(dist, "index.js")));
  const nodeOnly = [...external].filter((s) => s.startsWith("node:") || s === "ws" || !s.startsWith("@bufbuild/"));
  assert.deepEqual(nodeOnly, []);
});

test("the Node entry has TCP and ws", () => {
  const external = new Set(importsOf(resolve(dist, "node.js")));
  assert.ok(external.has("node:net") && external.has("node:tls") && external.has("ws"), [...external].join(", "));
});

test("package.json sends browsers to the browser entry and Node to the Node entry", () => {
  const pkg = JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8"));
  assert.equal(pkg.exports["."].browser.default, "./dist/index.js");
  assert.equal(pkg.exports["."].node.default, "./dist/node.js");
  assert.equal(pkg.exports["./node"].default, "./dist/node.js");
});
