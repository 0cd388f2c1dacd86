"""The agent loop against the API double through the real SDK."""

from __future__ import annotations

import threading
import time

import anthropic
import pytest

from cognova.ai import loop
from cognova.ai.loop import Callbacks, LoopSettings
from tests.fakes.anthropic_double import error, text, tool_use

USER = [{"role": "user", "content": [{"type": "text", "text": "hi"}]}]


@pytest.fixture
def sdk(double):
    return anthropic.Anthropic(api_key="test", base_url=double.url, max_retries=0)


def settings(**overrides) -> LoopSettings:
    return LoopSettings(model="claude-sonnet-4-6", max_tokens=1000, **overrides)


def test_tool_turns_until_the_model_stops(ctx, sdk, double):
    double.push(tool_use("get_current_time", {}, text="Checking."), text("It is now."))
    seen = []
    callbacks = Callbacks(
        on_text=lambda d: seen.append(("text", d)),
        on_tool_start=lambda i, n, a: seen.append(("start", n)),
        on_tool_end=lambda i, n, o: seen.append(("end", n, o.is_error)),
    )
    result = loop.run(sdk, USER, settings(system="Be brief."), callbacks)
    assert result.stop == "end_turn" and result.num_turns == 2 and result.error is None
    assert [b["type"] for b in result.blocks] == ["text", "tool_use", "tool_result", "text"]
    assert result.text == "Checking.It is now."
    assert ("start", "get_current_time") in seen and ("end", "get_current_time", False) in seen
    assert seen.index(("start", "get_current_time")) < seen.index(
        ("end", "get_current_time", False)
    )
    assert [s["type"] for s in result.steps] == ["model", "tool", "model"]
    assert result.cost_usd == pytest.approx(sum(s.get("costUsd", 0) for s in result.steps))
    assert double.requests[0]["body"]["system"] == "Be brief."
    assert double.requests[1]["body"]["messages"][-1]["content"][0]["type"] == "tool_result"


def test_max_turns(ctx, sdk, double):
    double.push(*[tool_use("get_current_time", {}) for _ in range(5)])
    result = loop.run(sdk, USER, settings(max_turns=2))
    assert result.stop == "max_turns" and result.num_turns == 2
    assert len(double.requests) == 2


def test_budget_is_checked_before_each_call_with_the_worst_case(ctx, sdk, double):
    double.push(
        *[tool_use("get_current_time", {}, input_tokens=1000, output_tokens=100) for _ in range(5)]
    )
    # One call costs 0.0045; its worst case (1000 output tokens, no tool schemas) about 0.0151.
    result = loop.run(sdk, USER, settings(budget_usd=0.018, tool_names=[]))
    assert result.stop == "budget" and result.num_turns == 1
    assert result.cost_usd == pytest.approx(0.0045) and result.cost_usd <= 0.018
    assert len(double.requests) == 1 and double.count_requests
    assert result.steps[-1]["type"] == "budget"


@pytest.mark.parametrize("budget", [0.001, 0.016, 0.03, 0.05, 0.08])
def test_a_run_never_ends_above_its_budget(ctx, sdk, double, budget):
    double.push(*[tool_use("get_current_time", {}, output_tokens=1000) for _ in range(10)])
    result = loop.run(sdk, USER, settings(budget_usd=budget))
    assert result.cost_usd <= budget


def test_cancel_during_a_stream(ctx, sdk, double):
    double.push(text("word " * 400, chunk=2, delay=0.01))
    flag = threading.Event()
    threading.Timer(0.3, flag.set).start()
    started = time.monotonic()
    result = loop.run(sdk, USER, settings(cancelled=flag.is_set, cancel_poll=0.05))
    assert time.monotonic() - started < 1.5
    assert result.stop == "interrupted" and result.text and len(result.text) < 2000
    assert result.usage.input_tokens > 0


def test_cancel_while_the_model_stalls(ctx, sdk, double):
    double.push(text("slow", delay=5))
    flag = threading.Event()
    threading.Timer(0.2, flag.set).start()
    started = time.monotonic()
    result = loop.run(sdk, USER, settings(cancelled=flag.is_set, cancel_poll=0.05))
    assert time.monotonic() - started < 2
    assert result.stop == "interrupted"


def test_cancel_between_tool_calls(ctx, sdk, double):
    double.push(tool_use("get_current_time", {}), text("never"))
    calls = []

    def cancelled():
        return bool(calls)

    callbacks = Callbacks(on_tool_end=lambda *a: calls.append(a))
    result = loop.run(sdk, USER, settings(cancelled=cancelled, cancel_poll=0.01), callbacks)
    assert result.stop == "interrupted"
    assert len(double.requests) == 1


def test_api_error_and_cut_stream_are_results_not_exceptions(ctx, sdk, double):
    double.push(error(500))
    failed = loop.run(sdk, USER, settings())
    assert failed.stop == "error" and "500" in failed.error and failed.blocks == []
    double.push(text("abcdefghijklmnop", chunk=2, input_tokens=77, cut_after=6))
    cut = loop.run(sdk, USER, settings())
    assert cut.stop == "error" and cut.error == "Connection to the Anthropic API was lost"
    assert cut.text and "abcdefghijklmnop".startswith(cut.text)
    assert cut.usage.input_tokens == 77 and cut.usage.output_tokens >= 1 and cut.cost_usd > 0


def test_stream_error_event_is_an_error_result(ctx, sdk, double):
    double.push(text("abcdefghijkl", chunk=2, stream_error_after=5))
    result = loop.run(sdk, USER, settings())
    assert result.stop == "error" and "overloaded" in result.error


def test_stored_history_becomes_valid_api_messages():
    history = [
        ("user", [{"type": "text", "text": "first"}]),
        (
            "assistant",
            [
                {"type": "text", "text": "Let me check."},
                {"type": "tool_use", "id": "t1", "name": "list_tasks", "input": {}},
                {"type": "tool_result", "tool_use_id": "t1", "content": "[]", "is_error": False},
                {"type": "text", "text": "Nothing."},
                {"type": "tool_use", "id": "t2", "name": "list_tasks", "input": {}},
            ],
        ),
        ("user", [{"type": "text", "text": "second"}]),
        ("user", [{"type": "text", "text": "third"}]),
        ("assistant", []),
    ]
    messages = loop.to_api_messages(history)
    assert [m["role"] for m in messages] == ["user", "assistant", "user", "assistant", "user"]
    assert [b["type"] for b in messages[1]["content"]] == ["text", "tool_use"]
    assert messages[2]["content"][0]["tool_use_id"] == "t1"
    assert messages[3]["content"] == [{"type": "text", "text": "Nothing."}]  # t2 had no result
    assert [b["text"] for b in messages[4]["content"]] == ["second", "third"]
