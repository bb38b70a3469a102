"""A real `cim up` node for the tests, on free ports, stopped afterwards.

The `cim` binary comes from $CIM_BIN, else $CARGO_TARGET_DIR/debug/cim, else the
workspace's target/debug/cim: build it first (`cargo build -p cim`).
"""

from __future__ import annotations

import os
import pathlib
import secrets
import socket
import subprocess
import time
import urllib.request
import uuid
from collections.abc import Iterator

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[3]


def _cim_binary() -> pathlib.Path:
    if os.environ.get("CIM_BIN"):
        return pathlib.Path(os.environ["CIM_BIN"])
    target = pathlib.Path(os.environ.get("CARGO_TARGET_DIR", ROOT / "target"))
    return target / "debug" / "cim"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Node:
    """A running `cim up`."""

    def __init__(self, route: str, process: subprocess.Popen) -> None:
        self.route = route
        self.process = process


# Generated per run: cim refuses secrets that anyone could read here.
JWT_SECRET = secrets.token_hex(32)


def start_cim_up(args: list[str], log_path: pathlib.Path, route: str) -> subprocess.Popen:
    """Starts `cim up` with `args` and waits until its route answers."""
    binary = _cim_binary()
    if not binary.exists():
        pytest.fail(f"{binary} not found: run `cargo build -p cim` or set CIM_BIN")
    log = log_path.open("a")
    process = subprocess.Popen([str(binary), "up", *args], stdout=log, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 20
    while True:
        try:
            urllib.request.urlopen(f"{route}/healthz", timeout=1)
            return process
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                process.kill()
                pytest.fail(f"cim up did not start; see {log_path}")
            time.sleep(0.1)


def stop(process: subprocess.Popen) -> None:
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()


def cim_up_args() -> tuple[list[str], str]:
    """Arguments for `cim up` on free ports (with JWT logins), and its route URL."""
    route_port = _free_port()
    # The tests register users and log in with JWTs: registration stays open beside JWT logins.
    args = ["--route-listen", f"127.0.0.1:{route_port}", "--jwt-secret", JWT_SECRET, "--registration", "open",
            "--registrations-per-address", "0", "--free-ports"]
    return args, f"http://127.0.0.1:{route_port}"


@pytest.fixture(scope="session")
def node(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Node]:
    args, route = cim_up_args()
    process = start_cim_up(args, tmp_path_factory.mktemp("cim-up") / "cim-up.log", route)
    yield Node(route, process)
    stop(process)


@pytest.fixture
def name() -> object:
    """Unique user and group names for one test."""
    prefix = uuid.uuid4().hex[:8]
    return lambda short: f"{short}-{prefix}"
