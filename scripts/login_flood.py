#!/usr/bin/env python3
"""How long a legitimate login takes while others flood the route with wrong passwords.

    scripts/login_flood.py ROUTE_URL [--threads 64] [--sources 1] [--seconds 20] [--logins 200]

ROUTE_URL is a running route (`cim up`, best a release build). The script registers one user,
then runs --threads flooding threads that log in with wrong passwords as fast as the route
answers, spread over --sources loopback addresses (127.0.0.2, 127.0.0.3, ...: one attacker, or
several), while one more thread logs the real user in from 127.0.0.1 every 100 ms and times
each login. It prints the legitimate logins' latency (p50, p99, max), how many of them failed,
and what the flood got back (401 wrong password, 429 rate limited, 503 hashing busy).

Standard library only.
"""

from __future__ import annotations

import argparse
import http.client
import json
import statistics
import threading
import time
import urllib.parse
from collections import Counter


def post(host: str, port: int, path: str, body: dict, source: str) -> tuple[int, float]:
    """POSTs JSON from `source`; returns the status and the seconds it took."""
    started = time.perf_counter()
    connection = http.client.HTTPConnection(host, port, timeout=30, source_address=(source, 0))
    try:
        connection.request("POST", path, json.dumps(body), {"Content-Type": "application/json"})
        status = connection.getresponse().status
    except OSError:
        status = 0
    finally:
        connection.close()
    return status, time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("route", help="the route's base URL, e.g. http://127.0.0.1:8083")
    parser.add_argument("--threads", type=int, default=64, help="flooding threads")
    parser.add_argument("--sources", type=int, default=1, help="loopback addresses the flood comes from")
    parser.add_argument("--seconds", type=float, default=20, help="how long the flood runs")
    args = parser.parse_args()
    url = urllib.parse.urlparse(args.route)
    host, port = url.hostname or "127.0.0.1", url.port or 80

    user = f"legit{int(time.time())}"
    status, _ = post(host, port, "/v1/register", {"user_name": user, "password": "legit-password"}, "127.0.0.1")
    if status != 201:
        raise SystemExit(f"cannot register {user}: HTTP {status}")

    stop = time.monotonic() + args.seconds
    flood = Counter()
    lock = threading.Lock()

    def flooder(n: int) -> None:
        source = f"127.0.0.{2 + n % args.sources}"
        i = 0
        while time.monotonic() < stop:
            i += 1
            body = {"user_name": f"victim{n}-{i % 50}", "password": "wrong-password", "device_id": "flood"}
            status, _ = post(host, port, "/v1/login", body, source)
            with lock:
                flood[status] += 1

    latencies: list[float] = []
    failures = Counter()

    def legitimate() -> None:
        time.sleep(1)  # let the flood build up first
        while time.monotonic() < stop:
            body = {"user_name": user, "password": "legit-password", "device_id": "phone"}
            status, took = post(host, port, "/v1/login", body, "127.0.0.1")
            if status == 200:
                latencies.append(took)
            else:
                failures[status] += 1
            time.sleep(0.1)

    threads = [threading.Thread(target=flooder, args=(n,)) for n in range(args.threads)]
    threads.append(threading.Thread(target=legitimate))
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    if not latencies:
        raise SystemExit(f"no legitimate login succeeded; failures: {dict(failures)}")
    latencies.sort()
    p99 = latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))]
    print(f"legitimate logins: {len(latencies)} ok, failed {dict(failures) or 0}")
    print(
        f"  latency ms: p50 {statistics.median(latencies) * 1000:.1f}  p99 {p99 * 1000:.1f}"
        f"  max {latencies[-1] * 1000:.1f}"
    )
    total = sum(flood.values())
    print(f"flood: {total} wrong-password logins in {args.seconds:.0f} s from {args.sources} address(es):", end="")
    for status, count in sorted(flood.items()):
        print(f"  {status or 'no answer'}: {count}", end="")
    print()


if __name__ == "__main__":
    main()
