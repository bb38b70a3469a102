#!/usr/bin/env bash
# Fails when src/gen differs from what `npm run generate` makes of /proto today: the generated
# code is committed, so that building and testing never need the generator.
set -euo pipefail
cd "$(dirname "$0")/.."
scratch="$(mktemp -d)"
trap 'rm -rf "$scratch"' EXIT
sed "s#out: src/gen#out: $scratch/gen#" buf.gen.yaml >"$scratch/buf.gen.yaml"
npx buf generate --template "$scratch/buf.gen.yaml"
if ! diff -r src/gen "$scratch/gen"; then
  echo "src/gen is out of date with proto/: run 'npm run generate' and commit the result" >&2
  exit 1
fi
echo "src/gen matches proto/"
