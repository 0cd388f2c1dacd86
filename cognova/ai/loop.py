"""The agent loop shared by chat and cron agents: streamed tool-use turns until the model stops.

Rules it enforces:
- at most ``max_turns`` model calls;
- a budget checked *before* each call against the worst case of that call (the input so far plus
  ``max_tokens`` of output at the model's price), so a run never ends above its budget;
- cancellation between calls and tools, and during a stream: a watcher thread polls the caller's
  flag (e.g. in Redis) and closes the open stream, so a stalled model cannot delay a stop;
- every step is reported through callbacks and recorded in the result.

API failures (statuses, overload, a stream cut midway) never raise out of ``run``: the result
ends as ``error`` with the partial blocks and the usage known so far, for the caller to store and
put in the ledger.
"""

from __future__ import annotations

import json
import logging
import math
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from cognova.ai import prices, tools
from cognova.ai.client import api_errors, describe_error
from cognova.ai.prices import Usage

if TYPE_CHECKING:
    import anthropic

log = logging.getLogger(__name__)

INTERRUPTED = "Interrupted before the tool ran"


def _noop(*_args, **_kwargs) -> None:
    return None


@dataclass
class Callbacks:
    on_text: Callable[[str], None] = _noop
    on_tool_start: Callable[[str, str, dict], None] = _noop  # tool_use id, name, input
    on_tool_end: Callable[[str, str, tools.ToolOutcome], None] = _noop
    on_step: Callable[[dict], None] = _noop


@dataclass
class LoopSettings:
    model: str
    max_tokens: int = 8192
    max_turns: int = 20
    budget_usd: float | None = None
    system: str | None = None
    tool_names: list[str] | None = None  # None: every registered tool; []: none
    tool_context: tools.ToolContext = field(default_factory=tools.ToolContext)
    cancelled: Callable[[], bool] | None = (
        None  # polled from a watcher thread: keep it self-contained
    )
    cancel_poll: float = 0.2
    tool_result_chars: int | None = None


@dataclass
class LoopResult:
    blocks: list[dict] = field(default_factory=list)
    stop: str = "end_turn"  # end_turn | max_tokens | max_turns | budget | interrupted | error
    error: str | None = None
    usage: Usage = field(default_factory=Usage)
    cost_usd: float = 0.0
    num_turns: int = 0
    duration_ms: int = 0
    steps: list[dict] = field(default_factory=list)

    @property
    def text(self) -> str:
        return "".join(b["text"] for b in self.blocks if b.get("type") == "text")


class Cancelled(Exception):
    pass


def _abort(stream) -> None:
    """Stop a stream from another thread. Closing the response does not wake a read blocked on
    the socket, so the socket is shut down first; the reading thread then sees the stream end."""
    try:
        network = stream.response.extensions.get("network_stream")
        sock = network.get_extra_info("socket") if network is not None else None
        if sock is not None:
            sock.shutdown(socket.SHUT_RDWR)
    except (OSError, AttributeError):
        log.debug("could not shut the stream's socket", exc_info=True)
    try:
        stream.close()
    except Exception:
        log.debug("closing an aborted stream failed", exc_info=True)


class _CallState:
    """What one streamed call has produced so far, kept for the partial result on failure."""

    def __init__(self):
        self.blocks: list[dict] = []
        self.open_text: str | None = None
        self.usage = Usage()
        self.saw_delta_usage = False
        self.streamed_chars = 0
        self.stop_reason: str | None = None

    def partial_blocks(self) -> list[dict]:
        blocks = list(self.blocks)
        if self.open_text:
            blocks.append({"type": "text", "text": self.open_text})
        return blocks

    def known_usage(self) -> Usage:
        usage = Usage(**vars(self.usage))
        if not self.saw_delta_usage:
            # Cut before message_delta: the output so far, estimated from what arrived.
            usage.output_tokens = max(usage.output_tokens, math.ceil(self.streamed_chars / 4))
        return usage


def block_dict(block: Any) -> dict | None:
    kind = getattr(block, "type", None)
    if kind == "text":
        return {"type": "text", "text": block.text}
    if kind == "tool_use":
        return {"type": "tool_use", "id": block.id, "name": block.name, "input": block.input or {}}
    return None


def estimate_input_tokens(payload: dict) -> int:
    """A deliberately high estimate (3 characters a token) for when counting is unavailable."""
    return math.ceil(len(json.dumps(payload, ensure_ascii=False, default=str)) / 3)


class AgentLoop:
    def __init__(
        self,
        client: anthropic.Anthropic,
        settings: LoopSettings,
        callbacks: Callbacks | None = None,
    ):
        self.client = client
        self.settings = settings
        self.callbacks = callbacks or Callbacks()
        self.result = LoopResult()
        self.cancel_event = threading.Event()
        self.stop_watching = threading.Event()
        self.stream_lock = threading.Lock()
        self.open_stream = None
        tool_names = settings.tool_names
        self.tool_defs = tools.definitions(tool_names) if tool_names != [] else []

    # ------------------------------------------------------------- cancellation

    def _watch(self) -> None:
        while not self.stop_watching.wait(self.settings.cancel_poll):
            try:
                if self.settings.cancelled():
                    self.cancel_event.set()
                    with self.stream_lock:
                        if self.open_stream is not None:
                            _abort(self.open_stream)
                    return
            except Exception:
                log.debug("cancel check failed", exc_info=True)

    def _check_cancel(self) -> None:
        if self.cancel_event.is_set():
            raise Cancelled()

    def _poll_cancel(self) -> bool:
        """Between calls and tools the flag is read directly, not left to the watcher's pace."""
        if not self.cancel_event.is_set() and self.settings.cancelled is not None:
            try:
                if self.settings.cancelled():
                    self.cancel_event.set()
            except Exception:
                log.debug("cancel check failed", exc_info=True)
        return self.cancel_event.is_set()

    # ------------------------------------------------------------- one model call

    def _request(self, messages: list[dict], max_tokens: int) -> dict:
        request: dict[str, Any] = {
            "model": self.settings.model,
            "max_tokens": max_tokens,
            "messages": messages,
        }
        if self.settings.system:
            request["system"] = self.settings.system
        if self.tool_defs:
            request["tools"] = self.tool_defs
        return request

    def _input_tokens(self, request: dict) -> int:
        counted = {k: v for k, v in request.items() if k != "max_tokens"}
        try:
            return self.client.messages.count_tokens(**counted).input_tokens
        except api_errors():
            return estimate_input_tokens(counted)

    def _stream_call(self, request: dict, state: _CallState) -> list[dict]:
        with self.client.messages.stream(**request) as stream:
            with self.stream_lock:
                self.open_stream = stream
            try:
                self._check_cancel()
                for event in stream:
                    self._check_cancel()
                    self._on_event(event, state)
                self._check_cancel()
                message = stream.get_final_message()
            finally:
                with self.stream_lock:
                    self.open_stream = None
        if state.stop_reason is None:
            state.stop_reason = message.stop_reason
        if state.stop_reason is None:
            import anthropic

            raise anthropic.APIConnectionError(message="stream ended early", request=None)  # type: ignore[arg-type]
        return [b for b in (block_dict(x) for x in message.content) if b is not None]

    def _on_event(self, event: Any, state: _CallState) -> None:
        kind = event.type
        if kind == "text":
            state.open_text = (state.open_text or "") + event.text
            state.streamed_chars += len(event.text)
            self.callbacks.on_text(event.text)
        elif kind == "input_json":
            state.streamed_chars += len(event.partial_json)
        elif kind == "content_block_start":
            if event.content_block.type == "text":
                state.open_text = ""
        elif kind == "content_block_stop":
            block = block_dict(event.content_block)
            if block is not None:
                state.blocks.append(block)
                if block["type"] == "tool_use":
                    self.callbacks.on_tool_start(block["id"], block["name"], block["input"])
            state.open_text = None
        elif kind == "message_start":
            state.usage = Usage.of(event.message.usage)
        elif kind == "message_delta":
            reported = event.usage
            state.usage.output_tokens = reported.output_tokens or 0
            for name in ("input_tokens", "cache_creation_input_tokens", "cache_read_input_tokens"):
                value = getattr(reported, name, None)
                if value:
                    setattr(state.usage, name, value)
            state.saw_delta_usage = True
            state.stop_reason = event.delta.stop_reason

    def _account(self, state: _CallState, started: float) -> None:
        usage = state.known_usage()
        cost = prices.cost(self.settings.model, usage)
        self.result.usage.add(usage)
        self.result.cost_usd += cost
        self._step(
            {
                "type": "model",
                "turn": self.result.num_turns,
                "inputTokens": usage.total_input,
                "outputTokens": usage.output_tokens,
                "costUsd": cost,
                "stopReason": state.stop_reason,
                "durationMs": int((time.monotonic() - started) * 1000),
            }
        )

    def _step(self, step: dict) -> None:
        self.result.steps.append(step)
        self.callbacks.on_step(step)

    # ------------------------------------------------------------- tools

    def _run_tools(self, tool_uses: list[dict]) -> list[dict]:
        results = []
        for index, use in enumerate(tool_uses):
            if self._poll_cancel():
                for rest in tool_uses[index:]:
                    results.append(
                        {
                            "type": "tool_result",
                            "tool_use_id": rest["id"],
                            "content": INTERRUPTED,
                            "is_error": True,
                        }
                    )
                break
            started = time.monotonic()
            outcome = tools.run(
                use["name"],
                use["input"],
                self.settings.tool_context,
                self.settings.tool_result_chars,
            )
            results.append(
                {
                    "type": "tool_result",
                    "tool_use_id": use["id"],
                    "content": outcome.content,
                    "is_error": outcome.is_error,
                }
            )
            self.callbacks.on_tool_end(use["id"], use["name"], outcome)
            self._step(
                {
                    "type": "tool",
                    "name": use["name"],
                    "toolUseId": use["id"],
                    "isError": outcome.is_error,
                    "durationMs": int((time.monotonic() - started) * 1000),
                }
            )
        return results

    # ------------------------------------------------------------- the loop

    def run(self, messages: list[dict]) -> LoopResult:
        started = time.monotonic()
        messages = list(messages)
        watcher = None
        if self.settings.cancelled is not None:
            watcher = threading.Thread(target=self._watch, name="agent-loop-cancel", daemon=True)
            watcher.start()
        try:
            self._turns(messages)
        finally:
            self.stop_watching.set()
            if watcher is not None:
                watcher.join(2)
            self.result.duration_ms = int((time.monotonic() - started) * 1000)
        return self.result

    def _turns(self, messages: list[dict]) -> None:
        result, settings = self.result, self.settings
        while True:
            if self._poll_cancel():
                result.stop = "interrupted"
                return
            if result.num_turns >= settings.max_turns:
                result.stop = "max_turns"
                return
            request = self._request(messages, settings.max_tokens)
            if settings.budget_usd is not None:
                worst = prices.worst_case(
                    settings.model, self._input_tokens(request), settings.max_tokens
                )
                if result.cost_usd + worst > settings.budget_usd:
                    result.stop = "budget"
                    self._step(
                        {"type": "budget", "spentUsd": result.cost_usd, "nextWorstCaseUsd": worst}
                    )
                    return
            state = _CallState()
            call_started = time.monotonic()
            result.num_turns += 1
            try:
                blocks = self._stream_call(request, state)
            except Cancelled:
                result.blocks.extend(state.partial_blocks())
                result.stop = "interrupted"
                self._account(state, call_started)
                return
            except Exception as exc:  # API statuses, transport errors, or a stream closed by cancel
                result.blocks.extend(state.partial_blocks())
                self._account(state, call_started)
                if self.cancel_event.is_set():
                    result.stop = "interrupted"
                    return
                result.stop = "error"
                result.error = (
                    describe_error(exc) if isinstance(exc, api_errors()) else "Unexpected error"
                )
                if not isinstance(exc, api_errors()):
                    log.exception("agent loop failed")
                return
            self._account(state, call_started)
            result.blocks.extend(blocks)
            messages.append({"role": "assistant", "content": blocks})
            tool_uses = [b for b in blocks if b["type"] == "tool_use"]
            if state.stop_reason != "tool_use" or not tool_uses:
                result.stop = state.stop_reason or "end_turn"
                return
            tool_results = self._run_tools(tool_uses)
            result.blocks.extend(tool_results)
            messages.append({"role": "user", "content": tool_results})


def run(
    client: anthropic.Anthropic,
    messages: list[dict],
    settings: LoopSettings,
    callbacks: Callbacks | None = None,
) -> LoopResult:
    return AgentLoop(client, settings, callbacks).run(messages)


# ----------------------------------------------------------------- stored history -> API messages


def to_api_messages(history: list[tuple[str, list[dict]]]) -> list[dict]:
    """Turn stored messages into a valid Messages API conversation.

    A stored assistant message holds the whole turn (text, tool_use, tool_result blocks in the
    order produced), so it is split at each tool_result run into assistant / user messages.
    A tool_use without a result (an interrupted turn) is dropped, as are empty messages, and
    consecutive messages of one role are merged.
    """
    answered = {
        b.get("tool_use_id")
        for _role, blocks in history
        for b in blocks
        if b.get("type") == "tool_result"
    }
    out: list[dict] = []

    def push(role: str, block: dict) -> None:
        if out and out[-1]["role"] == role:
            out[-1]["content"].append(block)
        else:
            out.append({"role": role, "content": [block]})

    for role, blocks in history:
        for block in blocks:
            kind = block.get("type")
            if kind == "text":
                if block.get("text"):
                    push(role, {"type": "text", "text": block["text"]})
            elif kind == "tool_use" and role == "assistant":
                if block.get("id") in answered:
                    push("assistant", {k: block[k] for k in ("type", "id", "name", "input")})
            elif kind == "tool_result":
                content = block.get("content")
                push(
                    "user",
                    {
                        "type": "tool_result",
                        "tool_use_id": block.get("tool_use_id"),
                        "content": content
                        if isinstance(content, str | list)
                        else json.dumps(content),
                        "is_error": bool(block.get("is_error")),
                    },
                )
    while out and out[0]["role"] != "user":
        out.pop(0)
    return out
