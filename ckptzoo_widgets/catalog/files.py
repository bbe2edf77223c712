"""A checkpoint's files seen from the zoo: its load code, its download, the storage_options that reach it.

`Zoo.load_code`, `Zoo.download` and `Zoo.code_libraries` are thin methods over
these functions; they need only the resolved entry, the zoo's id column and the
storage_options the zoo was opened with.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from .. import codegen, credentials, storage
from ..errors import ZooError
from ..pickle_verdicts import check_download
from ..schema import Checkpoint, ModelEntry
from .ids import slug

BUILTIN = "builtin"


def options_for(opened_with: dict[str, dict[str, Any]], url: str) -> dict[str, Any] | None:
    """The storage_options a zoo was opened with when ``url`` is on the same protocol,
    remembered in this process for its bucket; None otherwise (the environment then)."""
    if not opened_with or not storage.is_object_url(url):
        return None
    options = opened_with.get(storage.family(url))
    if options is not None:
        credentials.remember_storage(url, options)
    return options


def short_name_shared(ids: pa.ChunkedArray | pa.Array, model: ModelEntry) -> bool:
    """Another model in ``ids`` would get the same variable name in its load code (org1/mlp, org2/mlp)."""
    tail = re.search(r"[A-Za-z0-9]+$", model.local_id)
    if tail is None or not len(ids):
        return False
    # Only ids that end alike can be alike: one vectorised pass, then a word check of those few.
    alike = ids.filter(pc.ends_with(ids, tail.group())).to_pylist()
    return any(other != model.id and codegen.names_alike(model.local_id, other) for other in alike)


def load_code(
    model: ModelEntry,
    checkpoint: Checkpoint,
    ids: pa.ChunkedArray | pa.Array,
    opened_with: dict[str, dict[str, Any]],
    library: str | None = None,
) -> str:
    """Python source that loads exactly this checkpoint (values only as literals)."""
    for file in checkpoint.files:  # the code's cz.fetch, run in this kernel, finds the options
        options_for(opened_with, model.locate(file))
    return codegen.generate(model, checkpoint, library=library, qualified=short_name_shared(ids, model))


def download(
    model: ModelEntry,
    checkpoint: Checkpoint,
    opened_with: dict[str, dict[str, Any]],
    *,
    quiet: bool | None = None,
) -> list[Path]:
    """Local, verified paths of the checkpoint's files (downloaded into the cache when remote)."""
    from ..fetch import fetch

    if not checkpoint.files:
        raise ZooError(f"{model.id}@{checkpoint.name} has no files in the index (load it with its library)")
    label = slug(model.source or BUILTIN)
    paths = []
    for file in checkpoint.files:
        url = model.locate(file)
        path = fetch(
            url,
            storage_options=options_for(opened_with, url),
            sha256=file.sha256,
            size=file.size,
            sha256_prefix=codegen.hash_prefix(model, file),  # torch.hub's rule for torchvision's files
            quiet=quiet,
            view=(label, *model.id.split("/"), checkpoint.name, file.name),
        )
        if file.format == "pytorch":
            check_download(path, file.sha256, f"{model.id}@{checkpoint.name}")
        paths.append(path)
    return paths
