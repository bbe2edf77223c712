"""A Hub repository at a revision, resolved to a commit and its files (huggingface_hub's API).

The pack lays the files out as huggingface_hub's own cache does, so that
`from_pretrained(repo, revision=...)`, `hf_hub_download` and `timm` find them with
`HF_HUB_CACHE=<pack>/hf` and `HF_HUB_OFFLINE=1`:

    models--<org>--<name>/blobs/<etag>                 the bytes; <etag>: the sha256 of an LFS file,
                                                      else the git blob id (what the Hub's ETag says)
    models--<org>--<name>/snapshots/<commit>/<path>    -> ../../blobs/<etag>
    models--<org>--<name>/refs/<branch>                the commit the branch pointed at when packed
"""

from __future__ import annotations

import dataclasses
import hashlib
import pathlib
import re
from typing import Any
from urllib.parse import quote

from .. import safety
from ..errors import IntegrityError, MissingExtraError, ZooError
from ..text import one_line
from .course import HubItem
from .layout import HF, hf_repo_folder

_SHA1 = re.compile(r"[0-9a-f]{40}")
_SHA256 = re.compile(r"[0-9a-f]{64}")


@dataclasses.dataclass(frozen=True)
class HubFile:
    path: str  # inside the repository
    size: int
    blob_id: str  # git blob sha1
    sha256: str | None  # from the LFS pointer, when the file is in LFS

    @property
    def etag(self) -> str:
        return self.sha256 or self.blob_id


@dataclasses.dataclass(frozen=True)
class HubSnapshot:
    item: HubItem
    commit: str
    files: tuple[HubFile, ...]
    library: str | None
    task: str | None

    @property
    def folder(self) -> str:
        return f"{HF}/{hf_repo_folder(self.item.repo)}"

    def blob_rel(self, file: HubFile) -> str:
        return f"{self.folder}/blobs/{file.etag}"

    def snapshot_rel(self, file: HubFile) -> str:
        return f"{self.folder}/snapshots/{self.commit}/{file.path}"

    def ref_rel(self) -> str | None:
        """The refs/<branch> file, unless the revision is the commit itself."""
        return None if self.item.revision == self.commit else f"{self.folder}/refs/{self.item.revision}"

    def url(self, endpoint: str, file: HubFile) -> str:
        """The file at the commit (never at the branch: a moved branch cannot change what is fetched)."""
        return f"{endpoint}/{self.item.repo}/resolve/{self.commit}/{quote(file.path)}"


def _api(endpoint: str) -> Any:
    try:
        from huggingface_hub import HfApi
    except ImportError:
        raise MissingExtraError(
            "packing a Hub repository needs huggingface_hub: pip install 'ckptzoo-widgets[hf]'"
        ) from None
    return HfApi(endpoint=endpoint)


def _hub_errors() -> tuple[type[BaseException], ...]:
    from huggingface_hub.errors import HfHubHTTPError

    errors: list[type[BaseException]] = [HfHubHTTPError, OSError, ValueError]
    try:
        import httpx

        errors.append(httpx.HTTPError)
    except ImportError:  # older huggingface_hub: requests (its errors are OSErrors)
        pass
    return tuple(errors)


def resolve(item: HubItem, endpoint: str) -> HubSnapshot:
    """The commit the revision names now and the files it holds (those `include` keeps)."""
    try:
        info = _api(endpoint).model_info(item.repo, revision=item.revision, files_metadata=True)
    except _hub_errors() as error:
        raise ZooError(f"hf:{item.repo}@{item.revision}: {one_line(error, 300)}") from None
    commit = getattr(info, "sha", None)
    if not isinstance(commit, str) or not _SHA1.fullmatch(commit):
        raise ZooError(f"hf:{item.repo}@{item.revision}: the Hub gave no commit for this revision")
    files = []
    for sibling in getattr(info, "siblings", None) or []:
        path = getattr(sibling, "rfilename", None)
        if not isinstance(path, str) or not item.wants(path):
            continue
        try:
            safety.check_relative_path(path)
            if ".." in path.split("/"):
                raise ValueError(f"{path!r} climbs out of the repository")
        except ValueError as error:
            raise ZooError(f"hf:{item.repo}@{item.revision}: {one_line(error)}") from None
        lfs = getattr(sibling, "lfs", None)
        sha = getattr(lfs, "sha256", None) if lfs is not None else None
        blob_id = getattr(sibling, "blob_id", None)
        size = getattr(sibling, "size", None)
        if not isinstance(blob_id, str) or not _SHA1.fullmatch(blob_id) or not isinstance(size, int):
            raise ZooError(f"hf:{item.repo}@{item.revision}: no blob id or size for {path!r} in the Hub's answer")
        if sha is not None and not (isinstance(sha, str) and _SHA256.fullmatch(sha)):
            raise ZooError(f"hf:{item.repo}@{item.revision}: bad LFS sha256 for {path!r}")
        files.append(HubFile(path, size, blob_id, sha))
    if not files:
        raise ZooError(f"hf:{item.repo}@{item.revision}: no files to pack (check include)")
    library = getattr(info, "library_name", None)
    task = getattr(info, "pipeline_tag", None)
    return HubSnapshot(
        item,
        commit,
        tuple(files),
        library if isinstance(library, str) else None,
        task if isinstance(task, str) else None,
    )


def git_blob_id(path: pathlib.Path) -> str:
    """git's id of a file's content (what the Hub lists for a file outside LFS)."""
    size = path.stat().st_size
    h = hashlib.sha1(b"blob %d\0" % size)  # noqa: S324 - git's content address, not a security hash
    with open(path, "rb") as f:
        while chunk := f.read(1 << 20):
            h.update(chunk)
    return h.hexdigest()


def check_blob_id(path: pathlib.Path, file: HubFile, shown: str) -> None:
    got = git_blob_id(path)
    if got != file.blob_id:
        raise IntegrityError(f"git blob id mismatch for {shown}: the Hub lists {file.blob_id}, the file has {got}")
