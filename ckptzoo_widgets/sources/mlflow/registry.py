"""Registered models: a model `models/<name>` whose checkpoints are its versions (`v1`, `v2`)."""

from __future__ import annotations

from typing import Any

from ... import safety
from ...load_gates import ModelScan
from .._budget import ListingBudgetSpent
from .artifacts import model_scan, scan_notes
from .client import Connection
from .runs import RunModel, headline, iso

MAX_REGISTERED = 10_000


def registered_models(conn: Connection, run_models: dict[str, RunModel], limit_to_runs: bool) -> list[dict[str, Any]]:
    models: list[dict[str, Any]] = []

    def fetch(token: str | None) -> tuple[list[Any], str | None]:
        page = conn.client.search_registered_models(max_results=1000, page_token=token)
        return list(page), page.token

    for registered in conn.listing("registry", fetch, limit=MAX_REGISTERED):
        name = registered.name
        entry = f"registered model {name[:100]!r}"
        if "'" in name or "/" in name:
            conn.report(entry, "name holds a quote or '/'; skipped")
            continue
        try:
            model_id = safety.check_model_id(f"models/{name}")
        except ValueError as error:
            conn.report(entry, f"name breaks the id rules ({error}); skipped")
            continue
        try:
            conn.budget.request()
        except ListingBudgetSpent as error:
            conn.spent(error)
            break
        found = conn.client.search_model_versions(f"name='{name}'", max_results=1000)
        versions = sorted(found, key=lambda v: int(v.version))
        if limit_to_runs and not any(v.run_id in run_models for v in versions):
            continue
        aliases = dict(getattr(registered, "aliases", None) or {})
        scans: dict[str, ModelScan | None] = {}
        checkpoints = [_version(conn, name, version, aliases, run_models, scans) for version in versions]
        if not checkpoints:
            continue
        default = aliases.get("champion") or next(iter(aliases.values()), None)
        tags = ["mlflow", "registered-model"] + [f"@{a}=v{v}"[:200] for a, v in sorted(aliases.items())]
        description = (registered.description or "").strip() or f"Registered model **{name}** in MLflow."
        alias_lines = [f"- `models:/{name}@{a}` is version {v}" for a, v in sorted(aliases.items())]
        data = {
            "id": model_id,
            "name": name[:200],
            "library": "mlflow",
            "tags": tags,
            "description": "\n".join([description, "", *alias_lines, *scan_notes(scans)]) + "\n",
            "default_checkpoint": f"v{default}" if default else None,
            "headline_metric": headline(checkpoints[-1]["metrics"]),
            "created": iso(registered.creation_timestamp),
            "updated": iso(registered.last_updated_timestamp),
            "checkpoints": [{k: v for k, v in c.items() if v is not None} for c in checkpoints],
        }
        models.append({k: v for k, v in data.items() if v is not None})
    return models


def location(conn: Connection, name: str, version: Any) -> str | None:
    """Where a version's files are (asked only of a store on this machine: a server is not asked per version)."""
    if not conn.spec.tracking_uri.startswith(("file:", "sqlite:")):
        return None
    try:
        return str(conn.client.get_model_version_download_uri(name, version.version))
    except Exception:  # noqa: BLE001 - no location: not scanned here, the load code scans it
        return None


def _version(
    conn: Connection,
    name: str,
    version: Any,
    aliases: dict[str, Any],
    run_models: dict[str, RunModel],
    scans: dict[str, ModelScan | None],
) -> dict[str, Any]:
    """One version of a registered model as a checkpoint: the step and metrics of the run's checkpoint
    it came from (its logged model, else the run's last), its aliases and what loading it runs."""
    run_model = run_models.get(version.run_id or "")
    step, metrics = None, {}
    if run_model:
        # The version's logged model when the run has it, else the run's last checkpoint.
        model_of = getattr(version, "model_id", None)
        same = [c for c in run_model.checkpoints if model_of and c.model_id == model_of]
        chosen = same[0] if same else run_model.checkpoints[-1]
        step, metrics = chosen.step, chosen.metrics
    names = sorted(a for a, v in aliases.items() if str(v) == str(version.version))
    notes = f"version {version.version} of {name}" + (f"; aliases: {', '.join(names)}" if names else "")
    scan = scans[f"v{version.version}"] = model_scan(conn, location(conn, name, version))
    notes += "; loading runs code: " + (scan.describe() if scan else "scanned by the load code first")
    return {
        "name": f"v{version.version}",
        "step": step,
        "metrics": metrics,
        "uri": f"models:/{name}/{version.version}",
        "date": iso(version.creation_timestamp),
        "notes": notes[:2000],
    }
