"""TensorBoard event files in runs folders, written with the `tensorboard` package's own writer."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest
from fixtures.make_runs import weights

pytest.importorskip("tensorboard")
from tensorboard.compat.proto.event_pb2 import Event
from tensorboard.compat.proto.summary_pb2 import Summary, SummaryMetadata
from tensorboard.summary.writer.event_file_writer import EventFileWriter
from tensorboard.util import tensor_util

import ckptzoo_widgets as cz
from ckptzoo_widgets.sources.tensorboard import Scalars

ROOT = Path(__file__).resolve().parents[2]


def legacy(tag: str, value: float) -> Summary.Value:
    """A scalar as torch's SummaryWriter and tensorboardX write it (`simple_value`)."""
    return Summary.Value(tag=tag, simple_value=value)


def tensor(tag: str, value: float) -> Summary.Value:
    """A scalar as TF2's `tf.summary.scalar` writes it (a tensor tagged for the scalars plugin)."""
    metadata = SummaryMetadata(plugin_data=SummaryMetadata.PluginData(plugin_name="scalars"))
    return Summary.Value(tag=tag, tensor=tensor_util.make_tensor_proto(value), metadata=metadata)


def write_events(folder: Path, points: dict[int, list[Summary.Value]]) -> Path:
    writer = EventFileWriter(str(folder))
    for step, values in sorted(points.items()):
        writer.add_event(Event(step=step, wall_time=time.time(), summary=Summary(value=values)))
    writer.close()
    return next(folder.glob("events.out.tfevents.*"))


def val_acc(step: int) -> float:
    return round(0.5 + step / 100, 4)


@pytest.fixture(scope="module")
def runs(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("tb") / "runs"
    # PyTorch Lightning: events beside checkpoints/ in lightning_logs/version_0.
    lightning = root / "mnist" / "lightning_logs" / "version_0"
    (lightning / "checkpoints").mkdir(parents=True)
    for name in ("epoch=0-step=12.ckpt", "epoch=1-step=20.ckpt"):
        (lightning / "checkpoints" / name).write_bytes(b"not a real ckpt")
    write_events(
        lightning,
        {
            step: [legacy("train/loss", 2.0 - step / 20)] + [legacy("val/acc", val_acc(step))] * (step % 5 == 0)
            for step in range(0, 26)
        },
    )
    # Hugging Face Trainer: checkpoint-N/ and events in runs/<date_host>/ (TF2 tensor scalars).
    trainer = root / "bert"
    for step in (10, 20):
        weights(trainer / f"checkpoint-{step}" / "model.safetensors", seed=step)
    (trainer / "runs" / "Nov24_10-00-00_host").mkdir(parents=True)
    write_events(
        trainer / "runs" / "Nov24_10-00-00_host",
        {step: [tensor("eval/loss", 1.0 / step), tensor("eval bad name", 1.0)] for step in (5, 10, 15, 20)},
    )
    # A run whose event file was cut short mid-record (the machine died while writing).
    cut = root / "cut" / "lightning_logs" / "version_0"
    (cut / "checkpoints").mkdir(parents=True)
    (cut / "checkpoints" / "epoch=0-step=30.ckpt").write_bytes(b"x")
    path = write_events(cut, {step: [legacy("val/acc", val_acc(step))] for step in range(0, 40, 10)})
    path.write_bytes(path.read_bytes()[:-7])
    return root


@pytest.fixture(scope="module")
def zoo(runs):
    return cz.open_zoo(str(runs))


def test_lightning_checkpoints_get_the_scalars_at_or_before_their_step(zoo):
    table = zoo.checkpoints("mnist/version_0").set_index("checkpoint")
    # step 12: val/acc was last logged at step 10; train/loss at 12 itself.
    assert table.loc["epoch-0-step-12", "val/acc"] == val_acc(10)
    assert table.loc["epoch-0-step-12", "train/loss"] == pytest.approx(2.0 - 12 / 20)
    assert table.loc["epoch-1-step-20", "val/acc"] == val_acc(20)


def test_the_full_curve_is_kept_on_the_model(zoo):
    model = zoo.model("mnist/version_0")
    assert [step for step, _ in model.curves["val/acc"]] == [0, 5, 10, 15, 20, 25]
    assert model.curves["val/acc"][-1] == (25, val_acc(25))
    assert len(model.curves["train/loss"]) == 26


def test_trainer_events_in_runs_subfolder_as_tensor_scalars(zoo):
    table = zoo.checkpoints("bert").set_index("checkpoint")
    assert table.loc["checkpoint-10", "eval/loss"] == pytest.approx(0.1)
    assert table.loc["checkpoint-20", "eval/loss"] == pytest.approx(0.05)
    assert "eval bad name" not in zoo.model("bert").curves
    assert any("'eval bad name'" in e and "metric-name rules" in e for e in zoo.errors)


def test_truncated_event_file_is_reported_and_the_rest_opens(zoo):
    messages = [e for e in zoo.errors if "cut short" in e]
    assert len(messages) == 1 and "cut/lightning_logs/version_0/events.out.tfevents." in messages[0]
    # The records before the damage are kept: steps 0, 10, 20 (30 was cut).
    assert [s for s, _ in zoo.model("cut/version_0").curves["val/acc"]] == [0, 10, 20]
    assert zoo.checkpoints("cut/version_0")["val/acc"].tolist() == [val_acc(20)]
    assert {"mnist/version_0", "bert"} <= {m.id for m in zoo}


def test_a_file_that_is_not_an_event_file(tmp_path):
    run = tmp_path / "run"
    run.mkdir()
    (run / "model.safetensors").write_bytes(b"")
    weights(run / "model.safetensors", seed=1)
    (run / "events.out.tfevents.1.host.1.0").write_bytes(b"this is not a tfrecord at all" * 20)
    zoo = cz.open_zoo(str(run))
    assert any("cut short or corrupt at byte 0 of 580" in e for e in zoo.errors)
    assert len(zoo) == 1


def test_thinned_curves_keep_first_and_last():
    scalars = Scalars({"loss": [(step, float(step)) for step in range(5000)]})
    thinned = scalars.thinned(limit=100)["loss"]
    assert len(thinned) == 100 and thinned[0] == [0, 0.0] and thinned[-1] == [4999, 4999.0]
    assert scalars.at(2500) == {"loss": 2500.0} and scalars.at(-1) == {}


def test_hint_when_tensorboard_is_missing(runs):
    code = (
        "import sys; sys.modules['tensorboard'] = None\n"
        "import ckptzoo_widgets as cz\n"
        f"zoo = cz.open_zoo({str(runs)!r})\n"
        "print(len(zoo)); print('\\n'.join(zoo.errors))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT).stdout
    assert out.splitlines()[0] == "3"
    assert "pip install 'ckptzoo-widgets[tensorboard]'" in out


def page_refresh(browser) -> None:
    """What the Refresh button sends (the page's custom message, through the widget's own handler)."""
    browser._handle_msg(
        {"content": {"data": {"method": "custom", "content": {"request": "refresh", "seq": 1}}}, "buffers": []}
    )


def test_refresh_shows_new_checkpoints_of_a_live_run(tmp_path):
    run = tmp_path / "live" / "lightning_logs" / "version_0"
    (run / "checkpoints").mkdir(parents=True)
    (run / "checkpoints" / "epoch=0-step=10.ckpt").write_bytes(b"x")
    write_events(run, {step: [legacy("val/acc", val_acc(step))] for step in (5, 10)})
    browser = cz.browse(str(tmp_path / "live"), selected="live/version_0")
    assert [c["name"] for c in browser.detail["checkpoints"]] == ["epoch-0-step-10"]
    browser.query = "live"
    # Training goes on: a new checkpoint and more scalars in a new event file (a resumed run).
    (run / "checkpoints" / "epoch=1-step=20.ckpt").write_bytes(b"x")
    time.sleep(1.1)  # event file names carry the second they were opened
    write_events(run, {step: [legacy("val/acc", val_acc(step))] for step in (15, 20)})
    assert browser.refresh() is True
    assert [c["name"] for c in browser.detail["checkpoints"]] == ["epoch-0-step-10", "epoch-1-step-20"]
    assert browser.detail["checkpoints"][-1]["metrics"]["val/acc"] == val_acc(20)
    assert browser.query == "live" and browser.selected.startswith("live/version_0")
    (run / "checkpoints" / "epoch=2-step=30.ckpt").write_bytes(b"x")
    page_refresh(browser)
    assert len(browser.detail["checkpoints"]) == 3 and browser.total == 1


# --- the same runs on object storage (a real S3 API server on 127.0.0.1: tests/s3_server.py) ---


def without_root(errors: list[str], root: str) -> list[str]:
    """A zoo's messages with the folder each names (a path here, a URL there) left out."""
    return sorted(e.replace(root, "ROOT") for e in errors)


@pytest.fixture
def s3_runs(s3_server, s3_env, tmp_path, monkeypatch):
    """Upload a runs folder below a fresh bucket; the zoo from S3 and the same from disk."""
    pytest.importorskip("s3fs")
    from fixtures.object_zoos import upload

    monkeypatch.setenv("CKPTZOO_CACHE", str(tmp_path / "cache"))
    monkeypatch.delenv("CKPTZOO_OFFLINE", raising=False)

    def opened(root: Path) -> tuple:
        bucket = s3_server.make_bucket()
        upload(s3_server, bucket, root, "runs")
        s3_server.reset_counts()
        return bucket, cz.open_zoo(f"s3://{bucket}/runs/"), cz.open_zoo(str(root))

    return opened


def test_event_files_on_s3_give_the_same_metrics_and_curves_as_on_disk(s3_runs, runs):
    bucket, remote, local = s3_runs(runs)
    assert sorted(m.id for m in remote) == sorted(m.id for m in local) == ["bert", "cut/version_0", "mnist/version_0"]
    for model in local:
        ours = remote.model(model.id)
        assert ours.curves == model.curves and ours.curves
        assert ours.model_dump(exclude={"description"}) == model.model_dump(exclude={"description"})
        assert remote.checkpoints(model.id).equals(local.checkpoints(model.id))
    table = remote.checkpoints("mnist/version_0").set_index("checkpoint")
    assert table.loc["epoch-0-step-12", "val/acc"] == val_acc(10)
    # the same reports: the truncated file, the bad metric name
    ours, theirs = without_root(remote.errors, f"{bucket}/runs"), without_root(local.errors, str(runs))
    assert ours == theirs and any("cut short" in e for e in ours) and any("'eval bad name'" in e for e in ours)


def test_an_oversized_event_file_on_s3_is_cut_at_the_budget_without_reading_it_whole(
    s3_runs, s3_server, tmp_path, monkeypatch
):
    from ckptzoo_widgets.sources import _folder, tensorboard

    root = tmp_path / "runs"
    run = root / "lightning_logs" / "version_0"
    (run / "checkpoints").mkdir(parents=True)
    (run / "checkpoints" / "epoch=0-step=5.ckpt").write_bytes(b"x")
    writer = EventFileWriter(str(run))
    for step in range(64):  # a scalar, then 64 KiB of something else (a graph): 4 MiB in all
        writer.add_event(Event(step=step, summary=Summary(value=[legacy("val/acc", val_acc(step))])))
        writer.add_event(Event(step=step, graph_def=bytes(64 << 10)))
    writer.close()
    (events,) = run.glob("events.out.tfevents.*")
    size = events.stat().st_size
    monkeypatch.setattr(tensorboard, "MAX_EVENT_BYTES", 256 << 10)  # a run's budget, as 1 GiB is for real logs
    bucket, remote, local = s3_runs(root)
    key = f"runs/{events.relative_to(root).as_posix()}"
    served = s3_server.counts(bucket, key)["bytes"]
    (message,) = [e for e in local.errors if "tfevents" in e]
    assert f"of {size}: stopped at the read budget of this run" in message
    assert without_root(remote.errors, f"{bucket}/runs") == without_root(local.errors, str(root))
    # the steps before the budget ran out, the same from both
    assert remote.model("runs/version_0").curves == local.model("runs/version_0").curves
    assert [s for s, _ in local.model("runs/version_0").curves["val/acc"]] == [0, 1, 2, 3]
    # about the budget was fetched (ranged reads of READ_BLOCK), never the 4 MiB file
    assert 256 << 10 <= served <= (256 << 10) + 2 * _folder.READ_BLOCK < size
