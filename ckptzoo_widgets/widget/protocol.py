"""What the page may ask of the zoo browser, and how the kernel checks it.

Any script in the Jupyter page can talk to a widget's comm, not only our
front end, so nothing the page sends is trusted (docs/security.md):

- Synced traits flow kernel -> page only; `ZooBrowser.set_state` drops what
  the page writes and sends the kernel's values back.
- The page asks through custom messages, checked here: a JSON object with a
  known ``request`` kind, known fields of the right type, strings of bounded
  length, no binary buffers. One message starts at most one search or one
  selection.
- Text the widget shows (errors, problems while opening) is one bounded line
  each (``text.one_line``), and long lists of problems are summarised.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from ..safety import check_checkpoint_name, check_model_id
from ..text import one_line
from .contract import MAX_COMPARE, MAX_FIELDS, MAX_LIMIT, MAX_OFFSET, MAX_SEQ, MAX_TEXT, REQUESTS

__all__ = [
    "MAX_COMPARE",
    "MAX_FIELDS",
    "MAX_LIMIT",
    "MAX_OFFSET",
    "MAX_SEQ",
    "MAX_TEXT",
    "Request",
    "RequestError",
    "check_ref",
    "parse_request",
    "summarise",
]

# Limits and request kinds: the contract's (widget/contract.py), re-exported for the readers of this module.
_FIELDS = REQUESTS


class RequestError(ValueError):
    """A message from the page that the kernel will not act on."""


@dataclass(frozen=True)
class Request:
    kind: str
    seq: int | None
    fields: dict[str, Any]


def _describe(value: Any) -> str:
    return type(value).__name__


def parse_request(content: Any, buffers: Sequence[Any] = (), kinds: Iterable[str] | None = None) -> Request:
    """Check one custom message from the page; raise RequestError when it is not a valid request
    (of one of `kinds`: the requests the view accepts, `widget.contract.VIEW_REQUESTS`)."""
    if buffers:
        raise RequestError("binary buffers are not accepted")
    if not isinstance(content, dict):
        raise RequestError(f"a request is a JSON object, not {_describe(content)}")
    if len(content) > MAX_FIELDS:
        raise RequestError(f"too many fields ({len(content)})")
    kind = content.get("request")
    if not isinstance(kind, str) or kind not in _FIELDS or (kinds is not None and kind not in kinds):
        raise RequestError("unknown request kind")
    seq = content.get("seq")
    if seq is not None and (type(seq) is not int or not 0 <= seq <= MAX_SEQ):
        raise RequestError("seq must be a non-negative integer")
    allowed = _FIELDS[kind]
    fields: dict[str, Any] = {}
    items: list[tuple[Any, Any]] = list(content.items())
    for key, value in items:
        if key in ("request", "seq"):
            continue
        if not isinstance(key, str) or key not in allowed:
            raise RequestError(f"unknown field for a {kind} request")
        expected = allowed[key]
        # bool is an int in Python: compare exact types.
        if type(value) is not expected:
            raise RequestError(f"{key} must be {expected.__name__}, not {_describe(value)}")
        if isinstance(value, str) and len(value) > MAX_TEXT:
            raise RequestError(f"{key} is too long ({len(value):,} characters; at most {MAX_TEXT})")
        if key == "offset" and isinstance(value, int) and not 0 <= value <= MAX_OFFSET:
            raise RequestError("offset out of range")
        if key == "limit" and isinstance(value, int) and not 1 <= value <= MAX_LIMIT:
            raise RequestError(f"limit must be between 1 and {MAX_LIMIT}")
        fields[key] = value
    if kind == "select" and fields.get("ref"):
        check_ref(fields["ref"])
    if kind in ("compare", "compare-set"):
        models = fields.get("models", [])
        if len(models) > MAX_COMPARE or not all(type(m) is str for m in models):
            raise RequestError(f"models must be a list of at most {MAX_COMPARE} model ids")
        for model in models:
            if "@" in model:
                raise RequestError("not a valid model id")
            check_ref(model)
    return Request(kind=kind, seq=seq, fields=fields)


def check_ref(ref: str) -> str:
    """A `model_id[@checkpoint]` that follows the index's id rules."""
    model_id, at, ckpt = ref.partition("@")
    try:
        check_model_id(model_id)
        if at:
            check_checkpoint_name(ckpt)
    except ValueError:
        raise RequestError("not a valid model reference") from None
    return ref


def summarise(problems: Iterable[Any], shown: int = 20, total: int | None = None) -> list[str]:
    """At most `shown` problems as bounded lines, then one line counting the rest."""
    lines: list[str] = []
    for problem in problems:
        if len(lines) == shown:
            break
        lines.append(one_line(problem))
    if total is not None and total > len(lines):
        rest = total - len(lines)
        lines.append(f"… and {rest:,} more (browser.zoo.errors lists them all)")
    return lines
