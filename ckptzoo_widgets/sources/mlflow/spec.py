"""The `mlflow:` source string: its tracking URI and options, and what counts as an MLflow source."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

from ...errors import ZooError

PREFIX = "mlflow:"
OPTIONS = ("experiment", "registry", "max_runs")
MAX_RUNS = 5000


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
