"""Timestamps on the wire: UTC, milliseconds (truncated), a ``Z`` suffix, four-digit years."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

from cognova.api.validation import iso_ms


def test_utc_with_milliseconds_truncated():
    assert iso_ms(datetime(2026, 3, 4, 5, 6, 7, 999999, tzinfo=UTC)) == "2026-03-04T05:06:07.999Z"
    assert iso_ms(datetime(2026, 3, 4, 5, 6, 7, tzinfo=UTC)) == "2026-03-04T05:06:07.000Z"


def test_other_zones_are_converted_and_naive_values_are_utc():
    paris = datetime(2026, 1, 1, 0, 30, tzinfo=ZoneInfo("Europe/Paris"))
    assert iso_ms(paris) == "2025-12-31T23:30:00.000Z"
    assert iso_ms(datetime(2026, 1, 1, tzinfo=timezone(timedelta(hours=-5)))) == (
        "2026-01-01T05:00:00.000Z"
    )
    assert iso_ms(datetime(2026, 1, 1, 12, 0, 0, 1000)) == "2026-01-01T12:00:00.001Z"
    assert iso_ms(datetime(2026, 1, 1, tzinfo=ZoneInfo("Etc/UTC"))) == "2026-01-01T00:00:00.000Z"


def test_years_keep_four_digits_and_none_stays_none():
    assert iso_ms(datetime(999, 3, 4, tzinfo=UTC)) == "0999-03-04T00:00:00.000Z"
    assert iso_ms(None) is None
