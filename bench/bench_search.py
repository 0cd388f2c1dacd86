#!/usr/bin/env python
"""Full-text search over 100,000 documents (database ``cognova_bench_vault``, recreated).

    python bench/bench_search.py [--docs 100000] [--runs 5]

Rows are generated (about 1.5 KB of text each, Zipf-distributed words, frontmatter) and loaded
with COPY; the ix_fts_/ix_trgm_ indexes of migration 0005 are then built. Each query is timed
through ``GET /api/search?types=document`` (Flask test client with the API token: routing,
validation, SQL, snippets and JSON) and through all types; p50 target ≤ 30 ms.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import random
import statistics
import time
import uuid

import sqlalchemy as sa
from gen_vault import env, make_app, note_text, reset_database, vocabulary, zipf_weights

from cognova.extensions import db


def load(app, count: int) -> None:
    rng = random.Random(11)
    words = vocabulary(rng)
    weights = zipf_weights(len(words))
    with app.app_context():
        definitions = list(
            db.session.execute(
                sa.text(
                    "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'documents' "
                    "AND (indexname LIKE 'ix_fts_%' OR indexname LIKE 'ix_trgm_%')"
                )
            )
        )
        for name, _ in definitions:
            db.session.execute(sa.text(f"DROP INDEX {name}"))
        db.session.commit()
        started = time.perf_counter()
        raw = db.session.connection().connection.driver_connection
        with (
            raw.cursor() as cur,
            cur.copy(
                "COPY documents (id, title, path, content, content_hash, file_type, mime_type,"
                " tags, shared, modified_at, synced_at) FROM STDIN"
            ) as copy,
        ):
            for n in range(count):
                text = note_text(rng, words, weights, n, 1500)
                title = text.split("\n", 2)[1].removeprefix("title: ")
                copy.write_row(
                    (
                        uuid.uuid4(),
                        title,
                        f"area-{n % 10}/topic-{n % 100}/note {n:06d}.md",
                        text,
                        hashlib.sha256(text.encode()).hexdigest(),
                        "md",
                        "text/markdown",
                        [],
                        False,
                        "2025-01-01T00:00:00Z",
                        "2025-01-01T00:00:00Z",
                    )
                )
        db.session.commit()
        print(f"loaded {count} documents in {time.perf_counter() - started:.1f} s")
        started = time.perf_counter()
        for _, definition in definitions:
            db.session.execute(sa.text(definition))
        db.session.execute(sa.text("ANALYZE documents"))
        db.session.commit()
        print(f"built {len(definitions)} indexes in {time.perf_counter() - started:.1f} s")
        db.session.remove()
    return words


def queries(words: list[str]) -> list[str]:
    rng = random.Random(5)
    common = words[46:400]
    middle = words[1000:6000]
    rare = words[8000:]
    out = rng.sample(common, 10) + rng.sample(middle, 10) + rng.sample(rare, 10)
    out += [f"{a} {b}" for a, b in zip(rng.sample(middle, 5), rng.sample(common, 5), strict=True)]
    out += [f'"{a} {b}"' for a, b in zip(rng.sample(common, 3), rng.sample(common, 3), strict=True)]
    out += ["meeting -budget", "project plan", "note 0042", "Research"]
    return out


def timed(client, token: str, path: str, runs: int) -> float:
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        response = client.get(path, headers={"X-API-Token": token})
        samples.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200, response.json
    return statistics.median(samples)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--docs", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--reuse", action="store_true", help="Keep already loaded rows.")
    args = parser.parse_args()
    parser_reuse = args.reuse
    if not parser_reuse:
        reset_database()
    app = make_app()
    with app.app_context():
        from cognova.services import admin

        admin.seed_from_config(only_if_empty=True)
        loaded = db.session.scalar(sa.text("SELECT count(*) FROM documents"))
        db.session.remove()
    if parser_reuse and loaded == args.docs:
        words = vocabulary(random.Random(11))
    else:
        words = load(app, args.docs)
    token = env()["COGNOVA_API_TOKEN"]
    client = app.test_client()
    from urllib.parse import quote

    for label, extra in (("documents", "&types=document"), ("all types", "")):
        samples = []
        for q in queries(words):
            path = f"/api/search?limit=20&q={quote(q)}{extra}"
            client.get(path, headers={"X-API-Token": token})  # warm
            samples.append(timed(client, token, path, args.runs))
        samples.sort()
        p50 = statistics.median(samples)
        p95 = samples[int(len(samples) * 0.95) - 1]
        print(
            f"GET /api/search ({label}) over {args.docs} docs, {len(samples)} queries: "
            f"p50 {p50:.1f} ms, p95 {p95:.1f} ms, max {samples[-1]:.1f} ms (target p50 <= 30 ms)"
            f"  load {os.getloadavg()[0]:.2f}"
        )
    for label, q in (("common word", words[60]), ("rare word", words[9000]), ("absent", "zqxv")):
        path = "/api/documents?search=" + quote(q)
        response = client.get(path, headers={"X-API-Token": token})
        total = response.json["pagination"]["total"]
        p50 = timed(client, token, path, args.runs)
        print(
            f"GET /api/documents?search= ({label}, total {total}): p50 {p50:.0f} ms"
            f"  load {os.getloadavg()[0]:.2f}"
        )


if __name__ == "__main__":
    main()
