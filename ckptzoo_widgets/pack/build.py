"""`ckptzoo pack build course.toml -o PACK`: every checkpoint of a course, once, verified, in place.

Three phases, so that a failure leaves the pack as it was:

1. **resolve and fetch** every entry into the teacher's own cache (the downloader: verified
   by sha256, resumed after an interruption, one transfer per content however many entries
   share it, locks and partial files in the teacher's cache, never in the pack). A file the
   pack already holds is not fetched again; a Hub branch is asked which commit it is at.
2. **place** the files in the pack (a hard link from the teacher's cache, else a copy), the
   links (our views, huggingface_hub's snapshots) and the Hub refs.
3. **describe**: the pack's zoo index, the course file, then the manifest (written last), and
   only then remove what the previous build held and this one does not (describe.py).
"""

from __future__ import annotations

import dataclasses
import json
import os
import pathlib
import stat
from typing import Any

from .. import cache
from ..errors import IntegrityError, ZooError
from ..fetch.api import download_locked
from ..fetch.settings import Settings
from ..humanize import human_bytes
from . import layout
from .course import HASH_PREFIX, Course, HubItem, UrlItem, ZooItem, read_course
from .describe import Planned, describe, hub_entry, model_entry
from .hub import check_blob_id, resolve


@dataclasses.dataclass
class BuildReport:
    pack: pathlib.Path
    entries: list[Planned]
    fetched_files: int
    fetched_bytes: int
    removed: list[str]

    @property
    def total_bytes(self) -> int:
        return sum(p.size for p in self.entries)


class _Builder:
    def __init__(self, course: Course, pack: pathlib.Path, settings: Settings, endpoint: str | None):
        self.course, self.pack, self.s = course, pack, settings
        self.endpoint = endpoint
        self.old = layout.read_manifest(pack) or {"files": {}, "links": {}, "entries": []}
        self.old_urls: dict[str, str] = {}
        for entry in self.old["entries"]:
            for url, sha in (entry.get("urls") or {}).items():
                self.old_urls[url] = sha
        self.fetched_files = 0
        self.fetched_bytes = 0
        self._zoos: dict[str, Any] = {}

    # --- helpers ------------------------------------------------------------------------------
    def _in_pack(self, rel: str, sha: str | None, size: int | None) -> bool:
        """The pack already holds this content at ``rel``: listed by the previous build, of the
        right size and, hashed again, the right sha256 (a damaged file is placed anew)."""
        listed = self.old["files"].get(rel)
        if not isinstance(listed, dict) or (sha is not None and listed.get("sha256") != sha):
            return False
        path = self.pack / rel
        try:
            st = path.lstat()
        except OSError:
            return False
        if not stat.S_ISREG(st.st_mode) or st.st_size != listed.get("size"):
            return False
        if size is not None and st.st_size != size:
            return False
        return cache.hash_file(path) == listed.get("sha256")

    def _fetch(self, url: str, sha: str | None, size: int | None) -> pathlib.Path:
        """A verified blob of the teacher's cache (downloaded now unless it is there intact)."""
        hit = cache.cached_blob(self.s.root, url, sha, size)
        if hit is not None and cache.hash_file(hit) != hit.name:  # it goes into the pack: hashed again
            hit.unlink()
            hit = None
        if hit is None:
            hit = download_locked(url, sha, size, self.s)
            self.fetched_files += 1
            self.fetched_bytes += hit.stat().st_size
        return hit

    def _zoo(self, source: str) -> Any:
        from ..catalog import open_zoo

        if source not in self._zoos:
            self._zoos[source] = open_zoo(source)
        return self._zoos[source]

    def _our_blob(self, planned: Planned, sha: str, size: int, source: pathlib.Path | None) -> str:
        rel = cache.blob_path(pathlib.Path(layout.OURS), sha).as_posix()
        planned.files[rel] = (sha, size, None if self._in_pack(rel, sha, size) else source)
        return rel

    # --- entries ------------------------------------------------------------------------------
    def plan_zoo(self, item: ZooItem) -> Planned:
        from ..catalog.ids import slug
        from ..catalog.zoo import BUILTIN

        zoo = self._zoo(item.zoo)
        model, checkpoint = zoo.resolve(item.ref)
        if not checkpoint.files:
            raise ZooError(f"{item.ref}: the zoo lists no files for this checkpoint; nothing to pack")
        exact = f"{model.id}@{checkpoint.name}"
        provides = [exact] + ([model.id] if model.checkpoint().name == checkpoint.name else [])
        planned = Planned(item.key, "zoo", exact if item.zoo == BUILTIN else f"{exact} ({item.zoo})", provides)
        label = slug(model.source or BUILTIN)
        files = []
        urls: dict[str, str] = {}
        for file in checkpoint.files:
            location = model.locate(file)
            if safety_is_remote(location):
                rel_sha = file.sha256 or self.old_urls.get(location)
                pre = cache.blob_path(pathlib.Path(layout.OURS), rel_sha).as_posix() if rel_sha else None
                if rel_sha is not None and pre is not None and self._in_pack(pre, rel_sha, file.size):
                    sha, size, source = rel_sha, int(self.old["files"][pre]["size"]), None
                else:
                    source = self._fetch(location, file.sha256, file.size)
                    sha, size = source.name, source.stat().st_size
                urls[location] = sha
                planned.texts[cache.url_record_path(pathlib.Path(layout.OURS), location).as_posix()] = json.dumps(
                    {"url": location, "sha256": sha, "size": size}, sort_keys=True
                ).encode()
                planned.provides.append(location)
            else:
                source = pathlib.Path(location)
                try:
                    size = source.stat().st_size
                    sha = cache.hash_file(source)
                except OSError as error:
                    raise ZooError(f"{exact}: cannot read {location}: {error.strerror or error}") from None
                if file.sha256 is not None and sha != file.sha256:
                    raise IntegrityError(f"sha256 mismatch for {location}: the index says {file.sha256}, got {sha}")
                if file.size is not None and size != file.size:
                    raise IntegrityError(f"size mismatch for {location}: the index says {file.size}, got {size}")
            blob = self._our_blob(planned, sha, size, source)
            view = pathlib.Path(layout.OURS, "views", label, *model.id.split("/"), checkpoint.name, file.name)
            planned.links[view.as_posix()] = blob
            files.append({"path": view.as_posix(), "sha256": sha, "size": size, "format": file.format})
            planned.provides.append(sha)
        planned.model = model_entry(model, checkpoint, files)
        planned.urls = urls
        return planned

    def plan_hub(self, item: HubItem) -> Planned:
        from ..sources.hub import endpoint

        base = (self.endpoint or endpoint()).rstrip("/")
        snap = resolve(item, base)
        planned = Planned(
            item.key,
            "hub",
            f"hf:{item.repo}@{item.revision}" + ("" if item.revision == snap.commit else f" ({snap.commit[:12]})"),
            [f"{item.repo}@{item.revision}", f"{item.repo}@{snap.commit}"]
            + ([item.repo] if item.revision == "main" else []),
        )
        files = []
        for file in snap.files:
            blob_rel = snap.blob_rel(file)
            listed = self.old["files"].get(blob_rel)
            if self._in_pack(blob_rel, file.sha256, file.size) and isinstance(listed, dict):
                sha, source = str(listed["sha256"]), None
            else:
                url = snap.url(base, file)
                source = self._fetch(url, file.sha256, file.size)
                if file.sha256 is None:
                    check_blob_id(source, file, url)
                sha = source.name
            planned.files[blob_rel] = (sha, file.size, source)
            planned.links[snap.snapshot_rel(file)] = blob_rel
            planned.provides.append(sha)
            if file.path.lower().endswith(WEIGHT_SUFFIXES):
                files.append({"path": snap.snapshot_rel(file), "sha256": sha, "size": file.size})
        ref = snap.ref_rel()
        if ref is not None:
            planned.texts[ref] = snap.commit.encode()
        planned.model = hub_entry(snap, files, self._hub_model(item.repo))
        return planned

    def _hub_model(self, repo: str) -> dict[str, Any] | None:
        """The repository's card, metrics and branches as our Hub source reads them (None when it cannot)."""
        try:
            model = self._zoo(f"hf:{repo}").model(repo)
        except ZooError:
            return None
        return model.model_dump(mode="json", exclude_none=True)

    def plan_url(self, item: UrlItem) -> Planned:
        name = item.file_name
        rel = f"{layout.TORCH_CHECKPOINTS}/{name}"
        sha = item.sha256 or self.old_urls.get(item.url)
        listed = self.old["files"].get(rel)
        if sha is not None and isinstance(listed, dict) and self._in_pack(rel, sha, None):
            size, source = int(listed["size"]), None
        else:
            source = self._fetch(item.url, item.sha256, None)
            sha, size = source.name, source.stat().st_size
        prefix = HASH_PREFIX.search(name)
        if prefix and not sha.startswith(prefix.group(1)):
            raise IntegrityError(
                f"{item.url}: the name says sha256 {prefix.group(1)}…, the file is {sha}; torch.hub would refuse it"
            )
        provides = [item.url, name, sha, item.model_id]
        if item.architecture and item.weights:
            provides.append(f"{item.architecture}@{item.weights}")
        planned = Planned(item.key, "url", f"{item.model_id} ({name})", provides)
        planned.files[rel] = (sha, size, source)
        planned.urls = {item.url: sha}
        checkpoint: dict[str, Any] = {
            "name": item.weights or "weights",
            "files": [{"path": rel, "sha256": sha, "size": size}],
        }
        model: dict[str, Any] = {"id": item.model_id, "checkpoints": [checkpoint], "framework": "pytorch"}
        if item.architecture and item.weights:
            model.update(library="torchvision", architecture=item.architecture)
            checkpoint["revision"] = item.weights
        for key in ("name", "task", "description"):
            if getattr(item, key):
                model[key] = getattr(item, key)
        model.setdefault("description", f"Weights file `{name}`, packed from {item.url}.")
        planned.model = model
        return planned

    # --- the build ----------------------------------------------------------------------------
    def plan(self) -> list[Planned]:
        out = []
        for item in self.course.items:
            if isinstance(item, ZooItem):
                out.append(self.plan_zoo(item))
            elif isinstance(item, HubItem):
                out.append(self.plan_hub(item))
            else:
                out.append(self.plan_url(item))
        return out

    def place(self, plans: list[Planned]) -> None:
        for planned in plans:
            for rel, (_, _, source) in planned.files.items():
                if source is not None:
                    from_cache = source.is_relative_to(self.s.root / "blobs")
                    layout.place_file(self.pack, rel, source, link=from_cache)
            for rel, data in planned.texts.items():
                path = self.pack / rel
                if not (path.is_file() and path.read_bytes() == data):
                    layout.place_bytes(self.pack, rel, data)
            for rel, target in planned.links.items():
                layout.place_link(self.pack, rel, target)


def safety_is_remote(location: str) -> bool:
    from .. import storage

    return location.startswith(("http://", "https://")) or storage.is_object_url(location)


WEIGHT_SUFFIXES: tuple[str, ...] = (".safetensors", ".bin", ".pt", ".pth", ".ckpt", ".onnx", ".h5", ".keras", ".gguf")


def _check_out(pack: pathlib.Path) -> None:
    """Refuse to build into a folder that holds something else (the build removes what it does not list)."""
    if pack.exists() and not pack.is_dir():
        raise ZooError(f"{pack}: not a folder")
    if pack.is_dir() and layout.read_manifest(pack) is None:
        others = sorted(p.name for p in pack.iterdir() if p.name not in layout.TOP)
        if others:
            raise ZooError(
                f"{pack} is not empty and not a course pack ({', '.join(others[:3])} ...); choose an empty folder"
            )


def build_pack(
    course_file: str | os.PathLike[str],
    out: str | os.PathLike[str],
    *,
    cache_dir: str | os.PathLike[str] | None = None,
    endpoint: str | None = None,
    quiet: bool | None = None,
) -> BuildReport:
    """Build (or bring up to date) the course pack ``out`` from a course file.

    Downloads go through the teacher's cache (``cache_dir``, default ``CKPTZOO_CACHE`` or the
    user cache) so that they are verified, resumable and shared; ``endpoint`` is the Hub's
    (default ``HF_ENDPOINT``).
    """
    from filelock import FileLock

    course = read_course(pathlib.Path(course_file))
    pack = pathlib.Path(out).expanduser().absolute()
    _check_out(pack)
    settings = Settings.from_env(quiet=quiet, offline=False, timeout=None)
    if cache_dir is not None:
        settings = dataclasses.replace(settings, root=pathlib.Path(cache_dir).expanduser())
    root = settings.root
    for sub in cache.DOWNLOAD_FOLDERS:
        (root / sub).mkdir(parents=True, exist_ok=True)
    # one build of a pack at a time; the lock lives in the teacher's cache, never in the pack
    lock = FileLock(str(cache.lock_path(root, "pack-" + cache.url_key(str(pack))[:32])))
    with lock:
        builder = _Builder(course, pack, settings, endpoint)
        plans = builder.plan()  # phase 1: nothing is written in the pack before every file is verified
        if not pack.exists():
            pack.mkdir(parents=True)
            os.chmod(pack, layout.DIR_MODE)
        builder.place(plans)
        removed = describe(pack, course, plans)  # phase 3
    return BuildReport(pack, plans, builder.fetched_files, builder.fetched_bytes, removed)


def summary(report: BuildReport) -> str:
    lines = [f"course pack {report.pack}: {len(report.entries)} checkpoints, {human_bytes(report.total_bytes)}"]
    for planned in report.entries:
        lines.append(f"  {planned.kind:<4} {human_bytes(planned.size):>10}  {planned.label}")
    lines.append(
        f"fetched {report.fetched_files} file(s), {human_bytes(report.fetched_bytes)}"
        + (f"; removed {len(report.removed)} no longer listed" if report.removed else "")
    )
    return "\n".join(lines)


__all__ = ["BuildReport", "build_pack", "summary"]
