"""Download cache against real HTTP servers on 127.0.0.1 (some misbehaving on purpose)."""

from __future__ import annotations

import hashlib
import json
import os
import pathlib
import signal
import subprocess
import sys
import textwrap
import time

import pytest

sys.path.insert(0, os.path.dirname(__file__))
from httpserver import FileServer, http_date

from ckptzoo_widgets.fetch import (
    DiskFullError,
    DownloadTimeoutError,
    FetchError,
    HTTPStatusError,
    IntegrityError,
    NetworkError,
    OfflineError,
    cache_root,
    fetch,
)
from ckptzoo_widgets.fetch.transfer import parse_retry_after

MiB = 1 << 20
REPO = pathlib.Path(__file__).resolve().parents[1]


def blob(n: int, seed: int = 0) -> bytes:
    """Deterministic pseudo-random bytes (incompressible, so no accidental matches)."""
    out = bytearray()
    counter = 0
    while len(out) < n:
        out += hashlib.sha256(f"{seed}:{counter}".encode()).digest() * 64
        counter += 1
    return bytes(out[:n])


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def stray_files(root: pathlib.Path, *, failed: bool = False) -> list[str]:
    """Files that a finished (or cleanly failed) operation must not leave behind.

    A failed download may leave its (empty) lock file: see _download_locked.
    """
    bad = []
    for p in root.rglob("*"):
        rel = p.relative_to(root).as_posix()
        if p.is_symlink() or p.is_dir():
            continue
        if rel.startswith("locks/"):
            if not failed or p.stat().st_size:
                bad.append(rel)
        elif rel.startswith("tmp/") or p.name.endswith((".tmp", ".part", ".incomplete")):
            bad.append(rel)
        elif rel.startswith("blobs/sha256/") and sha(p.read_bytes()) != p.name:
            bad.append(rel + " (content does not match its name)")
    return bad


@pytest.fixture
def cache(tmp_path, monkeypatch):
    root = tmp_path / "cache"
    monkeypatch.setenv("CKPTZOO_CACHE", str(root))
    monkeypatch.setenv("CKPTZOO_QUIET", "1")
    monkeypatch.setenv("CKPTZOO_BACKOFF", "0.01")
    monkeypatch.setenv("CKPTZOO_RETRIES", "3")
    monkeypatch.setenv("CKPTZOO_READ_TIMEOUT", "5")
    monkeypatch.delenv("CKPTZOO_OFFLINE", raising=False)
    monkeypatch.delenv("CKPTZOO_TIMEOUT", raising=False)
    monkeypatch.delenv("CKPTZOO_MIN_SPEED", raising=False)
    monkeypatch.delenv("CKPTZOO_SPEED_WINDOW", raising=False)
    return root


@pytest.fixture
def srv():
    with FileServer() as s:
        yield s


# ----------------------------------------------------------------------------- basics


def test_cache_root_env(cache):
    assert cache_root() == cache


def test_cache_root_default_is_platform_cache_dir(monkeypatch):
    import platformdirs

    monkeypatch.delenv("CKPTZOO_CACHE", raising=False)
    assert cache_root() == pathlib.Path(platformdirs.user_cache_dir("ckptzoo", appauthor=False))


def test_download_verifies_and_caches(cache, srv):
    data = blob(300_000)
    url = srv.add("/m/model.safetensors", data)
    view = ("builtin", "digits-mlp", "epoch-10", "model.safetensors")
    path = fetch(url, sha256=sha(data), size=len(data), view=view)
    assert path == cache.joinpath("views", *view)
    assert path.read_bytes() == data
    assert path.resolve() == (cache / "blobs" / "sha256" / sha(data)[:2] / sha(data)).resolve()
    # cached: a second call does not touch the network
    assert fetch(url, sha256=sha(data), size=len(data), view=view) == path
    assert len(srv.requests()) == 1
    assert stray_files(cache) == []


def test_identical_content_is_stored_once(cache, srv):
    data = blob(200_000, seed=1)
    u1 = srv.add("/zoo1/a.bin", data)
    u2 = srv.add("/zoo2/b.bin", data)
    p1 = fetch(u1, sha256=sha(data), view=("zoo1", "m", "c", "a.bin"))
    p2 = fetch(u2, sha256=sha(data), view=("zoo2", "m", "c", "b.bin"))
    assert p1 != p2 and os.path.samefile(p1, p2)
    assert len(list((cache / "blobs").rglob("*.*"))) == 0
    assert [p for p in (cache / "blobs").rglob("*") if p.is_file()] == [p1.resolve()]
    assert srv.requests("/zoo2/b.bin") == []  # known by its hash: no second transfer


def test_url_without_hash_is_hashed_and_served_offline_later(cache, srv, monkeypatch):
    data = blob(100_000, seed=2)
    url = srv.add("/plain/weights.pt", data)
    path = fetch(url)
    assert path.name == "weights.pt"  # readable default view keeps the file name
    assert path.read_bytes() == data
    assert path.resolve().name == sha(data)
    monkeypatch.setenv("CKPTZOO_OFFLINE", "1")
    assert fetch(url).read_bytes() == data
    assert len(srv.requests()) == 1


def test_default_content_addressed_even_across_url_and_hash(cache, srv):
    data = blob(50_000, seed=3)
    url = srv.add("/x.bin", data)
    p1 = fetch(url)
    p2 = fetch(url, sha256=sha(data))  # now known by hash: no new transfer
    assert os.path.samefile(p1, p2)
    assert len(srv.requests()) == 1


def test_empty_file(cache, srv):
    url = srv.add("/empty.bin", b"")
    path = fetch(url, sha256=sha(b""), size=0)
    assert path.read_bytes() == b""
    assert stray_files(cache) == []


def test_compressed_transfer_is_hashed_decoded_and_never_resumed(cache, srv):
    import random

    data = random.Random(32).randbytes(200_000) + bytes(1_000_000)  # compresses to ~200 kB
    url = srv.add("/gz.bin", data, gzip=True, drop_after=50_000)
    path = fetch(url, sha256=sha(data))
    assert path.read_bytes() == data
    reqs = srv.bodies("/gz.bin")
    assert len(reqs) == 2 and reqs[1]["range"] is None  # no Range into a compressed stream
    assert stray_files(cache) == []


# -------------------------------------------------------------------------- integrity


def test_flipped_byte_is_rejected_and_leaves_nothing(cache, srv):
    data = blob(500_000, seed=4)
    url = srv.add("/flip.bin", data, flip_at=12345)
    with pytest.raises(IntegrityError) as ei:
        fetch(url, sha256=sha(data))
    msg = str(ei.value)
    bad = bytearray(data)
    bad[12345] ^= 0xFF
    assert url in msg and sha(data) in msg and sha(bytes(bad)) in msg
    assert "\n" not in msg
    assert stray_files(cache, failed=True) == []
    assert not list((cache / "blobs").rglob("*")) or not any(p.is_file() for p in (cache / "blobs").rglob("*"))


def test_wrong_size_is_rejected(cache, srv):
    data = blob(10_000, seed=5)
    url = srv.add("/size.bin", data)
    with pytest.raises(IntegrityError, match="size mismatch.*expected 9999 bytes"):
        fetch(url, size=9999)
    assert stray_files(cache, failed=True) == []


def test_server_sending_more_than_announced_size_is_cut(cache, srv):
    data = blob(50_000, seed=6)
    url = srv.add("/more.bin", data, content_length=False)
    with pytest.raises(IntegrityError, match="more than the expected 40000 bytes"):
        fetch(url, size=40_000)
    assert stray_files(cache, failed=True) == []


def test_bad_hash_argument(cache):
    with pytest.raises(FetchError, match="not a sha256"):
        fetch("http://127.0.0.1:9/x", sha256="abc")


@pytest.mark.parametrize(
    "view",
    [
        ("..", "x"),
        ("a/../b", "c"),
        ("/etc", "x"),
        ("",),
        ("a", "b\\c"),
        ("a", "c:d"),
        (),
        "a/b",
        ("a", "b\u202ec"),
        ("a", "\x9b31m"),
    ],
)
def test_unsafe_view_is_rejected(cache, view):
    with pytest.raises(FetchError, match="view"):
        fetch("http://127.0.0.1:9/x", view=view)


def test_view_components_may_hold_slashes(cache, srv):
    url = srv.add("/org.bin", b"org model")
    path = fetch(url, view=("hub", "org/model", "main", "weights/model.bin"))
    assert path == cache / "views" / "hub" / "org" / "model" / "main" / "weights" / "model.bin"
    assert path.read_bytes() == b"org model"


# ----------------------------------------------------------------------------- resume


def test_dropped_connection_resumes_with_range(cache, srv):
    data = blob(2 * MiB, seed=7)
    url = srv.add("/drop.bin", data, drop_after=700_000)
    path = fetch(url, sha256=sha(data))
    assert path.read_bytes() == data
    reqs = srv.bodies("/drop.bin")
    assert [r["status"] for r in reqs] == [200, 206]
    assert reqs[1]["range"] == "bytes=700000-"
    assert reqs[1]["if_range"] == srv.resource("/drop.bin").etag
    assert stray_files(cache) == []


def test_server_ignoring_range_restarts_cleanly(cache, srv):
    data = blob(2 * MiB, seed=8)
    url = srv.add("/norange.bin", data, drop_after=600_000, ranges=False)
    path = fetch(url, sha256=sha(data))
    assert path.read_bytes() == data
    reqs = srv.bodies("/norange.bin")
    assert [r["status"] for r in reqs] == [200, 200]
    assert reqs[1]["range"] == "bytes=600000-"  # asked, was ignored, restarted from zero
    assert stray_files(cache) == []


def test_changed_etag_restarts_from_zero(cache, srv, monkeypatch):
    old, new = blob(2 * MiB, seed=9), blob(2 * MiB, seed=10)
    url = srv.add("/changing.bin", old, drop_after=1_500_000)
    monkeypatch.setenv("CKPTZOO_RETRIES", "0")
    with pytest.raises(NetworkError, match="not in the cache"):
        fetch(url)
    parts = list((cache / "tmp").glob("*.part"))
    assert len(parts) == 1 and parts[0].stat().st_size == 1_500_000  # kept for resume
    srv.resource("/changing.bin").set_data(new)
    path = fetch(url)
    assert path.read_bytes() == new
    last = srv.bodies("/changing.bin")[-1]
    assert last["range"] == "bytes=1500000-" and last["status"] == 200
    assert stray_files(cache) == []


def test_resume_without_validators_that_mixes_versions_is_redone(cache, srv, monkeypatch):
    old, new = blob(2 * MiB, seed=11), blob(2 * MiB, seed=12)
    url = srv.add("/novalidator.bin", old, drop_after=1_200_000, etag="")
    monkeypatch.setenv("CKPTZOO_RETRIES", "0")
    with pytest.raises(NetworkError):
        fetch(url, sha256=sha(new))
    res = srv.resource("/novalidator.bin")
    res.data, res.etag = new, ""
    path = fetch(url, sha256=sha(new))
    assert path.read_bytes() == new
    assert [r["status"] for r in srv.bodies("/novalidator.bin")] == [200, 206, 200]
    assert stray_files(cache) == []


def test_complete_partial_left_by_a_killed_process_is_verified_not_downloaded(cache, srv):
    data = blob(300_000, seed=29)
    url = srv.add("/done.bin", data)
    (cache / "tmp").mkdir(parents=True)
    (cache / "tmp" / f"{sha(data)}.part").write_bytes(data)
    (cache / "tmp" / f"{sha(data)}.part.json").write_text(json.dumps({"url": url, "etag": None}))
    assert fetch(url, sha256=sha(data), size=len(data)).read_bytes() == data
    assert srv.requests() == []
    assert stray_files(cache) == []


def test_complete_but_corrupt_partial_is_downloaded_again(cache, srv):
    data = blob(300_000, seed=30)
    url = srv.add("/redo.bin", data)
    (cache / "tmp").mkdir(parents=True)
    (cache / "tmp" / f"{sha(data)}.part").write_bytes(blob(300_000, seed=31))
    (cache / "tmp" / f"{sha(data)}.part.json").write_text(json.dumps({"url": url, "etag": None}))
    assert fetch(url, sha256=sha(data), size=len(data)).read_bytes() == data
    assert [r["status"] for r in srv.requests()] == [200]
    assert stray_files(cache) == []


def test_resume_uses_last_modified_when_no_strong_etag(cache, srv, monkeypatch):
    data = blob(2 * MiB, seed=13)
    lm = http_date(1_700_000_000)
    url = srv.add("/lm.bin", data, drop_after=1_100_000, etag='W/"weak"', last_modified=lm)
    path = fetch(url, sha256=sha(data))
    assert path.read_bytes() == data
    reqs = srv.bodies("/lm.bin")
    assert [r["status"] for r in reqs] == [200, 206] and reqs[1]["if_range"] == lm


# ---------------------------------------------------------------------------- retries


def test_500_then_200_is_retried(cache, srv):
    data = blob(10_000, seed=14)
    url = srv.add("/flaky.bin", data, fail=[500, 503])
    assert fetch(url, sha256=sha(data)).read_bytes() == data
    assert [r["status"] for r in srv.requests("/flaky.bin")] == [500, 503, 200]


def test_429_honours_retry_after(cache, srv):
    data = blob(10_000, seed=15)
    url = srv.add("/busy.bin", data, fail=[(429, {"Retry-After": "1"})])
    assert fetch(url, sha256=sha(data)).read_bytes() == data
    first, second = srv.requests("/busy.bin")
    assert (first["status"], second["status"]) == (429, 200)
    assert second["time"] - first["time"] >= 0.9  # waited as told, not the 0.01 s backoff


def test_retry_after_forms():
    parse = parse_retry_after
    assert parse("3") == 3.0
    assert 25 <= parse(http_date(time.time() + 30)) <= 31
    assert parse(http_date(time.time() - 30)) == 0.0
    assert parse("soon") is None and parse(None) is None


def test_persistent_5xx_gives_up_after_retries(cache, srv):
    url = srv.add("/down.bin", b"x", status_only=502)
    with pytest.raises(NetworkError, match=r"HTTP 502.*3 retries") as ei:
        fetch(url)
    assert url in str(ei.value)
    assert len(srv.requests("/down.bin")) == 4
    assert stray_files(cache, failed=True) == []


@pytest.mark.parametrize("status,words", [(404, "does not exist"), (403, "access denied"), (401, "access denied")])
def test_client_errors_are_not_retried(cache, srv, status, words):
    url = srv.add("/gone.bin", b"x", status_only=status)
    with pytest.raises(HTTPStatusError, match=words) as ei:
        fetch(url)
    assert ei.value.status == status and url in str(ei.value) and str(status) in str(ei.value)
    assert len(srv.requests("/gone.bin")) == 1
    assert stray_files(cache, failed=True) == []


def test_unreachable_server_says_not_cached(cache):
    with FileServer() as s:
        url = s.url("/nothing.bin")
    # server stopped: connection refused
    with pytest.raises(NetworkError, match="not in the cache") as ei:
        fetch(url)
    assert url in str(ei.value)
    assert stray_files(cache, failed=True) == []


def test_unknown_host_fails_fast_without_retries(cache, monkeypatch):
    monkeypatch.setenv("CKPTZOO_BACKOFF", "30")  # a retry would make this test hang
    url = "http://no-such-host.invalid/w.bin"
    with pytest.raises(NetworkError, match="cannot resolve no-such-host.invalid.*not in the cache"):
        fetch(url)
    assert stray_files(cache, failed=True) == []


def test_server_answering_wrong_ranges_is_given_up(cache, srv):
    url = srv.add("/wrongrange.bin", blob(100_000, seed=33), wrong_range=True)
    with pytest.raises(FetchError, match="ranges that do not match"):
        fetch(url)
    assert 2 <= len(srv.requests("/wrongrange.bin")) <= 10  # gave up, did not loop
    assert stray_files(cache, failed=True) == []


# ----------------------------------------------------------------- deadlines and drips


def test_dripping_server_is_abandoned(cache, srv, monkeypatch):
    monkeypatch.setenv("CKPTZOO_MIN_SPEED", "1000")
    monkeypatch.setenv("CKPTZOO_SPEED_WINDOW", "1")
    url = srv.add("/drip.bin", blob(10_000, seed=16), drip=0.2)
    with pytest.raises(DownloadTimeoutError, match="too slow") as ei:
        fetch(url, timeout=15)  # (if the guard failed, the deadline would end it: "deadline")
    assert url in str(ei.value)
    assert stray_files(cache, failed=True) == []


def test_total_deadline(cache, srv):
    # 40 KB/s is well above the minimum speed, but 200 KB cannot arrive in 1.5 s
    url = srv.add("/slow.bin", blob(200_000, seed=17), rate=40_000)
    with pytest.raises(DownloadTimeoutError, match="deadline"):
        fetch(url, timeout=1.5)
    assert stray_files(cache, failed=True) == []


# -------------------------------------------------------------------------- full disk


def test_announced_size_larger_than_free_space(cache, srv, monkeypatch):
    monkeypatch.setenv("CKPTZOO_MAX_BYTES", str(1 << 62))  # (else the byte cap refuses it first)
    url = srv.add("/huge.bin", b"x" * 10, claim_length=1 << 60)
    with pytest.raises(DiskFullError, match="not enough disk space"):
        fetch(url)
    assert stray_files(cache, failed=True) == []


@pytest.fixture
def tiny_fs(tmp_path):
    mnt = tmp_path / "tiny"
    mnt.mkdir()
    if os.geteuid() != 0:
        pytest.skip("mounting a tmpfs needs root")
    r = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(mnt)], capture_output=True)
    if r.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {r.stderr.decode().strip()}")
    try:
        yield mnt
    finally:
        subprocess.run(["umount", str(mnt)], check=False)


def test_disk_full_mid_download_is_clear_and_leaves_nothing(tiny_fs, srv, monkeypatch):
    monkeypatch.setenv("CKPTZOO_CACHE", str(tiny_fs / "cache"))
    monkeypatch.setenv("CKPTZOO_QUIET", "1")
    url = srv.add("/big.bin", blob(3 * MiB, seed=18), content_length=False)  # size unknown upfront
    with pytest.raises(DiskFullError, match="no space left") as ei:
        fetch(url)
    assert "\n" not in str(ei.value)
    assert stray_files(tiny_fs / "cache", failed=True) == []


def test_read_only_shared_cache(tiny_fs, srv, monkeypatch):
    """A teacher fills a cache, the class reads it from a read-only mount."""
    root = tiny_fs / "cache"
    monkeypatch.setenv("CKPTZOO_CACHE", str(root))
    monkeypatch.setenv("CKPTZOO_QUIET", "1")
    data = blob(100_000, seed=35)
    url = srv.add("/class.bin", data)
    view = ("class", "mlp", "final", "class.bin")
    fetch(url, sha256=sha(data), view=view)
    subprocess.run(["mount", "-o", "remount,ro", str(tiny_fs)], check=True)
    assert fetch(url, sha256=sha(data), view=view).read_bytes() == data
    assert fetch(url).read_bytes() == data  # by URL record, too
    other = srv.add("/not-cached.bin", b"new")
    with pytest.raises(FetchError, match="Read-only file system") as ei:
        fetch(other)
    assert "\n" not in str(ei.value)
    assert len(srv.requests()) == 1


# ---------------------------------------------------------------------------- offline


def test_offline_env_without_cache_says_so(cache, srv, monkeypatch):
    url = srv.add("/o.bin", b"data")
    monkeypatch.setenv("CKPTZOO_OFFLINE", "1")
    with pytest.raises(OfflineError, match="offline.*not in the cache") as ei:
        fetch(url)
    assert url in str(ei.value)
    assert srv.requests() == []


def test_errors_carry_no_wall_of_internal_frames(cache, srv):
    import traceback

    url = srv.add("/bad.bin", b"x", flip_at=0)
    with pytest.raises(IntegrityError) as ei:
        fetch(url, sha256=sha(b"x"))
    frames = traceback.extract_tb(ei.value.__traceback__)
    assert [f.name for f in frames][-1] == "fetch"  # raised from the public call, not deep inside
    assert len(frames) <= 2 and ei.value.__cause__ is None and ei.value.__suppress_context__


def test_offline_parameter_and_cached_file(cache, srv):
    data = b"cached bytes"
    url = srv.add("/c.bin", data)
    with pytest.raises(OfflineError):
        fetch(url, offline=True)
    fetch(url, sha256=sha(data))
    assert fetch(url, sha256=sha(data), offline=True).read_bytes() == data
    assert len(srv.requests()) == 1


def test_cached_file_survives_a_dead_network(cache):
    data = blob(20_000, seed=19)
    with FileServer() as s:
        url = s.add("/w.bin", data)
        fetch(url)
    assert fetch(url).read_bytes() == data  # server gone, no hash given: still served


# --------------------------------------------------------------------------- progress


def test_progress_bar_and_quiet(cache, srv, capsys, monkeypatch):
    monkeypatch.delenv("CKPTZOO_QUIET")
    data = blob(200_000, seed=20)
    fetch(srv.add("/p1.bin", data), quiet=False)
    assert "p1.bin" in capsys.readouterr().err
    fetch(srv.add("/p2.bin", blob(1000, seed=21)), quiet=True)
    assert "p2.bin" not in capsys.readouterr().err
    monkeypatch.setenv("CKPTZOO_QUIET", "1")
    fetch(srv.add("/p3.bin", blob(1000, seed=22)))
    assert "p3.bin" not in capsys.readouterr().err


# ------------------------------------------------------------------------ local files


def test_local_path_is_checked_not_copied(cache, tmp_path):
    data = blob(30_000, seed=23)
    f = tmp_path / "w.safetensors"
    f.write_bytes(data)
    assert fetch(f, sha256=sha(data), size=len(data)) == f
    assert fetch(str(f)) == f
    assert fetch(f.as_uri(), sha256=sha(data)) == f
    assert not (cache / "blobs").exists()
    with pytest.raises(IntegrityError) as ei:
        fetch(f, sha256="0" * 64)
    assert str(f) in str(ei.value) and sha(data) in str(ei.value) and "0" * 64 in str(ei.value)
    with pytest.raises(IntegrityError, match="size"):
        fetch(f, size=1)
    with pytest.raises(FetchError, match="not found"):
        fetch(tmp_path / "missing.bin")


def test_local_file_is_hashed_again_on_every_use(cache, tmp_path):
    data = blob(30_000, seed=24)
    f = tmp_path / "big.bin"
    f.write_bytes(data)
    assert fetch(f, sha256=sha(data)) == f
    st = f.stat()
    # same size and mtime, different bytes: hashed again and rejected
    f.write_bytes(blob(30_000, seed=25))
    os.utime(f, ns=(st.st_atime_ns, st.st_mtime_ns))
    with pytest.raises(IntegrityError, match="sha256 mismatch"):
        fetch(f, sha256=sha(data))
    assert not (cache / "local").exists()  # no memo that could vouch for it later


# --------------------------------------------------------------- processes: locks, kill


_LOAD_FETCH = "from ckptzoo_widgets.fetch import fetch"


def _child_env(cache: pathlib.Path) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        CKPTZOO_CACHE=str(cache),
        CKPTZOO_QUIET="1",
        PYTHONPATH=str(REPO) + os.pathsep + env.get("PYTHONPATH", ""),
    )
    return env


def test_eight_processes_one_transfer(cache, srv, tmp_path):
    data = blob(2 * MiB, seed=26)
    url = srv.add("/shared.bin", data, rate=8 * MiB)  # ~0.25 s: long enough to overlap
    go = tmp_path / "go"
    code = textwrap.dedent(
        f"""
        import os, pathlib, sys, time
        {_LOAD_FETCH}
        pathlib.Path(sys.argv[1]).touch()
        while not os.path.exists({str(go)!r}):
            time.sleep(0.01)
        print(fetch({url!r}, sha256={sha(data)!r}, view=("z", "m", "c", "shared.bin")))
        """
    )
    procs = []
    for i in range(8):
        ready = tmp_path / f"ready{i}"
        procs.append(
            (
                ready,
                subprocess.Popen(
                    [sys.executable, "-c", code, str(ready)],
                    env=_child_env(cache),
                    stdout=subprocess.PIPE,
                    stderr=subprocess.PIPE,
                    text=True,
                ),
            )
        )
    deadline = time.monotonic() + 60
    while not all(r.exists() for r, _ in procs) and time.monotonic() < deadline:
        assert all(p.poll() is None for _, p in procs), "a child died before the start"
        time.sleep(0.02)
    go.touch()
    outs = []
    for _, p in procs:
        out, err = p.communicate(timeout=60)
        assert p.returncode == 0, err
        outs.append(out.strip())
    expected = str(cache / "views" / "z" / "m" / "c" / "shared.bin")
    assert outs == [expected] * 8
    assert pathlib.Path(expected).read_bytes() == data
    assert len(srv.bodies("/shared.bin")) == 1  # one network transfer
    assert stray_files(cache) == []


def test_threads_in_one_process_share_one_transfer(cache, srv):
    import concurrent.futures

    data = blob(1 * MiB, seed=28)
    url = srv.add("/threads.bin", data, rate=8 * MiB)
    with concurrent.futures.ThreadPoolExecutor(4) as pool:
        paths = list(pool.map(lambda _: fetch(url, sha256=sha(data)), range(4)))
    assert len(set(paths)) == 1 and paths[0].read_bytes() == data
    assert len(srv.bodies("/threads.bin")) == 1
    assert stray_files(cache) == []


def test_kill_9_mid_download_then_resume(cache, srv):
    data = blob(4 * MiB, seed=27)
    url = srv.add("/killme.bin", data, rate=1 * MiB)
    code = f"{_LOAD_FETCH}; fetch({url!r}, sha256={sha(data)!r})"
    p = subprocess.Popen([sys.executable, "-c", code], env=_child_env(cache))
    part = cache / "tmp" / f"{sha(data)}.part"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if part.exists() and part.stat().st_size >= 300_000:
            break
        assert p.poll() is None, "the child ended before it could be killed"
        time.sleep(0.02)
    os.kill(p.pid, signal.SIGKILL)
    p.wait()
    assert p.returncode == -signal.SIGKILL
    kept = part.stat().st_size
    assert 0 < kept < len(data)
    srv.resource("/killme.bin").rate = None
    path = fetch(url, sha256=sha(data))
    assert path.read_bytes() == data
    last = srv.bodies("/killme.bin")[-1]
    assert last["status"] == 206 and last["range"] == f"bytes={kept}-"
    assert stray_files(cache) == []


def test_waiting_process_takes_over_after_the_downloader_is_killed(cache, srv, tmp_path):
    data = blob(4 * MiB, seed=34)
    url = srv.add("/takeover.bin", data, rate=1 * MiB)
    code = f"{_LOAD_FETCH}; print(fetch({url!r}, sha256={sha(data)!r}))"
    a = subprocess.Popen([sys.executable, "-c", code], env=_child_env(cache), stdout=subprocess.PIPE)
    part = cache / "tmp" / f"{sha(data)}.part"
    deadline = time.monotonic() + 30
    while not (part.exists() and part.stat().st_size >= 200_000):
        assert a.poll() is None and time.monotonic() < deadline
        time.sleep(0.02)
    env = _child_env(cache)
    env.pop("CKPTZOO_QUIET")  # so it says that it waits
    b = subprocess.Popen(
        [sys.executable, "-c", code], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    # b waits on the lock (it says so on stderr); then the downloader dies
    waited = b.stderr.readline()
    assert "waiting for another process" in waited
    os.kill(a.pid, signal.SIGKILL)
    a.wait()
    srv.resource("/takeover.bin").rate = None
    out, err = b.communicate(timeout=60)
    assert b.returncode == 0, err
    assert pathlib.Path(out.strip()).read_bytes() == data
    bodies = srv.bodies("/takeover.bin")
    assert [r["status"] for r in bodies] == [200, 206]  # b resumed a's partial file
    assert stray_files(cache) == []
