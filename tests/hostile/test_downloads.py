"""Hostile files and servers against the download path (docs/security.md, "Downloads").

Each case runs in a child process under a memory and a time limit
(`run_bounded`), against real files and real servers on 127.0.0.1.
"""

from __future__ import annotations

import hashlib
import os
import shutil
from pathlib import Path

import ckptzoo_widgets
from tests.httpserver import FileServer

from .bounded import run_bounded

BUILTIN = Path(ckptzoo_widgets.__file__).resolve().parent / "zoo"


def env_for(tmp_path: Path, **extra: str) -> dict[str, str]:
    return {
        "CKPTZOO_CACHE": str(tmp_path / "cache"),
        "CKPTZOO_QUIET": "1",
        "CKPTZOO_BACKOFF": "0.01",
        **extra,
    }


def replace_keeping_size_and_mtime(path: Path) -> None:
    """Flip one byte in the file's data, then put size and mtime back as they were."""
    st = path.stat()
    data = bytearray(path.read_bytes())
    data[-1] ^= 0xFF
    path.write_bytes(bytes(data))
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))
    assert path.stat().st_size == st.st_size and path.stat().st_mtime_ns == st.st_mtime_ns


# ------------------------------------------- finding 6: files trusted on size and mtime

LOAD = """
import ckptzoo_widgets as cz
cz.load(REF, ZOO, quiet=True)
print("loaded once")
TAMPER()
cz.load(REF, ZOO, quiet=True)
"""


def test_load_rehashes_a_local_file_replaced_with_the_same_size_and_mtime(tmp_path):
    zoo = tmp_path / "zoo"
    shutil.copytree(BUILTIN, zoo)
    target = zoo / "digits-mlp" / "epoch-30.safetensors"
    code = LOAD.replace(
        "TAMPER()",
        "import os; from pathlib import Path; p = Path(FILE); st = p.stat(); b = bytearray(p.read_bytes()); "
        "b[-1] ^= 0xFF; p.write_bytes(bytes(b)); os.utime(p, ns=(st.st_atime_ns, st.st_mtime_ns))",
    )
    result = run_bounded(
        code, env=env_for(tmp_path), REF="digits-mlp@epoch-30", ZOO=str(zoo / "index.json"), FILE=str(target)
    )
    assert "loaded once" in result.stdout, result
    assert result.raised("IntegrityError"), result
    assert "sha256 mismatch" in result.message


def test_cache_verify_rehashes_a_blob_replaced_with_the_same_size_and_mtime(tmp_path):
    data = b"weights" * 1000
    with FileServer() as srv:
        url = srv.add("/w.bin", data)
        first = run_bounded(
            "from ckptzoo_widgets.fetch import fetch\nprint(fetch(URL, sha256=SHA).resolve())",
            env=env_for(tmp_path),
            URL=url,
            SHA=hashlib.sha256(data).hexdigest(),
        )
    assert first.ok, first
    replace_keeping_size_and_mtime(Path(first.stdout.strip()))
    verify = run_bounded(
        "from ckptzoo_widgets.cli import main\nraise SystemExit(main(['cache', 'verify']))", env=env_for(tmp_path)
    )
    assert verify.message == "1", verify  # exit code 1: damage found
    assert "DAMAGED" in verify.stdout and "1 damaged" in verify.stdout


# ------------------------------------------------------- finding 7: bounded downloads

FETCH = "from ckptzoo_widgets.fetch import fetch\nfetch(URL, quiet=True)"
MiB = 1 << 20


def gzip_bomb(decoded: int) -> bytes:
    """gzip of `decoded` zero bytes, built in pieces (about 1 MiB per GiB)."""
    import zlib

    packer = zlib.compressobj(9, zlib.DEFLATED, 31)  # 31: a gzip container
    zeros = bytes(16 * MiB)
    parts = [packer.compress(zeros) for _ in range(decoded // len(zeros))]
    return b"".join(parts) + packer.flush()


def test_a_server_that_always_cuts_the_file_in_half_is_given_up_after_a_capped_number_of_attempts(tmp_path):
    data = os.urandom(256 * 1024)
    with FileServer() as srv:
        # ignores Range, so every attempt starts over, makes progress, and breaks again
        url = srv.add("/half.bin", data, ranges=False, drop_after=len(data) // 2, drop_times=10**9)
        result = run_bounded(FETCH, env=env_for(tmp_path), seconds=60, URL=url)
        gets = len(srv.bodies("/half.bin"))
    assert result.raised("NetworkError"), result
    assert "20 attempts" in result.message
    assert gets == 20  # the default cap (CKPTZOO_MAX_ATTEMPTS), not unbounded
    assert not list((tmp_path / "cache" / "blobs").rglob("*.bin"))


def test_attempt_cap_is_configurable(tmp_path):
    data = os.urandom(64 * 1024)
    with FileServer() as srv:
        url = srv.add("/half.bin", data, ranges=False, drop_after=len(data) // 2, drop_times=10**9)
        result = run_bounded(FETCH, env=env_for(tmp_path, CKPTZOO_MAX_ATTEMPTS="3"), URL=url)
        gets = len(srv.bodies("/half.bin"))
    assert result.raised("NetworkError") and "3 attempts" in result.message, result
    assert gets == 3


def test_a_file_without_size_and_without_length_stops_at_the_byte_cap(tmp_path):
    data = os.urandom(4 * MiB)
    with FileServer() as srv:
        url = srv.add("/endless.bin", data, content_length=False)
        result = run_bounded(FETCH, env=env_for(tmp_path, CKPTZOO_MAX_BYTES=str(MiB)), memory_mb=768, URL=url)
    assert result.raised("SizeLimitError"), result
    assert "CKPTZOO_MAX_BYTES" in result.message and "1.0 MiB" in result.message
    assert list((tmp_path / "cache" / "tmp").iterdir()) == []  # nothing left behind


def test_an_announced_length_over_the_byte_cap_is_refused_before_the_body(tmp_path):
    data = os.urandom(4 * MiB)
    with FileServer() as srv:
        url = srv.add("/big.bin", data)
        result = run_bounded(FETCH, env=env_for(tmp_path, CKPTZOO_MAX_BYTES=str(MiB)), URL=url)
        sent = srv.bodies("/big.bin")[0]["sent"]
    assert result.raised("SizeLimitError") and "4.0 MiB" in result.message, result
    assert sent < 4 * MiB


def test_the_byte_cap_also_holds_for_a_file_with_a_size_in_the_index(tmp_path):
    data = os.urandom(2 * MiB)
    with FileServer() as srv:
        url = srv.add("/lies.bin", data, content_length=False)
        result = run_bounded(
            "from ckptzoo_widgets.fetch import fetch\nfetch(URL, size=1000, quiet=True)", env=env_for(tmp_path), URL=url
        )
    assert result.raised("IntegrityError") and "more than the expected 1000 bytes" in result.message, result


def test_gzip_despite_identity_cannot_expand_past_the_decode_ratio(tmp_path):
    bomb = gzip_bomb(1 << 30)  # 1 GiB of zeros in about 1 MiB
    with FileServer() as srv:
        url = srv.add("/bomb.bin", bomb, content_encoding="gzip")
        result = run_bounded(FETCH, env=env_for(tmp_path), memory_mb=768, seconds=60, URL=url)
    assert result.raised("SizeLimitError"), result
    assert "compressed it although asked not to" in result.message
    assert result.peak_rss_mb is not None and result.peak_rss_mb < 500
    left = sum(p.stat().st_size for p in (tmp_path / "cache").rglob("*") if p.is_file())
    assert left < 10 * MiB  # nothing near a GiB on disk


def test_gzip_of_a_file_with_a_known_size_stops_at_that_size(tmp_path):
    bomb = gzip_bomb(1 << 30)
    with FileServer() as srv:
        url = srv.add("/bomb.bin", bomb, content_encoding="gzip")
        result = run_bounded(
            "from ckptzoo_widgets.fetch import fetch\nfetch(URL, size=SIZE, quiet=True)",
            env=env_for(tmp_path),
            memory_mb=768,
            URL=url,
            SIZE=4 * MiB,
        )
    assert result.raised("IntegrityError") and "more than the expected" in result.message, result


def test_gzip_with_a_small_cap_stops_at_the_cap(tmp_path):
    bomb = gzip_bomb(64 * MiB)
    with FileServer() as srv:
        url = srv.add("/bomb.bin", bomb, content_encoding="gzip")
        result = run_bounded(FETCH, env=env_for(tmp_path, CKPTZOO_MAX_BYTES=str(512 * 1024)), memory_mb=768, URL=url)
    assert result.raised("SizeLimitError") and "CKPTZOO_MAX_BYTES" in result.message, result


# ------------------------------------------------------ finding 12: credentials in URLs

PASSWORD = "s3cret-Pa55word"

CREDENTIALS = """
import json, ckptzoo_widgets as cz
zoo = cz.open_zoo(URL)
code = zoo.load_code("m@c", library="safetensors-numpy")
print("CODE", code)
print("PATHS", zoo.download("m@c"))
print("SOURCES", zoo.sources, zoo.errors, zoo.models.to_dict("records"), zoo.model("m").source)
scope = {}
exec(code, scope)  # the inserted cell, run in this kernel: the credentials live here
loaded = [v for v in scope.values() if isinstance(v, dict) and "w" in v]  # whatever the code names it
print("LOADED", sorted(loaded[0]))
browser = cz.browse(URL)
print("WIDGET", json.dumps(browser.get_state(), default=str))
for bad in (WRONG, [WRONG, "builtin"]):
    try:
        print("WRONG-ZOO", cz.open_zoo(bad).errors)
    except Exception as error:
        print("WRONG", type(error).__name__, error)
try:
    cz.fetch(WRONG_FILE)
except Exception as error:
    print("WRONG-FILE", type(error).__name__, error)
"""


def test_credentials_in_a_url_are_used_but_never_shown_stored_or_generated(tmp_path):
    import json

    import numpy as np
    from safetensors.numpy import save

    weights = save({"w": np.arange(6, dtype=np.float32)})
    index = {
        "ckptzoo_index": 1,
        "models": [
            {
                "id": "m",
                "library": "safetensors",
                "checkpoints": [
                    {
                        "name": "c",
                        "files": [
                            {
                                "path": "w.safetensors",
                                "sha256": hashlib.sha256(weights).hexdigest(),
                                "size": len(weights),
                            }
                        ],
                    }
                ],
            }
        ],
    }
    with FileServer() as srv:
        srv.add("/index.json", json.dumps(index).encode(), auth=("user", PASSWORD))
        srv.add("/w.safetensors", weights, auth=("user", PASSWORD))
        srv.add("/other.bin", weights, auth=("user", PASSWORD))
        base = f"127.0.0.1:{srv.port}"
        result = run_bounded(
            CREDENTIALS,
            env=env_for(tmp_path),
            URL=f"http://user:{PASSWORD}@{base}/index.json",
            WRONG=f"http://user:wrong-{PASSWORD}@{base}/index.json",
            WRONG_FILE=f"http://user:wrong-{PASSWORD}@{base}/other.bin",
        )
        seen = srv.requests()
    assert result.ok, result
    out = result.stdout + result.stderr
    assert "LOADED ['w']" in out  # the credentials did their job in this process
    assert {e["status"] for e in seen if e["path"] == "/w.safetensors"} >= {200}
    assert f"'http://{base}/w.safetensors'" in out or f'"http://{base}/w.safetensors"' in out  # the clean URL
    assert "WRONG HTTP" in out or "WRONG ZooError" in out, out  # a clear error for a wrong password
    assert "401" in out and "WRONG-FILE HTTPStatusError" in out
    assert PASSWORD not in out, out
    for path in (tmp_path / "cache").rglob("*"):
        if path.is_file() and not path.is_symlink():
            assert PASSWORD.encode() not in path.read_bytes(), path
    assert not any(PASSWORD in p.name for p in (tmp_path / "cache").rglob("*"))


def test_credentials_are_not_sent_to_another_host():
    from ckptzoo_widgets import credentials

    clean = credentials.accept("http://u:p@127.0.0.1:8001/zoo/index.json")
    assert clean == "http://127.0.0.1:8001/zoo/index.json"
    assert credentials.auth_for("http://127.0.0.1:8001/zoo/w.bin") == ("u", "p")
    assert credentials.auth_for("http://127.0.0.1:8002/zoo/w.bin") is None  # another port
    assert credentials.auth_for("https://127.0.0.1:8001/zoo/w.bin") is None  # another scheme
    assert credentials.auth_for("http://localhost:8001/") is None  # another host name
    assert credentials.accept(["builtin", "https://a:b%40c@h/x"]) == ["builtin", "https://h/x"]
    assert credentials.auth_for("https://h/y") == ("a", "b@c")
    credentials.forget()


# ------------------------------------------- paths and redirects that try to leave the cache


def test_a_url_whose_name_climbs_out_stays_inside_the_cache(tmp_path):
    data = b"payload"
    with FileServer() as srv:
        url = srv.add("/zoo/..%2F..%2F..%2F..%2Fescape.bin", data)
        result = run_bounded(
            "from ckptzoo_widgets.fetch import fetch\nprint(fetch(URL))", env=env_for(tmp_path), cwd=tmp_path, URL=url
        )
    assert result.ok, result
    path = Path(result.stdout.strip())
    assert path.is_relative_to(tmp_path / "cache" / "views") and path.name == "download.bin"
    assert [p for p in tmp_path.rglob("escape*")] == []


def test_a_redirect_to_another_origin_carries_no_credentials(tmp_path):
    data = b"weights"
    with FileServer() as other, FileServer() as srv:
        target = other.add("/w.bin", data)
        srv.add("/w.bin", b"", redirect=target)
        url = f"http://user:{PASSWORD}@127.0.0.1:{srv.port}/w.bin"
        result = run_bounded("import ckptzoo_widgets as cz\nprint(cz.fetch(URL))", env=env_for(tmp_path), URL=url)
        asked = srv.requests("/w.bin")
        followed = other.requests("/w.bin")
    assert result.ok, result
    assert asked and all(e["authorization"] for e in asked)  # the origin the user gave credentials for
    assert followed and all(e["authorization"] is None for e in followed)  # not the one it redirects to


def test_a_redirect_to_a_file_url_is_not_followed(tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("private")
    with FileServer() as srv:
        url = srv.add("/w.bin", b"", redirect=secret.as_uri())
        result = run_bounded("import ckptzoo_widgets as cz\nprint(cz.fetch(URL))", env=env_for(tmp_path), URL=url)
    assert not result.ok and result.raised("FetchError"), result
    cached = [p.read_bytes() for p in (tmp_path / "cache").rglob("*") if p.is_file()]
    assert b"private" not in b"".join(cached)
