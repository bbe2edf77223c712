"""The id, path and URL rules of design.md, and model-card sanitising."""

import re
from html.parser import HTMLParser

import pyarrow as pa
import pyarrow.compute as pc
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ckptzoo_widgets import safety

VALID_IDS = ["digits-mlp", "EleutherAI/pythia-70m", "resnet50.a1_in1k", "a", "A1/b_2.c-3", "x" * 96]
INVALID_IDS = [
    "",
    "/x",
    "x/",
    "a/b/c",
    "../x",
    "a..b",
    "a--b",
    "-a",
    ".a",
    "_a",
    "a b",
    "é",
    "a\\b",
    "x" * 97,
    "a/\u0430",
    "a\n",
    "C:x",
    "a@b",
    "a:b",
    "a/.b",
]


@pytest.mark.parametrize("value", VALID_IDS)
def test_valid_model_ids_pass(value):
    assert safety.check_model_id(value) == value


@pytest.mark.parametrize("value", INVALID_IDS)
def test_invalid_model_ids_are_rejected(value):
    with pytest.raises(ValueError):
        safety.check_model_id(value)


def test_checkpoint_names_have_no_slash():
    assert safety.check_checkpoint_name("epoch-10") == "epoch-10"
    with pytest.raises(ValueError, match="must start with a letter"):
        safety.check_checkpoint_name("a/b")


ID_RULE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,95}(/[A-Za-z0-9][A-Za-z0-9._-]{0,95})?", re.ASCII)


@given(st.text(max_size=40))
def test_model_id_rule_matches_its_definition(text):
    # The checker agrees with the rule as design.md states it, for any text at all.
    expected = bool(ID_RULE.fullmatch(text)) and ".." not in text and "--" not in text
    try:
        safety.check_model_id(text)
        accepted = True
    except ValueError:
        accepted = False
    assert accepted == expected


@given(st.text(max_size=40))
def test_json_schema_pattern_agrees_with_checker(text):
    # The ECMA pattern published in the JSON Schema is the same rule (Python's re reads it the same way).
    in_pattern = bool(re.match(safety.MODEL_ID_PATTERN, text, re.ASCII)) and "\n" not in text
    try:
        safety.check_model_id(text)
        accepted = True
    except ValueError:
        accepted = False
    assert in_pattern == accepted


@pytest.mark.parametrize("path", ["model.safetensors", "a/b/c.bin", "digits-mlp/epoch-1.safetensors"])
def test_relative_paths_pass(path):
    assert safety.check_relative_path(path) == path


@pytest.mark.parametrize(
    "path", ["/etc/passwd", "../x", "a/../b", "a\\b", "C:/x", "c:x", "a//b", "./a", "", "a/\x00", "file:x"]
)
def test_unsafe_paths_are_rejected(path):
    with pytest.raises(ValueError):
        safety.check_relative_path(path)


@given(st.text(max_size=30))
def test_accepted_paths_never_escape(text):
    try:
        safety.check_relative_path(text)
    except ValueError:
        return
    parts = text.split("/")
    assert not text.startswith("/") and ".." not in parts and "\\" not in text and ":" not in parts[0]


@pytest.mark.parametrize(
    "url", ["javascript:alert(1)", "file:///etc/passwd", "ftp://x/y", "https://", "http://u:p@h/x", "https://h/a b"]
)
def test_bad_urls_are_rejected(url):
    with pytest.raises(ValueError):
        safety.check_url(url)


def test_sha256_must_be_64_lowercase_hex():
    assert safety.check_sha256("a" * 64)
    for bad in ["a" * 63, "g" * 64, "A" * 64, ""]:
        with pytest.raises(ValueError):
            safety.check_sha256(bad)


HOSTILE_CARD = """# Hello
<script>alert('card')</script>
<img src=x onerror="alert('img')">
[click](javascript:alert('link'))
<iframe src="https://evil.example/"></iframe>
<form action="https://evil.example/"><input name=q></form>
<button data-commandlinker-command="terminal:create-new">open terminal</button>
<a href="https://ok.example/" onclick="alert(1)">ok</a>
![remote](https://evil.example/pixel.png)
"""


class _Elements(HTMLParser):
    """Every element and attribute the browser would build from an HTML string."""

    def __init__(self, html: str):
        super().__init__()
        self.elements: list[tuple[str, dict]] = []
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        self.elements.append((tag, dict(attrs)))


def test_hostile_card_renders_as_harmless_html():
    html = safety.render_markdown(HOSTILE_CARD)
    elements = _Elements(html).elements
    tags = {tag for tag, _ in elements}
    assert not tags & {"script", "img", "iframe", "form", "input", "button", "style", "object", "embed"}
    for tag, attrs in elements:
        assert not [name for name in attrs if name.startswith("on") or name.startswith("data-")], (tag, attrs)
        assert not (attrs.get("href") or "").lower().startswith("javascript"), attrs
    assert "<h1>Hello</h1>" in html
    # Raw HTML shows up as visible, escaped text, so the reader sees what the card tried.
    assert "&lt;script&gt;" in html and "&lt;iframe" in html
    assert (
        "a",
        {"href": "https://ok.example/", "rel": "noopener noreferrer nofollow"},
    ) not in elements  # raw <a> was text


def test_markdown_tables_and_links_survive():
    html = safety.render_markdown("| a | b |\n|---|---|\n| 1 | 2 |\n\n[docs](https://example.org/x)")
    assert "<table>" in html and "<td>1</td>" in html
    assert 'href="https://example.org/x"' in html and 'rel="noopener noreferrer nofollow"' in html


@pytest.mark.parametrize(
    ("pattern", "check", "refused"),
    [  # what index/json_rules.py and index/parquet_grid.py refuse beside the RE2 match
        (safety.MODEL_ID_PATTERN, safety.check_model_id, lambda v: ".." in v or "--" in v),
        (safety.CHECKPOINT_NAME_PATTERN, safety.check_checkpoint_name, lambda v: ".." in v or "--" in v),
        (safety.REVISION_PATTERN, safety.check_revision, lambda v: ".." in v or "//" in v or v.endswith("/")),
    ],
)
@settings(deadline=None)  # no timing in tests: the first example imports pyarrow
@given(st.text(alphabet="ab9._-/ A", max_size=12))
def test_the_re2_form_and_its_separate_refusals_make_the_same_rule(pattern, check, refused, value):
    """What the columnar readers check with Arrow (RE2, no look-arounds) is the rule the validators apply."""
    form = safety.re2_form(pattern)
    assert "(?" not in form
    matched = pc.match_substring_regex(pa.array([value]), form)[0].as_py()
    columnar = matched and not refused(value)
    try:
        check(value)
        exact = True
    except ValueError:
        exact = False
    assert columnar == exact, value


def test_re2_form_refuses_a_look_around_it_cannot_drop():
    with pytest.raises(ValueError, match="look-around"):
        safety.re2_form(r"^(?=a)b$")
