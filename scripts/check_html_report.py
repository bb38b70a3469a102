#!/usr/bin/env python3
"""Checks that a cim-conformance HTML report is one self-contained file that a browser opens.

    scripts/check_html_report.py REPORT.html REPORT.json

The page must load nothing from elsewhere (no stylesheet, script, image or frame by URL or
path), and headless Chromium must render it with one entry per case of the JSON report of the
same run, and the coverage table.
"""

import json
import pathlib
import re
import subprocess
import sys


def fail(message: str) -> None:
    print(f"error: {message}", file=sys.stderr)
    sys.exit(1)


def external_references(html: str) -> list[str]:
    found = re.findall(r'\b(?:src|href|srcset|data)\s*=\s*"([^"]*)"', html, flags=re.I)
    found += re.findall(r"url\(\s*['\"]?([^'\")]+)", html, flags=re.I)
    found += re.findall(r"@import\s+['\"]([^'\"]+)", html, flags=re.I)
    return [ref for ref in found if not ref.startswith("#") and not ref.startswith("data:")]


def main() -> None:
    if len(sys.argv) != 3:
        fail("usage: check_html_report.py REPORT.html REPORT.json")
    html_path, json_path = (pathlib.Path(a).resolve() for a in sys.argv[1:])
    html = html_path.read_text(encoding="utf-8")
    cases = json.loads(json_path.read_text(encoding="utf-8"))["cases"]

    refs = external_references(html)
    if refs:
        fail(f"{html_path.name} loads other resources: {refs[:5]}")

    browser = next(
        (b for b in ("chromium", "chromium-browser", "google-chrome") if subprocess.run(
            ["sh", "-c", f"command -v {b}"], capture_output=True).returncode == 0),
        None,
    )
    if browser is None:
        fail("no Chromium to open the report with (apt-get install chromium)")
    version = subprocess.run([browser, "--version"], capture_output=True, text=True).stdout.strip()
    rendered = subprocess.run(
        [browser, "--headless", "--no-sandbox", "--disable-gpu", "--dump-dom", html_path.as_uri()],
        capture_output=True, text=True, timeout=120,
    )
    if rendered.returncode != 0:
        fail(f"{browser} could not open {html_path}: {rendered.stderr[-500:]}")
    dom = rendered.stdout
    shown = len(re.findall(r"<details id=", dom))
    if shown != len(cases):
        fail(f"the rendered page shows {shown} cases, the JSON report has {len(cases)}")
    if "Coverage of MUST" not in dom:
        fail("the rendered page has no coverage table")
    print(f"ok: {html_path.name} opens in {version} as one file: {shown} cases, coverage, nothing loaded from elsewhere")


if __name__ == "__main__":
    main()
