"""The whole store: experiments, runs and logged models listed, each run read, entries validated."""

from __future__ import annotations

import contextlib
import re
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from ... import safety
from ...errors import ZooError
from ...schema import ModelEntry, Problems, validate_models
from .._budget import ListingBudgetSpent
from ..base import LoadedSource
from .client import MISSING, SQLITE_HINT, Connection, client_env, installed, message
from .registry import registered_models
from .runs import RunModel, run_model
from .spec import PREFIX, canonical, looks_like_mlruns, parse_source

WORKERS = 8
MAX_EXPERIMENTS = 10_000
MAX_LOGGED_MODELS = 50_000


def list_experiments(conn: Connection) -> dict[str, str]:
    """experiment id -> name (those asked for by name or id, else every active one)."""
    found: dict[str, str] = {}
    if not conn.spec.experiments:

        def fetch(token: str | None) -> tuple[list[Any], str | None]:
            page = conn.client.search_experiments(max_results=1000, page_token=token)
            return list(page), page.token

        for each in conn.listing("experiments", fetch, limit=MAX_EXPERIMENTS):
            found[each.experiment_id] = each.name
        return found
    for wanted in conn.spec.experiments:
        conn.budget.request()
        experiment: Any = conn.client.get_experiment_by_name(wanted)
        if experiment is None and wanted.isdigit():
            with contextlib.suppress(Exception):
                experiment = conn.client.get_experiment(wanted)
        if experiment is None:
            raise ZooError(f"mlflow: no experiment named {wanted[:100]!r} at {conn.spec.tracking_uri}")
        found[experiment.experiment_id] = experiment.name
    return found


def list_runs(conn: Connection, experiment_ids: list[str]) -> list[Any]:
    def fetch(token: str | None) -> tuple[list[Any], str | None]:
        page = conn.client.search_runs(experiment_ids, max_results=min(1000, conn.spec.max_runs), page_token=token)
        return list(page), page.token

    return conn.listing("runs", fetch, limit=conn.spec.max_runs)


def list_logged_models(conn: Connection, experiment_ids: list[str]) -> dict[str, list[Any]]:
    """source run id -> its logged models (MLflow 3; an older server has none)."""
    by_run: dict[str, list[Any]] = {}

    def fetch(token: str | None) -> tuple[list[Any], str | None]:
        page = conn.client.search_logged_models(experiment_ids=experiment_ids, max_results=1000, page_token=token)
        return list(page), page.token

    try:
        for model in conn.listing("logged models", fetch, limit=MAX_LOGGED_MODELS):
            if model.source_run_id:
                by_run.setdefault(model.source_run_id, []).append(model)
    except Exception as error:  # noqa: BLE001 - an MLflow 2 server: runs still open
        conn.report("logged models", f"not listed ({message(error)})")
    return by_run


def read(conn: Connection) -> list[tuple[ModelEntry, str]]:
    """The models, each with the folder its relative file paths resolve against."""
    try:
        experiments = list_experiments(conn)
    except ListingBudgetSpent as error:
        conn.spent(error)
        experiments = {}
    ids = list(experiments)
    runs = list_runs(conn, ids) if ids else []
    logged = list_logged_models(conn, ids) if ids else {}
    names = Counter(r.info.run_name or "" for r in runs)
    model_ids = {}
    for run in runs:
        name = run.info.run_name or ""
        valid = bool(re.fullmatch(safety.MODEL_ID_PATTERN.strip("^$"), name)) and "/" not in name
        model_ids[run.info.run_id] = name if valid and names[name] == 1 else run.info.run_id

    def one(run: Any) -> RunModel | None:
        try:
            return run_model(
                conn,
                run,
                logged.get(run.info.run_id, []),
                experiments.get(run.info.experiment_id, ""),
                model_ids[run.info.run_id],
            )
        except Exception as error:  # noqa: BLE001 - one run's failure is that run's problem
            conn.report(f"run {run.info.run_id}", f"not read ({message(error)}); skipped")
            return None

    with ThreadPoolExecutor(WORKERS) as pool:
        built = list(pool.map(one, runs))
    run_models = {run.info.run_id: built_model for run, built_model in zip(runs, built, strict=True) if built_model}
    raw = [(m.data, m.base) for m in run_models.values()]
    if conn.spec.registry:
        try:
            raw += [
                (data, "") for data in registered_models(conn, run_models, limit_to_runs=bool(conn.spec.experiments))
            ]
        except Exception as error:  # noqa: BLE001 - a tracking store without a registry
            conn.report("registry", f"registered models not listed ({message(error)})")
    bases = {data["id"]: base for data, base in raw}
    problems = Problems()
    problems.extend(conn.problems)
    models = validate_models(((conn.origin, data["id"], data) for data, _ in raw), problems)
    conn.problems = problems.as_list()
    return [(model, bases[model.id]) for model in models]


def read_mlflow(source: str) -> LoadedSource:
    """`cz.open_zoo("mlflow:...")`: the runs and registered models of an MLflow tracking store."""
    spec = parse_source(source if not looks_like_mlruns(source) else PREFIX + source)
    try:
        import mlflow  # noqa: F401
    except ImportError:
        raise ZooError(MISSING) from None
    if spec.tracking_uri.startswith("sqlite:") and not installed("sqlalchemy"):
        raise ZooError(f"mlflow: a sqlite:/// store needs the full MLflow package ({SQLITE_HINT})")
    where = canonical(source if source.startswith(PREFIX) else PREFIX + source, spec)
    with client_env(spec.tracking_uri):
        try:
            reader = Connection(where, spec)
            models = read(reader)
        except ZooError:
            raise
        except Exception as error:  # noqa: BLE001 - the client raises many kinds; one clear line
            raise ZooError(f"mlflow: cannot read {spec.tracking_uri}: {message(error)}") from None
    entries = [model.with_origin(where, base) for model, base in models]
    return LoadedSource(source, "mlflow", entries, reader.problems, f"MLflow {spec.tracking_uri}")
