"""Hostile TensorBoard event files: a record length that claims gigabytes the file does not hold.

The reader checks each record's length against the file's size before tensorboard's reader
allocates a buffer for it; the records before the lie are kept, the rest of the zoo opens.
"""

from __future__ import annotations

import struct
from pathlib import Path

import pytest

pytest.importorskip("tensorboard")
from tensorboard.compat.proto.event_pb2 import Event
from tensorboard.compat.proto.summary_pb2 import Summary
from tensorboard.compat.tensorflow_stub.pywrap_tensorflow import masked_crc32c
from tensorboard.summary.writer.event_file_writer import EventFileWriter

from .bounded import run_bounded


def lying_record(claimed: int) -> bytes:
    header = struct.pack("<Q", claimed)
    return header + struct.pack("<I", masked_crc32c(header)) + b"x" * 100


@pytest.mark.parametrize("claimed", [1 << 30, 1 << 40, (1 << 64) - 1])
def test_a_record_that_claims_more_than_the_file_holds(tmp_path: Path, claimed: int):
    run = tmp_path / "run" / "lightning_logs" / "version_0"
    (run / "checkpoints").mkdir(parents=True)
    (run / "checkpoints" / "epoch=0-step=10.ckpt").write_bytes(b"x")
    writer = EventFileWriter(str(run))
    writer.add_event(Event(step=10, summary=Summary(value=[Summary.Value(tag="val/acc", simple_value=0.5)])))
    writer.close()
    (events,) = run.glob("events.out.tfevents.*")
    intact = events.stat().st_size
    events.write_bytes(events.read_bytes() + lying_record(claimed))
    result = run_bounded(
        """
import ckptzoo_widgets as cz
zoo = cz.open_zoo(ROOT)
print(zoo.checkpoints("run/version_0")["val/acc"].tolist())
print("\\n".join(zoo.errors))
""",
        memory_mb=1536,
        seconds=60,
        ROOT=str(tmp_path / "run"),
    )
    assert result.ok, (result.error_type, result.message, result.stderr[-2000:])
    assert result.stdout.splitlines()[0] == "[0.5]"
    assert f"cut short or corrupt at byte {intact} of {intact + 112}" in result.stdout


def scalar_event(step: int, tag: str, dims: list[int], value: float) -> Event:
    """A TF2-style scalar: a float tensor declaring shape `dims` and holding one value."""
    from tensorboard.compat.proto.summary_pb2 import SummaryMetadata
    from tensorboard.compat.proto.tensor_pb2 import TensorProto
    from tensorboard.compat.proto.tensor_shape_pb2 import TensorShapeProto
    from tensorboard.compat.proto.types_pb2 import DT_FLOAT

    shape = TensorShapeProto(dim=[TensorShapeProto.Dim(size=size) for size in dims])
    metadata = SummaryMetadata(plugin_data=SummaryMetadata.PluginData(plugin_name="scalars"))
    tensor = TensorProto(dtype=DT_FLOAT, tensor_shape=shape, float_val=[value])
    return Event(step=step, summary=Summary(value=[Summary.Value(tag=tag, metadata=metadata, tensor=tensor)]))


@pytest.mark.parametrize("dims", [[200_000_000], [100_000, 100_000], [-1], [1 << 62, 1 << 62]])
def test_a_scalar_tensor_whose_shape_declares_gigabytes_is_refused_before_it_is_built(tmp_path: Path, dims):
    # A ~200-byte record: one float and a declared shape the reader would fill by repeating it.
    run = tmp_path / "run" / "lightning_logs" / "version_0"
    (run / "checkpoints").mkdir(parents=True)
    (run / "checkpoints" / "epoch=0-step=10.ckpt").write_bytes(b"x")
    writer = EventFileWriter(str(run))
    writer.add_event(scalar_event(10, "val/acc", [], 0.5))
    writer.add_event(scalar_event(10, "val/bomb", dims, 0.25))
    writer.add_event(scalar_event(10, "val/loss", [1], 1.5))
    writer.close()
    (events,) = run.glob("events.out.tfevents.*")
    assert events.stat().st_size < 400
    result = run_bounded(
        """
import ckptzoo_widgets as cz
zoo = cz.open_zoo(ROOT)
table = zoo.checkpoints("run/version_0")
print(table["val/acc"].tolist(), table["val/loss"].tolist(), "val/bomb" in table)
print("\\n".join(zoo.errors))
""",
        memory_mb=768,
        seconds=60,
        ROOT=str(tmp_path / "run"),
    )
    assert result.ok, (result.error_type, result.message, result.stderr[-2000:])
    assert result.stdout.splitlines()[0] == "[0.5] [1.5] False"
    assert "scalar's tensor of shape" in result.stdout and "1 such value(s) skipped" in result.stdout
    assert result.peak_rss_mb is not None and result.peak_rss_mb < 500
