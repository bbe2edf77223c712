"""An MLflow tracking server that decides how long, how much and how many pages: every listing bounded.

The server is the test HTTP server answering MLflow's REST API (`MlflowApi`), as a hostile
tracking server would; the real MLflow client talks to it. Each case opens the zoo in a child
process under a memory and a time limit (`run_bounded`): the open ends, one problem names the
budget that ran out, and what was read before it opens.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import time
from dataclasses import dataclass, field
from typing import Any

import pytest
from httpserver import Reply, Request

from .bounded import run_bounded

pytest.importorskip("mlflow")

OPEN = """
import json
import ckptzoo_widgets as cz
from ckptzoo_widgets.sources import _budget
for name, value in BUDGET.items():
    setattr(_budget, name, value)
zoo = cz.open_zoo(SOURCE)
model = {m.id: m for m in zoo}
print(json.dumps({
    "models": sorted(model),
    "checkpoints": {k: [c.name for c in m.checkpoints] for k, m in model.items()},
    "curves": {k: {n: len(p) for n, p in (m.curves or {}).items()} for k, m in model.items()},
    "problems": list(zoo.errors),
}))
"""


def opened(uri: str, memory_mb: int = 1536, **budget: Any) -> dict[str, Any]:
    result = run_bounded(OPEN, memory_mb=memory_mb, seconds=120, SOURCE=f"mlflow:{uri}", BUDGET=budget)
    assert result.ok, (result.error_type, result.message, result.stderr[-2000:])
    found = json.loads(result.stdout.strip().splitlines()[-1])
    found["peak_rss_mb"] = result.peak_rss_mb
    print(f"child peak RSS {result.peak_rss_mb:.0f} MB")
    return found


def run_ids(name: str) -> str:
    return hashlib.md5(name.encode()).hexdigest()


def run(name: str, metrics: dict[str, float] | None = None) -> dict[str, Any]:
    run_id = run_ids(name)
    return {
        "info": {
            "run_id": run_id,
            "run_uuid": run_id,
            "run_name": name,
            "experiment_id": "0",
            "status": "FINISHED",
            "lifecycle_stage": "active",
            "start_time": 1700000000000,
            "artifact_uri": f"mlflow-artifacts:/0/{run_id}/artifacts",
        },
        "data": {"metrics": [{"key": k, "value": v, "timestamp": 1, "step": 1} for k, v in (metrics or {}).items()]},
    }


@dataclass
class MlflowApi:
    """MLflow's REST API for one experiment; each listing misbehaves as asked."""

    runs: list[dict[str, Any]] = field(default_factory=lambda: [run("r1", {"val_acc": 0.5})])
    endless_runs: str | None = None  # "empty": empty pages with a token; "new": one new run a page
    endless_logged_models: str | None = None
    history_pages: int = 1  # pages of the metric history, each HISTORY_PAGE points
    sums: Any = None  # the body of SHA256SUMS: bytes, or an iterator (streamed)
    delay: float = 0.0  # seconds before each answer
    calls: dict[str, int] = field(default_factory=dict)

    HISTORY_PAGE = 25_000

    def __call__(self, request: Request) -> Reply:
        path = request.path.removeprefix("/api/2.0/")
        self.calls[path] = self.calls.get(path, 0) + 1
        time.sleep(self.delay)
        body = json.loads(request.body or b"{}") if request.method == "POST" else {}
        token = body.get("page_token") or request.query.get("page_token")
        if path == "mlflow/experiments/search":
            return Reply(200, {"experiments": [{"experiment_id": "0", "name": "digits", "lifecycle_stage": "active"}]})
        if path == "mlflow/runs/search":
            return Reply(200, self.pages("runs", self.runs, self.endless_runs, token, lambda n: run(f"new{n}")))
        if path == "mlflow/logged-models/search":
            return Reply(200, self.pages("models", [], self.endless_logged_models, token, self.logged_model))
        if path == "mlflow/metrics/get-history":
            number = int(token or 0)
            points = [
                {
                    "key": request.query["metric_key"],
                    "value": 0.5,
                    "timestamp": 1,
                    "step": number * self.HISTORY_PAGE + i,
                }
                for i in range(self.HISTORY_PAGE)
            ]
            more = number + 1 < self.history_pages
            return Reply(200, {"metrics": points, **({"next_page_token": str(number + 1)} if more else {})})
        if path in ("mlflow/registered-models/search", "mlflow/model-versions/search"):
            return Reply(200, {})
        if path == "mlflow-artifacts/artifacts":
            where = request.query.get("path", "")
            if where.endswith("/artifacts"):
                files = [{"path": "checkpoints/step1", "is_dir": True}]
                if self.sums is not None:
                    files.append({"path": "SHA256SUMS", "is_dir": False, "file_size": 64})
                return Reply(200, {"files": files})
            return Reply(200, {"files": [{"path": "model.safetensors", "is_dir": False, "file_size": 8}]})
        if path.endswith("/artifacts/SHA256SUMS"):
            return Reply(200, self.sums)
        return Reply(404, {"error_code": "ENDPOINT_NOT_FOUND"})

    def pages(self, key: str, first: list[Any], endless: str | None, token: str | None, make: Any) -> dict[str, Any]:
        number = int(token or 0)
        if endless is None:
            return {key: first}
        items = (first or [make(0)]) if number == 0 else ([make(number)] if endless == "new" else [])
        return {key: items, "next_page_token": str(number + 1)}

    def logged_model(self, number: int) -> dict[str, Any]:
        return {
            "info": {
                "model_id": f"m-{run_ids(str(number))}",
                "experiment_id": "0",
                "name": "m",
                "source_run_id": run_ids("r1"),
            }
        }


@pytest.fixture
def api(http_server):
    api = MlflowApi()
    http_server.route("/api/2.0/", api)
    api.uri = http_server.base
    return api


def test_runs_search_with_empty_pages_that_name_a_next_page_ends_at_the_first(api):
    # Before: 100 such pages followed (a server that never ends hung open_zoo).
    api.endless_runs = "empty"
    found = opened(api.uri)
    assert found["models"] == ["r1"] and found["checkpoints"]["r1"] == ["step1"]
    assert api.calls["mlflow/runs/search"] == 2
    assert any("runs" in p and "empty page that names a next page" in p for p in found["problems"])


def test_logged_models_search_with_endless_empty_pages_ends(api):
    api.endless_logged_models = "empty"
    found = opened(api.uri)
    assert found["models"] == ["r1"] and api.calls["mlflow/logged-models/search"] == 2
    assert any("logged models" in p and "empty page" in p for p in found["problems"])


@pytest.mark.parametrize("listing", ["runs", "logged_models"])
def test_a_listing_that_never_ends_stops_at_the_page_budget(api, listing):
    setattr(api, f"endless_{listing}", "new")
    found = opened(api.uri, MAX_PAGES=40)
    calls = api.calls["mlflow/runs/search" if listing == "runs" else "mlflow/logged-models/search"]
    assert calls <= 40
    budget = [p for p in found["problems"] if "page budget of 40 pages per listing" in p]
    assert len(budget) == 1, found["problems"]
    assert "r1" in found["models"]  # what was read before the budget ran out opens


def test_a_metric_history_that_never_ends_is_cut_at_the_point_cap(api):
    # Before: 400 pages x 25,000 points were still being read after 30 s.
    api.history_pages = 400
    found = opened(api.uri)
    pages = api.calls["mlflow/metrics/get-history"]
    assert pages == 200_000 // MlflowApi.HISTORY_PAGE
    assert found["curves"]["r1"]["val_acc"] > 0
    assert any("history cut at 200,000 points" in p for p in found["problems"])


def test_the_point_budget_of_an_open_is_one_problem(api):
    api.runs = [run(f"r{i}", {"val_acc": 0.5}) for i in range(6)]
    api.history_pages = 10
    found = opened(api.uri, MAX_POINTS=100_000)
    # 60 pages without a budget; four fit, and each of the reader's 8 threads may have one in flight.
    assert api.calls["mlflow/metrics/get-history"] <= 4 + 8 + 1
    assert len([p for p in found["problems"] if "budget of 100,000 metric points" in p]) == 1
    assert len(found["models"]) == 6  # every run opens: only more points were refused


def test_a_sha256sums_streamed_without_end_is_cut_at_its_cap_while_it_streams(api, http_server):
    # Before: listed at 64 bytes, streamed endlessly: 300 MiB written to a temp file before the cap applied.
    api.sums = itertools.repeat(b"0" * (1 << 16))
    found = opened(api.uri)
    assert found["models"] == ["r1"]
    assert any("SHA256SUMS unreadable" in p and "larger than 1.0 MiB" in p for p in found["problems"])
    (request,) = [r for r in http_server.requests() if r["path"].endswith("SHA256SUMS")]
    assert request["sent"] < 16 << 20  # what the server got to send before the client hung up


def test_a_sha256sums_that_fits_gives_sums(api):
    api.sums = b"a" * 64 + b"  checkpoints/step1/model.safetensors\n"
    found = opened(api.uri)
    assert found["models"] == ["r1"] and not any("SHA256SUMS" in p for p in found["problems"])


def test_the_time_budget_ends_a_slow_endless_listing(api, http_server):
    api.endless_runs, api.delay = "new", 0.05
    found = opened(api.uri, MAX_SECONDS=2.0, MAX_PAGES=100_000)
    # The open ends (the runs listed took all the time, so nothing more was asked of the server).
    assert len([p for p in found["problems"] if "time budget of 2 s" in p]) == 1
    assert api.calls["mlflow/runs/search"] < 100
