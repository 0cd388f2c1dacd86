"""Memory extraction (API.md §12.4–12.5): transcripts in, validated memories out.

Claude is forced (``tool_choice``) to call ``save_memories`` whose input schema is the list of
memories, so the result is structured data rather than prose to scrape. Every item is checked
again here (the schema is a request, not a guarantee), and a memory that repeats one already
kept is skipped: exactly by the duplicate rule of §12, or nearly, by full-text similarity
(see ``near_duplicate``).

Jobs are RQ jobs with UUID ids; ``meta["type"]`` records what they are, so a document-sync job
id asked for here answers 404.
"""

from __future__ import annotations

import json
import logging
import os
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import sqlalchemy as sa
from flask import current_app
from rq.exceptions import NoSuchJobError
from rq.job import Job, JobStatus

from cognova.extensions import db, redis_client
from cognova.models import MemoryChunk
from cognova.schemas.memory import CHUNK_TYPES, SAVE_MEMORIES_TOOL
from cognova.services import memory
from cognova.services.errors import Forbidden, Invalid, NotFound, ServiceError, field_error

log = logging.getLogger(__name__)

JOB_TYPE = "memory_extraction"
MAX_MESSAGES = 20
MAX_CHARS = 8000
MAX_CONTENT = 100
# A JSONL line can hold a whole file a tool read; the tail this size holds 20 messages in practice.
TAIL_BYTES = 4 * 1024 * 1024
NEAR_JACCARD = 0.7
NEAR_MIN_CONTAINED = 3
NO_MEMORIES = "No memories worth extracting"

SYSTEM_PROMPT = (
    "You read a conversation between a user and an AI assistant and keep what is worth "
    "remembering in later sessions: decisions taken, durable facts about the user's projects "
    "and environment, solutions to problems, recurring patterns, the user's preferences, and "
    "short summaries of finished work. Skip small talk, transient details and anything that is "
    "only true for this one moment. Each memory is one self-contained statement of at most 100 "
    "characters; relevance is 0 to 1 (1 = certainly useful again). Call save_memories exactly "
    "once, with an empty list if nothing is worth keeping."
)


class ExtractionFailed(Exception):
    """The AI provider failed or answered unusably; the message is the job's ``error``."""


# ------------------------------------------------------------------ transcripts


def clean_text(value: str) -> str:
    """Text PostgreSQL and JSON can carry: no NUL characters, no lone surrogates."""
    return value.replace("\x00", "").encode("utf-8", "replace").decode("utf-8")


def _block_text(content) -> str:
    if isinstance(content, str):
        return content
    if not isinstance(content, list):
        return ""
    parts = []
    for block in content:
        if not isinstance(block, dict):
            continue
        if block.get("type") == "text" and isinstance(block.get("text"), str):
            parts.append(block["text"])
        elif block.get("type") == "tool_use" and isinstance(block.get("name"), str):
            parts.append(f"[used tool {block['name']}]")
    return "\n".join(p for p in parts if p.strip())


def _jsonl_message(entry: dict) -> tuple[str, str] | None:
    """(role, text) of a Claude Code transcript line, or None for other kinds of lines."""
    message = entry.get("message") if isinstance(entry.get("message"), dict) else entry
    role = message.get("role") or entry.get("type")
    if role not in ("user", "assistant"):
        return None
    text = _block_text(message.get("content")).strip()
    return (role, text) if text else None


def _looks_like_jsonl(lines: list[str]) -> bool:
    for line in lines:
        if not line.strip():
            continue
        try:
            return isinstance(json.loads(line), dict)
        except ValueError:
            return False
    return False


def conversation_text(raw: str) -> str:
    """The part of a transcript the model reads: for Claude Code JSONL, the last 20
    user/assistant messages; for plain text, the text itself; either way at most 8,000
    characters, keeping the end (the most recent part)."""
    raw = clean_text(raw)
    lines = raw.splitlines()
    if _looks_like_jsonl(lines):
        messages: list[str] = []
        for line in lines:
            try:
                entry = json.loads(line)
            except ValueError:
                continue  # a torn or foreign line does not spoil the rest
            if isinstance(entry, dict) and (found := _jsonl_message(entry)):
                role, text = found
                messages.append(f"{'User' if role == 'user' else 'Assistant'}: {text}")
        text = "\n\n".join(messages[-MAX_MESSAGES:])
    else:
        text = raw.strip()
    return text[-MAX_CHARS:].strip()


def allowed_roots() -> list[str]:
    config = current_app.config
    return [
        os.path.realpath(str(config["VAULT_PATH"])),
        os.path.realpath(str(config["CLAUDE_PROJECTS_DIR"])),
    ]


def resolve_transcript_path(raw: str) -> str:
    """The real path of a transcript file the app may read (API.md §12.4): outside the vault
    and CLAUDE_PROJECTS_DIR → 403, missing → 404, a directory → 400."""
    expanded = os.path.expanduser(raw.strip())
    if not os.path.isabs(expanded):
        raise field_error("transcriptPath", "must be an absolute path")
    real = os.path.realpath(expanded)
    if not any(
        real == root or real.startswith(root.rstrip(os.sep) + os.sep) for root in allowed_roots()
    ):
        raise Forbidden("Transcript path is outside the vault and the Claude projects folder")
    if not os.path.exists(real):
        raise NotFound("Transcript not found")
    if os.path.isdir(real):
        raise field_error("transcriptPath", "is a directory")
    return real


def read_transcript_file(path: str) -> str:
    """The tail of a transcript file, decoded leniently (a file need not be valid UTF-8)."""
    with open(path, "rb") as handle:
        handle.seek(0, os.SEEK_END)
        size = handle.tell()
        handle.seek(max(0, size - TAIL_BYTES))
        data = handle.read()
    if size > TAIL_BYTES:
        data = data.split(b"\n", 1)[1] if b"\n" in data else data  # drop the torn first line
    return data.decode("utf-8", errors="replace")


# ------------------------------------------------------------------ model output


@dataclass
class Candidate:
    chunk_type: str
    content: str
    relevance: float


def validate_items(tool_input) -> list[Candidate]:
    """The memories in a ``save_memories`` call; items that fail validation are dropped."""
    if not isinstance(tool_input, dict) or not isinstance(tool_input.get("memories"), list):
        raise ExtractionFailed("The model's save_memories input was malformed")
    items = []
    for item in tool_input["memories"]:
        if not isinstance(item, dict):
            continue
        kind, content, relevance = item.get("type"), item.get("content"), item.get("relevance")
        if kind not in CHUNK_TYPES or not isinstance(content, str):
            continue
        if isinstance(relevance, bool) or not isinstance(relevance, int | float):
            continue
        if relevance != relevance:  # NaN
            continue
        content = clean_text(content).strip()[:MAX_CONTENT].strip()
        if not content:
            continue
        items.append(Candidate(kind, content, min(1.0, max(0.0, float(relevance)))))
    return items


def _lexemes(text: str) -> set[str]:
    found = db.session.scalar(
        sa.select(
            sa.func.tsvector_to_array(
                sa.func.to_tsvector(sa.literal_column("'english'::regconfig"), text)
            )
        )
    )
    return set(found or ())


def near_duplicate(content: str, project_path: str | None) -> bool:
    """Whether a kept memory already says this, by full-text similarity.

    Both texts become sets of stemmed lexemes without stop words ("Prefers pnpm over npm" →
    {prefer, pnpm, npm}). The candidate is a near-duplicate when the sets' Jaccard similarity is
    at least 0.7 ("User prefers pnpm over npm" scores 0.75), or when every lexeme of a candidate
    with at least three is already in one memory (it adds nothing). Memories are at most 100
    characters, so a few lexemes carry the whole statement and the overlap measures meaning well
    enough; "uses pnpm" vs "uses npm" (0.33) stay distinct. The GIN index finds the neighbours
    sharing any lexeme; only those are compared.
    """
    mine = _lexemes(content)
    if not mine:
        return False
    any_word = sa.func.to_tsquery(
        sa.literal_column("'english'::regconfig"),
        " | ".join("'" + lexeme.replace("'", "''") + "'" for lexeme in sorted(mine)),
    )
    scope = (
        MemoryChunk.project_path.is_(None)
        if project_path is None
        else sa.or_(MemoryChunk.project_path == project_path, MemoryChunk.project_path.is_(None))
    )
    neighbours = db.session.scalars(
        sa.select(
            sa.func.tsvector_to_array(
                sa.func.to_tsvector(sa.literal_column("'english'::regconfig"), MemoryChunk.content)
            )
        )
        .where(memory.FTS_DOCUMENT.op("@@")(any_word), memory.not_expired(), scope)
        .order_by(sa.func.ts_rank(memory.FTS_DOCUMENT, any_word).desc())
        .limit(50)
    )
    for found in neighbours:
        theirs = set(found or ())
        if not theirs:
            continue
        jaccard = len(mine & theirs) / len(mine | theirs)
        if jaccard >= NEAR_JACCARD or (len(mine) >= NEAR_MIN_CONTAINED and mine <= theirs):
            return True
    return False


# ------------------------------------------------------------------ the extraction


def _call_model(text: str):
    from cognova.ai import client as ai_client

    key = ai_client.require_api_key()
    client = ai_client.get_client(key)
    model = current_app.config["MODEL"]
    started = time.monotonic()
    try:
        response = client.messages.create(
            model=model,
            max_tokens=2048,
            system=SYSTEM_PROMPT,
            tools=[SAVE_MEMORIES_TOOL],
            tool_choice={"type": "tool", "name": "save_memories"},
            messages=[
                {
                    "role": "user",
                    "content": f"<transcript>\n{text}\n</transcript>\n\nSave the memories.",
                }
            ],
        )
    except ai_client.api_errors() as exc:
        raise ExtractionFailed(ai_client.describe_error(exc)) from None
    return model, response, int((time.monotonic() - started) * 1000)


def _record_usage(job_id: str, project_path: str | None, model: str, response, duration_ms: int):
    from cognova.ai import prices
    from cognova.services import usage

    used = prices.Usage.of(getattr(response, "usage", None) or {})
    usage.record(
        "memory_extraction",
        job_id,
        project_path or "Memory extraction",
        used.total_input,
        used.output_tokens,
        prices.cost(model, used),
        duration_ms=duration_ms,
        num_turns=1,
    )


def extract(
    job_id: str,
    raw: str,
    *,
    session_id: str | None = None,
    project_path: str | None = None,
) -> dict:
    """Ask Claude for the memories in *raw*, keep the new ones; returns the job's result."""
    text = conversation_text(raw)
    if not text:
        return {"memories": [], "message": NO_MEMORIES}
    model, response, duration_ms = _call_model(text)
    _record_usage(job_id, project_path, model, response, duration_ms)
    db.session.commit()  # tokens were spent whatever the reply turns out to be
    call = next(
        (
            block
            for block in response.content
            if getattr(block, "type", None) == "tool_use"
            and getattr(block, "name", None) == "save_memories"
        ),
        None,
    )
    if call is None:
        raise ExtractionFailed("The model did not call save_memories")
    stored = []
    for candidate in validate_items(call.input):
        if memory.find_duplicate(candidate.content, project_path) is not None:
            continue
        if near_duplicate(candidate.content, project_path):
            continue
        row, created = memory.store(
            candidate.content,
            candidate.chunk_type,
            session_id=session_id,
            project_path=project_path,
            relevance_score=candidate.relevance,
        )
        if created:
            stored.append(row)
    db.session.commit()
    rows = [memory.serialize(row) for row in stored]
    message = f"Extracted {len(rows)} memories" if rows else NO_MEMORIES
    return {"memories": rows, "message": message}


# ------------------------------------------------------------------ jobs


def check_request(
    transcript: str | None, transcript_path: str | None
) -> tuple[str | None, str | None]:
    """Request-time checks in the order of API.md §1.9: fields, file, then the AI key."""
    given_text = transcript is not None and transcript.strip() != ""
    if transcript is not None and not given_text:
        raise field_error("transcript", "must not be empty")
    if given_text == (transcript_path is not None):
        raise Invalid(
            "Exactly one of transcript and transcriptPath is required",
            {"transcript": "provide exactly one of transcript and transcriptPath"},
        )
    path = None
    if transcript_path is not None:
        if not transcript_path.strip():
            raise field_error("transcriptPath", "must not be empty")
        path = resolve_transcript_path(transcript_path)
    from cognova.ai import client as ai_client

    ai_client.require_api_key()
    return (transcript if given_text else None), path


def enqueue(
    transcript: str | None = None,
    transcript_path: str | None = None,
    session_id: str | None = None,
    project_path: str | None = None,
) -> Job:
    from cognova.jobs.memory import extract_memories

    return extract_memories.enqueue(
        transcript=transcript,
        transcript_path=transcript_path,
        session_id=session_id,
        project_path=project_path,
        job_id=str(uuid.uuid4()),
        meta={"type": JOB_TYPE},
    )


STATUS = {
    JobStatus.QUEUED: "queued",
    JobStatus.CREATED: "queued",
    JobStatus.DEFERRED: "queued",
    JobStatus.SCHEDULED: "queued",
    JobStatus.STARTED: "running",
    JobStatus.FINISHED: "succeeded",
    JobStatus.FAILED: "failed",
    JobStatus.STOPPED: "failed",
    JobStatus.CANCELED: "failed",
}


def _aware(value: datetime | None) -> datetime | None:
    if value is None:
        return None
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def fetch(job_id: str) -> Job:
    try:
        job = Job.fetch(job_id, connection=redis_client())
    except NoSuchJobError:
        raise NotFound("Job not found") from None
    if (job.meta or {}).get("type") != JOB_TYPE:
        raise NotFound("Job not found")
    return job


def job_error(job: Job) -> str | None:
    error = (job.meta or {}).get("error")
    if error:
        return error
    result = job.latest_result()
    text = getattr(result, "exc_string", None) if result is not None else None
    if not text:
        return "Extraction failed"
    last = text.strip().splitlines()[-1]
    return last.split(": ", 1)[-1] if ": " in last else last


def describe(job: Job) -> dict:
    """The Job object of API.md §12.5."""
    status = STATUS.get(job.get_status(refresh=True), "queued")
    result = job.return_value() if status == "succeeded" else None
    return {
        "id": job.id,
        "type": JOB_TYPE,
        "status": status,
        "result": result,
        "error": job_error(job) if status == "failed" else None,
        "createdAt": _aware(job.created_at),
        "startedAt": _aware(job.started_at),
        "finishedAt": _aware(job.ended_at) if status in ("succeeded", "failed") else None,
    }


def wait(job: Job, timeout: float = 60.0) -> str:
    """Poll until the job finishes or *timeout* passes; returns its API status."""
    deadline = time.monotonic() + timeout
    delay = 0.05
    while True:
        status = STATUS.get(job.get_status(refresh=True), "queued")
        if status in ("succeeded", "failed") or time.monotonic() >= deadline:
            return status
        time.sleep(delay)
        delay = min(delay * 1.5, 0.5)


def failure_message(exc: BaseException) -> str:
    if isinstance(exc, ExtractionFailed | ServiceError):
        return str(exc.args[0]) if exc.args else "Extraction failed"
    return "Extraction failed"


def load_transcript(transcript: str | None, transcript_path: str | None) -> str:
    if transcript is not None:
        return transcript
    path = Path(transcript_path or "")
    # the request checked the path; the file may have gone since, or been swapped for a link
    real = resolve_transcript_path(str(path))
    return read_transcript_file(real)
