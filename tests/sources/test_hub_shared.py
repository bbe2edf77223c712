"""The machine's shared answer cache (CKPTZOO_SHARED_CACHE) against the fake Hub: what is shared, what is trusted.

Thirty real Unix users sharing it are in tests/test_classroom.py; here one user at a time
checks the rules: only anonymous answers are written or read, and what another user wrote
is read as untrusted (a link, a damaged body, a stale or foreign entry is ignored; a
well-formed entry goes through the same validators as a live answer).
"""

from __future__ import annotations

import hashlib
import json
import os
import stat
from pathlib import Path

import pytest

pytest.importorskip("huggingface_hub")

from fixtures.generated_hub import GeneratedHub  # noqa: E402

import ckptzoo_widgets as cz  # noqa: E402
from ckptzoo_widgets import cache  # noqa: E402
from ckptzoo_widgets.sources import hub_client  # noqa: E402
from ckptzoo_widgets.sources.base import LiveQuery  # noqa: E402
from ckptzoo_widgets.sources.hub_live import HubLive  # noqa: E402


@pytest.fixture(scope="module")
def fake_hub():
    with GeneratedHub(size=2_000) as hub:
        yield hub


@pytest.fixture
def hub(fake_hub, tmp_path, monkeypatch):
    shared = tmp_path / "shared"
    shared.mkdir()
    shared.chmod(0o2770)
    monkeypatch.setenv("HF_ENDPOINT", fake_hub.url)
    monkeypatch.setenv("CKPTZOO_CACHE", str(tmp_path / "mine"))
    monkeypatch.setenv("CKPTZOO_SHARED_CACHE", str(shared))
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf-home"))
    monkeypatch.setenv("HF_HUB_DISABLE_IMPLICIT_TOKEN", "1")
    for name in ("CKPTZOO_OFFLINE", "HF_HUB_OFFLINE", "HF_TOKEN", "CKPTZOO_HUB_FRESH"):
        monkeypatch.delenv(name, raising=False)
    fake_hub.reset_counts()
    fake_hub.hostile = None
    hub_client._Limits.blocked_until.clear()
    fake_hub.shared = shared
    yield fake_hub


def another_kernel(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, name: str) -> None:
    """Another user of the machine: a cache of its own (empty), the same shared folder."""
    monkeypatch.setenv("CKPTZOO_CACHE", str(tmp_path / name))


def listing_url(hub: GeneratedHub, query: str) -> str:
    live = HubLive("hf:", {})
    params = live._params(LiveQuery(text=query))
    assert params is not None
    return live.client.url("/api/models", params)


def test_a_second_user_gets_the_first_users_answer_without_a_request(hub, tmp_path, monkeypatch):
    first = cz.open_zoo("hf:").search("pythia")
    assert len(hub.requests()) == 1
    another_kernel(tmp_path, monkeypatch, "theirs")
    second = cz.open_zoo("hf:").search("pythia")
    assert list(second["id"]) == list(first["id"]) and len(hub.requests()) == 1
    body, record = cache.hub_answer_paths(hub.shared, listing_url(hub, "pythia"))
    assert stat.S_IMODE(body.stat().st_mode) == cache.SHARED_FILE_MODE
    assert "Authorization" not in record.read_text() and json.loads(record.read_text())["url"].startswith(hub.url)


def test_with_a_token_nothing_is_shared_either_way(hub, tmp_path, monkeypatch):
    cz.open_zoo("hf:").search("pythia")  # anonymous: shared
    monkeypatch.setenv("HF_TOKEN", "hf_" + "t0ken" * 8)
    monkeypatch.delenv("HF_HUB_DISABLE_IMPLICIT_TOKEN")
    another_kernel(tmp_path, monkeypatch, "with-token")
    cz.open_zoo("hf:").search("pythia")  # not answered from the shared cache: asked with the token
    cz.open_zoo("hf:").search("olmo")  # and its answer is not written there
    assert [p.split("?")[1].split("&")[0] for p, _ in hub.api_requests()] == ["search=pythia"] * 2 + ["search=olmo"]
    assert len(list((hub.shared / "hub").glob("*.body"))) == 1
    assert b"t0ken" not in b"".join(p.read_bytes() for p in hub.shared.rglob("*") if p.is_file())


def _plant(hub: GeneratedHub, url: str, body: bytes, record: dict[str, object] | None = None) -> tuple[Path, Path]:
    body_path, record_path = cache.hub_answer_paths(hub.shared, url)
    kept = {"url": url, "kind": "json", "sha256": hashlib.sha256(body).hexdigest(), **(record or {})}
    cache.write_shared(hub.shared, body_path, body)
    cache.write_shared(hub.shared, record_path, json.dumps(kept).encode())
    return body_path, record_path


def test_a_poisoned_page_goes_through_the_validators_of_a_live_answer(hub):
    """A co-user can write a well-formed answer (the residual risk, docs/classroom.md); what it holds is
    checked as a live answer's: an id that is not one is skipped and reported, not shown."""
    url = listing_url(hub, "pythia")
    good = hub.item(0, None)
    bad = {**good, "id": "../../etc/passwd"}
    _plant(hub, url, json.dumps([good, bad]).encode())
    page = cz.open_zoo("hf:").search("pythia")
    assert list(page["id"]) == [good["id"]] and hub.requests() == []
    assert any("passwd" in str(p) for p in page.attrs["problems"])


@pytest.mark.parametrize("damage", ["sha256", "url", "kind", "link", "not-json", "too-large"])
def test_a_damaged_or_foreign_shared_entry_is_ignored_and_asked_again(hub, damage):
    url = listing_url(hub, "pythia")
    body = json.dumps([hub.item(0, None)]).encode()
    record: dict[str, object] = {}
    if damage == "sha256":
        record["sha256"] = "0" * 64
    elif damage == "url":
        record["url"] = listing_url(hub, "olmo")
    elif damage == "kind":
        record["kind"] = "text"
    elif damage == "not-json":
        body = b"<html>" * 10
    elif damage == "too-large":
        body = b"[" + b" " * hub_client.MAX_PAGE_BYTES + b"]"
    body_path, _ = _plant(hub, url, body, record)
    if damage == "link":
        target = body_path.with_name("elsewhere")
        os.replace(body_path, target)
        os.symlink(target, body_path)
    page = cz.open_zoo("hf:").search("pythia")
    assert len(hub.requests()) == 1 and len(page) == 20  # asked again; the live answer replaces the entry
    assert hashlib.sha256(cache.read_shared(body_path, 1 << 24)[0]).hexdigest() != hashlib.sha256(body).hexdigest()


def test_an_old_shared_entry_is_asked_again(hub, monkeypatch):
    cz.open_zoo("hf:").search("pythia")
    monkeypatch.setenv("CKPTZOO_HUB_FRESH", "0")
    monkeypatch.setenv("CKPTZOO_CACHE", str(hub.shared.parent / "third"))
    cz.open_zoo("hf:").search("pythia")
    assert len(hub.requests()) == 2


def test_a_lock_held_for_ever_by_another_user_costs_a_wait_not_an_answer(hub, monkeypatch):
    import fcntl

    url = listing_url(hub, "pythia")
    monkeypatch.setattr(hub_client, "SHARED_WAIT_S", 0.2)
    lock = hub.shared / "locks" / f"{cache.url_key(url)[:40]}.lock"
    lock.parent.mkdir()
    with open(lock, "w") as held:
        fcntl.flock(held, fcntl.LOCK_EX)
        page = cz.open_zoo("hf:").search("pythia")
    assert len(page) == 20 and len(hub.requests()) == 1
