"""How a zoo names its rows: a source's label as a slug, a model id prefixed with it on a clash;
`parse_ref`: a `model@checkpoint` reference."""

from __future__ import annotations

import re

from .. import safety
from ..errors import ZooError


def slug(label: str) -> str:
    text = re.sub(r"[^A-Za-z0-9._-]+", "-", label).strip("-._")[:40]
    return re.sub(r"(\.\.|--)+", "-", text) or "zoo"


def prefixed(model_id: str, label: str) -> str:
    """``model_id`` as it appears when another part of the zoo has the same id: after its source's label."""
    namespace, _, name = model_id.rpartition("/")
    return f"{slug(label)}.{namespace or name}" + (f"/{name}" if namespace else "")


def parse_ref(ref: str) -> tuple[str, str | None]:
    """`model_id@checkpoint` -> (model_id, checkpoint or None); ZooError when malformed."""
    if not isinstance(ref, str):
        raise ZooError(f"a reference must be a string like 'model@checkpoint', got {type(ref).__name__}")
    model_id, _, checkpoint = ref.partition("@")
    try:
        safety.check_model_id(model_id)
        if checkpoint:
            safety.check_checkpoint_name(checkpoint)
    except ValueError as error:
        raise ZooError(f"bad reference {ref[:200]!r}: {error}") from None
    if ref.count("@") > 1 or (ref.endswith("@")):
        raise ZooError(f"bad reference {ref[:200]!r}: expected 'model_id' or 'model_id@checkpoint'")
    return model_id, checkpoint or None
