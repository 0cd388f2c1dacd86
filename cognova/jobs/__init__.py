"""RQ job entry points, grouped by domain. Each is a thin wrapper over ``services/``.

``@job`` sets queue, timeout and result TTL in one place; ``fn.enqueue(...)`` puts a call on the
queue by dotted name, so the web side never imports worker-only code paths.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass

from rq.job import Job

from cognova.extensions import queue

DAY = 24 * 3600


@dataclass(frozen=True)
class JobSpec:
    queue: str
    timeout: int
    result_ttl: int
    failure_ttl: int


def job(
    queue_name: str = "default",
    *,
    timeout: int = 600,
    result_ttl: int = DAY,
    failure_ttl: int = DAY,
):
    spec = JobSpec(queue_name, timeout, result_ttl, failure_ttl)

    def decorator(fn: Callable):
        path = f"{fn.__module__}.{fn.__qualname__}"

        @functools.wraps(fn)
        def enqueue(*args, job_id: str | None = None, meta: dict | None = None, **kwargs) -> Job:
            return queue(spec.queue).enqueue_call(
                path,
                args=args,
                kwargs=kwargs,
                timeout=spec.timeout,
                result_ttl=spec.result_ttl,
                failure_ttl=spec.failure_ttl,
                job_id=job_id,
                meta=meta,
            )

        fn.enqueue = enqueue
        fn.job_spec = spec
        return fn

    return decorator
