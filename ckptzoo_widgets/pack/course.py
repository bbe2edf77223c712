"""The course file (`course.toml`): which checkpoints a course pack holds.

```toml
title = "Deep learning 101, spring term"

[[checkpoint]]                      # a checkpoint of any zoo, by its ref (zoo defaults to "builtin")
ref = "digits-mlp@epoch-10"

[[checkpoint]]
zoo = "runs/"                       # any source string; a relative path is relative to this file
ref = "mnist-mlp@step-300"

[[checkpoint]]                      # a Hugging Face Hub repository at a branch, tag or commit
ref = "hf:EleutherAI/pythia-70m@step3000"
include = ["config.json", "*.safetensors", "tokenizer*"]     # optional: which files (default: all)

[[checkpoint]]                      # a torch.hub / torchvision weights file, by URL
url = "https://download.pytorch.org/models/resnet18-f37072fd.pth"
id = "resnet18"                     # optional: how the pack's zoo names it
architecture = "resnet18"           # optional, with `weights`: torchvision load code
weights = "IMAGENET1K_V1"
```

Every value is checked here (ids, revisions, URLs), so a typo stops the build
before anything is downloaded.
"""

from __future__ import annotations

import dataclasses
import fnmatch
import hashlib
import re
import sys
from pathlib import Path
from typing import Any

from .. import safety
from ..errors import ZooError
from ..text import one_line

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

_KEYS = {
    "zoo": {"zoo", "ref"},
    "hub": {"ref", "include"},
    "url": {"url", "sha256", "id", "name", "task", "architecture", "weights", "description"},
}
#: torch.hub's rule: a file named `<name>-<hex>.<ext>` must have a sha256 starting with <hex>
HASH_PREFIX = re.compile(r"-([a-f0-9]*)\.")


@dataclasses.dataclass(frozen=True)
class ZooItem:
    """`ref` of the zoo `zoo` (a source string)."""

    zoo: str
    ref: str

    @property
    def key(self) -> str:
        return self.ref if self.zoo == "builtin" else f"{self.zoo} {self.ref}"


@dataclasses.dataclass(frozen=True)
class HubItem:
    """A Hub repository at a revision (branch, tag or commit), optionally only some files."""

    repo: str
    revision: str
    include: tuple[str, ...] = ()

    @property
    def key(self) -> str:
        return f"hf:{self.repo}@{self.revision}"

    def wants(self, path: str) -> bool:
        return not self.include or any(fnmatch.fnmatch(path, pattern) for pattern in self.include)


@dataclasses.dataclass(frozen=True)
class UrlItem:
    """A weights file by URL, laid out for torch.hub (`$TORCH_HOME/hub/checkpoints/<name>`)."""

    url: str
    sha256: str | None = None
    id: str | None = None
    name: str | None = None
    task: str | None = None
    architecture: str | None = None
    weights: str | None = None
    description: str | None = None

    @property
    def key(self) -> str:
        return self.url

    @property
    def file_name(self) -> str:
        from ..cache import file_name_from_url

        return file_name_from_url(self.url)

    @property
    def model_id(self) -> str:
        if self.id:
            return self.id
        stem = self.file_name.split(".")[0]
        stem = HASH_PREFIX.sub(".", stem + ".").rstrip(".") or stem
        return re.sub(r"[^A-Za-z0-9._-]+", "-", stem).strip("-._") or "weights"


Item = ZooItem | HubItem | UrlItem


@dataclasses.dataclass(frozen=True)
class Course:
    title: str
    items: tuple[Item, ...]
    path: Path
    sha256: str  # of the course file, recorded in the pack


def _text(entry: dict[str, Any], key: str, where: str) -> str | None:
    value = entry.get(key)
    if value is None:
        return None
    if not isinstance(value, str) or not value.strip():
        raise ZooError(f"{where}: {key} must be a non-empty string")
    return value.strip()


def parse_item(entry: Any, where: str, base: Path) -> Item:
    """One `[[checkpoint]]` table -> an item; ZooError naming the entry when it is wrong."""
    if not isinstance(entry, dict):
        raise ZooError(f"{where}: expected a table")
    kind = "url" if "url" in entry else ("hub" if str(entry.get("ref", "")).startswith("hf:") else "zoo")
    unknown = sorted(set(entry) - _KEYS[kind])
    if unknown:
        raise ZooError(
            f"{where}: unknown key(s) {', '.join(unknown)}; a {kind} entry takes {', '.join(sorted(_KEYS[kind]))}"
        )
    try:
        if kind == "url":
            url = safety.check_url(_text(entry, "url", where) or "")
            from ..cache import normalise_sha

            sha = normalise_sha(_text(entry, "sha256", where))
            model_id = _text(entry, "id", where)
            weights = _text(entry, "weights", where)
            return UrlItem(
                url,
                sha,
                safety.check_model_id(model_id) if model_id else None,
                _text(entry, "name", where),
                _text(entry, "task", where),
                _text(entry, "architecture", where),
                safety.check_revision(weights) if weights else None,
                _text(entry, "description", where),
            )
        ref = _text(entry, "ref", where)
        if ref is None:
            raise ZooError(f"{where}: needs a ref (or a url)")
        if kind == "hub":
            repo, _, revision = ref.removeprefix("hf:").partition("@")
            include = entry.get("include", [])
            if not isinstance(include, list) or not all(isinstance(p, str) and p for p in include):
                raise ZooError(f"{where}: include must be a list of file patterns")
            return HubItem(safety.check_model_id(repo), safety.check_revision(revision or "main"), tuple(include))
        zoo = _text(entry, "zoo", where) or "builtin"
        if not re.match(r"^[a-z][a-z0-9+.-]*:", zoo) and zoo != "builtin" and not Path(zoo).is_absolute():
            zoo = str((base / zoo).resolve())  # a folder or file next to the course file
        from ..catalog.zoo import parse_ref

        parse_ref(ref)
        return ZooItem(zoo, ref)
    except ValueError as error:
        raise ZooError(f"{where}: {error}") from None


def read_course(path: str | Path) -> Course:
    """Read and check a course file."""
    path = Path(path)
    try:
        raw = path.read_bytes()
    except OSError as error:
        raise ZooError(f"cannot read the course file {path}: {error.strerror or error}") from None
    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as error:
        raise ZooError(f"{path}: not a TOML file ({one_line(error, 200)})") from None
    unknown = sorted(set(data) - {"title", "checkpoint"})
    if unknown:
        raise ZooError(f"{path}: unknown key(s) {', '.join(unknown)}; a course file has title and [[checkpoint]]")
    entries = data.get("checkpoint", [])
    if not isinstance(entries, list) or not entries:
        raise ZooError(f"{path}: no [[checkpoint]] entries")
    items: list[Item] = []
    seen: set[str] = set()
    for number, entry in enumerate(entries, 1):
        item = parse_item(entry, f"{path}: checkpoint {number}", path.resolve().parent)
        if item.key not in seen:
            seen.add(item.key)
            items.append(item)
    title = data.get("title", path.stem)
    if not isinstance(title, str):
        raise ZooError(f"{path}: title must be a string")
    return Course(one_line(title, 200), tuple(items), path, hashlib.sha256(raw).hexdigest())
