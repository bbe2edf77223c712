"""Hostile model cards, checked in the kernel: the HTML `render_markdown` sends
to the page holds no element, attribute or URL that can run code, load a
resource, submit a form or trigger a JupyterLab command.

The corpus is data (`cards/payloads.json`), shared with the real-browser test
(tests/browser/test_hostile_cards.py), which renders every card in JupyterLab.
"""

from __future__ import annotations

import html
import json
import re
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from .bounded import run_bounded

CORPUS = Path(__file__).parent / "cards" / "payloads.json"
PAYLOADS = json.loads(CORPUS.read_text())["payloads"]
BASE = "http://127.0.0.1:9/hostile"

# What a sanitised card may hold: text formatting, tables, lists and links.
SAFE_TAGS = {
    "a", "abbr", "b", "blockquote", "br", "code", "dd", "del", "details", "div", "dl", "dt", "em",
    "h1", "h2", "h3", "h4", "h5", "h6", "hr", "i", "kbd", "li", "ol", "p", "pre", "s", "span",
    "strong", "sub", "summary", "sup", "table", "tbody", "td", "th", "thead", "tr", "ul",
}  # fmt: skip
SAFE_ATTRS = {"href", "title", "rel", "align"}
SAFE_SCHEMES = {"", "http", "https", "mailto"}


class _Collect(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[str] = []
        self.attrs: list[tuple[str, str, str]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        self.attrs += [(tag, name, value or "") for name, value in attrs]

    handle_startendtag = handle_starttag


def problems(rendered: str) -> list[str]:
    parser = _Collect()
    parser.feed(rendered)
    parser.close()
    found = [f"element <{t}>" for t in parser.tags if t not in SAFE_TAGS]
    for tag, name, value in parser.attrs:
        if name not in SAFE_ATTRS:
            found.append(f"attribute {name} on <{tag}>")
        if name == "href":
            # Browsers drop tabs, newlines and control characters inside a URL's scheme.
            url = re.sub(r"[\x00-\x20\x7f]", "", html.unescape(value))
            scheme = urlsplit(url).scheme.lower() if ":" in url.split("/", 1)[0] else ""
            if scheme not in SAFE_SCHEMES:
                found.append(f"href scheme {scheme!r}")
    return found


def test_the_corpus_is_large_and_distinct():
    assert len(PAYLOADS) >= 60
    assert len({p["card"] for p in PAYLOADS}) == len(PAYLOADS)
    categories = {p["category"] for p in PAYLOADS}
    assert categories >= {"script", "event", "url", "namespace", "mutation", "element", "commandlinker"}
    assert categories >= {"entity", "frontmatter"}


@pytest.fixture(scope="module")
def rendered() -> dict[str, str]:
    # Every card rendered in one child under a memory and a time limit.
    result = run_bounded(
        """
        import json
        from ckptzoo_widgets.safety import render_markdown
        print(json.dumps({p["id"]: render_markdown(p["card"].replace("{BASE}", BASE)) for p in PAYLOADS}))
        """,
        memory_mb=1024,
        seconds=60,
        PAYLOADS=PAYLOADS,
        BASE=BASE,
    )
    assert result.ok, (result.error_type, result.message, result.stderr[-2000:])
    return json.loads(result.stdout)


@pytest.mark.parametrize("payload", PAYLOADS, ids=[f"{p['id']}-{p['name']}" for p in PAYLOADS])
def test_sanitised_card_holds_nothing_dangerous(rendered, payload):
    out = rendered[payload["id"]]
    assert problems(out) == [], out
    assert BASE not in re.findall(r'href="([^"]*)"', out), "no link to the payload's server"


def test_the_checker_catches_what_it_looks_for():
    # The check itself must be able to fail.
    assert problems('<img src="x" onerror="alert(1)">') == [
        "element <img>",
        "attribute src on <img>",
        "attribute onerror on <img>",
    ]
    assert problems('<a href="jav&#x09;ascript:alert(1)">x</a>') == ["href scheme 'javascript'"]
    assert problems('<p data-commandlinker-command="terminal:create-new">x</p>') == [
        "attribute data-commandlinker-command on <p>"
    ]
    assert problems('<a href="https://example.org/" rel="noopener">ok</a>') == []
