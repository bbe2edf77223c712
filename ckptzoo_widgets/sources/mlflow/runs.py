"""One run as a model: its metric histories, and checkpoints from logged models and step-named artifacts."""

from __future__ import annotations

import datetime as dt
import json
import posixpath
import re
from dataclasses import dataclass, field
from typing import Any

from ... import safety
from ...load_gates import ModelScan
from ...metrics import headline_metric as headline  # one rule for every source (metrics.py)
from .._budget import MAX_HISTORY_POINTS
from .._parse import epoch_of, step_of
from ..base import checkpoint_data
from ..tensorboard import Curve, Scalars
from .artifacts import artifacts, checkpoint_name, file_location, local_folder, model_scan, scan_notes
from .client import Connection

HISTORY_PAGE = 25_000  # points asked for per page (MLflow's own page size)


@dataclass
class Ckpt:
    name: str
    step: int | None
    epoch: float | None
    uri: str
    metrics: dict[str, float] = field(default_factory=dict)
    files: list[dict[str, Any]] = field(default_factory=list)
    notes: str | None = None
    model_id: str | None = None  # the logged model behind it


def iso(millis: Any) -> str | None:
    if not isinstance(millis, int) or millis <= 0:
        return None
    return dt.datetime.fromtimestamp(millis / 1000, dt.timezone.utc).isoformat(timespec="seconds")


@dataclass
class RunModel:
    data: dict[str, Any]  # the model entry
    checkpoints: list[Ckpt]
    base: str  # the run's local artifact folder ("" when remote)


def metric_history(conn: Connection, run_id: str, key: str) -> list[Any]:
    """One metric's history, page by page within the open's budget, at most MAX_HISTORY_POINTS points."""
    store = conn.client._tracking_client.store  # the client's own loop pages without end

    def fetch(token: str | None) -> tuple[list[Any], str | None]:
        page = store.get_metric_history(run_id=run_id, metric_key=key, max_results=HISTORY_PAGE, page_token=token)
        conn.budget.charge_points(len(page))
        return list(page), getattr(page, "token", None)

    history = conn.listing(f"{run_id} metric {key[:60]!r}", fetch, limit=MAX_HISTORY_POINTS)
    if len(history) >= MAX_HISTORY_POINTS:
        conn.report(run_id, f"metric {key[:60]!r}: history cut at {MAX_HISTORY_POINTS:,} points")
    return history


def histories(conn: Connection, run: Any) -> Scalars:
    curves: dict[str, Curve] = {}
    for key in sorted(run.data.metrics):
        try:
            safety.check_metric_name(key)
        except ValueError:
            conn.report(run.info.run_id, f"metric {key[:60]!r} breaks the metric-name rules; left out")
            continue
        points = {int(m.step): float(m.value) for m in metric_history(conn, run.info.run_id, key)}
        curves[key] = sorted((s, v) for s, v in points.items() if s >= 0 and v == v and abs(v) != float("inf"))
    return Scalars(curves)


def run_model(conn: Connection, run: Any, logged: list[Any], experiment: str, model_id: str) -> RunModel | None:
    run_id = run.info.run_id
    scalars = histories(conn, run)
    checkpoints: dict[str, Ckpt] = {}
    scans: dict[str, ModelScan | None] = {}  # logged models: what loading them would run
    _logged_checkpoints(conn, run, logged, scalars, checkpoints, scans)
    _artifact_checkpoints(conn, run, scalars, checkpoints)
    if not checkpoints:
        return None
    ordered = sorted(checkpoints.values(), key=lambda c: (c.step is None, c.step or 0, c.name))
    params = dict(sorted(run.data.params.items()))
    user_tags = {k: v for k, v in sorted(run.data.tags.items()) if not k.startswith("mlflow.")}
    status = (run.info.status or "").lower()
    lines = [
        f"MLflow run **{run.info.run_name or run_id}** (`{run_id}`) in experiment *{experiment}*, status {status}.",
        "",
    ]
    if params:
        lines += ["| parameter | value |", "| --- | --- |"]
        lines += [f"| {k[:100]} | {str(v)[:200]} |".replace("\n", " ") for k, v in list(params.items())[:100]]
    lines += scan_notes({name: scans[name] for name in checkpoints if name in scans})
    frameworks = logged_flavors(run)
    data: dict[str, Any] = {
        "id": model_id,
        "name": (run.info.run_name or run_id)[:200],
        "library": "mlflow",
        "framework": "pytorch" if "pytorch" in frameworks else None,
        "tags": ["mlflow", status, f"experiment:{experiment}"[:200]]
        + [f"{k}={v}"[:200] for k, v in list(user_tags.items())[:20]],
        "description": "\n".join(lines) + "\n",
        "metrics": {k: v for k, v in run.data.metrics.items() if k in scalars.curves},
        "headline_metric": headline(scalars.curves),
        "created": iso(run.info.start_time),
        "updated": iso(run.info.end_time),
        "curves": scalars.thinned(),
        "checkpoints": [checkpoint_data(c) for c in ordered],
    }
    return RunModel({k: v for k, v in data.items() if v is not None}, ordered, local_folder(run.info.artifact_uri))


def _logged_checkpoints(
    conn: Connection,
    run: Any,
    logged: list[Any],
    scalars: Scalars,
    checkpoints: dict[str, Ckpt],
    scans: dict[str, ModelScan | None],
) -> None:
    """The run's logged models as checkpoints (at the step they were logged, what loading them runs noted)."""
    outputs = {o.model_id: o.step for o in getattr(getattr(run, "outputs", None), "model_outputs", None) or []}
    for model in sorted(logged, key=lambda m: m.creation_timestamp or 0):
        linked = {m.key: float(m.value) for m in model.metrics or [] if m.key and m.value == m.value}
        steps = [m.step for m in model.metrics or [] if isinstance(m.step, int)]
        step = outputs.get(model.model_id, max(steps) if steps else None)
        label = model.name if model.name and re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._-]{0,60}", model.name) else "model"
        name = f"{label}-step-{step}" if step is not None else model.model_id
        scan = scans[name] = model_scan(conn, getattr(model, "artifact_location", None))
        status = str(getattr(model.status, "name", model.status) or "")
        checkpoints[name] = Ckpt(
            name,
            step,
            None,
            f"models:/{model.model_id}",
            metrics={**(scalars.at(step) if step is not None else {}), **linked},
            notes=f"MLflow logged model {model.model_id}"
            + (f" ({status.lower()})" if status not in ("", "READY") else "")
            + "; loading runs code: "
            + (scan.describe() if scan else "scanned by the load code first"),
            model_id=model.model_id,
        )


def _artifact_checkpoints(conn: Connection, run: Any, scalars: Scalars, checkpoints: dict[str, Ckpt]) -> None:
    """The run's artifacts that name a checkpoint (`checkpoint-500/`, `model_step_3.pt`), each with its files."""
    run_id = run.info.run_id
    found, sums = artifacts(conn, run)
    for path, is_dir, size in found:
        name = checkpoint_name(path)
        if name is None or name in checkpoints:
            conn.report(f"{run_id}/{path}", "artifact names a step but no usable checkpoint name; skipped")
            continue
        step = step_of(posixpath.basename(path))
        checkpoint = Ckpt(
            name, step, epoch_of(posixpath.basename(path)), f"runs:/{run_id}/{path}", metrics=scalars.at(step or 0)
        )
        prefix = f"{path}/" if is_dir else path
        for file_path, digest in sorted(sums.items()):
            if file_path == path or file_path.startswith(prefix if is_dir else "\0"):
                entry = {**file_location(conn, run, file_path), "sha256": digest}
                if file_path == path and size is not None:
                    entry["size"] = size
                checkpoint.files.append(entry)
        checkpoints[name] = checkpoint


def logged_flavors(run: Any) -> set[str]:
    """Flavors of the models logged in the run (the `mlflow.log-model.history` tag)."""
    try:
        history = json.loads(run.data.tags.get("mlflow.log-model.history", "[]"))
        return {f for item in history if isinstance(item, dict) for f in item.get("flavors") or {}}
    except (ValueError, TypeError):
        return set()
