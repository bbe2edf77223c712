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
