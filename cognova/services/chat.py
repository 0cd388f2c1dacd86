"""Chat turns (API.md §10): accepted by a web process, run by a worker, relayed as SSE.

A turn's events go into one Redis stream per conversation and turn, with entry ids ``<seq>-0``
so the SSE id ``<turnId>:<seq>`` maps straight onto ``XREAD``: a relay that has sent ``seq``
asks for everything after ``<seq>-0`` and gets each later event exactly once, however often the
browser reconnects. Any process may append (the web side writes the opening events, the worker
the rest); a Lua script makes "next seq, append, heartbeat" one atomic step and lets only the
first terminal event of a turn through. Interrupts are a Redis flag the worker's loop watches,
so they work from any web process. The buffer expires an hour after the turn ends.
"""

from __future__ import annotations

import json
import logging
import queue
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import redis as redis_lib
import sqlalchemy as sa
from flask import current_app

from cognova.ai import client as ai_client
from cognova.ai import loop, prices, tools
from cognova.clock import Duty, register
from cognova.extensions import db, redis_client, redis_key
from cognova.models.auth import User
from cognova.models.conversations import Conversation, ConversationMessage
from cognova.services import usage
from cognova.services.errors import Conflict, NotFound, Unavailable
from cognova.services.notifications import notify

log = logging.getLogger(__name__)

TERMINAL = ("stream_end", "interrupted", "error")
BUFFER_TTL = 3600  # seconds a finished turn stays replayable
STALE_AFTER = 600  # a streaming turn with no event for this long is declared dead
ALREADY_STREAMING = "Conversation is already streaming"
NOTHING_STREAMING = "Nothing is streaming"
TITLE_CHARS = 60
KEEP_ALIVE = ": keep-alive\n\n"
BLOCK_CAP = 2.0  # seconds one XREAD may block
STOPPED_RESPONDING = "The turn stopped responding (the worker may have died)"
SUCCESS_STOPS = (
    "end_turn",
    "max_tokens",
    "max_turns",
    "stop_sequence",
    "budget",
    "refusal",
    "pause_turn",
)

# KEYS: stream, seq, beat, terminal guard, turn pointer.
# ARGV: event, data, now, ttl, turn id, terminal flag.
_EMIT = """
if ARGV[6] == '1' then
  if not redis.call('SET', KEYS[4], '1', 'NX', 'EX', ARGV[4]) then return 0 end
end
local seq = redis.call('INCR', KEYS[2])
redis.call('XADD', KEYS[1], seq .. '-0', 'e', ARGV[1], 'd', ARGV[2])
redis.call('SET', KEYS[3], ARGV[3], 'EX', 86400)
if ARGV[6] == '1' then
  redis.call('EXPIRE', KEYS[1], ARGV[4])
  redis.call('EXPIRE', KEYS[2], ARGV[4])
  if redis.call('GET', KEYS[5]) == ARGV[5] then redis.call('EXPIRE', KEYS[5], ARGV[4]) end
end
return seq
"""


# ----------------------------------------------------------------- keys and events


def pointer_key(cid) -> str:
    return redis_key("chat", str(cid), "turn")


def cancel_key(cid) -> str:
    return redis_key("chat", str(cid), "cancel")


def beat_key(cid) -> str:
    return redis_key("chat", str(cid), "beat")


def stream_key(cid, turn_id) -> str:
    return redis_key("chat", str(cid), "events", str(turn_id))


def job_id(turn_id) -> str:
    return f"chat-{turn_id}"


class TurnEvents:
    """Appends the events of one turn to its Redis stream.

    ``emit`` writes at once. ``post`` hands the event to a publisher thread that writes whatever
    has queued up in one pipelined round trip, so a fast model stream never waits on Redis and
    events keep their order; ``flush`` waits until everything posted is written.
    """

    def __init__(self, client: redis_lib.Redis, cid, turn_id: str):
        self.client = client
        self.cid, self.turn_id = str(cid), str(turn_id)
        self.keys = [
            stream_key(cid, turn_id),
            redis_key("chat", self.cid, "seq", self.turn_id),
            beat_key(cid),
            redis_key("chat", self.cid, "done", self.turn_id),
            pointer_key(cid),
        ]
        self.script = client.register_script(_EMIT)
        self.pending: queue.Queue = queue.Queue()
        self.publisher: threading.Thread | None = None

    def args(self, name: str, data: dict) -> list:
        payload = {"conversationId": self.cid, "turnId": self.turn_id, **data}
        body = json.dumps(payload, separators=(",", ":"), ensure_ascii=False, default=str)
        terminal = "1" if name in TERMINAL else "0"
        return [name, body, f"{time.time():.3f}", BUFFER_TTL, self.turn_id, terminal]

    def emit(self, name: str, **data) -> int:
        self.flush()
        return int(self.script(keys=self.keys, args=self.args(name, data)))

    def post(self, name: str, **data) -> None:
        if self.publisher is None:
            self.publisher = threading.Thread(target=self._publish, name="chat-events", daemon=True)
            self.publisher.start()
        self.pending.put(self.args(name, data))

    def flush(self) -> None:
        if self.publisher is not None:
            self.pending.join()

    def close(self) -> None:
        if self.publisher is not None:
            self.flush()
            self.pending.put(None)
            self.publisher.join(5)
            self.publisher = None

    def _publish(self) -> None:
        while True:
            batch = [self.pending.get()]
            while True:
                try:
                    batch.append(self.pending.get_nowait())
                except queue.Empty:
                    break
            events = [args for args in batch if args is not None]
            try:
                if events:
                    pipe = self.client.pipeline(transaction=False)
                    for args in events:
                        self.script(keys=self.keys, args=args, client=pipe)
                    pipe.execute()
            except (redis_lib.RedisError, OSError):
                log.warning("chat events lost for turn %s", self.turn_id, exc_info=True)
            finally:
                for _ in batch:
                    self.pending.task_done()
            if len(events) < len(batch):
                return


def frame(turn_id: str, seq: int, name: str, data: str) -> str:
    return f"id: {turn_id}:{seq}\nevent: {name}\ndata: {data}\n\n"


def relay(
    client: redis_lib.Redis, key: str, turn_id: str, after_seq: int, keepalive: float
) -> Iterator[str]:
    """The SSE text of one turn from ``after_seq`` on, live, until its terminal event."""
    last = after_seq
    next_beat = time.monotonic() + keepalive
    while True:
        # Short blocking reads: the Redis client's socket timeout (5 s by default) must not fire.
        wait = min(next_beat - time.monotonic(), BLOCK_CAP)
        if wait <= 0:
            yield KEEP_ALIVE
            next_beat = time.monotonic() + keepalive
            continue
        try:
            batch = client.xread({key: f"{last}-0"}, count=1000, block=max(1, int(wait * 1000)))
        except (redis_lib.RedisError, OSError):
            log.warning("chat relay lost Redis for %s", key, exc_info=True)
            return
        for _key, entries in batch or ():
            for entry_id, fields in entries:
                raw_id = entry_id.decode() if isinstance(entry_id, bytes) else entry_id
                seq = int(raw_id.split("-", 1)[0])
                name = fields[b"e"].decode()
                yield frame(turn_id, seq, name, fields[b"d"].decode())
                last = seq
                if name in TERMINAL:
                    return
            next_beat = time.monotonic() + keepalive


# ----------------------------------------------------------------- accepting a turn


@dataclass
class Turn:
    conversation_id: str
    turn_id: str
    created: bool
    stream_key: str


def provisional_title(message: str) -> str:
    first = message.strip().splitlines()[0].strip() if message.strip() else ""
    return first if len(first) <= TITLE_CHARS else first[:TITLE_CHARS] + "…"


def blocks_json(blocks: list[dict]) -> str:
    return json.dumps(blocks, ensure_ascii=False, separators=(",", ":"))


def start_turn(user_id: str, message: str, conversation_id: uuid.UUID | None) -> Turn:
    """Steps 1–2 of §10.1, then hand the turn to the ``chat`` queue."""
    conv = None
    if conversation_id is not None:
        conv = db.session.get(Conversation, conversation_id)
        if conv is None:
            raise NotFound("Conversation not found")
    ai_client.require_api_key()
    now = datetime.now(UTC)
    created = conv is None
    if created:
        conv = Conversation(
            id=uuid.uuid4(),
            session_id=str(uuid.uuid4()),
            title=provisional_title(message),
            status="idle",
            total_cost_usd=0.0,
            message_count=0,
            started_at=now,
        )
        db.session.add(conv)
        db.session.flush()
        notify("conversation", "create", conv.id, conv.title)
    won = db.session.execute(
        sa.update(Conversation)
        .where(Conversation.id == conv.id, Conversation.status != "streaming")
        .values(status="streaming", message_count=Conversation.message_count + 1)
    ).rowcount
    if not won:
        db.session.rollback()
        raise Conflict(ALREADY_STREAMING)
    user_message = ConversationMessage(
        id=uuid.uuid4(),
        conversation_id=conv.id,
        role="user",
        content=blocks_json([{"type": "text", "text": message}]),
        created_at=now,
    )
    db.session.add(user_message)
    db.session.commit()
    turn_id = str(uuid.uuid4())
    try:
        client = redis_client()
        events = TurnEvents(client, conv.id, turn_id)
        pipe = client.pipeline(transaction=False)  # one round trip for the turn's opening
        pipe.delete(cancel_key(conv.id))
        pipe.set(pointer_key(conv.id), turn_id)
        if created:
            events.script(keys=events.keys, args=events.args("session_created", {}), client=pipe)
        opening = events.args("stream_start", {"userMessageId": str(user_message.id)})
        events.script(keys=events.keys, args=opening, client=pipe)
        pipe.execute()
        from cognova.jobs.chat import run_turn

        run_turn.enqueue(str(conv.id), turn_id, user_id, job_id=job_id(turn_id))
    except (redis_lib.RedisError, OSError):
        log.exception("could not queue a chat turn")
        _set_status(conv.id, "error")
        db.session.commit()
        raise Unavailable("Queue unavailable") from None
    return Turn(str(conv.id), turn_id, created, stream_key(conv.id, turn_id))


def _set_status(cid, status: str, only_if: str | None = "streaming") -> bool:
    stmt = sa.update(Conversation).where(Conversation.id == cid)
    if only_if:
        stmt = stmt.where(Conversation.status == only_if)
    values = {"status": status}
    if status != "streaming":
        values["ended_at"] = datetime.now(UTC)
    return bool(db.session.execute(stmt.values(**values)).rowcount)


# ----------------------------------------------------------------- re-attaching and interrupting


def parse_event_id(value: str | None) -> tuple[str | None, int]:
    if not value or ":" not in value:
        return None, 0
    turn, _, seq = value.rpartition(":")
    try:
        return turn, max(0, int(seq))
    except ValueError:
        return None, 0


def reattach(cid: uuid.UUID) -> Turn | None:
    """The buffered (or in-flight) turn to replay, or None (→ 204)."""
    if db.session.get(Conversation, cid) is None:
        raise NotFound("Conversation not found")
    client = redis_client()
    raw = client.get(pointer_key(cid))
    if raw is None:
        return None
    turn_id = raw.decode()
    key = stream_key(cid, turn_id)
    if not client.exists(key):
        return None
    return Turn(str(cid), turn_id, False, key)


def after_seq_for(turn: Turn, last_event_id: str | None) -> int:
    named_turn, seq = parse_event_id(last_event_id)
    return seq if named_turn == turn.turn_id else 0


def request_cancel(cid) -> str | None:
    """Raise the cancel flag of the conversation's current turn; returns that turn's id."""
    client = redis_client()
    raw = client.get(pointer_key(cid))
    turn_id = raw.decode() if raw else None
    if turn_id:
        client.set(cancel_key(cid), turn_id, ex=BUFFER_TTL)
    return turn_id


def interrupt(cid: uuid.UUID) -> None:
    conv = db.session.get(Conversation, cid)
    if conv is None or conv.status != "streaming":
        raise NotFound(NOTHING_STREAMING)
    turn_id = request_cancel(cid)
    if turn_id is None:
        raise NotFound(NOTHING_STREAMING)
    _finish_if_never_started(conv.id, turn_id)


def _finish_if_never_started(cid, turn_id: str) -> None:
    """A turn still waiting in the queue is stopped here: no worker would ever see the flag soon."""
    from rq.exceptions import NoSuchJobError
    from rq.job import Job, JobStatus

    try:
        queued = Job.fetch(job_id(turn_id), connection=redis_client())
    except NoSuchJobError:
        return
    if queued.get_status(refresh=True) not in (
        JobStatus.QUEUED,
        JobStatus.DEFERRED,
        JobStatus.SCHEDULED,
    ):
        return
    queued.cancel()
    if _set_status(cid, "interrupted"):
        db.session.commit()
        TurnEvents(redis_client(), cid, turn_id).emit("interrupted", messageId=None)


# ----------------------------------------------------------------- running a turn (worker)


def system_prompt(user: User | None, now: datetime | None = None) -> str:
    now = now or datetime.now(UTC)
    zone = current_app.config["TIMEZONE"]
    try:
        local = now.astimezone(ZoneInfo(zone))
    except Exception:
        zone, local = "UTC", now
    name = (user.name if user is not None else None) or "the user"
    prompt = (
        "You are Claude, the assistant inside Cognova: a self-hosted second brain with a vault of "
        "markdown notes, tasks and projects with reminders. Use the tools to look things up and to "
        "act on the user's data; say briefly what you changed. Answer in Markdown.\n\n"
        f"The user's name is {name}.\n"
        f"Now: {local.strftime('%A %Y-%m-%d %H:%M')} ({zone}); "
        f"UTC {now.strftime('%Y-%m-%d %H:%M')}."
    )
    remembered = memory_context()
    if remembered:
        prompt += "\n\nWhat you remember about the user:\n" + remembered
    return prompt


def memory_context() -> str:
    """The memory service's context for the system prompt; a chat goes on without it."""
    try:
        from cognova.services import memory
    except ImportError:
        return ""
    try:
        return memory.context_text().strip()
    except Exception:
        db.session.rollback()
        log.warning("memory context unavailable", exc_info=True)
        return ""


def stored_history(cid) -> list[tuple[str, list[dict]]]:
    rows = db.session.scalars(
        sa.select(ConversationMessage)
        .where(ConversationMessage.conversation_id == cid)
        .order_by(ConversationMessage.created_at, ConversationMessage.id)
    )
    return [(row.role, parse_blocks(row.content)) for row in rows]


def parse_blocks(raw: str | None) -> list[dict]:
    """§10.2: invalid JSON, or a JSON string, reads as one text block."""
    try:
        value = json.loads(raw) if raw is not None else []
    except (TypeError, ValueError):
        return [{"type": "text", "text": raw}]
    if isinstance(value, str):
        return [{"type": "text", "text": raw}]
    if not isinstance(value, list):
        return [{"type": "text", "text": raw}]
    return value


def _cancel_probe(client: redis_lib.Redis, key: str, turn_id: str):
    def cancelled() -> bool:
        raw = client.get(key)
        return raw is not None and raw.decode() == turn_id

    return cancelled


def execute_turn(conversation_id: str, turn_id: str, user_id: str | None) -> str:
    """Step 3–6 of §10.1. Returns how the turn ended."""
    cid = uuid.UUID(conversation_id)
    client = redis_client()
    events = TurnEvents(client, cid, turn_id)
    conv = db.session.get(Conversation, cid)
    pointer = client.get(pointer_key(cid))
    if conv is None or conv.status != "streaming" or pointer is None or pointer.decode() != turn_id:
        return "skipped"
    history = loop.to_api_messages(stored_history(cid))
    user = db.session.get(User, user_id) if user_id else None
    started = time.monotonic()
    try:
        api = ai_client.get_client()
    except Unavailable as exc:
        return finish_turn(
            cid, events, loop.LoopResult(stop="error", error=exc.message), None, started
        )
    config = current_app.config
    settings = loop.LoopSettings(
        model=ai_client.model_for(user_id),
        max_tokens=config["CHAT_MAX_TOKENS"],
        max_turns=config["CHAT_MAX_TURNS"],
        system=system_prompt(user),
        tool_context=tools.ToolContext(actor=user_id),
        cancelled=_cancel_probe(client, cancel_key(cid), turn_id),
    )
    callbacks = loop.Callbacks(
        on_text=lambda delta: events.post("text_delta", delta=delta),
        on_tool_start=lambda tid, name, args: events.post(
            "tool_start", toolUseId=tid, toolName=name, input=args
        ),
        on_tool_end=lambda tid, _name, outcome: events.post(
            "tool_end", toolUseId=tid, result=outcome.content[:5000], isError=outcome.is_error
        ),
    )
    db.session.commit()  # hold no transaction open across the model's stream
    try:
        result = loop.run(api, history, settings, callbacks)
    finally:
        events.close()
    return finish_turn(cid, events, result, settings.model, started)


def finish_turn(cid, events: TurnEvents, result, model: str | None, started: float) -> str:
    """Store the reply, update the conversation, write the ledger, then send the terminal event."""
    if result.stop in SUCCESS_STOPS:
        status = "idle"
    elif result.stop == "interrupted":
        status = "interrupted"
    else:
        status = "error"
    duration_ms = int((time.monotonic() - started) * 1000)
    conv = db.session.execute(
        sa.select(Conversation).where(Conversation.id == cid).with_for_update()
    ).scalar_one_or_none()
    message_id = None
    if conv is not None:
        now = datetime.now(UTC)
        if result.blocks:
            row = ConversationMessage(
                id=uuid.uuid4(),
                conversation_id=cid,
                role="assistant",
                content=blocks_json(result.blocks),
                cost_usd=result.cost_usd,
                duration_ms=duration_ms,
                created_at=now,
            )
            db.session.add(row)
            message_id = str(row.id)
            conv.message_count = (conv.message_count or 0) + 1
        conv.total_cost_usd = (conv.total_cost_usd or 0.0) + result.cost_usd
        conv.ended_at = now
        if conv.status == "streaming":
            conv.status = status
    if result.num_turns:
        usage.record(
            "chat",
            str(cid),
            conv.title if conv is not None else None,
            result.usage.total_input,
            result.usage.output_tokens,
            result.cost_usd,
            duration_ms,
            result.num_turns,
        )
    db.session.commit()
    if status == "idle":
        events.emit(
            "stream_end",
            messageId=message_id,
            costUsd=result.cost_usd,
            durationMs=duration_ms,
            inputTokens=result.usage.total_input,
            outputTokens=result.usage.output_tokens,
        )
        if conv is not None:
            _queue_title(cid)
    elif status == "interrupted":
        events.emit("interrupted", messageId=message_id)
    else:
        events.emit("error", message=result.error or "The turn failed")
    return status


# ----------------------------------------------------------------- titles (§10.4)

TITLE_SYSTEM = (
    "You write titles for chat conversations. Reply with exactly two lines: a short title "
    "(at most 6 words, no quotes, no trailing punctuation) and a one-sentence summary."
)


def _queue_title(cid) -> None:
    conv = db.session.get(Conversation, cid)
    if conv is None or conv.summary is not None:
        return
    try:
        from cognova.jobs.chat import generate_title

        generate_title.enqueue(str(cid))
    except (redis_lib.RedisError, OSError):
        log.warning("could not queue title generation for %s", cid)


def _first_texts(cid) -> tuple[str, str]:
    user_text = assistant_text = ""
    for role, blocks in stored_history(cid):
        text = "".join(b.get("text", "") for b in blocks if b.get("type") == "text")
        if role == "user" and not user_text:
            user_text = text
        elif role == "assistant" and user_text and not assistant_text:
            assistant_text = text
    return user_text, assistant_text


def parse_title(reply: str) -> tuple[str, str | None]:
    lines = [ln.strip().strip("#*\"'` ").strip() for ln in reply.strip().splitlines() if ln.strip()]
    title = (lines[0] if lines else "")[:100].rstrip(" .")
    summary = lines[1][:500] if len(lines) > 1 else None
    return title, summary


def generate_title(conversation_id: str) -> str | None:
    """A short title and summary by a cheap model, unless the title was set by a person."""
    cid = uuid.UUID(conversation_id)
    conv = db.session.get(Conversation, cid)
    if conv is None or conv.summary is not None:
        return None
    user_text, assistant_text = _first_texts(cid)
    provisional = provisional_title(user_text)
    if conv.title != provisional:
        return None  # renamed through PATCH: never overwritten
    key = ai_client.api_key()
    if not key:
        return None
    model = current_app.config["TITLE_MODEL"]
    started = time.monotonic()
    try:
        reply = ai_client.get_client(key).messages.create(
            model=model,
            max_tokens=100,
            system=TITLE_SYSTEM,
            messages=[
                {
                    "role": "user",
                    "content": f"User:\n{user_text[:4000]}\n\nAssistant:\n{assistant_text[:4000]}",
                }
            ],
        )
    except ai_client.api_errors() as exc:
        log.warning("title generation failed: %s", ai_client.describe_error(exc))
        return None
    spent = prices.Usage.of(reply.usage)
    cost = prices.cost(model, spent)
    text = "".join(getattr(b, "text", "") for b in reply.content)
    title, summary = parse_title(text)
    # Its own source id: a conversation's total stays the sum of the rows under its id.
    usage.record(
        "chat",
        f"{cid}:title",
        "Chat titles",
        spent.total_input,
        spent.output_tokens,
        cost,
        int((time.monotonic() - started) * 1000),
        1,
    )
    if title:
        changed = db.session.execute(
            sa.update(Conversation)
            .where(Conversation.id == cid, Conversation.title == provisional)
            .values(title=title, summary=summary or "")
        ).rowcount
        if changed:
            notify("conversation", "edit", cid, title)
    db.session.commit()
    return title


# ----------------------------------------------------------------- stale turns (clock duty)


def fail_stale_turns(stale_after: float = STALE_AFTER) -> int:
    """Conversations stuck in ``streaming`` with no event for ``stale_after`` seconds → error."""
    client = redis_client()
    now = time.time()
    failed = 0
    streaming = list(
        db.session.scalars(sa.select(Conversation).where(Conversation.status == "streaming"))
    )
    for conv in streaming:
        raw = client.get(beat_key(conv.id))
        if raw is not None:
            last = float(raw)
        else:
            newest = db.session.scalar(
                sa.select(sa.func.max(ConversationMessage.created_at)).where(
                    ConversationMessage.conversation_id == conv.id
                )
            )
            last = (newest or conv.started_at).timestamp()
        if now - last < stale_after:
            continue
        if _set_status(conv.id, "error"):
            db.session.commit()
            failed += 1
            turn = client.get(pointer_key(conv.id))
            if turn is not None:
                TurnEvents(client, conv.id, turn.decode()).emit("error", message=STOPPED_RESPONDING)
    return failed


register(Duty("chat-stale-turns", 60, fail_stale_turns))
