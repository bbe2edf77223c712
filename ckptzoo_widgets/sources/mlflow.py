"""MLflow experiments as a zoo: `cz.open_zoo("mlflow:http://127.0.0.1:5000?experiment=digits")`.

Read through the `mlflow` client (optional: `pip install 'ckptzoo-widgets[mlflow]'`), from a
tracking server (`mlflow:http://...`), a database (`mlflow:sqlite:///mlflow.db`, or the bare
`sqlite:///...`) or a local `mlruns/` folder (`mlflow:mlruns/`, or the folder itself).

- Each active run is a model: its run name, parameters, tags, metrics (the latest of each),
  its status (`running`, `failed` ... as a tag) and its metric histories as `curves`.
- Its checkpoints are MLflow 3's logged models of the run (the step they were logged at, their
  linked metrics) and artifacts whose path names a step (`checkpoints/step10/`,
  `checkpoint-10/`, `epoch=1-step=10.ckpt`), each with the run's metrics at its step.
  A `SHA256SUMS` artifact at the run's root (`sha256sum` format) gives files their sha256,
  so downloads of them go through the verified cache.
- Registered models are models `models/<name>` whose checkpoints are the versions (`v1`,
  `v2`); aliases are noted and `champion` (else the first alias) is the default.

Credentials belong in MLflow's own environment variables (`MLFLOW_TRACKING_TOKEN`, ...);
a source string that carries them is refused, so they never reach code or messages.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import importlib.util
import os
import posixpath
import re
import tempfile
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, quote, unquote, urlsplit

from .. import safety
from ..errors import ZooError
from ..schema import WEIGHT_SUFFIXES, ModelEntry, Problem, Problems, validate_models
from ._folder import Folder
from ._parse import epoch_of, step_of
from .base import LoadedSource
from .tensorboard import Curve, Scalars

PREFIX = "mlflow:"
OPTIONS = ("experiment", "registry", "max_runs")
MAX_RUNS = 5000
MAX_LISTINGS = 200  # artifact folders listed per run
MAX_DEPTH = 3  # artifact folders deep
MAX_SUMS_BYTES = 1 << 20
WORKERS = 8
# While we read: one retry and a 15 s timeout per request (MLflow's defaults retry for
# minutes), and the read-only use of an `mlruns/` folder that MLflow 3 otherwise refuses.
CLIENT_ENV = {
    "MLFLOW_HTTP_REQUEST_MAX_RETRIES": "1",
    "MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR": "0",
    "MLFLOW_HTTP_REQUEST_TIMEOUT": "15",
    "MLFLOW_ALLOW_FILE_STORE": "true",
    "MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR": "false",  # SHA256SUMS is tiny: no bar in the notebook
}
SQLITE_HINT = "pip install mlflow; the [mlflow] extra installs only mlflow-skinny, the client"
MISSING = "the 'mlflow' package is needed for mlflow: sources (pip install 'ckptzoo-widgets[mlflow]')"


@dataclass(frozen=True)
class Spec:
    """A parsed `mlflow:` source string."""

    tracking_uri: str  # absolute: what generated code and the client use
    experiments: tuple[str, ...] = ()
    registry: bool = True
    max_runs: int = MAX_RUNS


def parse_source(source: str) -> Spec:
    """`mlflow:<tracking uri>[?experiment=a,b&registry=no&max_runs=N]` (or a bare `sqlite:///`)."""
    text = source.removeprefix(PREFIX).strip() or os.environ.get("MLFLOW_TRACKING_URI", "")
    if not text:
        raise ZooError(
            "mlflow: needs a tracking URI (mlflow:http://host:5000, mlflow:sqlite:///mlflow.db, mlflow:mlruns/)"
        )
    location, _, query = text.partition("?")
    options = parse_qs(query, keep_blank_values=True)
    unknown = sorted(set(options) - set(OPTIONS))
    if unknown:
        names = ", ".join(repr(name[:40]) for name in unknown)
        raise ZooError(f"mlflow: unknown option(s) {names}; known: {', '.join(OPTIONS)}")
    parts = urlsplit(location)
    if parts.username or parts.password or "@" in parts.netloc:
        raise ZooError(
            "mlflow: credentials in the URL are refused (they would show in code and messages); "
            "set MLFLOW_TRACKING_USERNAME / MLFLOW_TRACKING_PASSWORD or MLFLOW_TRACKING_TOKEN instead"
        )
    if parts.scheme in ("http", "https"):
        uri = location.rstrip("/")
    elif parts.scheme == "sqlite":
        path = location[len("sqlite:///") :] if location.startswith("sqlite:///") else ""
        if not path:
            raise ZooError(f"mlflow: {location!r} is not a sqlite:///<path> URI")
        uri = "sqlite:///" + str(Path(path).expanduser().resolve()).lstrip("/")
        uri = "sqlite:////" + uri[len("sqlite:///") :]
    elif parts.scheme == "file" or not parts.scheme:
        folder = Path(parts.path if parts.scheme == "file" else location).expanduser().resolve()
        if not folder.is_dir():
            raise ZooError(f"mlflow: {str(folder)!r} is not a folder (an mlruns/ store)")
        uri = folder.as_uri()
    else:
        raise ZooError(
            f"mlflow: tracking URI scheme {parts.scheme[:20]!r} is not supported (http, https, sqlite, file)"
        )
    experiments = tuple(e.strip() for v in options.get("experiment", []) for e in v.split(",") if e.strip())
    registry = (options.get("registry") or ["yes"])[-1].lower() not in ("no", "0", "false")
    try:
        max_runs = max(1, min(MAX_RUNS, int((options.get("max_runs") or [str(MAX_RUNS)])[-1])))
    except ValueError:
        raise ZooError("mlflow: max_runs must be a whole number") from None
    return Spec(uri, experiments, registry, max_runs)


def canonical(source: str, spec: Spec) -> str:
    """The source string with an absolute tracking URI (what models remember and code uses)."""
    query = source.partition("?")[2]
    return f"{PREFIX}{spec.tracking_uri}" + (f"?{query}" if query else "")


def tracking_uri_of(model_source: str) -> str:
    """The tracking URI inside a model's (canonical) source string."""
    return model_source.removeprefix(PREFIX).partition("?")[0]


def looks_like_mlruns(source: str) -> bool:
    """A bare folder that holds an MLflow file store (`<experiment id>/meta.yaml`)."""
    path = Path(source).expanduser()
    if not path.is_dir() or (path / "index.json").is_file():
        return False
    return (path / "0" / "meta.yaml").is_file() or (path.name == "mlruns" and any(path.glob("*/meta.yaml")))


def matches(source: str) -> bool:
    return source.startswith((PREFIX, "sqlite:///")) or looks_like_mlruns(source)


# --- messages -----------------------------------------------------------------


def _secrets() -> list[str]:
    names = ("MLFLOW_TRACKING_TOKEN", "MLFLOW_TRACKING_PASSWORD", "MLFLOW_TRACKING_USERNAME")
    return [os.environ[n] for n in names if len(os.environ.get(n, "")) >= 4]


def message(error: BaseException) -> str:
    """One line about a client error, without secrets or a server's HTML page."""
    text = str(getattr(error, "message", None) or error).strip().splitlines()
    line = (text[0] if text else type(error).__name__)[:300]
    for secret in _secrets():
        line = line.replace(secret, "***")
    return line


@contextlib.contextmanager
def _client_env() -> Iterator[None]:
    saved = {name: os.environ.get(name) for name in CLIENT_ENV}
    for name, value in CLIENT_ENV.items():
        os.environ.setdefault(name, value)
    try:
        yield
    finally:
        for name, previous in saved.items():
            if previous is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = previous


# --- what one run yields ---------------------------------------------------------


@dataclass
class _Ckpt:
    name: str
    step: int | None
    epoch: float | None
    uri: str
    metrics: dict[str, float] = field(default_factory=dict)
    files: list[dict[str, Any]] = field(default_factory=list)
    notes: str | None = None
    model_id: str | None = None  # the logged model behind it


def _iso(millis: Any) -> str | None:
    if not isinstance(millis, int) or millis <= 0:
        return None
    return dt.datetime.fromtimestamp(millis / 1000, dt.timezone.utc).isoformat(timespec="seconds")


def _checkpoint_name(path: str) -> str | None:
    """`checkpoints/step10` -> `step10`, `epoch=1-step=10.ckpt` -> `epoch-1-step-10`."""
    base = posixpath.basename(path)
    stem, suffix = posixpath.splitext(base)
    name = (stem if suffix.lower() in WEIGHT_SUFFIXES else base).replace("=", "-")
    try:
        return safety.check_checkpoint_name(name)
    except ValueError:
        step = step_of(base)
        return f"step-{step}" if step is not None else None


def _headline(metrics: dict[str, Any]) -> str | None:
    names = sorted(metrics)
    for test in (
        lambda n: ("val" in n or "eval" in n or "test" in n) and "acc" in n,
        lambda n: "acc" in n,
        lambda n: ("val" in n or "eval" in n) and "loss" in n,
        lambda n: "loss" in n,
    ):
        found = [n for n in names if test(n.lower())]
        if found:
            return found[0]
    return names[0] if names else None


class _Reader:
    def __init__(self, source: str, spec: Spec):
        from mlflow import MlflowClient

        self.source = source
        self.spec = spec
        self.client = MlflowClient(tracking_uri=spec.tracking_uri, registry_uri=spec.tracking_uri)
        self.problems: list[Problem] = []
        self.origin = source.partition("?")[0]

    def report(self, entry: str, text: str) -> None:
        self.problems.append(Problem(self.origin, entry, "", text))

    # -- experiments and runs

    def experiments(self) -> dict[str, str]:
        """experiment id -> name (those asked for by name or id, else every active one)."""
        found: dict[str, str] = {}
        if not self.spec.experiments:
            for each in self.client.search_experiments(max_results=1000):
                found[each.experiment_id] = each.name
            return found
        for wanted in self.spec.experiments:
            experiment: Any = self.client.get_experiment_by_name(wanted)
            if experiment is None and wanted.isdigit():
                with contextlib.suppress(Exception):
                    experiment = self.client.get_experiment(wanted)
            if experiment is None:
                raise ZooError(f"mlflow: no experiment named {wanted[:100]!r} at {self.spec.tracking_uri}")
            found[experiment.experiment_id] = experiment.name
        return found

    def runs(self, experiment_ids: list[str]) -> list[Any]:
        runs: list[Any] = []
        token = None
        while len(runs) < self.spec.max_runs:
            page = self.client.search_runs(
                experiment_ids, max_results=min(1000, self.spec.max_runs - len(runs)), page_token=token
            )
            runs += list(page)
            token = page.token
            if not token:
                break
        return runs

    def logged_models(self, experiment_ids: list[str]) -> dict[str, list[Any]]:
        """source run id -> its logged models (MLflow 3; an older server has none)."""
        by_run: dict[str, list[Any]] = {}
        try:
            token = None
            while True:
                page = self.client.search_logged_models(
                    experiment_ids=experiment_ids, max_results=1000, page_token=token
                )
                for model in page:
                    if model.source_run_id:
                        by_run.setdefault(model.source_run_id, []).append(model)
                token = page.token
                if not token:
                    break
        except Exception as error:  # noqa: BLE001 - an MLflow 2 server: runs still open
            self.report("logged models", f"not listed ({message(error)})")
        return by_run

    # -- one run

    def histories(self, run: Any) -> Scalars:
        curves: dict[str, Curve] = {}
        for key in sorted(run.data.metrics):
            try:
                safety.check_metric_name(key)
            except ValueError:
                self.report(run.info.run_id, f"metric {key[:60]!r} breaks the metric-name rules; left out")
                continue
            points = {int(m.step): float(m.value) for m in self.client.get_metric_history(run.info.run_id, key)}
            curves[key] = sorted((s, v) for s, v in points.items() if s >= 0 and v == v and abs(v) != float("inf"))
        return Scalars(curves)

    def artifacts(self, run: Any) -> tuple[list[tuple[str, bool, int | None]], dict[str, str]]:
        """(path, is_dir, size) of artifacts that name a step, and the sha256 sums of SHA256SUMS."""
        found: list[tuple[str, bool, int | None]] = []
        sums: dict[str, str] = {}
        queue: list[tuple[str | None, int]] = [(None, 0)]
        listings = 0
        # One repository per run, from the artifact URI search_runs gave: the client's own
        # list_artifacts asks the server for the run again on every call.
        from mlflow.store.artifact.artifact_repository_registry import get_artifact_repository

        repository = get_artifact_repository(run.info.artifact_uri, tracking_uri=self.spec.tracking_uri)
        while queue and listings < MAX_LISTINGS:
            folder, depth = queue.pop(0)
            listings += 1
            for info in repository.list_artifacts(folder):
                base = posixpath.basename(info.path)
                if folder is None and base == "SHA256SUMS" and not info.is_dir:
                    sums = self.read_sums(run, repository, info.file_size)
                elif step_of(base) is not None and (info.is_dir or base.lower().endswith(WEIGHT_SUFFIXES)):
                    found.append((info.path, info.is_dir, info.file_size))
                elif info.is_dir and depth + 1 < MAX_DEPTH:
                    queue.append((info.path, depth + 1))
        if queue:
            self.report(run.info.run_id, f"artifacts listed up to {MAX_LISTINGS} folders; the rest left out")
        return found, sums

    def read_sums(self, run: Any, repository: Any, size: int | None) -> dict[str, str]:
        if size is not None and size > MAX_SUMS_BYTES:
            self.report(run.info.run_id, "SHA256SUMS larger than 1 MiB; files left unverified")
            return {}
        try:
            local_root = _local_folder(run.info.artifact_uri)
            if local_root:
                # A local artifact store is a folder like any other zoo's: no link out of it,
                # no FIFO or device, a capped read (download_artifacts would copy /dev/zero).
                raw = Folder(local_root).read(Path(local_root, "SHA256SUMS"), MAX_SUMS_BYTES)
            else:
                with tempfile.TemporaryDirectory() as folder:
                    local = repository.download_artifacts("SHA256SUMS", folder)
                    raw = Folder(folder).read(local, MAX_SUMS_BYTES)
            text = raw.decode("utf-8", "replace")
        except Exception as error:  # noqa: BLE001
            self.report(run.info.run_id, f"SHA256SUMS unreadable ({message(error)}); files left unverified")
            return {}
        sums: dict[str, str] = {}
        for line in text.splitlines():
            digest, _, path = line.strip().partition(" ")
            path = path.strip().lstrip("*")
            if re.fullmatch(r"[0-9a-f]{64}", digest) and path:
                sums[path.removeprefix("./")] = digest
        return sums

    def file_location(self, run: Any, path: str) -> dict[str, Any]:
        """Where a verified file is: a path below the run's local artifact folder, or its HTTP URL."""
        artifact_uri = run.info.artifact_uri or ""
        if artifact_uri.startswith("mlflow-artifacts:") and self.spec.tracking_uri.startswith("http"):
            # The tracking server proxies its artifact store at this REST path.
            rest = artifact_uri.removeprefix("mlflow-artifacts:").lstrip("/")
            url = f"{self.spec.tracking_uri}/api/2.0/mlflow-artifacts/artifacts/{quote(rest)}/{quote(path)}"
            return {"url": url}
        return {"path": path}

    def run_model(self, run: Any, logged: list[Any], experiment: str, model_id: str) -> _RunModel | None:
        run_id = run.info.run_id
        scalars = self.histories(run)
        checkpoints: dict[str, _Ckpt] = {}
        outputs = {o.model_id: o.step for o in getattr(getattr(run, "outputs", None), "model_outputs", None) or []}
        for model in sorted(logged, key=lambda m: m.creation_timestamp or 0):
            linked = {m.key: float(m.value) for m in model.metrics or [] if m.key and m.value == m.value}
            steps = [m.step for m in model.metrics or [] if isinstance(m.step, int)]
            step = outputs.get(model.model_id, max(steps) if steps else None)
            label = (
                model.name if model.name and re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._-]{0,60}", model.name) else "model"
            )
            name = f"{label}-step-{step}" if step is not None else model.model_id
            status = str(getattr(model.status, "name", model.status) or "")
            checkpoints[name] = _Ckpt(
                name,
                step,
                None,
                f"models:/{model.model_id}",
                metrics={**(scalars.at(step) if step is not None else {}), **linked},
                notes=f"MLflow logged model {model.model_id}"
                + (f" ({status.lower()})" if status not in ("", "READY") else ""),
                model_id=model.model_id,
            )
        found, sums = self.artifacts(run)
        for path, is_dir, size in found:
            name = _checkpoint_name(path)
            if name is None or name in checkpoints:
                self.report(f"{run_id}/{path}", "artifact names a step but no usable checkpoint name; skipped")
                continue
            step = step_of(posixpath.basename(path))
            checkpoint = _Ckpt(
                name, step, epoch_of(posixpath.basename(path)), f"runs:/{run_id}/{path}", metrics=scalars.at(step or 0)
            )
            prefix = f"{path}/" if is_dir else path
            for file_path, digest in sorted(sums.items()):
                if file_path == path or file_path.startswith(prefix if is_dir else "\0"):
                    entry = {**self.file_location(run, file_path), "sha256": digest}
                    if file_path == path and size is not None:
                        entry["size"] = size
                    checkpoint.files.append(entry)
            checkpoints[name] = checkpoint
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
        frameworks = self.frameworks(run)
        data: dict[str, Any] = {
            "id": model_id,
            "name": (run.info.run_name or run_id)[:200],
            "library": "mlflow",
            "framework": "pytorch" if "pytorch" in frameworks else None,
            "tags": ["mlflow", status, f"experiment:{experiment}"[:200]]
            + [f"{k}={v}"[:200] for k, v in list(user_tags.items())[:20]],
            "description": "\n".join(lines) + "\n",
            "metrics": {k: v for k, v in run.data.metrics.items() if k in scalars.curves},
            "headline_metric": _headline(scalars.curves),
            "created": _iso(run.info.start_time),
            "updated": _iso(run.info.end_time),
            "curves": scalars.thinned(),
            "checkpoints": [_checkpoint_data(c) for c in ordered],
        }
        return _RunModel(
            {k: v for k, v in data.items() if v is not None}, ordered, _local_folder(run.info.artifact_uri)
        )

    def frameworks(self, run: Any) -> set[str]:
        """Flavors of the models logged in the run (the `mlflow.log-model.history` tag)."""
        import json

        try:
            history = json.loads(run.data.tags.get("mlflow.log-model.history", "[]"))
            return {f for item in history if isinstance(item, dict) for f in item.get("flavors") or {}}
        except (ValueError, TypeError):
            return set()

    # -- the registry

    def registered(self, run_models: dict[str, _RunModel], limit_to_runs: bool) -> list[dict[str, Any]]:
        models: list[dict[str, Any]] = []
        for registered in self.client.search_registered_models(max_results=1000):
            name = registered.name
            entry = f"registered model {name[:100]!r}"
            if "'" in name or "/" in name:
                self.report(entry, "name holds a quote or '/'; skipped")
                continue
            try:
                model_id = safety.check_model_id(f"models/{name}")
            except ValueError as error:
                self.report(entry, f"name breaks the id rules ({error}); skipped")
                continue
            versions = list(self.client.search_model_versions(f"name='{name}'", max_results=1000))
            if limit_to_runs and not any(v.run_id in run_models for v in versions):
                continue
            aliases = dict(getattr(registered, "aliases", None) or {})
            checkpoints: list[dict[str, Any]] = []
            for version in sorted(versions, key=lambda v: int(v.version)):
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
                checkpoints.append(
                    {
                        "name": f"v{version.version}",
                        "step": step,
                        "metrics": metrics,
                        "uri": f"models:/{name}/{version.version}",
                        "date": _iso(version.creation_timestamp),
                        "notes": notes[:2000],
                    }
                )
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
                "description": "\n".join([description, "", *alias_lines]) + "\n",
                "default_checkpoint": f"v{default}" if default else None,
                "headline_metric": _headline(checkpoints[-1]["metrics"]),
                "created": _iso(registered.creation_timestamp),
                "updated": _iso(registered.last_updated_timestamp),
                "checkpoints": [{k: v for k, v in c.items() if v is not None} for c in checkpoints],
            }
            models.append({k: v for k, v in data.items() if v is not None})
        return models

    # -- the whole source

    def read(self) -> list[tuple[ModelEntry, str]]:
        """The models, each with the folder its relative file paths resolve against."""
        experiments = self.experiments()
        ids = list(experiments)
        runs = self.runs(ids) if ids else []
        logged = self.logged_models(ids) if ids else {}
        names = [r.info.run_name or "" for r in runs]
        model_ids = {}
        for run in runs:
            name = run.info.run_name or ""
            valid = bool(re.fullmatch(safety.MODEL_ID_PATTERN.strip("^$"), name)) and "/" not in name
            model_ids[run.info.run_id] = name if valid and names.count(name) == 1 else run.info.run_id

        def one(run: Any) -> _RunModel | None:
            try:
                return self.run_model(
                    run,
                    logged.get(run.info.run_id, []),
                    experiments.get(run.info.experiment_id, ""),
                    model_ids[run.info.run_id],
                )
            except Exception as error:  # noqa: BLE001 - one run's failure is that run's problem
                self.report(f"run {run.info.run_id}", f"not read ({message(error)}); skipped")
                return None

        with ThreadPoolExecutor(WORKERS) as pool:
            built = list(pool.map(one, runs))
        run_models = {run.info.run_id: built_model for run, built_model in zip(runs, built, strict=True) if built_model}
        raw = [(m.data, m.base) for m in run_models.values()]
        if self.spec.registry:
            try:
                raw += [(data, "") for data in self.registered(run_models, limit_to_runs=bool(self.spec.experiments))]
            except Exception as error:  # noqa: BLE001 - a tracking store without a registry
                self.report("registry", f"registered models not listed ({message(error)})")
        bases = {data["id"]: base for data, base in raw}
        problems = Problems()
        problems.extend(self.problems)
        models = validate_models(((self.origin, data["id"], data) for data, _ in raw), problems)
        self.problems = problems.as_list()
        return [(model, bases[model.id]) for model in models]


@dataclass
class _RunModel:
    data: dict[str, Any]  # the model entry
    checkpoints: list[_Ckpt]
    base: str  # the run's local artifact folder ("" when remote)


def _local_folder(artifact_uri: str | None) -> str:
    """A run's artifact folder when it is on this machine (file store, local artifact root)."""
    if not artifact_uri:
        return ""
    if artifact_uri.startswith("file:"):
        return unquote(urlsplit(artifact_uri).path)
    return artifact_uri if artifact_uri.startswith("/") else ""


def _checkpoint_data(checkpoint: _Ckpt) -> dict[str, Any]:
    data = {
        "name": checkpoint.name,
        "step": checkpoint.step,
        "epoch": checkpoint.epoch,
        "metrics": checkpoint.metrics,
        "files": checkpoint.files,
        "uri": checkpoint.uri,
        "notes": checkpoint.notes,
    }
    return {k: v for k, v in data.items() if v not in (None, [], {})}


def _installed(module: str) -> bool:
    try:
        return importlib.util.find_spec(module) is not None
    except ValueError:  # a module set to None in sys.modules: blocked
        return False


def read_mlflow(source: str) -> LoadedSource:
    """`cz.open_zoo("mlflow:...")`: the runs and registered models of an MLflow tracking store."""
    spec = parse_source(source if not looks_like_mlruns(source) else PREFIX + source)
    try:
        import mlflow  # noqa: F401
    except ImportError:
        raise ZooError(MISSING) from None
    if spec.tracking_uri.startswith("sqlite:") and not _installed("sqlalchemy"):
        raise ZooError(f"mlflow: a sqlite:/// store needs the full MLflow package ({SQLITE_HINT})")
    where = canonical(source if source.startswith(PREFIX) else PREFIX + source, spec)
    with _client_env():
        try:
            reader = _Reader(where, spec)
            models = reader.read()
        except ZooError:
            raise
        except Exception as error:  # noqa: BLE001 - the client raises many kinds; one clear line
            raise ZooError(f"mlflow: cannot read {spec.tracking_uri}: {message(error)}") from None
    entries = [model.with_origin(where, base) for model, base in models]
    return LoadedSource(source, "mlflow", entries, reader.problems, f"MLflow {spec.tracking_uri}")
