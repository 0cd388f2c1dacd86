#!/usr/bin/env python
"""Time the usage endpoints and report against ``cognova_bench_usage`` (run gen_usage.py first).

    python bench/bench_usage.py [--runs 30]

Prints p50/p95 in milliseconds per request (Flask test client with the API token, so the
numbers include routing, validation, SQL and JSON), and the wall time of
``flask usage-report --period 30d`` as a fresh process.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time

from usage_common import API_TOKEN, ROOT, env, make_app

TARGETS = [
    ("GET /api/usage/stats?period=30d&granularity=daily", 150),
    ("GET /api/usage/stats?period=24h&granularity=hourly", 50),
    ("GET /api/usage?page=500", 30),
]


def timed(client, path: str, runs: int) -> list[float]:
    headers = {"X-API-Token": API_TOKEN}
    for _ in range(3):
        assert client.get(path, headers=headers).status_code == 200
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        response = client.get(path, headers=headers)
        samples.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200, response.json
    return samples


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=30)
    args = parser.parse_args()

    app = make_app()
    from cognova import boot

    boot.prepare(app, announce=lambda _text: None)
    client = app.test_client()
    failed = False
    # The first daily request after the cache of finished days is emptied reads the whole window.
    from cognova.extensions import redis_client, redis_key

    cold = []
    for _ in range(5):
        with app.app_context():
            cache = redis_client()
            for key in cache.scan_iter(redis_key("usage", "day", "*")):
                cache.delete(key)
        started = time.perf_counter()
        response = client.get(TARGETS[0][0].split(" ", 1)[1], headers={"X-API-Token": API_TOKEN})
        cold.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200
    label = "same, with no day cached yet (first request)"
    print(f"{label:55s} p50 {statistics.median(cold):7.1f} ms  (runs of 5)")
    for label, target in TARGETS:
        path = label.split(" ", 1)[1]
        samples = sorted(timed(client, path, args.runs))
        p50 = statistics.median(samples)
        p95 = samples[int(len(samples) * 0.95) - 1]
        verdict = "ok" if p50 <= target else "SLOW"
        failed |= p50 > target
        print(f"{label:55s} p50 {p50:7.1f} ms  p95 {p95:7.1f} ms  target {target} ms  {verdict}")

    from datetime import UTC, datetime, timedelta

    from cognova.services import usage

    with app.app_context():
        report_ms = []
        for _ in range(5):
            started = time.perf_counter()
            end = datetime.now(UTC)
            usage.report(end - timedelta(days=30), end, "day")
            report_ms.append((time.perf_counter() - started) * 1000)
    label = "usage.report(30d, by day) in process"
    print(f"{label:55s} p50 {statistics.median(report_ms):7.1f} ms")

    command = [sys.executable, "-m", "flask", "--app", "app", "usage-report", "--period", "30d"]
    started = time.perf_counter()
    result = subprocess.run(command, cwd=ROOT, env=env(), capture_output=True, text=True)
    wall = time.perf_counter() - started
    if result.returncode != 0:
        print(result.stderr, file=sys.stderr)
        return 1
    verdict = "ok" if wall <= 3 else "SLOW"
    failed |= wall > 3
    print(f"{'flask usage-report --period 30d':55s} wall {wall:6.2f} s   target 3 s   {verdict}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
