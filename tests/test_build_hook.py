"""`pip install -e .` from a source checkout: Node/npm only when js/ must be built, one clear line without them."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
BUILT = ["ckptzoo_widgets/labextension", "ckptzoo_widgets/static/widget.js", "ckptzoo_widgets/static/widget.css"]

pytest.importorskip("hatchling")
pytest.importorskip("hatch_jupyter_builder")
pytestmark = pytest.mark.slow


def _checkout(tmp_path: Path, with_build: bool) -> Path:
    """The tracked files of this tree (what `git clone` gives), and optionally the built front end."""
    files = subprocess.run(["git", "ls-files", "-co", "--exclude-standard"], cwd=ROOT, capture_output=True, text=True)
    source = tmp_path / "checkout"
    for name in files.stdout.splitlines():
        if (ROOT / name).is_file() and not name.startswith(("js/node_modules", "tests/", "docs/", "benchmarks/")):
            (source / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / name, source / name)
    if with_build:
        if not (ROOT / BUILT[0] / "package.json").is_file():
            pytest.skip("the front end is not built in this tree (cd js && npm run build)")
        for name in BUILT:
            (source / name).parent.mkdir(parents=True, exist_ok=True)
            copy = shutil.copytree if (ROOT / name).is_dir() else shutil.copy2
            copy(ROOT / name, source / name)
        later = time.time() + 60  # built after the sources, as `npm run build` leaves it
        for path in (source / BUILT[0]).rglob("*"):
            os.utime(path, (later, later))
    return source


def _pip(
    source: Path, tmp_path: Path, path: str, *args: str, editable: bool = False
) -> subprocess.CompletedProcess[str]:
    python = os.path.realpath(sys.executable)  # absolute: PATH below may hold nothing at all
    env = {"HOME": str(tmp_path / "home"), "PATH": path, "PIP_DISABLE_PIP_VERSION_CHECK": "1", "PIP_NO_INDEX": "1"}
    command = [python, "-m", "pip", "--no-cache-dir", *args, "--no-build-isolation", "--no-deps"]
    command += ["--editable", str(source)] if editable else [str(source)]
    return subprocess.run(command, capture_output=True, text=True, env=env, cwd=tmp_path, timeout=600)


def test_without_npm_an_editable_install_fails_with_one_line_saying_what_to_install(tmp_path):
    source = _checkout(tmp_path, with_build=False)
    done = _pip(source, tmp_path, "/nonexistent", "install", "--prefix", str(tmp_path / "prefix"), editable=True)
    assert done.returncode != 0
    output = done.stdout + done.stderr
    ours = [line.strip() for line in output.splitlines() if "ckptzoo-widgets:" in line]
    assert ours == [
        "ckptzoo-widgets: building the front end (js/) needs Node.js 20+ and npm: node and npm not found on PATH; "
        "install Node.js 20+ and npm (https://nodejs.org, or `apt-get install nodejs npm`) and run pip again."
    ]
    assert "Traceback" not in output


def test_an_old_node_is_named(tmp_path):
    source = _checkout(tmp_path, with_build=False)
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for name, text in {"node": "echo v18.19.0", "npm": "echo 9.2.0"}.items():
        (bin_dir / name).write_text(f"#!/bin/sh\n{text}\n")
        (bin_dir / name).chmod(0o755)
    done = _pip(source, tmp_path, str(bin_dir), "install", "--prefix", str(tmp_path / "prefix"), editable=True)
    assert done.returncode != 0
    assert "needs Node.js 20+ and npm: node v18.19.0 is older than 20;" in done.stdout + done.stderr


def test_a_built_checkout_needs_no_node(tmp_path):
    """What an sdist is: the built front end beside its sources. Its wheel builds with no npm anywhere."""
    source = _checkout(tmp_path, with_build=True)
    done = _pip(source, tmp_path, "/nonexistent", "wheel", "-w", str(tmp_path / "dist"))
    assert done.returncode == 0, done.stdout + done.stderr
    (wheel,) = (tmp_path / "dist").glob("ckptzoo_widgets-*.whl")
    import zipfile

    names = zipfile.ZipFile(wheel).namelist()
    assert "ckptzoo_widgets/static/widget.js" in names and "ckptzoo_widgets/labextension/package.json" in names
