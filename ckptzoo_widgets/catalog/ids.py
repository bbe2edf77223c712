"""How a merged zoo names its rows: a source's label as a slug, and a model id prefixed with it on a clash."""

from __future__ import annotations

import re


def slug(label: str) -> str:
    text = re.sub(r"[^A-Za-z0-9._-]+", "-", label).strip("-._")[:40]
    return re.sub(r"(\.\.|--)+", "-", text) or "zoo"


def prefixed(model_id: str, label: str) -> str:
    """``model_id`` as it appears when another part of the zoo has the same id: after its source's label."""
    namespace, _, name = model_id.rpartition("/")
    return f"{slug(label)}.{namespace or name}" + (f"/{name}" if namespace else "")
