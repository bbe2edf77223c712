"""Rules for untrusted text: ids, file paths, URLs, model cards (pickles: `pickle_scan`).

Everything in an index may come from a stranger's server, so each rule
rejects rather than repairs: a value that breaks a rule never reaches a
file name, a snippet or the browser.
"""

from __future__ import annotations

import re
from functools import lru_cache
from urllib.parse import urlsplit

import nh3
from markdown_it import MarkdownIt

from .text import truncate


def _shown(value: object, limit: int = 80) -> str:
    """A rejected value quoted in a message, truncated: a 50 MB name must not make a 50 MB message."""
    return repr(truncate(value, limit))


MAX_ID_PART = 96
_ID_PART = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*", re.ASCII)
# The same rule as an ECMA-262 pattern, published in the JSON Schema.
MODEL_ID_PATTERN = r"^(?!.*\.\.)(?!.*--)[A-Za-z0-9][A-Za-z0-9._-]{0,95}(/[A-Za-z0-9][A-Za-z0-9._-]{0,95})?$"
CHECKPOINT_NAME_PATTERN = r"^(?!.*\.\.)(?!.*--)[A-Za-z0-9][A-Za-z0-9._-]{0,95}$"
_REVISION = re.compile(r"[A-Za-z0-9][A-Za-z0-9._/-]{0,127}", re.ASCII)
REVISION_PATTERN = r"^(?!.*\.\.)(?!.*//)[A-Za-z0-9][A-Za-z0-9._/-]{0,127}$"
_METRIC = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.:/@-]{0,127}", re.ASCII)
METRIC_NAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.:/@-]{0,127}$"
SHA256_PATTERN = r"^[0-9a-f]{64}$"
_SHA256 = re.compile(r"[0-9a-f]{64}")


def re2_form(pattern: str) -> str:
    """One of the patterns above for Arrow's RE2, which has no look-arounds: the leading `(?!.*..)`
    refusals (`..`, `--`, `//`) dropped, for the caller to check on their own."""
    form = re.sub(r"\(\?!\.\*[^()]*\)", "", pattern)
    if "(?" in form:
        raise ValueError(f"{pattern!r} has a look-around RE2 cannot take")
    return form


def _check_part(value: str, what: str) -> None:
    if not _ID_PART.fullmatch(value):
        raise ValueError(
            f"{what} {_shown(value)} must start with a letter or digit and contain only "
            "ASCII letters, digits, '.', '_' and '-'"
        )
    if len(value) > MAX_ID_PART:
        raise ValueError(f"{what} {_shown(value, 20)} is longer than {MAX_ID_PART} characters")


def _check_no_doubles(value: str, what: str) -> None:
    if ".." in value or "--" in value:
        raise ValueError(f"{what} {_shown(value)} must not contain '..' or '--'")


def check_model_id(value: str) -> str:
    """Return `value` if it is a valid model id (`name` or `namespace/name`), else raise ValueError."""
    if not isinstance(value, str):
        raise ValueError("a model id must be a string")
    parts = value.split("/")
    if len(parts) > 2:
        raise ValueError(f"model id {_shown(value)} may contain at most one '/'")
    for part in parts:
        _check_part(part, "model id part")
    _check_no_doubles(value, "model id")
    return value


def check_checkpoint_name(value: str) -> str:
    """Return `value` if it is a valid checkpoint name (a model id part, no '/')."""
    if not isinstance(value, str):
        raise ValueError("a checkpoint name must be a string")
    _check_part(value, "checkpoint name")
    _check_no_doubles(value, "checkpoint name")
    return value


def check_revision(value: str) -> str:
    """A git branch, tag or commit that a hub checkpoint pins (`step1000`, `main`, a sha)."""
    if not _REVISION.fullmatch(value) or ".." in value or "//" in value or value.endswith("/"):
        raise ValueError(
            f"revision {_shown(value)} must be ASCII letters, digits, '.', '_', '-', '/' without '..' or '//'"
        )
    return value


def check_metric_name(value: str) -> str:
    if not _METRIC.fullmatch(value):
        raise ValueError(
            f"metric name {_shown(value)} must start with a letter or digit and contain only "
            "ASCII letters, digits and '_.:/@-'"
        )
    return value


_MLFLOW_URI = re.compile(
    r"runs:/[0-9a-f]{32}/[ -~]{1,500}|models:/m-[0-9a-f]{32}|models:/[ -.0-~]{1,256}/[1-9][0-9]{0,9}"
)
MLFLOW_URI_PATTERN = (
    r"^(runs:/[0-9a-f]{32}/[ -~]{1,500}|models:/m-[0-9a-f]{32}|models:/[ -.0-~]{1,256}/[1-9][0-9]{0,9})$"
)


def check_mlflow_uri(value: str) -> str:
    """An MLflow URI that pins one checkpoint: a run's artifact, a logged model, a registered version."""
    if not _MLFLOW_URI.fullmatch(value):
        raise ValueError(
            f"MLflow URI {value[:120]!r} must be runs:/<run id>/<artifact path>, models:/m-<model id> "
            "or models:/<name>/<version>"
        )
    if value.startswith("runs:/"):
        check_relative_path(value[len("runs:/") + 33 :])
    return value


def check_sha256(value: str) -> str:
    if not _SHA256.fullmatch(value):
        raise ValueError(f"sha256 {_shown(value)} is not 64 lowercase hexadecimal characters")
    return value


def is_url(value: str) -> bool:
    return value.startswith(("http://", "https://"))


# Whitespace, control characters, lone surrogates (one regex: a per-character loop cost
# seconds on an index of 10k models with 40k URLs).
_URL_BAD_CHARS = re.compile(r"[\s\x00-\x1f\ud800-\udfff]")


def check_url(value: str) -> str:
    """Only absolute http(s) URLs with a host; no credentials, no whitespace."""
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"URL {_shown(value)} must be an absolute http(s) URL")
    if parts.username or parts.password:
        raise ValueError(f"URL {_shown(value)} must not carry credentials")
    if _URL_BAD_CHARS.search(value):
        raise ValueError(f"URL {_shown(value)} contains whitespace, control characters or a lone surrogate")
    return value


# Control characters, DEL and lone surrogates (one regex: an index names a file per checkpoint, 55,000 of them).
_PATH_BAD_CHARS = re.compile("[\x00-\x1f\x7f\ud800-\udfff]")


def check_relative_path(value: str) -> str:
    """A relative POSIX path inside the zoo: no absolute path, drive, backslash or '..'."""
    if not value:
        raise ValueError("file path is empty")
    if "\\" in value:
        raise ValueError(f"file path {_shown(value)} contains a backslash; use '/'")
    if value.startswith("/"):
        raise ValueError(f"file path {_shown(value)} is absolute; paths are relative to the index")
    if re.match(r"^[A-Za-z]:", value) or ":" in value.split("/")[0]:
        raise ValueError(f"file path {_shown(value)} has a drive letter or scheme")
    if _PATH_BAD_CHARS.search(value):
        raise ValueError(f"file path {_shown(value)} contains control characters or a lone surrogate")
    for segment in value.split("/"):
        if segment == "..":
            raise ValueError(f"file path {_shown(value)} contains '..'")
        if segment in ("", "."):
            raise ValueError(f"file path {_shown(value)} has an empty or '.' segment")
    return value


# --- model cards -------------------------------------------------------------

_ALLOWED_TAGS = {
    "a",
    "abbr",
    "b",
    "blockquote",
    "br",
    "code",
    "dd",
    "del",
    "details",
    "div",
    "dl",
    "dt",
    "em",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "hr",
    "i",
    "kbd",
    "li",
    "ol",
    "p",
    "pre",
    "s",
    "span",
    "strong",
    "sub",
    "summary",
    "sup",
    "table",
    "tbody",
    "td",
    "th",
    "thead",
    "tr",
    "ul",
}
_ALLOWED_ATTRIBUTES = {"a": {"href", "title"}, "th": {"align"}, "td": {"align"}, "abbr": {"title"}}


@lru_cache(maxsize=1)
def _markdown() -> MarkdownIt:
    # Raw HTML off: a card's <script> or <iframe> becomes visible text.
    return MarkdownIt("commonmark", {"html": False, "linkify": False}).enable("table").enable("strikethrough")


def sanitize_html(html: str) -> str:
    """Allowlist sanitising: no scripts, handlers, forms, iframes, images, data-* attributes."""
    return nh3.clean(
        html,
        tags=_ALLOWED_TAGS,
        attributes=_ALLOWED_ATTRIBUTES,
        url_schemes={"http", "https", "mailto"},
        link_rel="noopener noreferrer nofollow",
        strip_comments=True,
    )


def render_markdown(text: str) -> str:
    """Markdown model card -> sanitised HTML safe to put in the page."""
    if not text:
        return ""
    return sanitize_html(_markdown().render(text))
