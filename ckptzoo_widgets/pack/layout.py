"""Where things live in a course pack, and the only code that writes into one.

```
<pack>/
├── pack.json                              the manifest: every file with its sha256 and size, every link,
│                                          what each course entry provides (written last: the pack is complete)
├── index.json                             the pack's own zoo: cz.browse("<pack>") shows the course's models
├── course.toml                            the course file it was built from
├── ckptzoo/                               our cache layout, read-only (CKPTZOO_PACK=<pack>)
│   ├── blobs/sha256/ab/<sha256>
│   ├── urls/<sha256 of the URL>.json      a URL a zoo names -> its blob (cz.fetch(url) is served here)
│   └── views/<zoo>/<model>/<ckpt>/<file>  -> ../../../../blobs/sha256/…
├── hf/                                    the Hugging Face Hub cache layout (HF_HUB_CACHE=<pack>/hf)
│   └── models--<org>--<name>/blobs/<etag>, snapshots/<commit>/<file> -> ../../blobs/<etag>, refs/<branch>
└── torch/hub/checkpoints/<file>           torch.hub's folder (TORCH_HOME=<pack>/torch)
```

Only `pack build` writes here, as the teacher: each file under a temporary name in its
own folder, then moved into place, with modes that let every user read (files 0644,
folders 0755) whatever the teacher's umask. Students never write: no lock, no
temporary file, no record.
"""

from __future__ import annotations

import json
import os
import pathlib
import shutil
import stat
from typing import Any

from ..cache import atomic_write
from ..errors import ZooError

MANIFEST = "pack.json"
INDEX = "index.json"
COURSE = "course.toml"
OURS = "ckptzoo"  # the read-only layer of our cache layout
HF = "hf"
TORCH = "torch"
TORCH_CHECKPOINTS = "torch/hub/checkpoints"
TOP = (MANIFEST, INDEX, COURSE, OURS, HF, TORCH)
FORMAT = 1
FILE_MODE = 0o644
DIR_MODE = 0o755


def hf_repo_folder(repo: str) -> str:
    """huggingface_hub's folder name of a model repository: `models--org--name`."""
    return "models--" + repo.replace("/", "--")


def read_manifest(pack: pathlib.Path) -> dict[str, Any] | None:
    """The pack's manifest, or None when there is none (not a pack, or never finished)."""
    try:
        data = json.loads((pack / MANIFEST).read_text("utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(data, dict) or data.get("ckptzoo_pack") != FORMAT:
        return None
    for key in ("files", "links", "entries"):
        if not isinstance(data.get(key), (dict if key != "entries" else list)):
            return None
    return data


def _mkdirs(pack: pathlib.Path, folder: pathlib.Path) -> None:
    """Create ``folder`` (inside the pack) and its missing parents, each readable by all."""
    missing = []
    here = folder
    while not here.exists() and here != pack.parent:
        missing.append(here)
        here = here.parent
    for path in reversed(missing):
        try:
            path.mkdir()
        except FileExistsError:
            pass
        os.chmod(path, DIR_MODE)


def place_file(pack: pathlib.Path, rel: str, source: pathlib.Path, *, link: bool = False) -> None:
    """Put a verified file at ``pack/rel``, readable by all, atomically: with ``link`` (a blob of
    the teacher's download cache, which nothing rewrites in place) a hard link on the same file
    system, so a large checkpoint is not stored twice; else, and always for the teacher's own
    files (a zoo folder, a package), a copy: the pack never shares an inode with them."""
    dest = pack / rel
    _mkdirs(pack, dest.parent)
    try:
        with atomic_write(dest) as tmp:
            linked = False
            if link:
                try:
                    os.link(source, tmp)
                    linked = True
                except OSError:
                    pass
            if not linked:
                shutil.copyfile(source, tmp)
            if linked and stat.S_IMODE(os.stat(tmp).st_mode) & 0o444 != 0o444:
                # the teacher's cache file is shared with the pack: make it readable, do not narrow it
                os.chmod(tmp, stat.S_IMODE(os.stat(tmp).st_mode) | 0o444)
            elif not linked:
                os.chmod(tmp, FILE_MODE)
    except OSError as error:
        raise ZooError(f"cannot write {dest}: {error.strerror or error}") from None


def place_bytes(pack: pathlib.Path, rel: str, data: bytes) -> None:
    """Write a small file (manifest, index, Hub ref) atomically, readable by all."""
    dest = pack / rel
    _mkdirs(pack, dest.parent)
    try:
        with atomic_write(dest) as tmp:
            with open(tmp, "wb") as f:
                f.write(data)
            os.chmod(tmp, FILE_MODE)
    except OSError as error:
        raise ZooError(f"cannot write {dest}: {error.strerror or error}") from None


def place_link(pack: pathlib.Path, rel: str, target_rel: str) -> None:
    """A relative symlink at ``pack/rel`` to ``pack/target_rel`` (the layout huggingface_hub
    and our views use), replaced atomically when it points elsewhere."""
    dest = pack / rel
    target = os.path.relpath(pack / target_rel, dest.parent)
    if dest.is_symlink() and os.readlink(dest) == target:
        return
    _mkdirs(pack, dest.parent)
    try:
        with atomic_write(dest) as tmp:
            os.symlink(target, tmp)
    except OSError as error:
        raise ZooError(f"cannot link {dest}: {error.strerror or error}") from None


def link_target(pack: pathlib.Path, rel: str) -> str:
    """What the link at ``rel`` points at, relative to the pack (how the manifest lists it)."""
    dest = pack / rel
    return os.path.normpath(os.path.join(os.path.dirname(rel), os.readlink(dest))).replace(os.sep, "/")


def _unlink(path: pathlib.Path) -> None:
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass


def walk(pack: pathlib.Path) -> tuple[list[str], list[str]]:
    """(files, links) under the pack's own folders, as POSIX paths relative to the pack."""
    files, links = [], []
    for top in TOP:
        base = pack / top
        if base.is_symlink():
            links.append(top)
            continue
        if base.is_file():
            files.append(top)
            continue
        for dirpath, dirnames, filenames in os.walk(base):
            dirnames.sort()
            for name in sorted(filenames) + sorted(d for d in dirnames if os.path.islink(os.path.join(dirpath, d))):
                rel = pathlib.Path(dirpath, name).relative_to(pack).as_posix()
                (links if os.path.islink(os.path.join(dirpath, name)) else files).append(rel)
    return files, links


def remove(pack: pathlib.Path, rel: str) -> None:
    """Remove a file or link the new manifest no longer lists, and folders left empty."""
    path = pack / rel
    _unlink(path)
    parent = path.parent
    while parent != pack and parent.is_dir():
        try:
            parent.rmdir()
        except OSError:
            break
        parent = parent.parent
