#!/usr/bin/env bash
# Builds what users install instead of compiling cim themselves, into dist/.
#
#   scripts/dist.sh python     the Python SDK as one abi3 wheel (CPython 3.9 and later,
#                              manylinux2014, x86-64), release build; prints its path and size
#   scripts/dist.sh kotlin     the Kotlin SDK's jar with libcim_ffi.so inside (release build),
#                              installed into ~/.m2 as dev.cim:cim-kotlin:0.1.0 and copied to
#                              dist/; runs its JUnit tests first when CIM_BIN names a cim binary
#
# Environment:
#   CARGO_TARGET_DIR   build cache; defaults to ~/.cache/cim/target, as scripts/test.sh
set -euo pipefail
cd "$(dirname "$0")/.."

export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/cim/target}"
export CARGO_INCREMENTAL="${CARGO_INCREMENTAL:-0}"
export PYTHONNOUSERSITE=1

die() { printf 'error: %s\n' "$*" >&2; exit 1; }

python_wheel() {
    command -v python3 >/dev/null || die "python3 not found"
    command -v cargo >/dev/null || die "cargo not found: install Rust (https://rustup.rs)"
    # maturin, zig and auditwheel live in a virtualenv of their own, never in the system's.
    local venv="$HOME/.cache/cim/dist-venv"
    [ -x "$venv/bin/python" ] || python3 -m venv "$venv"
    "$venv/bin/pip" install -q "maturin>=1.9.4,<2" "ziglang>=0.13,<0.18" "auditwheel>=6"
    rm -f dist/cim-*.whl
    # This machine's glibc is newer than most users': zig links against glibc 2.17's symbols
    # instead, so that the wheel is manylinux2014 (any Linux x86-64 since 2014) without a
    # manylinux container. maturin refuses a build that needs more, and auditwheel checks it
    # independently. maturin finds zig as `python -m ziglang`, from the virtualenv on PATH.
    PATH="$venv/bin:$PATH" "$venv/bin/maturin" build --quiet --release --locked --zig \
        --compatibility manylinux2014 --manifest-path sdk-bindings/python/Cargo.toml --out dist >&2
    local wheel
    wheel=$(ls dist/cim-*.whl)
    case "$wheel" in
        *-cp39-abi3-manylinux2014_x86_64*.whl) ;;
        *) die "$wheel is not an abi3 manylinux wheel for CPython 3.9+" ;;
    esac
    "$venv/bin/auditwheel" show "$wheel" | tr '\n' ' ' | grep -q 'platform tag to "manylinux_2_17_x86_64"' \
        || die "auditwheel does not find $wheel manylinux_2_17: $("$venv/bin/auditwheel" show "$wheel")"
    printf '%s\t%s bytes\n' "$wheel" "$(stat -c %s "$wheel")"
}

kotlin_jar() {
    command -v cargo >/dev/null || die "cargo not found: install Rust (https://rustup.rs)"
    command -v mvn >/dev/null || die "mvn not found: install Maven and a JDK 17 or later"
    cargo build -q --release --locked -p cim-ffi --features cli
    local lib="$CARGO_TARGET_DIR/release/libcim_ffi.so" native="$CARGO_TARGET_DIR/kotlin-native"
    # The jar carries the library without its debug information (a third of the size).
    mkdir -p "$native"
    objcopy --strip-debug "$lib" "$native/libcim_ffi.so"
    rm -rf sdk-bindings/kotlin/generated
    "$CARGO_TARGET_DIR/release/uniffi-bindgen" generate --no-format --language kotlin \
        --out-dir sdk-bindings/kotlin/generated "$lib" >&2
    local tests=(-DskipTests)
    [ -n "${CIM_BIN:-}" ] && tests=(-Dcim.bin="$CIM_BIN")
    mvn -B -q -f sdk-bindings/kotlin/pom.xml -Dnative.lib.dir="$native" "${tests[@]}" install >&2
    local jar=sdk-bindings/kotlin/target/cim-kotlin-0.1.0.jar
    jar tf "$jar" | grep -qx 'linux-x86-64/libcim_ffi.so' || die "$jar lacks linux-x86-64/libcim_ffi.so"
    mkdir -p dist && cp "$jar" dist/
    printf '%s\t%s bytes (installed in ~/.m2 as dev.cim:cim-kotlin:0.1.0)\n' "dist/${jar##*/}" "$(stat -c %s "$jar")"
}

case "${1:-}" in
    python) python_wheel ;;
    kotlin) kotlin_jar ;;
    *) die "usage: scripts/dist.sh python|kotlin" ;;
esac
