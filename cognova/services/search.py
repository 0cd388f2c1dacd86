"""Full-text search (API.md §18) and the documents list's ``search`` filter.

PostgreSQL does the matching: ``websearch_to_tsquery`` against ``to_tsvector`` expressions that
are indexed with expression GIN indexes (``ix_fts_*``, migration 0005) — the expression text
here must stay identical to the migration's, or the planner cannot use the index. A title that
contains the query as a substring is also a hit and always outranks a body-only hit.

Scores are computed from the title only (cheap for any number of candidates); snippets are cut
in Python from the few rows returned, HTML-escaped, with the matched words in ``<mark>``.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from urllib.parse import quote

import sqlalchemy as sa

from cognova.extensions import db
from cognova.models.documents import Document
from cognova.services import frontmatter_io

TYPES = ("task", "document", "memory", "agent", "conversation")

# Identical to the index expressions of migrations/versions/0005_search.py.
DOC_TSV = (
    "to_tsvector('english'::regconfig, title || ' ' || path || ' ' || "
    "left(coalesce(content, ''), 250000))"
)
TASK_TSV = "to_tsvector('english'::regconfig, title || ' ' || coalesce(description, ''))"

SNIPPET_CHARS = 200


def like_pattern(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def document_filter(text: str):
    """The list endpoint's ``search``: full-text match, or a substring of title/path/content."""
    pattern = like_pattern(text)
    # The full-text arm is a sub-select, so the index answers it once; written inline, every
    # row that fails the cheap substring arms would re-parse its content.
    fts = sa.text(
        "documents.id IN (SELECT d.id FROM documents d WHERE d.deleted_at IS NULL AND "
        f"{DOC_TSV} "
        "@@ websearch_to_tsquery('english'::regconfig, :list_q))"
    ).bindparams(list_q=text)
    return sa.or_(
        Document.title.ilike(pattern, escape="\\"),
        Document.path.ilike(pattern, escape="\\"),
        fts,
        # The same rule as ILIKE, as a literal (``***=``) case-insensitive regular expression:
        # PostgreSQL matches it without lower-casing a copy of every content first (~2x faster).
        Document.content.op("~*")(sa.literal("***=" + text, sa.Text)),
    )


@dataclass(frozen=True)
class Source:
    type: str
    table: str
    title: str  # SQL for the hit's title
    title_match: str  # SQL the substring rule applies to
    tsv: str  # SQL tsvector expression
    body: str  # SQL for the snippet's source text
    recent: str
    where: str


SOURCES = {
    "document": Source(
        "document",
        "documents",
        "t.title",
        "t.title",
        DOC_TSV,
        "coalesce(t.content, t.path)",
        "coalesce(t.modified_at, t.created_at)",
        "t.deleted_at IS NULL",
    ),
    "task": Source(
        "task",
        "tasks",
        "t.title",
        "t.title",
        # the tags part is not indexed: tasks are few, and tags are short
        f"({TASK_TSV} || to_tsvector('english'::regconfig, array_to_string(t.tags, ' ')))",
        "coalesce(t.description, '') || ' ' || array_to_string(t.tags, ' ')",
        "coalesce(t.modified_at, t.created_at)",
        "t.deleted_at IS NULL",
    ),
    "memory": Source(
        "memory",
        "memory_chunks",
        "left(t.content, 100)",
        "left(t.content, 100)",
        "to_tsvector('english'::regconfig, t.content || ' ' || coalesce(t.source_excerpt, ''))",
        "t.content || ' ' || coalesce(t.source_excerpt, '')",
        "t.created_at",
        "(t.expires_at IS NULL OR t.expires_at > now())",
    ),
    "agent": Source(
        "agent",
        "cron_agents",
        "t.name",
        "t.name",
        "to_tsvector('english'::regconfig, t.name || ' ' || coalesce(t.description, '') "
        "|| ' ' || t.prompt)",
        "coalesce(t.description, '') || ' ' || t.prompt",
        "t.updated_at",
        "TRUE",
    ),
    "conversation": Source(
        "conversation",
        "conversations",
        "coalesce(t.title, 'Untitled')",
        "coalesce(t.title, '')",
        "to_tsvector('english'::regconfig, coalesce(t.title, '') || ' ' || "
        "coalesce(t.summary, ''))",
        "coalesce(t.summary, '')",
        "t.started_at",
        "TRUE",
    ),
}


def _candidates(source: Source, text: str, limit: int) -> list[dict]:
    """Two arms, each answered by its own index: titles containing the text (score 2 plus the
    title's rank), and full-text hits (score 1, newest first). Neither arm re-parses content:
    ranking every full-text hit would cost a to_tsvector per matching row."""
    sql = f"""
        (SELECT t.id AS id, {source.title} AS title, {source.recent} AS recent,
                2 + least(ts_rank(to_tsvector('english'::regconfig, coalesce({source.title}, '')),
                                  websearch_to_tsquery('english'::regconfig, :q)), 0.99) AS score
         FROM {source.table} t
         WHERE {source.where} AND {source.title_match} ILIKE :pattern ESCAPE '\\'
         ORDER BY score DESC, recent DESC NULLS LAST
         LIMIT :limit)
        UNION ALL
        (SELECT t.id, {source.title}, {source.recent} AS recent, 1.0
         FROM {source.table} t
         WHERE {source.where} AND {source.tsv} @@ websearch_to_tsquery('english'::regconfig, :q)
         ORDER BY recent DESC NULLS LAST
         LIMIT :wide)
    """
    rows = db.session.execute(
        sa.text(sql),
        {"q": text, "pattern": like_pattern(text), "limit": limit, "wide": limit * 2},
    )
    best: dict = {}
    for r in rows:
        if r.id not in best or r.score > best[r.id]["score"]:
            best[r.id] = {
                "type": source.type,
                "id": r.id,
                "title": r.title,
                "score": float(r.score),
                "recent": r.recent,
            }
    ranked = sorted(best.values(), key=lambda h: (h["score"], _ts(h["recent"])), reverse=True)
    return ranked[:limit]


def _bodies(source: Source, ids: list) -> dict:
    if not ids:
        return {}
    rows = db.session.execute(
        sa.text(f"SELECT t.id, {source.body} AS body FROM {source.table} t WHERE t.id = ANY(:ids)"),
        {"ids": ids},
    )
    return {r.id: r.body or "" for r in rows}


def _lexemes(text: str) -> list[str]:
    found = db.session.scalar(
        sa.text("SELECT tsvector_to_array(to_tsvector('english'::regconfig, :q))"), {"q": text}
    )
    return sorted(set(found or []), key=len, reverse=True)


def _url(kind: str, ident, title: str, path: str | None = None) -> str:
    if kind == "document":
        return f"/documents?path={quote(path or '', safe='')}"
    if kind == "task":
        return f"/tasks?selected={ident}"
    if kind == "memory":
        return f"/memories?selected={ident}"
    if kind == "agent":
        return f"/agents/{ident}"
    return f"/chat/{ident}"


def matcher(text: str, lexemes: list[str]) -> re.Pattern | None:
    words = [re.escape(lex) + r"\w*" for lex in lexemes if lex]
    alternatives = [re.escape(text)] + [r"\b" + w for w in words]
    return re.compile("|".join(alternatives), re.IGNORECASE) if text else None


def snippet(body: str, pattern: re.Pattern | None, limit: int = SNIPPET_CHARS) -> str:
    """≤ *limit* characters of plain text around the first match, escaped, matches marked."""
    plain = re.sub(r"\s+", " ", body).strip()
    if not plain:
        return ""
    match = pattern.search(plain) if pattern else None
    start = 0
    if match is not None and match.start() > limit // 3:
        start = match.start() - limit // 3
        space = plain.find(" ", start, match.start())
        start = space + 1 if space != -1 else start
    window = plain[start : start + limit]
    if pattern is None:
        return html.escape(window)
    out, last = [], 0
    for m in pattern.finditer(window):
        if m.end() == m.start():
            continue
        out.append(html.escape(window[last : m.start()]))
        out.append("<mark>" + html.escape(m.group(0)) + "</mark>")
        last = m.end()
    out.append(html.escape(window[last:]))
    return "".join(out)


def search(text: str, types: list[str] | None, limit: int) -> list[dict]:
    wanted = [t for t in TYPES if not types or t in types]
    hits: list[dict] = []
    for kind in wanted:
        hits.extend(_candidates(SOURCES[kind], text, limit))
    hits.sort(key=lambda h: (h["score"], _ts(h["recent"])), reverse=True)
    hits = hits[:limit]
    pattern = matcher(text, _lexemes(text))
    bodies: dict = {}
    paths: dict = {}
    for kind in wanted:
        ids = [h["id"] for h in hits if h["type"] == kind]
        bodies.update(_bodies(SOURCES[kind], ids))
        if kind == "document" and ids:
            paths.update(
                db.session.execute(
                    sa.select(Document.id, Document.path).where(Document.id.in_(ids))
                )
                .tuples()
                .all()
            )
    out = []
    for hit in hits:
        body = bodies.get(hit["id"], "")
        if hit["type"] == "document":
            body = frontmatter_io.parse(body).body
        text_for_snippet = body if pattern and pattern.search(body) else hit["title"] or body
        out.append(
            {
                "type": hit["type"],
                "id": str(hit["id"]),
                "title": hit["title"],
                "snippet": snippet(text_for_snippet, pattern),
                "score": round(float(hit["score"]), 4),
                "url": _url(hit["type"], hit["id"], hit["title"], paths.get(hit["id"])),
            }
        )
    return out


def _ts(value) -> float:
    return value.timestamp() if value is not None else 0.0
