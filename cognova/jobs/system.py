"""Jobs about the installation itself."""

from __future__ import annotations

from cognova.jobs import job
from cognova.services import health


@job("default", timeout=30)
def ping(value: str) -> dict:
    """Echo a value with the health report: proves a web-side enqueue reaches a worker."""
    report = health.report()
    return {"echo": value, "database": report["database"], "redis": report["redis"]}
