"""A Hugging Face Hub that decides how many pages, how many bytes and how slowly: every answer bounded.

The fake Hub of 200,000 generated models (tests/fixtures/generated_hub.py) misbehaves on
request (`hub.hostile`): a `Link: rel="next"` chain that never ends, a body that never ends,
a page of 200 MiB, a body that drips. Each case runs our client in a child process under a
memory and a time limit (`run_bounded`): one line names what broke, memory stays bounded, and
what was read before (an index build's listing) is kept.
"""

from __future__ import annotations

import base64
import itertools
import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from httpserver import Reply, Request

from .bounded import run_bounded

pytest.importorskip("huggingface_hub")

from fixtures.generated_hub import GeneratedHub  # noqa: E402

MIB = 1 << 20

SEARCH = """
import ckptzoo_widgets as cz
from ckptzoo_widgets.sources import _budget, hub_client
for name, value in BUDGET.items():
    setattr(_budget, name, value)
zoo = cz.open_zoo("hf:")
print(len(zoo.search(QUERY)))
"""

BUILD = """
import json, sys
from ckptzoo_widgets.cli import main
from ckptzoo_widgets.sources import hub_snapshot
for name, value in BUDGET.items():
    setattr(hub_snapshot, name, value)
code = main(["index", "build", SOURCE, "-o", OUT])
import ckptzoo_widgets as cz
ids = list(cz.open_zoo(OUT).models["id"]) if code == 0 else []
print(json.dumps({"code": code, "ids": ids}))
"""


@pytest.fixture(scope="module")
def fake_hub() -> Iterator[GeneratedHub]:
    with GeneratedHub(size=2_000) as hub:
        yield hub


@pytest.fixture
def hub(fake_hub: GeneratedHub, tmp_path: Path) -> Iterator[GeneratedHub]:
    fake_hub.hostile = None
    fake_hub.reset_counts()
    fake_hub.env = {  # type: ignore[attr-defined]
        "HF_ENDPOINT": fake_hub.url,
        "CKPTZOO_CACHE": str(tmp_path / "cache"),
        "HF_HOME": str(tmp_path / "hf-home"),
        "HF_HUB_DISABLE_IMPLICIT_TOKEN": "1",
        "CKPTZOO_OFFLINE": "",
        "HF_HUB_OFFLINE": "",
        "CKPTZOO_SHARED_CACHE": "",
    }
    yield fake_hub
    fake_hub.hostile = None


def _listing(request: Request) -> bool:
    return request.path == "/api/models"


def _sent(hub: GeneratedHub) -> int:
    return sum(e.get("sent", 0) for e in hub.server.requests())


def endless(piece: bytes, total: int | None = None, pause: float = 0.0) -> Iterator[bytes]:
    sent = 0
    for _ in itertools.count():
        if total is not None and sent >= total:
            return
        if pause:
            time.sleep(pause)
        yield piece
        sent += len(piece)


def search(hub: GeneratedHub, query: str = "", **budget: Any) -> Any:
    result = run_bounded(SEARCH, memory_mb=1024, seconds=120, env=hub.env, QUERY=query, BUDGET=budget)  # type: ignore[attr-defined]
    print(f"child peak RSS {result.peak_rss_mb} MB; {result.error_type}: {result.message}")
    return result


def test_an_endless_next_chain_ends_an_index_build_at_its_page_budget(hub, tmp_path):
    """Each page one new model and a fresh cursor, for ever: the build lists 40 pages, says why, writes them."""

    def chain(request: Request) -> Reply | None:
        if not _listing(request):
            return None
        cursor = request.query.get("cursor")
        number = json.loads(base64.urlsafe_b64decode(cursor))["n"] if cursor else 0
        token = base64.urlsafe_b64encode(json.dumps({"n": number + 1}).encode()).decode()
        link = f'<{hub.url}/api/models?author=bulk-org&cursor={token}>; rel="next"'
        return Reply(200, [hub.item(number, None)], {"Link": link})

    hub.hostile = chain
    out = tmp_path / "endless.parquet"
    result = run_bounded(
        BUILD,
        memory_mb=1024,
        seconds=300,
        env=hub.env,
        SOURCE="hf:author=bulk-org&details=no",
        OUT=str(out),
        BUDGET={"MAX_PAGES": 40},
    )
    assert result.ok, (result.error_type, result.message, result.stderr[-2000:])
    found = json.loads(result.stdout.strip().splitlines()[-1])
    print(f"child peak RSS {result.peak_rss_mb:.0f} MB")
    assert found["code"] == 0 and len(found["ids"]) == 40  # what was listed is written
    lines = [line for line in result.stderr.splitlines() if "page budget" in line]
    assert len(lines) == 1 and "40 pages per listing" in lines[0], result.stderr[-2000:]
    assert len([p for p, _ in hub.api_requests() if p.startswith("/api/models?")]) == 40
    assert not (tmp_path / f".{out.name}.hub-journal.jsonl").exists()
    assert result.peak_rss_mb is not None and result.peak_rss_mb < 600


def test_a_slow_endless_next_chain_ends_at_the_builds_time_budget(hub, tmp_path):
    def chain(request: Request) -> Reply | None:
        if not _listing(request):
            return None
        time.sleep(0.05)
        number = int(request.query.get("cursor") or 0)
        link = f'<{hub.url}/api/models?cursor={number + 1}>; rel="next"'
        return Reply(200, [hub.item(number % 2_000, None)], {"Link": link})

    hub.hostile = chain
    out = tmp_path / "slow.parquet"
    result = run_bounded(
        BUILD,
        memory_mb=1024,
        seconds=300,
        env=hub.env,
        SOURCE="hf:author=bulk-org&details=no",
        OUT=str(out),
        BUDGET={"MAX_SECONDS": 2.0},
    )
    assert result.ok, (result.error_type, result.message, result.stderr[-2000:])
    found = json.loads(result.stdout.strip().splitlines()[-1])
    assert found["code"] == 0 and 0 < len(found["ids"]) < 200
    assert [line for line in result.stderr.splitlines() if "time budget of 2 s per build's listing" in line]


def test_an_index_build_whose_next_pages_are_empty_ends_at_the_first(hub, tmp_path):
    def chain(request: Request) -> Reply | None:
        if not _listing(request):
            return None
        number = int(request.query.get("cursor") or 0)
        models = [hub.item(0, None)] if number == 0 else []
        return Reply(200, models, {"Link": f'<{hub.url}/api/models?cursor={number + 1}>; rel="next"'})

    hub.hostile = chain
    out = tmp_path / "empty.parquet"
    result = run_bounded(
        BUILD, memory_mb=1024, seconds=120, env=hub.env, SOURCE="hf:details=no", OUT=str(out), BUDGET={}
    )
    assert result.ok, (result.error_type, result.message, result.stderr[-2000:])
    assert json.loads(result.stdout.strip().splitlines()[-1])["ids"] == [hub.ids[0]]
    assert "empty page that names a next page" in result.stderr
    assert len(hub.api_requests()) == 2


def test_a_page_that_never_ends_is_cut_at_its_cap_while_it_streams(hub):
    hub.hostile = lambda request: Reply(200, endless(b" " * MIB)) if _listing(request) else None
    result = search(hub, "pythia")
    assert result.raised("ZooError") and "\n" not in (result.message or "")
    assert result.message == "the Hub's search 'pythia': the answer is larger than 8.0 MiB; refused"
    assert result.peak_rss_mb is not None and result.peak_rss_mb < 600
    assert _sent(hub) < 64 * MIB  # the client hung up; the server stopped sending


@pytest.mark.parametrize("announced", [True, False], ids=["length-announced", "no-length"])
def test_a_page_of_200_mib_is_refused_in_one_line(hub, announced):
    size = 200 * MIB
    headers = {"Content-Length": str(size)} if announced else {}
    hub.hostile = lambda request: (
        Reply(200, endless(b"[" + b" " * (MIB - 1), size), headers) if _listing(request) else None
    )
    result = search(hub)
    assert result.raised("ZooError") and "\n" not in (result.message or "")
    expected = "the answer is 200 MiB, more than 8.0 MiB" if announced else "the answer is larger than 8.0 MiB; refused"
    assert result.message == f"the Hub's listing: {expected}"
    assert result.peak_rss_mb is not None and result.peak_rss_mb < 600
    # Announced: refused from the header, before the body (the message names the announced size); what the
    # server still got out is what loopback's socket buffers took before the client hung up (3 MiB seen).
    assert _sent(hub) < (16 * MIB if announced else 64 * MIB)


def test_a_model_whose_info_never_ends_is_one_line(hub):
    hub.hostile = lambda request: Reply(200, endless(b" " * MIB)) if request.path.startswith("/api/models/") else None
    code = """
import ckptzoo_widgets as cz
cz.open_zoo("hf:").model("EleutherAI/pythia-70m")
"""
    result = run_bounded(code, memory_mb=1024, seconds=120, env=hub.env)
    assert result.raised("ZooError")
    assert result.message == "EleutherAI/pythia-70m: the answer is larger than 64.0 MiB; refused"
    assert result.peak_rss_mb is not None and result.peak_rss_mb < 700


def test_a_page_that_drips_stops_at_the_pages_time_budget(hub):
    hub.hostile = lambda request: Reply(200, endless(b" ", pause=0.05)) if _listing(request) else None
    result = search(hub, "", MAX_SECONDS=2.0)
    assert result.raised("ZooError")
    assert result.raised("ListingBudgetSpent")
    assert result.message.startswith("the Hub's listing: stopped: the time budget of 2 s per page ran out")
