"""Course packs: a teacher stages a course's checkpoints once; a class loads them read-only, offline.

    ckptzoo pack build course.toml -o /srv/course-pack     (build.py: fetch, verify, lay out, index)
    ckptzoo pack verify /srv/course-pack                   (verify.py: hash everything again)
    ckptzoo pack status [--notebooks DIR]                  (status.py: what is staged, what a lab lacks)

A student's kernel reads the pack through the environment the JupyterHub spawner sets
(docs/classroom.md): ``CKPTZOO_PACK`` (``cache.pack_blob``: our files, consulted by ``fetch``
before the user's own cache), ``HF_HUB_CACHE=<pack>/hf`` with ``HF_HUB_OFFLINE=1`` (the Hub's
cache layout, for ``from_pretrained``), ``TORCH_HOME=<pack>/torch`` (torch.hub's checkpoints).
Modules: ``course`` (the course file), ``layout`` (the pack's folders; the only writer),
``hub`` (a Hub revision resolved to a commit and files), ``describe`` (the pack's index and
manifest, written last by a build).
"""

from __future__ import annotations

import os
import pathlib

from .build import BuildReport, build_pack
from .course import Course, read_course
from .status import Status, pack_status, scan_notebooks
from .verify import VerifyReport, verify_pack


def environment(pack: str | os.PathLike[str]) -> dict[str, str]:
    """The environment a student's kernel needs to load the pack's checkpoints with no network."""
    root = pathlib.Path(pack).expanduser().absolute()
    return {
        "CKPTZOO_PACK": str(root),
        "HF_HUB_CACHE": str(root / "hf"),
        "HF_HUB_OFFLINE": "1",
        "TORCH_HOME": str(root / "torch"),
    }


__all__ = [
    "BuildReport",
    "Course",
    "Status",
    "VerifyReport",
    "build_pack",
    "environment",
    "pack_status",
    "read_course",
    "scan_notebooks",
    "verify_pack",
]
