"""Course packs (`ckptzoo pack`): built from real zoos, a real Hub-shaped server and real files;
read back by our loader, huggingface_hub's cache lookup and torch.hub, with no network."""

from __future__ import annotations

import hashlib
import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from fixtures.branch_hub import BranchHub  # noqa: E402
from fixtures.make_runs import make_runs  # noqa: E402
from fixtures.tree import files_under, tree_hash  # noqa: E402

import ckptzoo_widgets as cz  # noqa: E402
from ckptzoo_widgets.cli import main  # noqa: E402
from ckptzoo_widgets.errors import FetchError, IntegrityError, NetworkError, ZooError  # noqa: E402
from ckptzoo_widgets.pack import build_pack, environment, pack_status, verify_pack  # noqa: E402

BUILTIN_ZOO = Path(cz.__file__).resolve().parent / "zoo"
REPO = "course/tiny-lm"


@pytest.fixture
def teacher(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The teacher's own cache; no pack set; quiet."""
    cache = tmp_path / "teacher-cache"
    monkeypatch.setenv("CKPTZOO_CACHE", str(cache))
    monkeypatch.setenv("CKPTZOO_QUIET", "1")
    monkeypatch.delenv("CKPTZOO_PACK", raising=False)
    monkeypatch.setenv("CKPTZOO_BACKOFF", "0.01")
    return cache


def course(tmp_path: Path, body: str, name: str = "course.toml") -> Path:
    path = tmp_path / name
    path.write_text('title = "Test course"\n' + body, "utf-8")
    return path


def student_env(monkeypatch: pytest.MonkeyPatch, pack: Path, home: Path) -> None:
    monkeypatch.setenv("CKPTZOO_PACK", str(pack))
    monkeypatch.setenv("CKPTZOO_CACHE", str(home / "cache"))


def run_python(code: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    full = {k: v for k, v in os.environ.items() if not k.startswith(("CKPTZOO_", "HF_", "TORCH_"))}
    full.update(env)
    return subprocess.run([sys.executable, "-c", code], env=full, capture_output=True, text=True, timeout=120)


# --- built-in and runs-folder refs ---------------------------------------------------------------


def test_builtin_pack_loads_browses_verifies_and_rebuilds_idempotently(tmp_path: Path, teacher: Path) -> None:
    spec = course(
        tmp_path,
        '[[checkpoint]]\nref = "digits-mlp@epoch-12"\n[[checkpoint]]\nref = "digits-mlp@epoch-1"\n'
        '[[checkpoint]]\nref = "digits-cnn"\n',
    )
    pack = tmp_path / "pack"
    report = build_pack(spec, pack)
    assert [p.label for p in report.entries] == ["digits-mlp@epoch-12", "digits-mlp@epoch-1", "digits-cnn@epoch-20"]

    zoo = cz.open_zoo(str(pack))  # cz.browse(pack) shows exactly these
    assert sorted(zoo.search("")["id"]) == ["digits-cnn", "digits-mlp"]
    assert [c.name for c in zoo.model("digits-mlp").checkpoints] == ["epoch-1", "epoch-12"]
    assert zoo.model("digits-mlp").curves  # the card's curves came along
    model = cz.load("digits-mlp@epoch-12", zoo=str(pack))
    assert model.path.resolve().is_relative_to(pack / "ckptzoo" / "blobs")  # served in place
    original = cz.load("digits-mlp@epoch-12")
    assert model.path.read_bytes() == original.path.read_bytes()
    assert original.path.stat().st_nlink == 1  # a copy: the pack shares no inode with the package
    assert 'zoo="' + str(pack) + '"' in zoo.load_code("digits-mlp@epoch-1")

    report_ok = verify_pack(pack)
    assert report_ok.findings == [] and report_ok.files >= 5
    before = tree_hash(pack)
    again = build_pack(spec, pack)
    assert again.fetched_files == 0 and again.removed == []
    assert tree_hash(pack) == before
    assert main(["pack", "verify", str(pack)]) == 0


def test_rebuild_with_fewer_checkpoints_removes_the_rest(tmp_path: Path, teacher: Path) -> None:
    pack = tmp_path / "pack"
    build_pack(
        course(tmp_path, '[[checkpoint]]\nref = "digits-mlp@epoch-12"\n[[checkpoint]]\nref = "digits-cnn"\n'), pack
    )
    report = build_pack(course(tmp_path, '[[checkpoint]]\nref = "digits-cnn"\n', "smaller.toml"), pack)
    assert any("digits-mlp" in rel for rel in report.removed)
    assert not (pack / "ckptzoo" / "views" / "builtin" / "digits-mlp").exists()
    assert verify_pack(pack).findings == []
    assert list(cz.open_zoo(str(pack)).search("")["id"]) == ["digits-cnn"]


def test_runs_folder_refs(tmp_path: Path, teacher: Path) -> None:
    runs = make_runs(tmp_path / "runs")
    spec = course(
        tmp_path,
        '[[checkpoint]]\nzoo = "runs"\nref = "bert-sst2@checkpoint-200"\n'
        '[[checkpoint]]\nzoo = "runs"\nref = "gpt-shards@checkpoint-5"\n',
    )
    pack = tmp_path / "pack"
    build_pack(spec, pack)
    zoo = cz.open_zoo(str(pack))
    paths = zoo.download("gpt-shards@checkpoint-5")
    assert [p.name for p in paths] == ["model-00001-of-00002.safetensors", "model-00002-of-00002.safetensors"]
    source = cz.open_zoo(str(runs)).download("gpt-shards@checkpoint-5")
    assert [p.read_bytes() for p in paths] == [p.read_bytes() for p in source]
    assert zoo.model("bert-sst2").metrics  # the run's metrics
    assert "cz.fetch(" in zoo.load_code("bert-sst2@checkpoint-200", library="safetensors-torch")


def test_a_course_file_with_a_typo_stops_before_anything(tmp_path: Path, teacher: Path) -> None:
    pack = tmp_path / "pack"
    with pytest.raises(ZooError, match="unknown key"):
        build_pack(course(tmp_path, '[[checkpoint]]\nref = "digits-mlp@epoch-12"\nzooo = "x"\n'), pack)
    with pytest.raises(ZooError, match="no checkpoint 'epoch-99'"):
        build_pack(course(tmp_path, '[[checkpoint]]\nref = "digits-mlp@epoch-99"\n'), pack)
    assert not pack.exists()
    other = tmp_path / "notes"
    other.mkdir()
    (other / "mine.txt").write_text("x")
    with pytest.raises(ZooError, match="not empty and not a course pack"):
        build_pack(course(tmp_path, '[[checkpoint]]\nref = "digits-cnn"\n'), other)


# --- the read-only layer: cz.fetch(url) served from the pack -------------------------------------


def test_fetch_of_a_packed_url_is_served_in_place_with_no_request(
    tmp_path: Path, teacher: Path, http_server, monkeypatch: pytest.MonkeyPatch
) -> None:
    index_url = http_server.add_dir("/zoo/", BUILTIN_ZOO) + "index.json"
    pack = tmp_path / "pack"
    build_pack(course(tmp_path, f'[[checkpoint]]\nzoo = "{index_url}"\nref = "digits-mlp@epoch-12"\n'), pack)
    model, checkpoint = cz.open_zoo(index_url).resolve("digits-mlp@epoch-12")
    file = checkpoint.files[0]
    url = model.locate(file)
    seen = len(http_server.requests())

    home = tmp_path / "student"
    student_env(monkeypatch, pack, home)
    pack.chmod(0o555)  # what a student sees: not writable (root ignores it; the tree hash checks)
    before = tree_hash(pack)
    path = cz.fetch(url, sha256=file.sha256, size=file.size)
    assert path.resolve() == (pack / "ckptzoo" / "blobs" / "sha256" / file.sha256[:2] / file.sha256)
    assert path.name == file.name  # a view in the student's own cache, pointing into the pack
    assert hashlib.sha256(path.read_bytes()).hexdigest() == file.sha256
    assert cz.fetch(url).resolve() == path.resolve()  # by the pack's URL record, without a sha256
    assert len(http_server.requests()) == seen
    assert tree_hash(pack) == before
    assert not (home / "cache" / "blobs").exists()  # no copy per student

    pack.chmod(0o755)
    blob = path.resolve()
    blob.unlink()  # a damaged pack: one line naming the teacher's fix, and no download
    with pytest.raises(FetchError) as error:
        cz.fetch(url, sha256=file.sha256, size=file.size)
    message = str(error.value)
    assert "\n" not in message and "ckptzoo pack build" in message and "ckptzoo pack verify" in message
    assert len(http_server.requests()) == seen
    assert main(["pack", "verify", str(pack)]) == 1
    build_pack(tmp_path / "course.toml", pack)  # the fix
    assert verify_pack(pack).findings == []


def test_verify_finds_a_flipped_byte_and_build_repairs_it(tmp_path: Path, teacher: Path, capsys) -> None:
    pack = tmp_path / "pack"
    spec = course(tmp_path, '[[checkpoint]]\nref = "digits-cnn"\n')
    build_pack(spec, pack)
    blob = next(p for p in (pack / "ckptzoo" / "blobs").rglob("*") if p.is_file())
    data = bytearray(blob.read_bytes())
    data[100] ^= 0xFF
    blob.write_bytes(bytes(data))  # in place: a copy of the package's file, never the file itself
    assert cz.load("digits-cnn").path.read_bytes() != bytes(data)
    assert main(["pack", "verify", str(pack)]) == 1
    out = capsys.readouterr().out
    assert "DAMAGED" in out and blob.name in out and "ckptzoo pack build" in out
    build_pack(spec, pack)
    assert verify_pack(pack).findings == []


# --- the Hub: branches, one download per file, resume, wrong sha256 ---------------------------


def _hub_files(step: int, weights: bytes) -> dict[str, bytes]:
    config = json.dumps({"model_type": "gpt_neox", "step": step}).encode()
    return {"config.json": config, "model.safetensors": weights, "README.md": b"# tiny"}


def _weights(seed: int, size: int = 4096) -> bytes:
    import numpy as np
    from safetensors.numpy import save

    return save({"w": np.random.default_rng(seed).standard_normal(size // 4).astype(np.float32)})


def test_hub_branches_packed_in_the_hub_layout_read_offline_by_huggingface_hub(
    tmp_path: Path, teacher: Path, http_server, monkeypatch: pytest.MonkeyPatch
) -> None:
    hub = BranchHub(http_server)
    shared = _weights(1)
    commit_a = hub.add_branch(REPO, "step1000", _hub_files(1000, shared))
    commit_b = hub.add_branch(REPO, "step3000", _hub_files(3000, shared))  # same weights: fetched once
    hub.add_branch(REPO, "main", _hub_files(3000, _weights(2)))
    monkeypatch.setenv("HF_ENDPOINT", hub.url)
    spec = course(
        tmp_path,
        f'[[checkpoint]]\nref = "hf:{REPO}@step1000"\n'
        f'[[checkpoint]]\nref = "hf:{REPO}@step3000"\ninclude = ["*.json", "*.safetensors"]\n',
    )
    pack = tmp_path / "pack"
    build_pack(spec, pack)
    assert len(hub.lfs_gets(shared)) == 1
    folder = pack / "hf" / "models--course--tiny-lm"
    assert (folder / "refs" / "step3000").read_text() == commit_b
    assert (folder / "snapshots" / commit_a / "README.md").is_symlink()
    assert not (folder / "snapshots" / commit_b / "README.md").exists()  # include
    assert not (pack / "hf" / ".locks").exists()
    assert verify_pack(pack).findings == []

    before = tree_hash(pack)
    env = environment(pack) | {"HF_ENDPOINT": "http://127.0.0.1:9", "CKPTZOO_CACHE": str(tmp_path / "s")}
    code = (
        "import hashlib, huggingface_hub as h\n"
        f"p = h.hf_hub_download({REPO!r}, 'model.safetensors', revision='step3000')\n"
        f"c = h.hf_hub_download({REPO!r}, 'config.json', revision='step1000')\n"
        "print(hashlib.sha256(open(p,'rb').read()).hexdigest(), open(c).read())\n"
    )
    seen = len(http_server.requests())
    result = run_python(code, env)
    assert result.returncode == 0, result.stderr
    digest, config = result.stdout.split(" ", 1)
    assert digest == hashlib.sha256(shared).hexdigest() and json.loads(config)["step"] == 1000
    assert len(http_server.requests()) == seen and tree_hash(pack) == before

    zoo = cz.open_zoo(str(pack))
    model = zoo.model(REPO)
    assert [c.revision for c in model.checkpoints] == ["step1000", "step3000"]
    assert 'revision="step3000"' in zoo.load_code(f"{REPO}@step3000", library="transformers")

    hub.add_branch(REPO, "step3000", _hub_files(3001, _weights(3)))  # the branch moved
    report = build_pack(spec, pack)
    assert report.fetched_files == 2  # its new config.json and weights, nothing else
    assert (folder / "refs" / "step3000").read_text() == hub.commit(REPO, "step3000")
    assert not (folder / "snapshots" / commit_b).exists()
    assert verify_pack(pack).findings == []


def test_hub_wrong_sha256_leaves_nothing_in_the_pack(
    tmp_path: Path, teacher: Path, http_server, monkeypatch: pytest.MonkeyPatch
) -> None:
    hub = BranchHub(http_server)
    hub.add_branch(REPO, "step1000", _hub_files(1000, _weights(1)))
    hub.lie_about("model.safetensors")
    monkeypatch.setenv("HF_ENDPOINT", hub.url)
    pack = tmp_path / "pack"
    spec = course(tmp_path, f'[[checkpoint]]\nref = "digits-cnn"\n[[checkpoint]]\nref = "hf:{REPO}@step1000"\n')
    with pytest.raises(IntegrityError, match="sha256 mismatch"):
        build_pack(spec, pack)
    assert not pack.exists() or files_under(pack) == []
    assert list((teacher / "tmp").iterdir()) == []


def test_an_interrupted_build_resumes_where_it_stopped(
    tmp_path: Path, teacher: Path, http_server, monkeypatch: pytest.MonkeyPatch
) -> None:
    hub = BranchHub(http_server)
    weights = _weights(5, size=3 << 20)
    hub.add_branch(REPO, "step1000", _hub_files(1000, weights))
    lfs = http_server.resource(f"/lfs/{hashlib.sha256(weights).hexdigest()}")
    lfs.drop_after = 2 << 20  # the connection breaks after 2 MiB
    monkeypatch.setenv("HF_ENDPOINT", hub.url)
    monkeypatch.setenv("CKPTZOO_MAX_ATTEMPTS", "1")  # and the build gives up: the teacher's laptop closed
    pack = tmp_path / "pack"
    spec = course(tmp_path, f'[[checkpoint]]\nref = "hf:{REPO}@step1000"\n')
    with pytest.raises(NetworkError):
        build_pack(spec, pack)
    assert not pack.exists() or files_under(pack) == []
    monkeypatch.delenv("CKPTZOO_MAX_ATTEMPTS")
    build_pack(spec, pack)
    gets = hub.lfs_gets(weights)
    assert [g["range"] for g in gets] == [None, f"bytes={2 << 20}-"]
    assert verify_pack(pack).findings == []


# --- torch.hub weights by URL --------------------------------------------------------------------


def test_torch_hub_weights_found_by_torch_in_the_pack(
    tmp_path: Path, teacher: Path, http_server, monkeypatch: pytest.MonkeyPatch
) -> None:
    torch = pytest.importorskip("torch")
    buffer = io.BytesIO()
    torch.save({"fc.weight": torch.arange(12.0).reshape(3, 4)}, buffer)
    data = buffer.getvalue()
    name = f"tinynet-{hashlib.sha256(data).hexdigest()[:8]}.pth"
    url = http_server.add(f"/models/{name}", data)
    bad_url = http_server.add("/models/tinynet-00000000.pth", data)
    spec = course(
        tmp_path,
        f'[[checkpoint]]\nurl = "{url}"\narchitecture = "tinynet"\nweights = "DEMO_V1"\n',
    )
    pack = tmp_path / "pack"
    build_pack(spec, pack)
    assert (pack / "torch" / "hub" / "checkpoints" / name).read_bytes() == data
    with pytest.raises(IntegrityError, match="torch.hub would refuse it"):
        build_pack(course(tmp_path, f'[[checkpoint]]\nurl = "{bad_url}"\n', "bad.toml"), tmp_path / "other")

    seen = len(http_server.requests())
    code = (
        "import torch\n"
        f"sd = torch.hub.load_state_dict_from_url({url!r}, check_hash=True, map_location='cpu')\n"
        "print(sd['fc.weight'].sum().item())\n"
    )
    result = run_python(code, environment(pack) | {"CKPTZOO_CACHE": str(tmp_path / "s")})
    assert result.returncode == 0, result.stderr
    assert float(result.stdout) == 66.0
    assert len(http_server.requests()) == seen
    zoo = cz.open_zoo(str(pack))
    assert 'get_model("tinynet", weights="DEMO_V1")' in zoo.load_code("tinynet@DEMO_V1", library="torchvision")


# --- the teacher's view --------------------------------------------------------------------------


def _notebook(path: Path, *cells: str) -> None:
    doc = {
        "cells": [
            {"cell_type": "code", "source": c, "metadata": {}, "outputs": [], "execution_count": None} for c in cells
        ],
        "metadata": {},
        "nbformat": 4,
        "nbformat_minor": 5,
    }
    path.write_text(json.dumps(doc), "utf-8")


def test_status_lists_what_notebooks_load_that_the_pack_lacks(
    tmp_path: Path, teacher: Path, http_server, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    hub = BranchHub(http_server)
    hub.add_branch(REPO, "step1000", _hub_files(1000, _weights(1)))
    monkeypatch.setenv("HF_ENDPOINT", hub.url)
    pack = tmp_path / "pack"
    build_pack(
        course(tmp_path, f'[[checkpoint]]\nref = "digits-mlp@epoch-12"\n[[checkpoint]]\nref = "hf:{REPO}@step1000"\n'),
        pack,
    )
    lab = tmp_path / "lab"
    (lab / "week2").mkdir(parents=True)
    _notebook(
        lab / "week1.ipynb",
        "%matplotlib inline\nimport ckptzoo_widgets as cz\nm = cz.load('digits-mlp@epoch-12', zoo='/srv/course-pack')",
        "m2 = cz.load('digits-cnn@epoch-20')",
    )
    _notebook(
        lab / "week2" / "lm.ipynb",
        "from transformers import AutoModelForCausalLM\n"
        f"lm = AutoModelForCausalLM.from_pretrained({REPO!r}, revision='step1000')",
        f"lm = AutoModelForCausalLM.from_pretrained({REPO!r}, revision='step3000')\n!nvidia-smi",
        "import timm\nnet = timm.create_model('resnet18.a1_in1k', pretrained=True)",
    )
    status = pack_status(pack, lab)
    assert len(status.uses) == 5
    assert [(u.notebook, u.cell, u.shown) for u in status.lacking] == [
        ("week1.ipynb", 2, "digits-cnn@epoch-20"),
        ("week2/lm.ipynb", 2, f"hf:{REPO}@step3000"),
        ("week2/lm.ipynb", 3, "hf:timm/resnet18.a1_in1k@main"),
    ]
    monkeypatch.setenv("CKPTZOO_PACK", str(pack))
    assert main(["pack", "status", "--notebooks", str(lab)]) == 0
    out = capsys.readouterr().out
    assert "2 checkpoints" in out and "5 checkpoint load(s), 3 not in the pack" in out
    assert f"missing  hf:{REPO}@step3000  (week2/lm.ipynb, cell 2, from_pretrained)" in out
    assert main(["pack", "status", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["entries"][1]["kind"] == "hub"
