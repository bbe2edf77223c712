"""`ckptzoo pack verify`: hash every file of a course pack again, check every link and mode.

Reads only; the fix for anything it finds is `ckptzoo pack build` (which fetches
only what is missing or damaged).
"""

from __future__ import annotations

import dataclasses
import os
import pathlib
import stat
from typing import Any

from .. import cache
from ..errors import ZooError
from . import layout


@dataclasses.dataclass
class Finding:
    path: str  # relative to the pack
    problem: str
    damage: bool  # False: left over (an unfinished build), harmless to students


@dataclasses.dataclass
class VerifyReport:
    pack: pathlib.Path
    files: int
    bytes: int
    findings: list[Finding]

    @property
    def damaged(self) -> list[Finding]:
        return [f for f in self.findings if f.damage]


def manifest_or_fail(pack: pathlib.Path) -> dict[str, Any]:
    manifest = layout.read_manifest(pack)
    if manifest is None:
        raise ZooError(
            f"{pack}: not a course pack (no readable {layout.MANIFEST}); build it with "
            f"`ckptzoo pack build COURSE.toml -o {pack}`"
        )
    return manifest


def _readable_by_all(path: pathlib.Path, folder: bool) -> bool:
    mode = stat.S_IMODE(path.stat().st_mode)
    need = 0o005 if folder else 0o004
    return mode & need == need


def verify_pack(pack: str | os.PathLike[str], *, hash_files: bool = True) -> VerifyReport:
    """Every listed file present, of its size and sha256, readable by every user; every link
    pointing where it should; anything else reported as left over."""
    root = pathlib.Path(pack).expanduser().absolute()
    manifest = manifest_or_fail(root)
    findings: list[Finding] = []
    total = 0
    for rel, want in sorted(manifest["files"].items()):
        path = root / rel
        try:
            st = path.lstat()
        except FileNotFoundError:
            findings.append(Finding(rel, "missing", True))
            continue
        if not stat.S_ISREG(st.st_mode):
            findings.append(Finding(rel, "not a regular file", True))
            continue
        if st.st_size != want.get("size"):
            findings.append(Finding(rel, f"{st.st_size} bytes, expected {want.get('size')}", True))
            continue
        total += st.st_size
        if not _readable_by_all(path, False):
            findings.append(Finding(rel, f"not readable by every user (mode {stat.S_IMODE(st.st_mode):o})", True))
        if hash_files:
            got = cache.hash_file(path)
            if got != want.get("sha256"):
                findings.append(Finding(rel, f"sha256 {got}, expected {want.get('sha256')}", True))
    for rel, target in sorted(manifest["links"].items()):
        path = root / rel
        if not path.is_symlink():
            findings.append(Finding(rel, "link missing", True))
        elif layout.link_target(root, rel) != target:
            findings.append(Finding(rel, f"points at {layout.link_target(root, rel)}, expected {target}", True))
    folders = {root} | {p for rel in manifest["files"] for p in (root / rel).parents if root in p.parents}
    for folder in sorted(folders):
        if folder.is_dir() and not _readable_by_all(folder, True):
            findings.append(Finding(folder.relative_to(root).as_posix() or ".", "folder not open to every user", True))
    on_disk, disk_links = layout.walk(root)
    listed = set(manifest["files"]) | set(manifest["links"]) | {layout.MANIFEST}
    for rel in on_disk + disk_links:
        if rel not in listed:
            what = (
                "temporary file of an interrupted build" if cache.is_temporary(rel.rsplit("/", 1)[-1]) else "not listed"
            )
            findings.append(Finding(rel, what, False))
    return VerifyReport(root, len(manifest["files"]), total, findings)
