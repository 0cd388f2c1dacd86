"""Markdown → safe HTML for pages that show a note to people (the public /view page).

markdown-it-py renders (raw HTML in the note is escaped, not passed through), then nh3 cleans
the result against an allow-list, so nothing a shared note contains can run script in a
visitor's browser. Headings get stable ids and are collected into a table of contents.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field

import nh3
from markdown_it import MarkdownIt

_md = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False}).enable(
    ["table", "strikethrough"]
)

TAGS = {
    "a", "p", "br", "hr", "strong", "em", "del", "s", "code", "pre", "blockquote", "ul", "ol",
    "li", "h1", "h2", "h3", "h4", "h5", "h6", "table", "thead", "tbody", "tr", "th", "td", "img",
}  # fmt: skip
ATTRIBUTES = {
    "a": {"href", "title"},
    "img": {"src", "alt", "title"},
    "th": {"style"},
    "td": {"style"},
    "ol": {"start"},
    "code": {"class"},
    **{f"h{n}": {"id"} for n in range(1, 7)},
}


@dataclass
class Rendered:
    html: str
    toc: list[dict] = field(default_factory=list)  # {"level", "id", "text"}


def slugify(text: str) -> str:
    text = unicodedata.normalize("NFKC", text).lower()
    text = re.sub(r"[^\w\s-]", "", text)
    return re.sub(r"[\s_-]+", "-", text).strip("-") or "section"


def render(source: str, title: str | None = None) -> Rendered:
    """Safe HTML and the h1–h3 outline. A leading ``# heading`` equal to *title* is dropped,
    since the page already shows the title."""
    tokens = _md.parse(source)
    if (
        title is not None
        and len(tokens) >= 3
        and tokens[0].type == "heading_open"
        and tokens[0].tag == "h1"
        and tokens[1].content.strip() == title.strip()
    ):
        tokens = tokens[3:]
    toc, seen = [], {}
    for index, token in enumerate(tokens):
        if token.type != "heading_open":
            continue
        inline = tokens[index + 1]
        text = "".join(
            child.content
            for child in (inline.children or [])
            if child.type in ("text", "code_inline")
        ).strip()
        slug = slugify(text)
        count = seen.get(slug, 0)
        seen[slug] = count + 1
        if count:
            slug = f"{slug}-{count}"
        token.attrSet("id", slug)
        if token.tag in ("h1", "h2", "h3"):
            toc.append({"level": int(token.tag[1]), "id": slug, "text": text})
    raw = _md.renderer.render(tokens, _md.options, {})
    clean = nh3.clean(
        raw,
        tags=TAGS,
        attributes=ATTRIBUTES,
        url_schemes={"http", "https", "mailto"},
        link_rel="noopener noreferrer nofollow",
    )
    return Rendered(clean, toc)
