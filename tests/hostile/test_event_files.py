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
