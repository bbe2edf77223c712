"""A run's step-named artifacts (`checkpoints/step10/`, `epoch=1-step=10.ckpt`) and its SHA256SUMS."""

from __future__ import annotations

import posixpath
import re
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote, urlsplit

from ... import safety
from ...errors import ZooError
from ...load_gates import ModelScan, card_line, scan_model_folder
from ...schema import WEIGHT_SUFFIXES
from .._budget import ListingBudgetSpent
from .._folder import Folder, ObjectFolder
from .._http import read_bounded
from .._parse import step_of
from .client import Connection, message

MAX_LISTINGS = 200  # artifact folders listed per run
MAX_DEPTH = 3  # artifact folders deep
MAX_SUMS_BYTES = 1 << 20


def checkpoint_name(path: str) -> str | None:
    """`checkpoints/step10` -> `step10`, `epoch=1-step=10.ckpt` -> `epoch-1-step-10`."""
    base = posixpath.basename(path)
    stem, suffix = posixpath.splitext(base)
    name = (stem if suffix.lower() in WEIGHT_SUFFIXES else base).replace("=", "-")
    try:
        return safety.check_checkpoint_name(name)
    except ValueError:
        step = step_of(base)
        return f"step-{step}" if step is not None else None


def local_folder(artifact_uri: str | None) -> str:
    """A run's artifact folder when it is on this machine (file store, local artifact root)."""
    if not artifact_uri:
        return ""
    if artifact_uri.startswith("file:"):
        return unquote(urlsplit(artifact_uri).path)
    return artifact_uri if artifact_uri.startswith("/") else ""


def artifacts(conn: Connection, run: Any) -> tuple[list[tuple[str, bool, int | None]], dict[str, str]]:
    """(path, is_dir, size) of artifacts that name a step, and the sha256 sums of SHA256SUMS."""
    found: list[tuple[str, bool, int | None]] = []
    sums: dict[str, str] = {}
    queue: list[tuple[str | None, int]] = [(None, 0)]
    listings = 0
    # One repository per run, from the artifact URI search_runs gave: the client's own
    # list_artifacts asks the server for the run again on every call.
    from mlflow.store.artifact.artifact_repository_registry import get_artifact_repository

    repository = get_artifact_repository(run.info.artifact_uri, tracking_uri=conn.spec.tracking_uri)
    while queue and listings < MAX_LISTINGS:
        folder, depth = queue.pop(0)
        listings += 1
        try:
            conn.budget.request()
        except ListingBudgetSpent as error:
            conn.spent(error)
            return found, sums
        for info in repository.list_artifacts(folder):
            base = posixpath.basename(info.path)
            if folder is None and base == "SHA256SUMS" and not info.is_dir:
                sums = read_sums(conn, run, repository, info.file_size)
            elif step_of(base) is not None and (info.is_dir or base.lower().endswith(WEIGHT_SUFFIXES)):
                found.append((info.path, info.is_dir, info.file_size))
            elif info.is_dir and depth + 1 < MAX_DEPTH:
                queue.append((info.path, depth + 1))
    if queue:
        conn.report(run.info.run_id, f"artifacts listed up to {MAX_LISTINGS} folders; the rest left out")
    return found, sums


def sums_bytes(conn: Connection, run: Any, repository: Any) -> bytes:
    """SHA256SUMS's bytes, cut at MAX_SUMS_BYTES while they arrive (ZooError past it), however it is stored.

    MLflow's own download writes a whole answer to a file before anyone could count it
    (a server that lists 64 bytes and streams without end fills the disk), so it is not used.
    """
    local_root = local_folder(run.info.artifact_uri)
    if local_root:
        # A local artifact store is a folder like any other zoo's: no link out of it,
        # no FIFO or device, a capped read.
        return Folder(local_root).read(Path(local_root, "SHA256SUMS"), MAX_SUMS_BYTES)
    artifact_uri = run.info.artifact_uri or ""
    if hasattr(repository, "_host_creds"):  # mlflow-artifacts: (through the tracking server) and http(s)
        from mlflow.utils.rest_utils import http_request

        endpoint = "/SHA256SUMS"
        conn.budget.check()
        # MLflow's request (its credentials, TLS settings, one retry), our read of the body.
        response = http_request(
            repository._host_creds,
            endpoint,
            "GET",
            stream=True,
            extra_headers={"Accept-Encoding": "gzip"},
            timeout=min(30.0, max(1.0, conn.budget.remaining())),
        )
        with response:
            if response.status_code != 200:
                raise ZooError(f"the server answered HTTP {response.status_code}")
            where = f"{repository._host_creds.host}{endpoint}"
            return read_bounded(
                response, where, limit=MAX_SUMS_BYTES, deadline=conn.budget.remaining(), budget=conn.budget
            )
    from ... import storage

    if storage.is_object_url(artifact_uri):
        folder = ObjectFolder(artifact_uri)
        return folder.read(folder.root / "SHA256SUMS", MAX_SUMS_BYTES)
    raise ZooError(f"artifacts at {artifact_uri.partition(':')[0][:20]!r} are not read by ckptzoo")


def read_sums(conn: Connection, run: Any, repository: Any, size: int | None) -> dict[str, str]:
    if size is not None and size > MAX_SUMS_BYTES:
        conn.report(run.info.run_id, "SHA256SUMS larger than 1 MiB; files left unverified")
        return {}
    try:
        text = sums_bytes(conn, run, repository).decode("utf-8", "replace")
    except ListingBudgetSpent as error:
        conn.spent(error)
        return {}
    except Exception as error:  # noqa: BLE001
        conn.report(run.info.run_id, f"SHA256SUMS unreadable ({message(error)}); files left unverified")
        return {}
    sums: dict[str, str] = {}
    for line in text.splitlines():
        digest, _, path = line.strip().partition(" ")
        path = path.strip().lstrip("*")
        if re.fullmatch(r"[0-9a-f]{64}", digest) and path:
            sums[path.removeprefix("./")] = digest
    return sums


def model_scan(conn: Connection, location: str | None) -> ModelScan | None:
    """The scan of a model kept on this machine (load_gates.scan_model_folder), else None (not read here)."""
    folder = local_folder(location) if conn.spec.tracking_uri.startswith(("file:", "sqlite:")) else ""
    return scan_model_folder(folder) if folder else None


def scan_notes(scans: dict[str, ModelScan | None]) -> list[str]:
    """Card lines: loading runs code, how it is gated, and each checkpoint's verdict."""
    if not scans:
        return []
    lines = [
        "",
        "**Loading runs code.** MLflow's loader unpickles these models' files and imports their code; "
        "the load code scans every pickle first (`cz.scanned_mlflow_model`) and refuses one that would "
        "import more than tensors unless told `trust=True`.",
        "",
    ]
    return lines + [f"- {name}: {card_line(scan)}" for name, scan in list(scans.items())[:100]]


def file_location(conn: Connection, run: Any, path: str) -> dict[str, Any]:
    """Where a verified file is: a path below the run's local artifact folder, or its HTTP URL."""
    artifact_uri = run.info.artifact_uri or ""
    if artifact_uri.startswith("mlflow-artifacts:") and conn.spec.tracking_uri.startswith("http"):
        # The tracking server proxies its artifact store at this REST path.
        rest = artifact_uri.removeprefix("mlflow-artifacts:").lstrip("/")
        url = f"{conn.spec.tracking_uri}/api/2.0/mlflow-artifacts/artifacts/{quote(rest)}/{quote(path)}"
        return {"url": url}
    return {"path": path}
