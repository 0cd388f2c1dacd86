"""Usage records and statistics (API.md §15)."""

from __future__ import annotations

import csv
import io
import json
import uuid
from datetime import UTC, datetime, timedelta

import pytest

from cognova.extensions import db
from cognova.models.system import TokenUsage
from cognova.services import usage


def add(app, when, source="chat", name="Chat A", cost=0.5, inp=100, out=50, source_id=None):
    with app.app_context():
        db.session.add(
            TokenUsage(
                id=uuid.uuid4(),
                source=source,
                source_id=source_id,
                source_name=name,
                input_tokens=inp,
                output_tokens=out,
                cost_usd=cost,
                duration_ms=1200,
                num_turns=2 if source == "agent" else None,
                created_at=when,
            )
        )
        db.session.commit()
        db.session.remove()


def ago(**kw):
    return datetime.now(UTC) - timedelta(**kw)


# ------------------------------------------------------------------ records


def test_list_newest_first_with_period_source_and_search(app, auth):
    add(app, ago(hours=1), "chat", "Planning chat", 0.25)
    add(app, ago(hours=2), "agent", "Daily digest", 0.5)
    add(app, ago(days=2), "memory_extraction", None, 0.125)
    add(app, ago(days=10), "chat", "Old chat", 1.0)

    response = auth.get("/api/usage")
    assert response.status_code == 200
    body = response.json
    assert body["pagination"] == {"page": 1, "limit": 20, "total": 3, "totalPages": 1}
    names = [r["sourceName"] for r in body["data"]]
    assert names == ["Planning chat", "Daily digest", None]
    record = body["data"][1]
    assert set(record) == {
        "id",
        "source",
        "sourceId",
        "sourceName",
        "inputTokens",
        "outputTokens",
        "costUsd",
        "durationMs",
        "numTurns",
        "createdAt",
    }
    assert record["numTurns"] == 2 and record["costUsd"] == pytest.approx(0.5)
    assert record["createdAt"].endswith("Z")

    assert auth.get("/api/usage?period=30d").json["pagination"]["total"] == 4
    assert auth.get("/api/usage?period=24h").json["pagination"]["total"] == 2
    only_agent = auth.get("/api/usage?source=agent").json["data"]
    assert [r["source"] for r in only_agent] == ["agent"]
    found = auth.get("/api/usage?search=PLAN").json["data"]
    assert [r["sourceName"] for r in found] == ["Planning chat"]
    assert auth.get("/api/usage?search=%25").json["pagination"]["total"] == 0


def test_list_pagination_and_limit_clamp(app, auth):
    for i in range(5):
        add(app, ago(minutes=i + 1), name=f"c{i}")
    page = auth.get("/api/usage?limit=2&page=2").json
    assert [r["sourceName"] for r in page["data"]] == ["c2", "c3"]
    assert page["pagination"] == {"page": 2, "limit": 2, "total": 5, "totalPages": 3}
    assert auth.get("/api/usage?limit=1000").json["pagination"]["limit"] == 100
    assert auth.get("/api/usage?page=99").json["data"] == []


@pytest.mark.parametrize(
    "path, param",
    [
        ("/api/usage?period=90d", "period"),
        ("/api/usage?period=1w", "period"),
        ("/api/usage?source=slack", "source"),
        ("/api/usage?page=0", "page"),
        ("/api/usage?limit=abc", "limit"),
        ("/api/usage/stats?period=1y", "period"),
        ("/api/usage/stats?granularity=weekly", "granularity"),
        ("/api/usage/stats?tzOffset=841", "tzOffset"),
        ("/api/usage/stats?tzOffset=-100000", "tzOffset"),
        ("/api/usage/stats?tzOffset=1.5", "tzOffset"),
        ("/api/usage/stats?tzOffset=abc", "tzOffset"),
    ],
)
def test_bad_query_is_400(auth, path, param):
    response = auth.get(path)
    assert response.status_code == 400
    assert param in response.json["errors"]


def test_requires_authentication(client, user):
    assert client.get("/api/usage").status_code == 401
    assert client.get("/api/usage/stats").status_code == 401


# ------------------------------------------------------------------ stats


def test_stats_empty_window_is_zero_filled(auth):
    data = auth.get("/api/usage/stats").json["data"]
    assert data["totalCalls"] == 0 and data["avgCostPerCall"] == 0
    assert data["totalCostUsd"] == 0
    assert len(data["dailyUsage"]) == 8
    assert all(b["calls"] == 0 and b["totalCost"] == 0 for b in data["dailyUsage"])
    assert data["bySource"] == [
        {"source": "chat", "cost": 0, "calls": 0, "tokens": 0},
        {"source": "agent", "cost": 0, "calls": 0, "tokens": 0},
        {"source": "memory_extraction", "cost": 0, "calls": 0, "tokens": 0},
    ]
    assert data["topConsumers"] == []
    hourly = auth.get("/api/usage/stats?period=24h&granularity=hourly").json["data"]
    assert len(hourly["dailyUsage"]) == 25
    assert hourly["dailyUsage"][0]["date"][10:].startswith("T")


def test_stats_totals_sources_and_consumers(app, auth):
    add(app, ago(hours=1), "chat", "Chat A", 0.25, 100, 10)
    add(app, ago(hours=3), "chat", "Chat A", 0.25, 100, 10)
    add(app, ago(days=1), "agent", "Digest", 0.5, 1000, 200)
    add(app, ago(days=2), "memory_extraction", None, 0.125, 10, 1)
    add(app, ago(days=3), "chat", "Chat B", 0.5, 5, 5)
    add(app, ago(days=20), "chat", "Ancient", 9.0)

    data = auth.get("/api/usage/stats?period=7d").json["data"]
    assert data["totalCalls"] == 5
    assert data["totalCostUsd"] == pytest.approx(1.625)
    assert data["totalInputTokens"] == 1215 and data["totalOutputTokens"] == 226
    assert data["avgCostPerCall"] == pytest.approx(1.625 / 5)
    assert [s["source"] for s in data["bySource"]] == ["chat", "agent", "memory_extraction"]
    assert data["bySource"][0] == {"source": "chat", "cost": 1.0, "calls": 3, "tokens": 230}
    assert data["bySource"][2]["calls"] == 1
    top = [(c["name"], c["source"], c["calls"]) for c in data["topConsumers"]]
    # cost desc, then calls desc: Chat A (0.5, 2 calls) before Chat B/Digest (0.5, 1 call)
    assert top[0] == ("Chat A", "chat", 2)
    assert set(top[1:3]) == {("Digest", "agent", 1), ("Chat B", "chat", 1)}
    assert top[3] == ("(unnamed)", "memory_extraction", 1)
    buckets = data["dailyUsage"]
    assert sum(b["calls"] for b in buckets) == 5
    assert sum(b["chat"] for b in buckets) == pytest.approx(1.0)
    assert sum(b["memory"] for b in buckets) == pytest.approx(0.125)
    assert buckets == sorted(buckets, key=lambda b: b["date"])
    today = datetime.now(UTC).strftime("%Y-%m-%d")
    assert buckets[-1]["date"] == today


def test_top_consumers_are_at_most_ten(app, auth):
    for i in range(12):
        add(app, ago(hours=i + 1), "agent", f"agent-{i:02d}", cost=0.01 * (i + 1))
    top = auth.get("/api/usage/stats").json["data"]["topConsumers"]
    assert len(top) == 10
    assert top[0]["name"] == "agent-11" and top[-1]["name"] == "agent-02"


def test_buckets_follow_the_callers_time_zone(app, ctx):
    now = datetime(2026, 3, 10, 12, 30, tzinfo=UTC)
    # 03:00 UTC is 22:00 of the previous day in UTC-5 (tzOffset 300)
    add(app, datetime(2026, 3, 10, 3, 0, tzinfo=UTC), cost=1.0)
    add(app, datetime(2026, 3, 9, 23, 0, tzinfo=UTC), cost=2.0)

    utc = usage.stats("7d", "daily", 0, now=now)["dailyUsage"]
    assert utc[0]["date"] == "2026-03-03" and utc[-1]["date"] == "2026-03-10"
    assert {b["date"]: b["totalCost"] for b in utc if b["calls"]} == {
        "2026-03-09": pytest.approx(2.0),
        "2026-03-10": pytest.approx(1.0),
    }
    new_york = usage.stats("7d", "daily", 300, now=now)["dailyUsage"]
    assert new_york[-1]["date"] == "2026-03-10"
    assert {b["date"]: b["totalCost"] for b in new_york if b["calls"]} == {
        "2026-03-09": pytest.approx(3.0)
    }
    # UTC+5:30 (tzOffset -330): 23:00 UTC is 04:30 the next day
    india = usage.stats("7d", "daily", -330, now=now)["dailyUsage"]
    assert {b["date"]: b["calls"] for b in india if b["calls"]} == {"2026-03-10": 2}

    hourly = usage.stats("24h", "hourly", 300, now=now)["dailyUsage"]
    assert len(hourly) == 25
    assert hourly[0]["date"] == "2026-03-09T07:00" and hourly[-1]["date"] == "2026-03-10T07:00"
    assert {b["date"]: b["calls"] for b in hourly if b["calls"]} == {
        "2026-03-09T18:00": 1,
        "2026-03-09T22:00": 1,
    }
    half_hour = usage.stats("24h", "hourly", -330, now=now)["dailyUsage"]
    assert half_hour[-1]["date"] == "2026-03-10T18:00"


@pytest.mark.parametrize("granularity,period", [("daily", "30d"), ("hourly", "24h")])
@pytest.mark.parametrize("tz_offset", [0, 300, -330])
def test_slices_add_up_to_one_scan(app, ctx, monkeypatch, granularity, period, tz_offset):
    """The window is aggregated in slices at once: any number of them gives the same answer,
    rows on a cut included, and a consumer seen in several slices is one entry."""
    now = datetime(2026, 3, 10, 12, 30, tzinfo=UTC)
    span = PERIODS_FOR_TEST[period]
    rows = [
        TokenUsage(
            id=uuid.uuid4(),
            source=("chat", "agent", "memory_extraction")[i % 3],
            source_name=None if i % 7 == 0 else f"name-{i % 5}",
            input_tokens=i,
            output_tokens=2 * i,
            cost_usd=0.25 * (i % 4),
            created_at=now - span * (i / 97),
        )
        for i in range(97)
    ]
    # rows exactly on every whole local hour and midnight, where a cut can fall
    for hours in range(int(span.total_seconds() // 3600)):
        local_edge = (now - timedelta(hours=hours)).replace(minute=0, second=0, microsecond=0)
        rows.append(
            TokenUsage(
                id=uuid.uuid4(),
                source="chat",
                source_name="edge",
                input_tokens=1,
                output_tokens=1,
                cost_usd=1.0,
                created_at=local_edge + timedelta(minutes=tz_offset % 60),
            )
        )
    db.session.add_all(rows)
    db.session.commit()

    monkeypatch.setattr(usage, "_cached_days", lambda days, tz: {})  # every day from the table
    answers = []
    for slices in (1, 2, 3):
        monkeypatch.setattr(usage, "STATS_SLICES", slices)
        answers.append(usage.stats(period, granularity, tz_offset, now=now))
    one, *others = answers
    assert one["totalCalls"] == len(rows)
    for other in others:
        assert _same(other, one)


def _ledger_row(when, cost=1.0, name="cached"):
    return TokenUsage(
        id=uuid.uuid4(),
        source="agent",
        source_name=name,
        input_tokens=10,
        output_tokens=5,
        cost_usd=cost,
        created_at=when,
    )


def _costs(data) -> dict:
    return {b["date"]: b["totalCost"] for b in data["dailyUsage"] if b["calls"]}


def test_finished_days_come_from_the_cache_and_the_rest_from_the_table(app, ctx):
    now = datetime(2026, 3, 10, 12, 30, tzinfo=UTC)
    db.session.add_all(
        [_ledger_row(now - timedelta(days=d, hours=1)) for d in (0, 3, 12, 29)]
        + [_ledger_row(now - timedelta(days=30) + timedelta(minutes=5))]  # the cut first day
    )
    db.session.commit()
    first = usage.stats("30d", "daily", 0, now=now)
    assert first["totalCalls"] == 5

    # A row written straight into a finished day (the app never does: rows are stamped when
    # recorded) is not seen: that day is answered from the cache. The cut first day and today
    # are always read from the table.
    db.session.add_all(
        [
            _ledger_row(now - timedelta(days=12), cost=100.0),
            _ledger_row(now - timedelta(minutes=1), cost=2.0),
            _ledger_row(now - timedelta(days=30) + timedelta(minutes=10), cost=3.0),
        ]
    )
    db.session.commit()
    second = usage.stats("30d", "daily", 0, now=now)
    assert second["totalCalls"] == 7
    assert _costs(second)["2026-02-26"] == _costs(first)["2026-02-26"] == pytest.approx(1.0)
    assert _costs(second)["2026-03-10"] == pytest.approx(3.0)
    assert _costs(second)["2026-02-08"] == pytest.approx(4.0)

    # Another offset has its own days; hourly windows are never cached.
    shifted = usage.stats("30d", "daily", -600, now=now)
    assert shifted["totalCalls"] == 8
    assert usage.stats("24h", "hourly", 0, now=now)["totalCalls"] == 2


def test_a_day_that_just_ended_is_not_cached_yet(app, ctx):
    now = datetime(2026, 3, 10, 0, 5, tzinfo=UTC)  # five minutes after midnight
    db.session.add(_ledger_row(datetime(2026, 3, 9, 23, 59, tzinfo=UTC)))
    db.session.commit()
    assert _costs(usage.stats("7d", "daily", 0, now=now)) == {"2026-03-09": pytest.approx(1.0)}
    # recorded at 23:59:59 and committed after the first request: still counted
    db.session.add(_ledger_row(datetime(2026, 3, 9, 23, 59, 59, tzinfo=UTC), cost=2.0))
    db.session.commit()
    assert _costs(usage.stats("7d", "daily", 0, now=now)) == {"2026-03-09": pytest.approx(3.0)}


PERIODS_FOR_TEST = {"30d": timedelta(days=30), "24h": timedelta(hours=24)}


def _same(a, b) -> bool:
    """Deep equality with floats compared approximately."""
    if isinstance(a, dict):
        assert a.keys() == b.keys()
        return all(_same(a[k], b[k]) for k in a)
    if isinstance(a, list):
        assert len(a) == len(b)
        return all(_same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, float):
        assert a == pytest.approx(b)
        return True
    assert a == b
    return True


def test_record_writes_a_ledger_row(app, ctx):
    row = usage.record("agent", "abc", "Digest", 10, 5, 0.01, 1500, 3)
    db.session.commit()
    assert row.id is not None
    page = usage.list_records("24h")
    assert page.total == 1 and page.items[0].num_turns == 3
    with pytest.raises(ValueError):
        usage.record("slack", None, None, 1, 1, 0)


# ------------------------------------------------------------------ report


def test_usage_report_formats(app, runner, tmp_path):
    add(app, ago(hours=1), "chat", "Chat A", 0.25, 100, 10)
    add(app, ago(days=2), "agent", "Digest", 0.5, 1000, 200)
    table = runner.invoke(args=["usage-report", "--period", "7d", "--group-by", "source"])
    assert table.exit_code == 0, table.output
    assert "memory_extraction" in table.output and "0.750000" in table.output

    out = tmp_path / "r.csv"
    result = runner.invoke(
        args=["usage-report", "--period", "7d", "--format", "csv", "--output", str(out)]
    )
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(io.StringIO(out.read_text())))
    assert len(rows) == 8 and rows[0].keys() >= {"day", "calls", "cost_usd"}
    assert sum(int(r["calls"]) for r in rows) == 2

    as_json = runner.invoke(args=["usage-report", "--group-by", "name", "--format", "json"])
    assert as_json.exit_code == 0, (as_json.output, as_json.exception)
    report = json.loads(as_json.output)
    assert [r["name"] for r in report["rows"]] == ["Digest", "Chat A"]
    assert report["totals"]["calls"] == 2

    since = (datetime.now(UTC) - timedelta(days=1)).strftime("%Y-%m-%d")
    ranged = runner.invoke(args=["usage-report", "--since", since, "--format", "json"])
    assert json.loads(ranged.output)["totals"]["calls"] == 1


@pytest.mark.parametrize(
    "args",
    [
        ["--period", "1y"],
        ["--group-by", "week"],
        ["--format", "xml"],
        ["--since", "yesterday"],
        ["--since", "2026-03-10", "--until", "2026-03-01"],
    ],
)
def test_usage_report_bad_options(runner, args):
    result = runner.invoke(args=["usage-report", *args])
    assert result.exit_code != 0
