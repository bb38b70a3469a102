#!/usr/bin/env python3
"""How long a legitimate login takes while others flood the route with wrong passwords.

    scripts/login_flood.py ROUTE_URL [--threads 64] [--sources 1] [--seconds 20] [--logins 200]

ROUTE_URL is a running route (`cim up`, best a release build, started afresh: the limits count
over 5 minutes). The script registers one user, then keeps --threads keep-alive connections
logging in with wrong passwords as fast as the route answers, spread over --sources loopback
addresses (127.0.0.2, 127.0.0.3, ...: one attacker, or several, each in a process of its own),
while the main process logs the real user in from 127.0.0.1 every 100 ms and times each login. It prints the legitimate logins' latency (p50, p99, max), how many of them failed,
and what the flood got back (401 wrong password, 429 rate limited, 503 hashing busy).

Standard library only.
"""

from __future__ import annotations

import argparse
import http.client
import json
import multiprocessing
import statistics
import threading
import time
import urllib.parse
from collections import Counter


def post(host: str, port: int, path: str, body: dict, source: str) -> tuple[int, float]:
    """POSTs JSON from `source` on a new connection; returns the status and the seconds it took."""
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


def flood(host: str, port: int, source: str, threads: int, until: float, name: str) -> Counter:
    """Wrong-password logins from `source` on `threads` keep-alive connections until `until`."""
    counts: Counter = Counter()
    lock = threading.Lock()

    def one(n: int) -> None:
        connection = None
        i = 0
        while time.time() < until:
            i += 1
            body = json.dumps({"user_name": f"{name}-{n}-{i % 50}", "password": "wrong-password", "device_id": "flood"})
            try:
                if connection is None:
                    connection = http.client.HTTPConnection(host, port, timeout=30, source_address=(source, 0))
                connection.request("POST", "/v1/login", body, {"Content-Type": "application/json"})
                response = connection.getresponse()
                response.read()
                status = response.status
            except OSError:
                status, connection = 0, None
            with lock:
                counts[status] += 1

    workers = [threading.Thread(target=one, args=(n,)) for n in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    return counts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("route", help="the route's base URL, e.g. http://127.0.0.1:8083")
    parser.add_argument("--threads", type=int, default=64, help="flooding connections in all")
    parser.add_argument("--sources", type=int, default=1, help="loopback addresses the flood comes from")
    parser.add_argument("--seconds", type=float, default=20, help="how long the flood runs")
    args = parser.parse_args()
    url = urllib.parse.urlparse(args.route)
    host, port = url.hostname or "127.0.0.1", url.port or 80

    user = f"legit{int(time.time())}"
    status, _ = post(host, port, "/v1/register", {"user_name": user, "password": "legit-password"}, "127.0.0.1")
    if status != 201:
        raise SystemExit(f"cannot register {user}: HTTP {status}")

    # The flood runs in processes of its own, one per source address, so that its threads do
    # not share an interpreter lock with the timed logins below.
    until = time.time() + args.seconds
    sources = max(1, args.sources)
    per_source = [args.threads // sources + (1 if n < args.threads % sources else 0) for n in range(sources)]
    with multiprocessing.Pool(sources) as pool:
        floods = [
            pool.apply_async(flood, (host, port, f"127.0.0.{2 + n}", threads, until, f"victim{n}"))
            for n, threads in enumerate(per_source)
            if threads > 0
        ]
        latencies: list[float] = []
        failures: Counter = Counter()
        time.sleep(min(1.0, args.seconds / 10))  # let the flood build up first
        while time.time() < until:
            body = {"user_name": user, "password": "legit-password", "device_id": "phone"}
            status, took = post(host, port, "/v1/login", body, "127.0.0.1")
            if status == 200:
                latencies.append(took)
            else:
                failures[status] += 1
            time.sleep(0.1)
        totals: Counter = Counter()
        for result in floods:
            totals.update(result.get())

    if not latencies:
        raise SystemExit(f"no legitimate login succeeded; failures: {dict(failures)}")
    latencies.sort()
    p99 = latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))]
    print(f"legitimate logins: {len(latencies)} ok, failed {dict(failures) or 0}")
    print(
        f"  latency ms: p50 {statistics.median(latencies) * 1000:.1f}  p99 {p99 * 1000:.1f}"
        f"  max {latencies[-1] * 1000:.1f}"
    )
    total = sum(totals.values())
    print(f"flood: {total} wrong-password logins in {args.seconds:.0f} s from {sources} address(es):", end="")
    for status, count in sorted(totals.items()):
        print(f"  {status or 'no answer'}: {count}", end="")
    print()


if __name__ == "__main__":
    main()
