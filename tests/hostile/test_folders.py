"""Hostile folders: links out of the zoo, special files, lies about sizes, link loops.

The rule (docs/security.md, "Folders"): links are followed only when they stay
inside the zoo's folder, only regular files are read, every read is capped by
the bytes actually read, and a walk has a budget. Each case that could hang or
exhaust memory runs in a child process under limits (`run_bounded`).
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from fixtures.make_runs import CARD, trainer_state, weights, write
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import ckptzoo_widgets as cz
from ckptzoo_widgets import safety
from ckptzoo_widgets.errors import ZooError
from ckptzoo_widgets.sources._folder import Budget, BudgetExhausted, Folder, FolderReadError
from ckptzoo_widgets.sources.runs import RunsReader
from ckptzoo_widgets.writers.build import write_index

from .bounded import run_bounded

SECRET = "AWS_SECRET=hunter2-do-not-leak"

OPEN_AND_REPORT = """
import ckptzoo_widgets as cz
zoo = cz.open_zoo(ROOT)
print(json_dumps({"ids": sorted(m.id for m in zoo), "errors": zoo.errors}))
"""


def _open_bounded(root: Path, seconds: float = 30, memory_mb: int = 768) -> dict:
    code = "from json import dumps as json_dumps\n" + OPEN_AND_REPORT
    result = run_bounded(code, ROOT=str(root), seconds=seconds, memory_mb=memory_mb)
    assert result.ok, (result.error_type, result.message, result.stderr[-2000:])
    return json.loads(result.stdout.strip().splitlines()[-1])


@pytest.fixture
def secret(tmp_path) -> Path:
    path = tmp_path / "outside" / "credentials"
    write(path, f"---\nlicense: mit\n---\n# Secret\n{SECRET}\n")
    return path


def _run(root: Path) -> Path:
    """One plain run with real weights: root/run/model.safetensors."""
    weights(root / "run" / "model.safetensors", 1)
    return root / "run"


def test_a_card_linked_to_a_secret_outside_is_not_read_nor_indexed(tmp_path, secret):
    root = tmp_path / "runs"
    run = _run(root)
    (run / "README.md").symlink_to(secret)
    zoo = cz.open_zoo(str(root))
    model = zoo.model("run")
    assert SECRET not in model.description
    assert any("README.md" in e and "outside the zoo's folder" in e for e in zoo.errors)
    out, document, problems = write_index(root)
    assert SECRET not in out.read_text("utf-8")
    assert any("README.md" in str(p) for p in problems)


def test_links_inside_the_folder_are_followed(tmp_path):
    root = tmp_path / "runs"
    run = _run(root)
    write(root / "cards" / "run.md", CARD)
    (run / "README.md").symlink_to(root / "cards" / "run.md")
    (run / "last.safetensors").symlink_to(run / "model.safetensors")
    zoo = cz.open_zoo(str(root))
    model = zoo.model("run")
    assert model.license == "apache-2.0"
    assert "last" in [c.name for c in model.checkpoints]


def test_weights_linked_outside_are_neither_indexed_nor_hashed(tmp_path):
    outside = tmp_path / "elsewhere" / "big.safetensors"
    weights(outside, 7)
    root = tmp_path / "runs"
    run = _run(root)
    (run / "stolen.safetensors").symlink_to(outside)
    zoo = cz.open_zoo(str(root))
    assert [c.name for c in zoo.model("run").checkpoints] == ["final"]
    assert any("stolen.safetensors" in e and "outside" in e for e in zoo.errors)
    out, document, _ = write_index(root)
    assert "stolen" not in out.read_text("utf-8")


@pytest.mark.parametrize("name", ["config.json", "trainer_state.json", "README.md", "model.safetensors"])
def test_dev_zero_linked_in_is_refused_without_reading_it(tmp_path, name):
    root = tmp_path / "runs"
    run = _run(root)
    (run / "checkpoint-5").mkdir()
    weights(run / "checkpoint-5" / "model.safetensors", 5)
    target = run / name
    target.unlink(missing_ok=True)
    target.symlink_to("/dev/zero")
    report = _open_bounded(root, memory_mb=512)
    assert "run" in report["ids"]
    assert any(name in e and "outside the zoo's folder" in e for e in report["errors"])


@pytest.mark.parametrize("name", ["config.json", "trainer_state.json", "README.md", "metrics.csv", "results.json"])
def test_a_fifo_is_refused_and_does_not_hang(tmp_path, name):
    root = tmp_path / "runs"
    run = _run(root)
    write(run / "trainer_state.json", trainer_state([], None, 10)) if name != "trainer_state.json" else None
    os.mkfifo(run / name)
    report = _open_bounded(root, seconds=20)
    assert "run" in report["ids"]
    assert any(name in e and "FIFO" in e for e in report["errors"]), report["errors"]


def test_a_fifo_or_a_link_out_as_a_static_index_is_a_clear_error(tmp_path, secret):
    fifo_zoo = tmp_path / "fifo-zoo"
    fifo_zoo.mkdir()
    os.mkfifo(fifo_zoo / "index.json")
    result = run_bounded("import ckptzoo_widgets as cz\ncz.open_zoo(ROOT)", ROOT=str(fifo_zoo), seconds=20)
    # A FIFO is not a file: the folder is opened as a (empty) runs folder or refused, never waited on.
    assert result.error_type != "Timeout"
    linked = tmp_path / "linked-zoo"
    linked.mkdir()
    write(secret.parent / "index.json", json.dumps({"ckptzoo_index": 1, "name": SECRET, "models": []}))
    (linked / "index.json").symlink_to(secret.parent / "index.json")
    with pytest.raises(ZooError, match="outside the zoo's folder") as caught:
        cz.open_zoo(str(linked))
    assert SECRET not in str(caught.value)
    # The user's own path is theirs: naming the linked file itself opens it.
    assert cz.open_zoo(str(linked / "index.json")).sources


def test_a_link_loop_and_a_linked_folder_are_not_walked(tmp_path, secret):
    root = tmp_path / "runs"
    run = _run(root)
    (run / "loop").symlink_to(root, target_is_directory=True)
    (run / "outside").symlink_to(secret.parent, target_is_directory=True)
    report = _open_bounded(root, seconds=20)
    assert report["ids"] == ["run"]
    assert not any(SECRET in e for e in report["errors"])


def test_reads_are_capped_by_bytes_read_and_files_larger_than_the_cap_are_reported(tmp_path):
    root = tmp_path / "runs"
    run = _run(root)
    with open(run / "trainer_state.json", "wb") as handle:  # sparse: 65 MiB without using the disk
        handle.truncate((64 << 20) + 1)
    report = _open_bounded(root, memory_mb=768)
    assert any("trainer_state.json" in e and "larger than 64.0 MiB" in e for e in report["errors"])
    folder = Folder(root)
    with pytest.raises(FolderReadError, match="larger than"):
        folder.read(run / "trainer_state.json", 1000)
    assert folder.budget.bytes_read <= 1001  # counted as read: one byte past the cap, not st_size


def test_the_walk_budget_stops_a_huge_folder_and_indexes_what_it_found(tmp_path):
    root = tmp_path / "runs"
    for number in range(30):
        weights(root / f"run{number:02d}" / "model.safetensors", number)
    with pytest.raises(BudgetExhausted):
        list(Folder(root, Budget(files=10)).walk())
    reader = RunsReader(root, budget=Budget(files=40))  # 30 folders, then one file each
    models, problems = reader.read()
    assert 0 < len(models) < 30
    assert any("stopped after 40 files" in str(p) for p in problems)
    _, problems = RunsReader(root, budget=Budget(bytes=100)).read()
    assert any("metadata in one walk" in str(p) for p in problems)


def test_a_malformed_safetensors_header_is_one_problem_and_the_run_opens(tmp_path):
    root = tmp_path / "runs"
    _run(root)
    cases = {
        "huge-length": (2**64 - 1).to_bytes(8, "little") + b"{}",
        "longer-than-file": (1000).to_bytes(8, "little") + b"{}",
        "not-json": (4).to_bytes(8, "little") + b"nope",
        "a-list": (2).to_bytes(8, "little") + b"[]",
        "bad-shape": (32).to_bytes(8, "little") + b'{"w": {"shape": ["x"]}}'.ljust(32),
        "float-shape": (40).to_bytes(8, "little") + b'{"w": {"shape": [1e300]}}'.ljust(40),
        "too-many-params": (60).to_bytes(8, "little") + b'{"w": {"shape": [100000000, 100000000]}}'.ljust(60),
        "short": b"\x01",
        "deep": (200_002).to_bytes(8, "little") + b"[" * 100_001 + b"]" * 100_001,
    }
    for name, data in cases.items():
        write(root / f"bad-{name}" / "model.safetensors", data)
    report = _open_bounded(root)
    assert report["ids"] == sorted([f"bad-{name}" for name in cases] + ["run"])
    for name in cases:
        assert any(f"bad-{name}/model.safetensors" in e and "parameter count left out" in e for e in report["errors"])
    assert cz.open_zoo(str(root)).model("run").num_params == 15


# --- hypothesis: any file name a folder can hold ------------------------------

NAMES = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="/\x00"), min_size=1, max_size=60)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(names=st.lists(NAMES.filter(lambda n: n not in (".", "..") and len(n.encode()) < 200), max_size=4))
def test_any_file_names_open_and_every_model_id_obeys_the_rules(tmp_path_factory, names):
    root = tmp_path_factory.mktemp("names")
    for position, name in enumerate(names):
        folder = root / f"run{position}"
        folder.mkdir()
        (folder / f"{name}.safetensors").write_bytes(b"\x02\x00\x00\x00\x00\x00\x00\x00{}")
        os.mkfifo(folder / f"{name}.json") if not (folder / f"{name}.json").exists() else None
    zoo = cz.open_zoo(str(root))
    for model in zoo:
        safety.check_model_id(model.id)
        for checkpoint in model.checkpoints:
            safety.check_checkpoint_name(checkpoint.name)
            for file in checkpoint.files:
                assert file.path and safety.check_relative_path(file.path)


def test_tensorboard_event_files_outside_the_run_are_not_read(tmp_path):
    pytest.importorskip("tensorboard")
    outside = tmp_path / "outside" / "logs"
    write(outside / "events.out.tfevents.1.host", b"secret events")
    run = _run(tmp_path / "runs")
    other = _run(tmp_path / "runs" / "other")
    write(other / "events.out.tfevents.3.host", b"another run's events")
    write(run / "runs" / "mine" / "events.out.tfevents.2.host", b"own events")
    (run / "runs" / "linked").symlink_to(outside, target_is_directory=True)  # a folder: never entered
    (run / "events.out.tfevents.4.host").symlink_to(other / "events.out.tfevents.3.host")  # a file leaving the run
    errors = cz.open_zoo(str(tmp_path / "runs")).errors
    # Only the run's own file reaches the reader (not an event file: reported as such).
    assert any("run/runs/mine/events.out.tfevents.2.host" in e and "cut short or corrupt" in e for e in errors)
    assert not any("linked" in e or "secret" in e for e in errors)
    linked = [e for e in errors if "run/events.out.tfevents.4.host" in e]
    assert len(linked) == 1 and "outside its run's folder; not followed" in linked[0]
