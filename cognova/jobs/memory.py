"""Memory jobs and duties: extraction (API.md §12.4), chat conversations extracted once they go
idle, and the daily decay (§12.7)."""

from __future__ import annotations

import json
import logging
import uuid
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from rq import get_current_job

from cognova.clock import Duty, register
from cognova.extensions import db, redis_client, redis_key
from cognova.jobs import job
from cognova.models import Conversation, ConversationMessage
from cognova.services import memory, memory_extraction
from cognova.services.memory_extraction import JOB_TYPE, MAX_MESSAGES

log = logging.getLogger(__name__)

IDLE_AFTER = timedelta(minutes=10)
LOOK_BACK = timedelta(days=7)


def _run(job_id: str, load, **scope) -> dict:
    try:
        return memory_extraction.extract(job_id, load(), **scope)
    except Exception as exc:
        db.session.rollback()
        current = get_current_job()
        if current is not None:
            current.meta["error"] = memory_extraction.failure_message(exc)
            current.save_meta()
        raise


@job("default", timeout=300)
def extract_memories(
    transcript: str | None = None,
    transcript_path: str | None = None,
    session_id: str | None = None,
    project_path: str | None = None,
) -> dict:
    """Extract memories from a raw transcript or a transcript file."""
    current = get_current_job()
    return _run(
        current.id if current else str(uuid.uuid4()),
        lambda: memory_extraction.load_transcript(transcript, transcript_path),
        session_id=session_id,
        project_path=project_path,
    )


def _message_text(content: str) -> str:
    """A stored chat message: content blocks as JSON (API.md §10.2), or plain text."""
    try:
        blocks = json.loads(content)
    except ValueError:
        return content
    if isinstance(blocks, str):
        return blocks
    return memory_extraction._block_text(blocks)


def conversation_transcript(conversation_id) -> tuple[str, str | None]:
    """(transcript, session id) of a chat conversation: its last messages as plain text."""
    conversation = db.session.get(Conversation, conversation_id)
    if conversation is None:
        return "", None
    rows = list(
        db.session.scalars(
            sa.select(ConversationMessage)
            .where(ConversationMessage.conversation_id == conversation.id)
            .where(ConversationMessage.role.in_(("user", "assistant")))
            .order_by(ConversationMessage.created_at.desc(), ConversationMessage.id.desc())
            .limit(MAX_MESSAGES)
        )
    )
    lines = []
    for row in reversed(rows):
        text = _message_text(row.content).strip()
        if text:
            lines.append(f"{'User' if row.role == 'user' else 'Assistant'}: {text}")
    return "\n\n".join(lines), conversation.session_id


@job("default", timeout=300)
def extract_conversation(conversation_id: str) -> dict:
    """Extract memories from a chat conversation (scoped globally, tagged with its session)."""
    current = get_current_job()
    text, session_id = conversation_transcript(conversation_id)
    return _run(
        current.id if current else str(uuid.uuid4()),
        lambda: text,
        session_id=session_id,
        project_path=None,
    )


def enqueue_conversation_extraction(conversation_id) -> str:
    """Queue extraction of one conversation as a memory job; returns the job id."""
    queued = extract_conversation.enqueue(
        str(conversation_id), job_id=str(uuid.uuid4()), meta={"type": JOB_TYPE}
    )
    return queued.id


def _extracted_key(conversation_id) -> str:
    return redis_key("memory", "conversation-extracted", str(conversation_id))


def extract_idle_conversations(now: datetime | None = None) -> int:
    """Queue extraction for conversations idle ≥ 10 minutes since ``ended_at``.

    Redis remembers which ``ended_at`` was extracted, so a conversation is extracted once per
    stretch of activity: it is queued again only if it continued (a later ``ended_at``).
    """
    from cognova.ai import client as ai_client

    if not ai_client.api_key():
        return 0  # nothing could run; try again once a key is configured
    now = now or datetime.now(UTC)
    rows = db.session.execute(
        sa.select(Conversation.id, Conversation.ended_at)
        .where(Conversation.ended_at.is_not(None))
        .where(Conversation.ended_at <= now - IDLE_AFTER)
        .where(Conversation.ended_at >= now - LOOK_BACK)
        .where(Conversation.status != "streaming")
        .where(Conversation.message_count > 0)
        .order_by(Conversation.ended_at.desc())
        .limit(200)
    ).all()
    db.session.rollback()
    if not rows:
        return 0
    redis = redis_client()
    seen = redis.mget([_extracted_key(ident) for ident, _ in rows])
    queued = 0
    for (ident, ended_at), marker in zip(rows, seen, strict=True):
        stamp = ended_at.isoformat()
        if marker is not None and marker.decode() >= stamp:
            continue
        # claim before queueing: two clocks (or two ticks) never queue the same stretch twice
        previous = redis.set(
            _extracted_key(ident), stamp, ex=int(LOOK_BACK.total_seconds()) * 2, get=True
        )
        if previous is not None and previous.decode() >= stamp:
            continue
        enqueue_conversation_extraction(ident)
        queued += 1
    return queued


def run_decay() -> dict | None:
    return memory.decay()


register(Duty("memory-decay", 3600, run_decay))
register(Duty("memory-idle-conversations", 60, extract_idle_conversations))
