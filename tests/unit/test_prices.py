"""Model prices and costs from reported usage."""

from __future__ import annotations

import pytest

from cognova.ai import prices
from cognova.ai.prices import Usage


def test_known_models_and_dated_ids(app):
    with app.app_context():
        assert prices.price_of("claude-sonnet-4-6").input == 3
        assert prices.price_of("claude-sonnet-4-5-20250929").output == 15
        assert prices.price_of("claude-opus-4-1-20250805").input == 15
        assert prices.price_of("claude-opus-4-6").output == 25
        assert prices.price_of("claude-haiku-4-5").input == 1
        assert prices.price_of("claude-3-5-haiku-latest").input == 0.8


def test_unknown_models_fall_back_to_family_then_sonnet(app):
    with app.app_context():
        assert prices.price_of("some-haiku-preview") == prices.PRICES["claude-haiku-4-5"]
        assert prices.price_of("totally-new-model") == prices.PRICES["claude-sonnet-4-6"]


def test_cost_counts_every_kind_of_token(app):
    usage = Usage(
        input_tokens=1_000_000,
        output_tokens=1_000_000,
        cache_creation_input_tokens=1_000_000,
        cache_read_input_tokens=1_000_000,
    )
    with app.app_context():
        assert prices.cost("claude-sonnet-4-6", usage) == pytest.approx(3 + 15 + 3.75 + 0.3)
        assert prices.cost("claude-haiku-4-5", Usage(input_tokens=2000, output_tokens=100)) == (
            pytest.approx((2000 * 1 + 100 * 5) / 1e6)
        )


def test_config_overrides_the_table(app):
    app.config["MODEL_PRICES"] = (
        '{"claude-sonnet-4-6": {"input": 1, "output": 2, "cacheWrite": 3, "cacheRead": 4},'
        ' "my-gateway-model": {"input": 10, "output": 20}}'
    )
    try:
        with app.app_context():
            assert prices.price_of("claude-sonnet-4-6") == prices.Price(1, 2, 3, 4)
            custom = prices.price_of("my-gateway-model")
            assert (custom.input, custom.output, custom.cache_write) == (10, 20, 12.5)
    finally:
        app.config["MODEL_PRICES"] = None


def test_malformed_override_is_ignored(app):
    app.config["MODEL_PRICES"] = "[not json"
    try:
        with app.app_context():
            assert prices.price_of("claude-sonnet-4-6").input == 3
    finally:
        app.config["MODEL_PRICES"] = None


def test_worst_case_prices_input_at_the_dearer_cache_write_rate(app):
    with app.app_context():
        worst = prices.worst_case("claude-sonnet-4-6", 1000, 4000)
    assert worst == pytest.approx((1000 * 3.75 + 4000 * 15) / 1e6)


def test_usage_from_the_sdk_object_or_a_dict():
    usage = Usage.of({"input_tokens": 5, "output_tokens": 7, "cache_read_input_tokens": None})
    assert (usage.input_tokens, usage.output_tokens, usage.cache_read_input_tokens) == (5, 7, 0)
    total = Usage(1, 2, 3, 4)
    total.add(Usage(1, 1, 1, 1))
    assert total == Usage(2, 3, 4, 5) and total.total_input == 11
