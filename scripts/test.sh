#!/usr/bin/env bash
# Runs every test of cim. On a fresh Debian machine it first installs what the tests need.
#
#   scripts/test.sh            everything (what CI runs, via .ci/run)
#
# Environment:
#   CARGO_TARGET_DIR   build cache; defaults to ~/.cache/cim/target so fresh clones reuse it
#   CIM_SKIP_LINT=1    skip rustfmt/clippy (faster local iterations)
set -euo pipefail
cd "$(dirname "$0")/.."

# Only what a fresh Debian machine has, plus the Rust toolchain: a tool installed by hand
# elsewhere (a pip-installed maturin in /usr/local/bin or ~/.local/bin) must not make this
# script pass here and fail on a fresh machine. Everything else it needs, it installs.
cargo_dir=$(dirname "$(command -v cargo 2>/dev/null || echo "$HOME/.cargo/bin/cargo")")
export PATH="$cargo_dir:/usr/sbin:/usr/bin:/sbin:/bin"
export PYTHONNOUSERSITE=1

export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/cim/target}"
# Incremental state is for editing, not for a cache shared by every run: it grew this one past
# 25 GB and filled a disk. Without it, unchanged crates are still reused.
export CARGO_INCREMENTAL="${CARGO_INCREMENTAL:-0}"
export CARGO_TERM_COLOR="${CARGO_TERM_COLOR:-never}"
# Incremental state is useless for one full build per run and grew the cache by 18 GB.
export CARGO_INCREMENTAL="${CARGO_INCREMENTAL:-0}"
# Snapshots (golden vectors) are compared, never rewritten, by this script.
export INSTA_UPDATE=no

step() { printf '\n==> %s\n' "$*"; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

# --- What the tests need ------------------------------------------------------------------
# A Rust toolchain with rustfmt and clippy, python3 for the spec tooling, Debian's
# redis-server and zookeeper (with a JRE) for the tests that run the real ones on free ports,
# chromium for the HTML report, and python3-venv for the Python SDK (maturin, zig and
# auditwheel come from PyPI into ~/.cache/cim/dist-venv, pytest into the wheel's own
# ~/.cache/cim/wheel-venv).
# No protoc is needed (protox compiles the .proto files). Node.js 20 or later with npm is
# needed for the TypeScript SDK (Debian 12's nodejs is 18: install Node from nodejs.org or
# NodeSource); its packages come from the npm registry.
apt_install() {
    command -v apt-get >/dev/null || die "missing $*, and this is not a Debian machine: install them by hand"
    local sudo=""
    [ "$(id -u)" -eq 0 ] || sudo="sudo"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "$@" >/dev/null
}

step "checking prerequisites"
command -v cargo >/dev/null || die "cargo not found: install Rust (https://rustup.rs), then run this again"
command -v python3 >/dev/null || apt_install python3
command -v redis-server >/dev/null || apt_install redis-server
[ -e /usr/share/java/zookeeper.jar ] || apt_install zookeeper
command -v java >/dev/null || apt_install default-jre-headless
command -v javac >/dev/null || apt_install default-jdk-headless
command -v mvn >/dev/null || apt_install maven
# Headless Chromium opens the conformance HTML report, which must work as one file.
command -v chromium >/dev/null || apt_install chromium
# The Python SDK's wheel builds with maturin in a virtualenv of its own.
python3 -c 'import venv, ensurepip' 2>/dev/null || apt_install python3-venv
if [ "${CIM_SKIP_LINT:-0}" != 1 ]; then
    cargo fmt --version >/dev/null 2>&1 || rustup component add rustfmt
    cargo clippy --version >/dev/null 2>&1 || rustup component add clippy
fi
cargo --version

# --- Rust -----------------------------------------------------------------------------------
if [ "${CIM_SKIP_LINT:-0}" != 1 ]; then
    step "rustfmt"
    cargo fmt --all -- --check
    step "clippy"
    cargo clippy --workspace --all-targets --locked -- -D warnings
fi

step "cargo test (workspace)"
cargo test --workspace --locked

step "cim-proto with the grpc feature compiles on its own"
cargo check -p cim-proto --features grpc --locked

# Fails when crate $1 depends (normal dependencies, transitively) on a crate named in $2.
forbid_dependencies() {
    local deps bad
    deps=$(cargo tree -p "$1" -e normal --prefix none --format '{p}' | awk '{print $1}' | sort -u)
    if bad=$(grep -xE "$2" <<<"$deps"); then
        die "$1 depends on: $bad"
    fi
    echo "ok: $(wc -l <<<"$deps") crates, none of them $2"
}

step "cim-core is sans-IO: no async runtime or networking crate among its dependencies"
forbid_dependencies cim-core 'tokio|mio|socket2|hyper|tonic|async-std|smol|reqwest|h2'

step "cim-store needs no Redis, ZooKeeper, gRPC or password hashing: a user of the traits compiles none of them"
forbid_dependencies cim-store 'redis|zookeeper-client|tonic|argon2'

# --- Conformance ------------------------------------------------------------------------------
step "cim-conformance: every MUST, of servers, routes and clients, is covered by a case or justified (conformance/untestable.toml)"
"$CARGO_TARGET_DIR/debug/cim-conformance" coverage --check | tail -1

step "cim-conformance against cim up (reports kept in artifacts/conformance/)"
# Secrets are generated per run: cim refuses any that is printed somewhere, such as here.
secret() { python3 -c 'import secrets; print(secrets.token_hex(32))'; }
api_key=$(secret)
jwt_secret=$(secret)
free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
# start_node: a `cim up` of its own on free ports for an SDK's example or tests; sets
# node_route; stop_node ends it.
start_node() {
    local port
    port=$(free_port)
    "$CARGO_TARGET_DIR/debug/cim" up --route-listen "127.0.0.1:$port" --free-ports --registration open \
        --registrations-per-address 0 >>"$artifacts/cim-up-sdk.log" 2>&1 &
    node_pid=$!
    node_route="http://127.0.0.1:$port"
    trap 'kill "$node_pid" 2>/dev/null || true' EXIT
    for _ in $(seq 100); do
        python3 -c "import urllib.request; urllib.request.urlopen('$node_route/healthz', timeout=1)" 2>/dev/null && return
        sleep 0.2
    done
    die "cim up did not start; see $artifacts/cim-up-sdk.log"
}
stop_node() { kill "$node_pid" 2>/dev/null || true; wait "$node_pid" 2>/dev/null || true; trap - EXIT; }
artifacts="$PWD/artifacts/conformance"
mkdir -p "$artifacts"
route_port=$(free_port)
grpc_port=$(free_port)
"$CARGO_TARGET_DIR/debug/cim" up --route-listen "127.0.0.1:$route_port" \
    --route-grpc-listen "127.0.0.1:$grpc_port" --free-ports --api-key "$api_key" \
    --jwt-secret "$jwt_secret" --registration open --registrations-per-address 0 \
    --login-failures-per-address 0 >"$artifacts/cim-up.log" 2>&1 &
up_pid=$!
trap 'kill "$up_pid" 2>/dev/null || true' EXIT
for _ in $(seq 50); do
    python3 -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:$route_port/healthz', timeout=1)" 2>/dev/null && break
    sleep 0.2
done
"$CARGO_TARGET_DIR/debug/cim-conformance" server --route "http://127.0.0.1:$route_port" -j 8 --quiet \
    --route-grpc "http://127.0.0.1:$grpc_port" \
    --api-key "$api_key" --jwt-secret "$jwt_secret" \
    --json "$artifacts/report.json" --junit "$artifacts/junit.xml" --html "$artifacts/report.html"
python3 scripts/check_html_report.py "$artifacts/report.html" "$artifacts/report.json"

step "the Rust SDK's example (sdk/examples/hello.rs) against the same cim up"
said=$("$CARGO_TARGET_DIR/debug/examples/hello" "http://127.0.0.1:$route_port")
echo "$said"
grep -q 'got "hello from Rust"' <<<"$said" || die "the Rust example did not deliver its message"
kill "$up_pid" 2>/dev/null || true
trap - EXIT

step "cim-bench: every scenario runs against cim up and the cluster (tiny loads in a debug build: a smoke test, not a measurement)"
cargo build -q --locked -p cim -p cim-server -p cim-route -p cim-bench
# Each micro-benchmark once (criterion's test mode), with the allocations per frame.
cargo test -q --locked -p cim-core --bench frames 2>&1 | grep -E "allocations per frame|Success|test result" || true
bench_smoke() { # <figure that must be above <min>> <min> -- cim-bench arguments
    local figure="$1" min="$2"
    shift 3
    "$CARGO_TARGET_DIR/debug/cim-bench" "$@" --warmup 0.5 --duration 1.5 --json 2>/dev/null | python3 -c '
import json, sys
figure, least, args = sys.argv[1], float(sys.argv[2]), sys.argv[3]
report = json.load(sys.stdin)
value = next((s["median"] for s in report["summary"] if s["name"] == figure), None)
print(f"cim-bench {args}: {figure} = {value}")
sys.exit(0 if value is not None and value >= least else 1)' "$figure" "$min" "$*" || die "cim-bench $* did not measure $figure"
}
bench_smoke "connections held" 200 -- connect -n 200
bench_smoke "acked messages/s" 1 -- p2p --pairs 2
bench_smoke "acked messages/s" 1 -- p2p --pairs 2 --rate 100
bench_smoke "deliveries/s" 1 -- group --members 5
bench_smoke "deliveries/s" 1 -- broadcast --clients 5
bench_smoke "logins/s" 1 -- login --users 20 --concurrency 2
bench_smoke "acked messages/s" 1 -- p2p --pairs 2 --spawn cluster
bench_smoke "connections held" 50 -- connect -n 50 --spawn cluster --servers 2
bench_smoke "accepted messages/s" 1 -- store --senders 4
bench_smoke "accepted messages/s" 1 -- store --senders 4 --redis-cluster

step "cim-conformance client mode against the Rust SDK's driver (reports in artifacts/conformance/)"
"$CARGO_TARGET_DIR/debug/cim-conformance" client -j 4 --quiet --junit "$artifacts/client-junit.xml" \
    --expected-failures conformance/driver-rust/expected-failures.txt --json "$artifacts/client-report.json" \
    --html "$artifacts/client-report.html" -- "$CARGO_TARGET_DIR/debug/cim-sdk-driver"
python3 scripts/check_html_report.py "$artifacts/client-report.html" "$artifacts/client-report.json"

# --- SDK bindings -----------------------------------------------------------------------------
step "Python SDK: the release wheel (scripts/dist.sh python) in a fresh virtualenv without Rust on PATH, pytest against cim up; the golden vectors read by the protobuf library"
wheel=$(scripts/dist.sh python | cut -f1)
echo "built $wheel ($(stat -c %s "$wheel") bytes)"
# What a user does: a new virtualenv, `pip install` of the wheel, no compiler, no cargo.
venv="$HOME/.cache/cim/wheel-venv"
rm -rf "$venv"
python3 -m venv "$venv"
no_rust_path=/usr/sbin:/usr/bin:/sbin:/bin
PATH="$no_rust_path" "$venv/bin/pip" install -q "$wheel" "pytest>=8" "protobuf>=5"
installed=$(cd /tmp && PATH="$no_rust_path" "$venv/bin/python" -c 'import cim; print(cim.__file__)')
case "$installed" in
    "$venv"/*) echo "import cim: $installed" ;;
    *) die "the tests would import cim from $installed, not from the installed wheel" ;;
esac
PATH="$no_rust_path" CIM_BIN="$CARGO_TARGET_DIR/debug/cim" "$venv/bin/python" -m pytest -q -p no:cacheprovider \
    sdk-bindings/python/tests
"$venv/bin/python" scripts/check_vectors.py

step "cim-conformance client mode against the Python SDK's driver"
"$CARGO_TARGET_DIR/debug/cim-conformance" client -j 4 --quiet --junit "$artifacts/client-python-junit.xml" \
    -- "$venv/bin/python" sdk-bindings/python/driver/cim_driver.py

step "Kotlin SDK: the jar with libcim_ffi.so inside (scripts/dist.sh kotlin, release build) after its JUnit tests against cim up; the Swift bindings"
CIM_BIN="$CARGO_TARGET_DIR/debug/cim" scripts/dist.sh kotlin
ffi_lib="$CARGO_TARGET_DIR/release/libcim_ffi.so"
# The Swift package is not compiled here (no Swift toolchain): its generated sources are kept in
# git and must match what the library generates; its public API is also an insta snapshot
# (sdk-bindings/ffi/tests/snapshots), checked by cargo test, so changes show in review.
"$CARGO_TARGET_DIR/release/uniffi-bindgen" generate --no-format --language swift \
    --out-dir sdk-bindings/swift/Sources/Cim "$ffi_lib"
mv sdk-bindings/swift/Sources/Cim/CimFFI.h sdk-bindings/swift/Sources/CimFFI/include/
mv sdk-bindings/swift/Sources/Cim/CimFFI.modulemap sdk-bindings/swift/Sources/CimFFI/include/module.modulemap
git diff --exit-code --stat -- sdk-bindings/swift || die "the generated Swift API changed: review and commit sdk-bindings/swift"
# What can be checked of it without Swift: the C header parses, and declares only symbols the
# library exports.
swift_header=sdk-bindings/swift/Sources/CimFFI/include/CimFFI.h
gcc -fsyntax-only -w -D_Nullable= -D_Nonnull= -x c "$swift_header"
missing=$(comm -23 <(grep -oE '\b(uniffi|ffi)_cim_ffi_[a-z0-9_]+\(' "$swift_header" | tr -d '(' | sort -u) \
    <(nm -D --defined-only "$ffi_lib" | awk '{print $3}' | sort -u))
[ -z "$missing" ] || die "CimFFI.h declares symbols libcim_ffi.so lacks: $missing"

step "a Maven project whose one dependency is the Kotlin SDK runs the example (examples/kotlin) against cim up, with no -D flags"
start_node
# (Maven 3.8 colours its output even in batch mode: the escapes go before the line matched.)
said=$(CIM_ROUTE="$node_route" mvn -B -q -f examples/kotlin/pom.xml compile exec:java | sed 's/\x1b\[[0-9;]*m//g')
echo "$said"
grep -qE "^bob-\w+ got 'hello from Kotlin' from alice-\w+$" <<<"$said" || die "the Kotlin example did not deliver its message"
stop_node

step "cim-conformance client mode against the Kotlin SDK's driver (a test class of the SDK: it needs org.json, which the SDK does not)"
mvn -B -q -f sdk-bindings/kotlin/pom.xml -Dnative.lib.dir="$CARGO_TARGET_DIR/kotlin-native" \
    dependency:build-classpath -Dmdep.includeScope=test -Dmdep.outputFile=target/classpath.txt >/dev/null
kotlin_driver=(java -cp "sdk-bindings/kotlin/target/test-classes:sdk-bindings/kotlin/target/classes:$(cat sdk-bindings/kotlin/target/classpath.txt)"
    dev.cim.DriverKt)
"$CARGO_TARGET_DIR/debug/cim-conformance" client -j 4 --quiet --junit "$artifacts/client-kotlin-junit.xml" \
    -- "${kotlin_driver[@]}"

step "TypeScript SDK (sdk-bindings/typescript): generated code current, npm test against cim up, the packed tarball runs the example"
node_major=$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)
[ "$node_major" -ge 20 ] || die "the TypeScript SDK needs Node.js 20 or later (with npm): found ${node_major/#0/none}"
(
    cd sdk-bindings/typescript
    npm ci --no-audit --no-fund --loglevel=error
    npm run --silent check-generated
    CIM_BIN="$CARGO_TARGET_DIR/debug/cim" npm test --silent
    CIM_BIN="$CARGO_TARGET_DIR/debug/cim" npm run --silent pack-test
)

step "cim-conformance client mode against the TypeScript SDK's driver"
"$CARGO_TARGET_DIR/debug/cim-conformance" client -j 4 --quiet --junit "$artifacts/client-typescript-junit.xml" \
    -- node sdk-bindings/typescript/dist/driver.js

step "web chat (web/chat): the committed bundle matches its sources and types; two chromium pages chat through cim up, and through a cluster whose server restarts (screenshots in artifacts/web-chat/)"
(
    cd web/chat
    npm ci --no-audit --no-fund --loglevel=error
    npm run --silent check-bundle
    npm run --silent typecheck
    CIM_BIN="$CARGO_TARGET_DIR/debug/cim" CIM_ARTIFACTS="$PWD/../../artifacts/web-chat" npm test --silent
)

# --- Spec -------------------------------------------------------------------------------------
step "spec: requirements.toml is generated from protocol.md"
python3 scripts/gen_requirements.py --check

step "all tests passed"
