"""Connecting the MLflow client: its environment while we read, and one-line, secret-free messages."""

from __future__ import annotations

import contextlib
import importlib.util
import os
import threading
from collections.abc import Callable, Iterator, Sequence
from typing import Any, TypeVar

from ...schema import Problem
from .._budget import ListingBudget, ListingBudgetSpent, paged
from .spec import Spec

T = TypeVar("T")

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
def client_env(tracking_uri: str | None = None) -> Iterator[None]:
    """The client's settings while a store is read; `tracking_uri` made the process default meanwhile.

    MLflow's file registry makes a client of the default store inside its own calls; with no
    default set that is ./mlflow.db, which would land in the user's working folder.
    """
    saved = {name: os.environ.get(name) for name in CLIENT_ENV}
    for name, value in CLIENT_ENV.items():
        os.environ.setdefault(name, value)
    use_default = contextlib.nullcontext()
    if tracking_uri:
        from mlflow.tracking._tracking_service import utils

        use_default = getattr(utils, "_use_tracking_uri", lambda _uri: contextlib.nullcontext())(tracking_uri)
    try:
        with use_default:
            yield
    finally:
        for name, previous in saved.items():
            if previous is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = previous


def installed(module: str) -> bool:
    try:
        return importlib.util.find_spec(module) is not None
    except ValueError:  # a module set to None in sys.modules: blocked
        return False


class Connection:
    """The client of one tracking store, and the problems met while reading it."""

    def __init__(self, source: str, spec: Spec):
        from mlflow import MlflowClient

        self.source = source
        self.spec = spec
        self.client = MlflowClient(tracking_uri=spec.tracking_uri, registry_uri=spec.tracking_uri)
        self.problems: list[Problem] = []
        self.origin = source.partition("?")[0]
        self.budget = ListingBudget()  # pages, points, bytes and seconds of this open (sources/_budget.py)
        self._lock = threading.Lock()
        self._budgets_reported: set[str] = set()

    def report(self, entry: str, text: str) -> None:
        with self._lock:
            self.problems.append(Problem(self.origin, entry, "", text))

    def spent(self, error: ListingBudgetSpent) -> None:
        """A budget of this open ran out: one problem naming it, however many readers met it."""
        with self._lock:
            if error.budget not in self._budgets_reported:
                self._budgets_reported.add(error.budget)
                self.problems.append(Problem(self.origin, f"{error.budget} budget", "", str(error)))

    def listing(
        self, what: str, fetch: Callable[[str | None], tuple[Sequence[T], Any]], limit: int | None = None
    ) -> list[T]:
        """Every item of a token-paged listing within the budget; what was read when it ran out."""
        items: list[T] = []
        try:
            for item in paged(self.budget, fetch, lambda text: self.report(what, text), limit=limit):
                items.append(item)
        except ListingBudgetSpent as error:
            self.spent(error)
        return items
