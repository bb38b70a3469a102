"""The README's Python example runs against a live node."""

from __future__ import annotations

import pathlib
import subprocess
import sys

EXAMPLES = pathlib.Path(__file__).resolve().parents[3] / "examples" / "python"


def test_hello_example_delivers_its_message(node) -> None:
    finished = subprocess.run(
        [sys.executable, str(EXAMPLES / "hello.py"), node.route], capture_output=True, text=True, timeout=60
    )
    assert finished.returncode == 0, finished.stderr
    assert "got 'hello from Python' from alice-" in finished.stdout
