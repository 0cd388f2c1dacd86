"""The vault sync job (API.md §7.4 ``POST /api/documents/sync``) and its clock duty.

At most one sync is queued or running: its id is kept in Redis and handed back to anyone who
asks for another. The job's type is stored in the RQ job's meta, so a job id of another kind
(memory extraction) is not found here.
"""

from __future__ import annotations

import time
import uuid
from datetime import UTC, datetime

from rq.exceptions import NoSuchJobError
from rq.job import Job, JobStatus, get_current_job

from cognova.clock import Duty, register
from cognova.extensions import redis_client, redis_key
from cognova.jobs import job
from cognova.services import sync
from cognova.services.errors import NotFound

JOB_TYPE = "document_sync"
ACTIVE = {JobStatus.QUEUED, JobStatus.STARTED, JobStatus.DEFERRED, JobStatus.SCHEDULED}
ACTIVE.add(JobStatus.CREATED)
STATUS = {
    JobStatus.CREATED: "queued",
    JobStatus.QUEUED: "queued",
    JobStatus.DEFERRED: "queued",
    JobStatus.SCHEDULED: "queued",
    JobStatus.STARTED: "running",
    JobStatus.FINISHED: "succeeded",
}


def _current_key() -> str:
    return redis_key("vault", "sync", "current")


@job("default", timeout=3600)
def sync_vault() -> dict:
    """Walk the whole vault and reconcile it with the documents table."""
    try:
        return sync.full_sync().counts()
    finally:
        current = get_current_job()
        if current is not None:
            key = _current_key()
            if (redis_client().get(key) or b"").decode() == current.id:
                redis_client().delete(key)


def _fetch(job_id: str) -> Job | None:
    try:
        found = Job.fetch(job_id, connection=redis_client())
    except NoSuchJobError:
        return None
    if (found.meta or {}).get("type") != JOB_TYPE:
        return None
    return found


def start_sync() -> str:
    """Enqueue a full sync unless one is already queued or running; return its id."""
    key = _current_key()
    for _attempt in range(3):
        existing = redis_client().get(key)
        if existing is not None:
            found = _fetch(existing.decode())
            if found is not None and found.get_status(refresh=True) in ACTIVE:
                return found.id
            redis_client().delete(key)
        job_id = str(uuid.uuid4())
        if redis_client().set(key, job_id, nx=True, ex=3600):
            sync_vault.enqueue(job_id=job_id, meta={"type": JOB_TYPE})
            return job_id
    raise RuntimeError("could not start a vault sync")


def _utc(value: datetime | None) -> datetime | None:
    if value is None:
        return None
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def describe(job_id: str) -> dict:
    """The Job object of §12.5 for a document-sync job; 404 for anything else."""
    found = _fetch(job_id)
    if found is None:
        raise NotFound("Job not found")
    status_value = found.get_status(refresh=True)
    status = STATUS.get(status_value, "failed")
    result = found.return_value() if status == "succeeded" else None
    error = None
    if status == "failed":
        latest = found.latest_result()
        text = getattr(latest, "exc_string", None) or found.exc_info or "Sync failed"
        error = text.strip().splitlines()[-1] if text.strip() else "Sync failed"
    return {
        "id": found.id,
        "type": JOB_TYPE,
        "status": status,
        "result": result,
        "error": error,
        "createdAt": _utc(found.created_at),
        "startedAt": _utc(found.started_at),
        "finishedAt": _utc(found.ended_at),
    }


def wait_for(job_id: str, timeout: float = 60.0, poll: float = 0.1) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        state = describe(job_id)
        if state["status"] in ("succeeded", "failed") or time.monotonic() >= deadline:
            return state
        time.sleep(poll)


def periodic_sync() -> str:
    return start_sync()


register(Duty("vault-sync", 60, periodic_sync))
