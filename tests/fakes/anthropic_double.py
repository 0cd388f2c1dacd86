"""An Anthropic Messages API double: a small threaded HTTP server that speaks the real wire format.

The real ``anthropic`` SDK talks to it through ``base_url``, so tests and offline demos exercise the
same code path as production: JSON responses, SSE streams (message_start, content_block_start /
delta / stop with ``text_delta`` and ``input_json_delta``, message_delta with usage and
stop_reason, message_stop), ``tool_use`` blocks, error statuses with Anthropic's error body, a
stream closed midway, and configurable delays.

It is driven by a script: a queue of responses, each a ``Reply`` (see ``text``, ``tool_use``,
``error``) or a function of the request body returning one. Rules added with ``when`` answer
matching requests before the queue (e.g. title generation). With the queue empty it answers with
``fallback`` (an echo of the last user message by default). Every request is recorded.

    double = AnthropicDouble().start()
    double.push(tool_use("list_tasks", {}), text("You have no tasks."))
    client = anthropic.Anthropic(api_key="test", base_url=double.url)

CLI (offline demo): ``python -m tests.fakes.anthropic_double --port 8765 --script demo.json``.
"""

from __future__ import annotations

import argparse
import collections
import json
import math
import re
import socket
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

ERROR_TYPES = {
    400: "invalid_request_error",
    401: "authentication_error",
    403: "permission_error",
    404: "not_found_error",
    413: "request_too_large",
    429: "rate_limit_error",
    500: "api_error",
    529: "overloaded_error",
}
ERROR_MESSAGES = {429: "Number of requests has exceeded your rate limit", 529: "Overloaded"}


@dataclass
class Reply:
    """One scripted answer. ``blocks`` are content blocks as the API returns them."""

    blocks: list[dict] = field(default_factory=list)
    stop_reason: str = "end_turn"
    status: int = 200
    error_type: str | None = None
    error_message: str | None = None
    retry_after_ms: int | None = None
    input_tokens: int | None = None
    output_tokens: int | None = None
    cache_creation_input_tokens: int = 0
    cache_read_input_tokens: int = 0
    chunk: int = 8  # characters per text_delta / input_json_delta
    chunks: list[str] | None = None  # explicit text deltas for the first text block
    delay: float | None = None  # seconds between SSE events (None: the server's default)
    first_delay: float = 0.0  # seconds before the response starts
    cut_after: int | None = None  # close the connection after this many SSE events
    stream_error_after: int | None = None  # send an SSE `error` event after this many events


def text(value: str, **options) -> Reply:
    return Reply(blocks=[{"type": "text", "text": value}], **options)


def tool_use(name: str, input: dict, text: str | None = None, id: str | None = None, **options):
    blocks = [{"type": "text", "text": text}] if text else []
    blocks.append(
        {
            "type": "tool_use",
            "id": id or f"toolu_{uuid.uuid4().hex[:24]}",
            "name": name,
            "input": input,
        }
    )
    return Reply(blocks=blocks, stop_reason="tool_use", **options)


def tool_uses(calls: list[tuple[str, dict]], text: str | None = None, **options) -> Reply:
    """Several tool calls in one assistant message."""
    blocks = [{"type": "text", "text": text}] if text else []
    for name, args in calls:
        blocks.append(
            {
                "type": "tool_use",
                "id": f"toolu_{uuid.uuid4().hex[:24]}",
                "name": name,
                "input": args,
            }
        )
    return Reply(blocks=blocks, stop_reason="tool_use", **options)


def error(status: int = 529, message: str | None = None, **options) -> Reply:
    return Reply(
        status=status,
        error_type=ERROR_TYPES.get(status, "api_error"),
        error_message=message or ERROR_MESSAGES.get(status, "Internal server error"),
        **options,
    )


def estimate_tokens(value: Any) -> int:
    raw = value if isinstance(value, str) else json.dumps(value, separators=(",", ":"))
    return max(1, math.ceil(len(raw) / 4))


def last_user_text(body: dict) -> str:
    for message in reversed(body.get("messages") or []):
        if message.get("role") != "user":
            continue
        content = message.get("content")
        if isinstance(content, str):
            return content
        for block in content or []:
            if block.get("type") == "text":
                return block.get("text", "")
    return ""


def echo(body: dict) -> Reply:
    """The default answer: a short markdown reply quoting the user's last message."""
    said = last_user_text(body).strip() or "(nothing)"
    return text(f"This is the **offline Anthropic double**. You said:\n\n> {said}\n")


Responder = Reply | Callable[[dict], Reply]


class AnthropicDouble:
    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        delay: float = 0.0,
        fallback: Callable[[dict], Reply] | None = echo,
    ):
        self.delay = delay
        self.fallback = fallback
        self.script: collections.deque[Responder] = collections.deque()
        self.rules: list[tuple[Callable[[dict], bool], Responder]] = []
        self.requests: list[dict] = []
        self.count_requests: list[dict] = []
        self.lock = threading.Lock()
        self.server = ThreadingHTTPServer((host, port), _handler(self))
        self.server.daemon_threads = True
        self.thread: threading.Thread | None = None

    # ---------------------------------------------------------------- control

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> AnthropicDouble:
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def push(self, *responses: Responder) -> AnthropicDouble:
        with self.lock:
            self.script.extend(responses)
        return self

    def when(self, predicate: Callable[[dict], bool], responder: Responder) -> AnthropicDouble:
        """Answer every request matching *predicate* with *responder*, before the queue."""
        with self.lock:
            self.rules.append((predicate, responder))
        return self

    def reset(self) -> None:
        with self.lock:
            self.script.clear()
            self.rules.clear()
            self.requests.clear()
            self.count_requests.clear()

    def next_reply(self, body: dict) -> Reply:
        with self.lock:
            responder = next((r for p, r in self.rules if p(body)), None)
            if responder is None and self.script:
                responder = self.script.popleft()
            if responder is None:
                responder = self.fallback or (lambda _body: error(500, "The script is empty"))
        return responder(body) if callable(responder) else responder


# -------------------------------------------------------------------- wire format


def _message(reply: Reply, body: dict, content: list[dict], output_tokens: int | None) -> dict:
    return {
        "id": f"msg_{uuid.uuid4().hex[:24]}",
        "type": "message",
        "role": "assistant",
        "model": body.get("model", "claude-test"),
        "content": content,
        "stop_reason": reply.stop_reason if output_tokens is not None else None,
        "stop_sequence": None,
        "usage": {
            "input_tokens": _input_tokens(reply, body),
            "output_tokens": output_tokens if output_tokens is not None else 1,
            "cache_creation_input_tokens": reply.cache_creation_input_tokens,
            "cache_read_input_tokens": reply.cache_read_input_tokens,
        },
    }


def _input_tokens(reply: Reply, body: dict) -> int:
    if reply.input_tokens is not None:
        return reply.input_tokens
    return estimate_tokens(
        {k: body.get(k) for k in ("system", "messages", "tools") if body.get(k) is not None}
    )


def _output_tokens(reply: Reply) -> int:
    if reply.output_tokens is not None:
        return reply.output_tokens
    return sum(estimate_tokens(b.get("text") or b.get("input") or "") for b in reply.blocks) or 1


def _pieces(value: str, size: int) -> list[str]:
    size = max(1, size)
    return [value[i : i + size] for i in range(0, len(value), size)] or [""]


def sse_events(reply: Reply, body: dict) -> list[tuple[str, dict]]:
    """The (event, data) pairs of one streamed message."""
    events: list[tuple[str, dict]] = [
        ("message_start", {"type": "message_start", "message": _message(reply, body, [], None)}),
    ]
    for index, block in enumerate(reply.blocks):
        if block["type"] == "text":
            start = {"type": "text", "text": ""}
            parts = (
                reply.chunks
                if (reply.chunks and index == 0)
                else _pieces(block["text"], reply.chunk)
            )
            deltas = [{"type": "text_delta", "text": p} for p in parts]
        else:
            start = {"type": "tool_use", "id": block["id"], "name": block["name"], "input": {}}
            raw = json.dumps(block["input"], separators=(",", ":"))
            deltas = [
                {"type": "input_json_delta", "partial_json": p} for p in _pieces(raw, reply.chunk)
            ]
        events.append(
            (
                "content_block_start",
                {"type": "content_block_start", "index": index, "content_block": start},
            )
        )
        if index == 0:
            events.append(("ping", {"type": "ping"}))
        for delta in deltas:
            events.append(
                (
                    "content_block_delta",
                    {"type": "content_block_delta", "index": index, "delta": delta},
                )
            )
        events.append(("content_block_stop", {"type": "content_block_stop", "index": index}))
    events.append(
        (
            "message_delta",
            {
                "type": "message_delta",
                "delta": {"stop_reason": reply.stop_reason, "stop_sequence": None},
                "usage": {"output_tokens": _output_tokens(reply)},
            },
        )
    )
    events.append(("message_stop", {"type": "message_stop"}))
    return events


def error_body(reply: Reply) -> dict:
    return {
        "type": "error",
        "error": {
            "type": reply.error_type or "api_error",
            "message": reply.error_message or "Error",
        },
    }


def _handler(double: AnthropicDouble):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        server_version = "AnthropicDouble/1"

        def log_message(self, *args):  # quiet: tests read the recorded requests instead
            pass

        def setup(self):
            super().setup()
            # Each SSE event is a small write: without this, Nagle's algorithm holds it back.
            self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

        def _read_json(self) -> dict:
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b"{}"
            try:
                value = json.loads(raw or b"{}")
            except ValueError:
                value = {}
            return value if isinstance(value, dict) else {}

        def _send_json(self, status: int, payload: dict, headers: dict | None = None) -> None:
            data = json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.send_header("request-id", f"req_{uuid.uuid4().hex[:24]}")
            for key, value in (headers or {}).items():
                self.send_header(key, value)
            self.end_headers()
            self.wfile.write(data)

        def do_POST(self):
            path = self.path.split("?", 1)[0]
            body = self._read_json()
            record = {
                "path": path,
                "headers": {k.lower(): v for k, v in self.headers.items()},
                "body": body,
                "at": time.time(),
            }
            if path == "/v1/messages/count_tokens":
                with double.lock:
                    double.count_requests.append(record)
                self._send_json(200, {"input_tokens": _input_tokens(Reply(), body)})
                return
            if path != "/v1/messages":
                self._send_json(
                    404,
                    {"type": "error", "error": {"type": "not_found_error", "message": "Not found"}},
                )
                return
            with double.lock:
                double.requests.append(record)
            reply = double.next_reply(body)
            if reply.first_delay:
                time.sleep(reply.first_delay)
            if reply.status != 200:
                headers = {"x-should-retry": "true"} if reply.status in (429, 500, 529) else {}
                if reply.retry_after_ms is not None:
                    headers["retry-after-ms"] = str(reply.retry_after_ms)
                self._send_json(reply.status, error_body(reply), headers)
                return
            if body.get("stream"):
                self._stream(reply, body)
            else:
                message = _message(reply, body, reply.blocks, _output_tokens(reply))
                self._send_json(200, message)

        def _chunk(self, data: bytes) -> None:
            self.wfile.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
            self.wfile.flush()

        def _stream(self, reply: Reply, body: dict) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "text/event-stream; charset=utf-8")
            self.send_header("Cache-Control", "no-cache")
            self.send_header("Transfer-Encoding", "chunked")
            self.send_header("request-id", f"req_{uuid.uuid4().hex[:24]}")
            self.end_headers()
            delay = double.delay if reply.delay is None else reply.delay
            try:
                for sent, (name, data) in enumerate(sse_events(reply, body)):
                    if reply.cut_after is not None and sent >= reply.cut_after:
                        # No terminating chunk: the client sees the connection die mid-body.
                        self.close_connection = True
                        self.connection.shutdown(2)
                        return
                    if reply.stream_error_after is not None and sent >= reply.stream_error_after:
                        name, data = "error", error_body(error(529))
                    if delay and sent:
                        time.sleep(delay)
                    self._chunk(f"event: {name}\ndata: {json.dumps(data)}\n\n".encode())
                    if name == "error":
                        break
                self.wfile.write(b"0\r\n\r\n")
                self.wfile.flush()
            except (BrokenPipeError, ConnectionResetError, OSError):
                self.close_connection = True

    return Handler


# ------------------------------------------------------------------------ CLI


def reply_from_json(spec: dict) -> Reply:
    """A script entry: {"type": "text", "text": ...} | {"type": "tool_use", "name", "input",
    "text"?} | {"type": "error", "status": 529}; other keys are Reply options (delay, …)."""
    spec = dict(spec)
    kind = spec.pop("type", "text")
    if kind == "text":
        return text(spec.pop("text", ""), **spec)
    if kind == "tool_use":
        return tool_use(spec.pop("name"), spec.pop("input", {}), spec.pop("text", None), **spec)
    if kind == "error":
        return error(spec.pop("status", 529), spec.pop("message", None), **spec)
    raise ValueError(f"unknown script entry type: {kind}")


def demo(body: dict) -> Reply:
    """The offline demo's fallback: looks at the user's tasks when asked about them."""
    said = last_user_text(body).lower()
    last = (body.get("messages") or [{}])[-1]
    answered_tool = isinstance(last.get("content"), list) and any(
        b.get("type") == "tool_result" for b in last["content"]
    )
    if "task" in said and not answered_tool:
        return tool_use("list_tasks", {"limit": 10}, text="Let me look at your tasks.")
    if answered_tool:
        return text("Here is what I found. *(The offline double does not read the result.)*")
    return echo(body)


def bench(body: dict) -> Reply:
    """For benchmarks: a message containing ``deltas=N`` gets a reply of exactly N text deltas
    (``d0 d1 …``), so a client can check that none was lost or repeated."""
    match = re.search(r"deltas=(\d+)", last_user_text(body))
    count = int(match.group(1)) if match else 10
    return Reply(blocks=[{"type": "text", "text": bench_text(count)}], chunks=bench_chunks(count))


def bench_chunks(count: int) -> list[str]:
    return [f"d{n} " for n in range(count)]


def bench_text(count: int) -> str:
    return "".join(bench_chunks(count))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Run the Anthropic Messages API double.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--delay", type=float, default=0.02, help="seconds between SSE events")
    parser.add_argument("--script", help="JSON file: a list of script entries, answered in order")
    parser.add_argument("--loop", action="store_true", help="repeat the script forever")
    parser.add_argument("--bench", action="store_true", help="answer `deltas=N` with N deltas")
    args = parser.parse_args(argv)
    double = AnthropicDouble(
        args.host, args.port, delay=args.delay, fallback=bench if args.bench else demo
    )
    entries = []
    if args.script:
        with open(args.script, encoding="utf-8") as fh:
            entries = [reply_from_json(e) for e in json.load(fh)]
    if args.loop and entries:
        cycle = collections.deque(entries)

        def looping(_body: dict) -> Reply:
            reply = cycle[0]
            cycle.rotate(-1)
            return reply

        double.fallback = looping
    else:
        double.push(*entries)
    print(
        f"Anthropic double listening on {double.url} (ANTHROPIC_BASE_URL={double.url})", flush=True
    )
    try:
        double.server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        double.server.server_close()


if __name__ == "__main__":
    main()
