#!/usr/bin/env bash
# Packs the SDK, installs the tarball into a fresh directory as a user would, and runs the
# example there against a `cim up` started here. Needs CIM_BIN (the cim binary).
set -euo pipefail
package_dir="$(cd "$(dirname "$0")/.." && pwd)"
: "${CIM_BIN:?set CIM_BIN to the cim binary}"
scratch="$(mktemp -d)"
cim_pid=""
cleanup() {
  if [[ -n "$cim_pid" ]]; then kill "$cim_pid" 2>/dev/null || true; wait "$cim_pid" 2>/dev/null || true; fi
  rm -rf "$scratch"
}
trap cleanup EXIT

cd "$package_dir"
tarball="$(npm pack --silent --pack-destination "$scratch" | tail -n 1)"
echo "packed $tarball"

mkdir "$scratch/app"
cd "$scratch/app"
npm init -y >/dev/null
npm install --no-audit --no-fund "$scratch/$tarball" >/dev/null
cp "$package_dir/examples/hello.mjs" .

route_port="$(node -e 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})')"
route="http://127.0.0.1:$route_port"
"$CIM_BIN" up --route-listen "127.0.0.1:$route_port" --free-ports --registrations-per-address 0 >"$scratch/cim-up.log" 2>&1 &
cim_pid=$!
for _ in $(seq 1 200); do
  if node -e 'fetch(process.argv[1]).then(r => process.exit(r.ok ? 0 : 1), () => process.exit(1))' "$route/healthz"; then break; fi
  if ! kill -0 "$cim_pid" 2>/dev/null; then cat "$scratch/cim-up.log" >&2; echo "cim up exited" >&2; exit 1; fi
  sleep 0.1
done

timeout 60 node hello.mjs "$route"
echo "pack test passed: the installed package ran the example"
