"""Model prices (USD per million tokens) and the cost of a call from the usage the API reports.

``COGNOVA_MODEL_PRICES`` overrides or extends the table with JSON such as
``{"claude-sonnet-4-6": {"input": 3, "output": 15, "cacheWrite": 3.75, "cacheRead": 0.3}}``.
A model id is matched exactly, then by the longest known prefix (dated ids such as
``claude-sonnet-4-5-20250929``), then by family name; an unknown model is priced as Sonnet so
budgets stay meaningful rather than free.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass

from flask import current_app, has_app_context

log = logging.getLogger(__name__)

MILLION = 1_000_000


@dataclass(frozen=True)
class Price:
    input: float
    output: float
    cache_write: float
    cache_read: float


def _p(input_: float, output: float) -> Price:
    # Anthropic's cache pricing: writes (5-minute) at 1.25x input, reads at 0.1x input.
    return Price(input_, output, round(input_ * 1.25, 6), round(input_ * 0.1, 6))


PRICES: dict[str, Price] = {
    "claude-opus-4-6": _p(5, 25),
    "claude-opus-4-5": _p(5, 25),
    "claude-opus-4-1": _p(15, 75),
    "claude-opus-4": _p(15, 75),
    "claude-sonnet-4-6": _p(3, 15),
    "claude-sonnet-4-5": _p(3, 15),
    "claude-sonnet-4": _p(3, 15),
    "claude-3-7-sonnet": _p(3, 15),
    "claude-3-5-sonnet": _p(3, 15),
    "claude-haiku-4-5": _p(1, 5),
    "claude-3-5-haiku": _p(0.8, 4),
    "claude-3-haiku": _p(0.25, 1.25),
}
FAMILIES = {"opus": "claude-opus-4-6", "sonnet": "claude-sonnet-4-6", "haiku": "claude-haiku-4-5"}
DEFAULT = "claude-sonnet-4-6"


@dataclass
class Usage:
    input_tokens: int = 0
    output_tokens: int = 0
    cache_creation_input_tokens: int = 0
    cache_read_input_tokens: int = 0

    def add(self, other: Usage) -> None:
        self.input_tokens += other.input_tokens
        self.output_tokens += other.output_tokens
        self.cache_creation_input_tokens += other.cache_creation_input_tokens
        self.cache_read_input_tokens += other.cache_read_input_tokens

    @property
    def total_input(self) -> int:
        """Every input token, cached or not (what the ledger's input column counts)."""
        return self.input_tokens + self.cache_creation_input_tokens + self.cache_read_input_tokens

    @classmethod
    def of(cls, reported) -> Usage:
        """From the SDK's usage object (or a dict); missing counts are zero."""
        get = reported.get if isinstance(reported, dict) else lambda k: getattr(reported, k, None)
        return cls(
            int(get("input_tokens") or 0),
            int(get("output_tokens") or 0),
            int(get("cache_creation_input_tokens") or 0),
            int(get("cache_read_input_tokens") or 0),
        )


def _overrides(raw: str | dict | None) -> dict[str, Price]:
    if not raw:
        return {}
    try:
        table = json.loads(raw) if isinstance(raw, str) else raw
        out = {}
        for model, entry in table.items():
            base = entry.get("input", 0)
            out[model] = Price(
                float(base),
                float(entry.get("output", 0)),
                float(entry.get("cacheWrite", entry.get("cache_write", base * 1.25))),
                float(entry.get("cacheRead", entry.get("cache_read", base * 0.1))),
            )
        return out
    except (ValueError, TypeError, AttributeError):
        log.warning("COGNOVA_MODEL_PRICES is not a JSON object of prices; ignored")
        return {}


def table() -> dict[str, Price]:
    raw = current_app.config.get("MODEL_PRICES") if has_app_context() else None
    return {**PRICES, **_overrides(raw)}


def price_of(model: str, prices: dict[str, Price] | None = None) -> Price:
    prices = prices if prices is not None else table()
    if model in prices:
        return prices[model]
    prefixes = [known for known in prices if model.startswith(known)]
    if prefixes:
        return prices[max(prefixes, key=len)]
    for family, representative in FAMILIES.items():
        if family in model and representative in prices:
            return prices[representative]
    return prices.get(DEFAULT, PRICES[DEFAULT])


def cost(model: str, usage: Usage) -> float:
    p = price_of(model)
    return (
        usage.input_tokens * p.input
        + usage.output_tokens * p.output
        + usage.cache_creation_input_tokens * p.cache_write
        + usage.cache_read_input_tokens * p.cache_read
    ) / MILLION


def worst_case(model: str, input_tokens: int, max_tokens: int) -> float:
    """The most the next call can cost: every input token at the dearer of input and cache-write
    prices, and the full ``max_tokens`` of output."""
    p = price_of(model)
    return (input_tokens * max(p.input, p.cache_write) + max_tokens * p.output) / MILLION
