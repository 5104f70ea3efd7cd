"""Vendors' Markdown (app descriptions, release notes) as HTML that is safe to put in a page.

Two walls: markdown-it-py renders CommonMark with raw HTML switched off (a ``<script>`` in the text comes out
as the escaped text ``&lt;script&gt;``), and the nh3 sanitizer then keeps only the tags and attributes Markdown
produces, with links limited to http, https and mailto. Text with script, frames or ``javascript:`` links is
refused before it is stored (``catalog.specs.refuse_unsafe_markup``); this is what keeps the output safe even
for text stored some other way.
"""

from __future__ import annotations

from functools import lru_cache

import nh3
from markdown_it import MarkdownIt

ALLOWED_TAGS = frozenset(
    {
        "a", "blockquote", "br", "code", "em", "h1", "h2", "h3", "h4", "h5", "h6", "hr", "img", "li", "ol",
        "p", "pre", "strong", "table", "tbody", "td", "th", "thead", "tr", "ul",
    }
)  # fmt: skip
ALLOWED_ATTRIBUTES = {
    "a": {"href", "title"},
    "img": {"src", "alt", "title"},
    "td": {"style"},
    "th": {"style"},
}
URL_SCHEMES = frozenset({"http", "https", "mailto"})


@lru_cache(maxsize=1)
def _renderer() -> MarkdownIt:
    return MarkdownIt("commonmark", {"html": False}).enable("table")


def render_markdown(text: str) -> str:
    """``text`` (Markdown) as sanitised HTML; links get ``rel="nofollow noopener noreferrer"``."""
    if not text.strip():
        return ""
    html = _renderer().render(text)
    return nh3.clean(
        html,
        tags=set(ALLOWED_TAGS),
        attributes={tag: set(names) for tag, names in ALLOWED_ATTRIBUTES.items()},
        url_schemes=set(URL_SCHEMES),
        link_rel="nofollow noopener noreferrer",
        filter_style_properties={"text-align"},
    )
