"""`ckptzoo cache ls | verify | prune` on a cache filled from a real local HTTP server."""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import sys
import time

import pytest

sys.path.insert(0, os.path.dirname(__file__))
from httpserver import FileServer

from ckptzoo_widgets.cli import cache_commands
from ckptzoo_widgets.fetch import fetch

DAY = 86400


def run(*argv: str) -> int:
    parser = argparse.ArgumentParser(prog="ckptzoo")
    cache_commands.add_parser(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(["cache", *argv])
    return args.func(args)


@pytest.fixture
def filled(tmp_path, monkeypatch):
    root = tmp_path / "cache"
    monkeypatch.setenv("CKPTZOO_CACHE", str(root))
    monkeypatch.setenv("CKPTZOO_QUIET", "1")
    monkeypatch.delenv("CKPTZOO_OFFLINE", raising=False)
    a, b = b"A" * 5000, b"B" * 7000
    with FileServer() as srv:
        pa = fetch(
            srv.add("/a.safetensors", a),
            sha256=hashlib.sha256(a).hexdigest(),
            view=("builtin", "mlp", "epoch-1", "a.safetensors"),
        )
        pb = fetch(srv.add("/b.bin", b), view=("builtin", "mlp", "epoch-2", "b.bin"))
        yield root, pa, pb, srv


def test_ls_lists_files_with_views_and_urls(filled, capsys):
    root, pa, pb, srv = filled
    assert run("ls") == 0
    out = capsys.readouterr().out
    assert str(root) in out
    assert "builtin/mlp/epoch-1/a.safetensors" in out and "builtin/mlp/epoch-2/b.bin" in out
    assert "2 file(s)" in out
    assert run("ls", "--json") == 0
    data = json.loads(capsys.readouterr().out)
    assert {f["sha256"] for f in data["files"]} == {pa.resolve().name, pb.resolve().name}
    urls = {u for f in data["files"] for u in f["urls"]}
    assert urls == {srv.url("/a.safetensors"), srv.url("/b.bin")}
    assert data["total_bytes"] == 12000


def test_ls_uses_cache_dir_option(tmp_path, capsys):
    assert run("--cache-dir", str(tmp_path / "empty"), "ls") == 0
    assert "(no files)" in capsys.readouterr().out


def test_verify_finds_and_removes_damage(filled, capsys, monkeypatch):
    root, pa, pb, srv = filled
    assert run("verify") == 0
    assert "2 ok, 0 damaged" in capsys.readouterr().out
    blob = pa.resolve()
    blob.write_bytes(b"A" * 4999 + b"X")  # bit rot
    assert run("verify") == 1
    out = capsys.readouterr().out
    assert "DAMAGED" in out and str(blob) in out and blob.name in out
    assert blob.exists()  # reported, not touched
    assert run("verify", "--delete") == 0
    assert not blob.exists() and not os.path.lexists(pa)
    assert run("verify") == 0
    # the next fetch downloads it again
    a = b"A" * 5000
    again = fetch(srv.url("/a.safetensors"), sha256=hashlib.sha256(a).hexdigest())
    assert again.read_bytes() == a


def test_prune_older_than_and_dry_run(filled, capsys):
    root, pa, pb, srv = filled
    old = time.time() - 10 * DAY
    os.utime(pa.resolve(), (old, old))
    assert run("prune", "--older-than", "5", "--dry-run") == 0
    assert "would remove" in capsys.readouterr().out
    assert pa.resolve().exists()
    assert run("prune", "--older-than", "5") == 0
    assert not os.path.lexists(pa)
    assert not list((root / "blobs").rglob(hashlib.sha256(b"A" * 5000).hexdigest()))
    assert pb.read_bytes() == b"B" * 7000  # recently used: kept
    records = [json.loads(p.read_text())["url"] for p in (root / "urls").glob("*.json")]
    assert records == [srv.url("/b.bin")]


def test_prune_removes_stale_partials_and_dangling_views(filled, capsys):
    root, pa, pb, srv = filled
    stale = root / "tmp" / ("f" * 64 + ".part")
    stale.write_bytes(b"half")
    fresh = root / "tmp" / ("e" * 64 + ".part")
    fresh.write_bytes(b"running")
    os.utime(stale, (time.time() - 3 * DAY,) * 2)
    leftover = root / "urls" / ".x.json.123.456.tmp"  # a record write cut by kill -9
    leftover.write_text("{")
    os.utime(leftover, (time.time() - 2 * 3600,) * 2)
    pb.resolve().unlink()  # its view now dangles
    assert run("prune") == 0
    out = capsys.readouterr().out
    assert "unfinished download" in out and "dangling view" in out
    assert not stale.exists() and fresh.exists() and not leftover.exists()
    assert not os.path.lexists(pb)
    assert pa.read_bytes() == b"A" * 5000


def test_prune_all_empties_the_cache(filled):
    root, pa, pb, srv = filled
    assert run("prune", "--all") == 0
    assert not [p for p in root.rglob("*") if p.is_file()]


def test_prune_rejects_negative_days(filled, capsys):
    assert run("prune", "--older-than", "-1") == 2
    assert "--older-than" in capsys.readouterr().err


def test_prune_never_touches_a_running_download(filled):
    from filelock import FileLock

    root, pa, pb, srv = filled
    key = "c" * 64
    part = root / "tmp" / f"{key}.part"
    part.write_bytes(b"in progress")
    os.utime(part, (time.time() - 5 * DAY,) * 2)
    with FileLock(str(root / "locks" / f"{key}.lock")):  # another process is downloading it
        assert run("prune", "--all") == 0
        assert part.exists() and (root / "locks" / f"{key}.lock").exists()
    assert run("prune", "--all") == 0
    assert not part.exists()


# ------------------------------------------------ the cache layout: indexes/ included


@pytest.fixture
def with_index(filled):
    from ckptzoo_widgets.sources._http import cached_get

    root, pa, pb, srv = filled
    body = b'{"ckptzoo_index": 1, "models": []}'
    url = srv.add("/zoo/index.json", body)
    assert cached_get(url) == (body, "downloaded")
    return root, url, body


def test_scan_lists_blobs_indexes_and_partials(with_index):
    from ckptzoo_widgets import cache

    root, url, body = with_index
    (root / "tmp" / ("d" * 64 + ".part")).write_bytes(b"half")
    found = cache.scan(root)
    assert len(found.blobs) == 2
    assert [(i.url, i.size, i.sha256) for i in found.indexes] == [(url, len(body), hashlib.sha256(body).hexdigest())]
    assert [p.name for p in found.partials] == ["d" * 64 + ".part"]
    assert found.total_bytes == 12000 + len(body)


def test_ls_and_verify_include_cached_indexes(with_index, capsys):
    root, url, body = with_index
    assert run("ls") == 0
    assert url in capsys.readouterr().out
    assert run("verify") == 0
    assert "3 ok, 0 damaged" in capsys.readouterr().out
    (body_path,) = (root / "indexes").glob("*.body")
    st = body_path.stat()
    body_path.write_bytes(body.replace(b"[]", b"{}"))  # same size, same mtime, other bytes
    os.utime(body_path, ns=(st.st_atime_ns, st.st_mtime_ns))
    assert run("verify") == 1
    assert "DAMAGED" in capsys.readouterr().out
    assert run("verify", "--delete") == 0
    assert not body_path.exists()


def test_prune_all_empties_indexes_too(with_index, capsys):
    root, url, body = with_index
    record = root / "scans" / "sha256" / ("a" * 64 + ".json")  # a pickle verdict (pickle_verdicts)
    record.parent.mkdir(parents=True)
    record.write_text("{}")
    assert run("prune", "--all") == 0
    assert url in capsys.readouterr().out
    assert not [p for p in root.rglob("*") if p.is_file()]
    assert not (root / "indexes").exists() and not (root / "scans").exists()
