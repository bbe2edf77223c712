"""TensorBoard event files: the scalars a run logged, per metric as `(step, value)` points.

PyTorch Lightning's default logger writes `lightning_logs/version_N/events.out.tfevents.*`;
the Hugging Face Trainer writes `<output_dir>/runs/<date_host>/events.out.tfevents.*`.
The records are read with the `tensorboard` package's own reader (optional:
`pip install 'ckptzoo-widgets[tensorboard]'`) and its own compatibility layer, which
turns legacy `simple_value` scalars and TF2 `tf.summary.scalar` tensors into one form.

Two uses: each checkpoint gets the latest value of every scalar logged at or before
its step (`attach_scalars`), and the model keeps the whole logged curve for the chart
(`ModelEntry.curves`, thinned to `MAX_CURVE_POINTS` per metric, spikes kept: downsample.py). Metric names stay as
logged (`val/acc`, `eval/loss`); a name that breaks the metric rules is reported.
A truncated or corrupt file is reported with the byte where reading stopped; the
records before it are kept. A scalar whose tensor declares more than
`decode.MAX_TENSOR_BYTES` (a shape of [200000000] with one value, which the
reader would repeat to the declared shape) is reported and skipped before its
tensor is built (`scalar_value`).

The runs walk finds the event files (`is_event_file`); each is read through the
walk's folder (`Folder` on disk, `ObjectFolder` on object storage), so both are
read one way, under the same budget (`read_scalars`).
"""

from __future__ import annotations

import bisect
import math
import os
import struct
import tempfile
import time
from collections.abc import Callable, Iterable, MutableMapping
from dataclasses import dataclass, field
from pathlib import Path, PurePath
from typing import Any, BinaryIO

from .. import safety
from ..decode import MAX_TENSOR_BYTES, BudgetError, within_budget
from ..downsample import downsample
from ._folder import CHUNK, Folder, FolderReadError

EVENT_FILE = "events.out.tfevents."
# Where event files lie, relative to a run folder: the folder itself (Lightning's
# version_N/) and the Trainer's default logging_dir `runs/<date_host>/`.
EVENT_GLOBS = (f"{EVENT_FILE}*", f"runs/*/{EVENT_FILE}*")
MAX_EVENT_BYTES = 1 << 30  # per run: larger logs are read up to here and reported
MAX_POINTS = 2_000_000  # scalar points per run kept in memory
MAX_SECONDS = 30.0  # per run
MAX_CURVE_POINTS = 1000  # per metric in the model entry (the chart needs no more)
MISSING_HINT = (
    "TensorBoard event files found but the 'tensorboard' package is not installed; "
    "their metrics are left out (pip install 'ckptzoo-widgets[tensorboard]')"
)

Report = Callable[[PurePath, str], None]
Curve = list[tuple[int, float]]


@dataclass
class Scalars:
    """What the event files of one run logged: metric -> points sorted by step."""

    curves: dict[str, Curve] = field(default_factory=dict)

    def at(self, step: int) -> dict[str, float]:
        """The latest value of each metric logged at or before `step`."""
        values: dict[str, float] = {}
        for name, points in self.curves.items():
            position = bisect.bisect_right(points, (step, math.inf))
            if position:
                values[name] = points[position - 1][1]
        return values

    def thinned(self, limit: int = MAX_CURVE_POINTS) -> dict[str, list[list[float]]]:
        """Each curve with at most `limit` points: first, last, and each stretch's low and high (JSON-ready)."""
        return {
            name: [[step, value] for step, value in downsample(points, limit)] for name, points in self.curves.items()
        }


def is_event_file(name: str) -> bool:
    return name.startswith(EVENT_FILE)


def event_files(run: PurePath, found: Iterable[PurePath]) -> list[PurePath]:
    """The event files of the run in folder `run` among those a walk `found`, oldest first.

    They lie in the run folder itself or in `runs/<date_host>/` below it (EVENT_GLOBS);
    the walk never enters linked folders, and reading checks that a linked file stays in the run.
    """

    def in_run(path: PurePath) -> bool:  # anchored at the run folder, as a glob from it would be
        if not path.is_relative_to(run):
            return False
        below = path.relative_to(run)
        return any(len(below.parts) == len(PurePath(p).parts) and below.match(p) for p in EVENT_GLOBS)

    mine = [path for path in found if in_run(path)]

    def order(path: PurePath) -> tuple[int, str]:  # events.out.tfevents.<unix time>.<host>...
        stamp = path.name[len(EVENT_FILE) :].split(".", 1)[0]
        return (int(stamp) if stamp.isdigit() else 0, path.as_posix())

    return sorted(set(mine), key=order)


def available() -> bool:
    try:
        import tensorboard.backend.event_processing.event_file_loader  # noqa: F401
    except ImportError:
        return False
    return True


def copy_records(source: BinaryIO, size: int, limit: int, sink: BinaryIO, deadline: float) -> int:
    """Copy the whole records at the start of `source` into `sink`, up to the first past `limit` bytes.

    A record is an 8-byte length, a 4-byte CRC, the data and a 4-byte CRC. A length
    that claims more than the file holds ends the copy there, before any reader
    allocates a buffer of the claimed size (CRCs are left to tensorboard's reader).
    Returns the bytes copied: the copy holds whole records only.
    """
    offset = 0
    while offset + 12 <= size and offset < max(limit, 1) and time.monotonic() <= deadline:
        header = source.read(8)
        if len(header) < 8:
            break
        (length,) = struct.unpack("<Q", header)
        if offset + 16 + length > size:
            break
        sink.write(header)
        remaining = 8 + length  # the two CRCs and the data
        while remaining:
            block = source.read(min(CHUNK, remaining))
            if not block:  # the file held less than its size said
                sink.truncate(offset)
                return offset
            sink.write(block)
            remaining -= len(block)
        offset += 16 + length
    return offset


def scalar_value(tensor: Any) -> float:
    """The first value of a scalar summary's tensor (a `TensorProto`), its declared size checked first.

    The tensor's shape is a declaration: the reader fills a tensor of that shape
    by repeating the values stored, so one float and a shape of [100000, 100000]
    ask for 40 GB. BudgetError when the shape declares more than MAX_TENSOR_BYTES.
    """
    from tensorboard.compat.tensorflow_stub import dtypes
    from tensorboard.util import tensor_util

    dims = [int(dim.size) for dim in tensor.tensor_shape.dim]
    elements = math.prod(dims) if all(dim >= 0 for dim in dims) else -1
    try:
        itemsize = max(int(dtypes.as_dtype(tensor.dtype).size), 1)
    except (TypeError, ValueError, KeyError):  # an unknown dtype: the reader refuses it below
        itemsize = 1
    shape = "[" + ", ".join(map(str, dims[:4])) + (", ..." if len(dims) > 4 else "") + "]"
    within_budget(f"a scalar's tensor of shape {shape}", elements * itemsize, MAX_TENSOR_BYTES)
    # str() of a numpy float32 is its shortest form: 0.6, not 0.6000000238.
    return float(str(tensor_util.make_ndarray(tensor).reshape(-1)[0]))


class _Reading:
    """What a run's event files gave so far, and what is left of its budgets."""

    def __init__(self) -> None:
        self.points: dict[str, dict[int, float]] = {}
        self.bad_names: set[str] = set()
        self.budget_bytes, self.budget_points = MAX_EVENT_BYTES, MAX_POINTS
        self.deadline = time.monotonic() + MAX_SECONDS
        self.refused, self.refusal = 0, ""  # values refused in the current file, and the first reason

    def spent(self, consumed: int) -> bool:
        return consumed > self.budget_bytes or time.monotonic() > self.deadline or self.budget_points <= 0

    def add(self, event: Any) -> None:
        """The scalars of one event (a value refused, a bad name or a non-finite number is left out)."""
        for value in event.summary.value:
            if value.metadata.plugin_data.plugin_name != "scalars":
                continue
            try:
                number = scalar_value(value.tensor)
            except BudgetError as error:  # one value refused; the rest of the file is read
                self.refused, self.refusal = self.refused + 1, self.refusal or str(error)
                continue
            if not math.isfinite(number) or event.step < 0:
                continue
            if value.tag not in self.points:
                try:
                    safety.check_metric_name(value.tag)
                except ValueError:
                    self.bad_names.add(value.tag)
                    continue
                self.points[value.tag] = {}
            self.points[value.tag][int(event.step)] = number
            self.budget_points -= 1


def read_scalars(folder: Folder, run: PurePath, files: Iterable[PurePath], report: Report) -> Scalars:
    """Every scalar in `files` of the run in `run` (a later file wins where two log the same metric at the same step).

    Each file is opened through `folder` (the folder rule: a file that leaves the run
    folder is refused) and its whole records, up to this run's byte budget, are
    copied to a temporary file for tensorboard's reader, deleted after: one way for a
    local folder and for one on object storage (where the copy comes from ranged reads).
    """
    reading = _Reading()
    path: PurePath = run
    for path in files:
        _read_file(folder, run, path, reading, report)
    if reading.bad_names:
        names = ", ".join(repr(name[:60]) for name in sorted(reading.bad_names)[:5])
        report(path, f"TensorBoard metric name(s) {names} break the metric-name rules; left out")
    return Scalars({name: sorted(by_step.items()) for name, by_step in reading.points.items()})


def _read_file(folder: Folder, run: PurePath, path: PurePath, reading: _Reading, report: Report) -> None:
    """One event file: copied within the budget, its records read until a budget or a damaged record stops them."""
    from tensorboard import data_compat
    from tensorboard.backend.event_processing.event_file_loader import RawEventFileLoader
    from tensorboard.compat.proto import event_pb2

    descriptor, name = tempfile.mkstemp(prefix="ckptzoo-events-")
    copy = Path(name)
    try:
        with os.fdopen(descriptor, "wb") as sink:
            handle, size = folder.open(path, within=run)
            with handle:
                copy_records(handle, size, reading.budget_bytes, sink, reading.deadline)
        loader = RawEventFileLoader(str(copy))
    except FolderReadError as error:
        copy.unlink(missing_ok=True)
        report(path, f"{error}; skipped")
        return
    except Exception as error:  # noqa: BLE001 - any reader failure is this file's problem only
        copy.unlink(missing_ok=True)
        report(path, f"cannot read TensorBoard events ({type(error).__name__}); skipped")
        return
    consumed = 0
    stopped = ""
    reading.refused, reading.refusal = 0, ""
    try:
        for record in loader.Load():
            # A record is framed by a length (8 bytes), two CRCs (4 + 4) and the payload.
            consumed += len(record) + 16
            if reading.spent(consumed):
                stopped = "the read budget of this run"
                break
            event = data_compat.migrate_event(event_pb2.Event.FromString(record))
            if event.HasField("summary"):
                reading.add(event)
    except Exception as error:  # noqa: BLE001 - a damaged record: keep what came before it
        stopped = f"a damaged record ({type(error).__name__})"
    finally:
        copy.unlink(missing_ok=True)
    reading.budget_bytes -= consumed
    if reading.refused:
        report(path, f"TensorBoard {reading.refusal}; {reading.refused} such value(s) skipped")
    if stopped:
        report(path, f"TensorBoard events read up to byte {consumed} of {size}: stopped at {stopped}")
    elif consumed < size:
        message = f"TensorBoard event file cut short or corrupt at byte {consumed} of {size}; earlier events kept"
        report(path, message)


def run_scalars(folder: Folder, run: PurePath, found: Iterable[PurePath], report: Report) -> Scalars | None:
    """The scalars of the run in `run`, or None when it has no event files (a hint when unreadable)."""
    files = event_files(run, found)
    if not files:
        return None
    if not available():
        report(run, MISSING_HINT)
        return None
    return read_scalars(folder, run, files, report)


def attach_scalars(
    folder: Folder,
    run: PurePath,
    found: Iterable[PurePath],
    checkpoints: Iterable[object],
    data: MutableMapping[str, object],
    report: Report,
) -> None:
    """Give each checkpoint (`.step`, `.metrics`) the scalars at its step; put the curves in `data`.

    `found` are the event files the walk of `folder` found (`is_event_file`); those of
    the run in `run` are read. Metrics a checkpoint already has (from its name,
    trainer_state.json, metrics.csv) win.
    """
    scalars = run_scalars(folder, run, found, report)
    if scalars is None or not scalars.curves:
        return
    for checkpoint in checkpoints:
        step = getattr(checkpoint, "step", None)
        if step is not None:
            checkpoint.metrics = {**scalars.at(step), **checkpoint.metrics}  # type: ignore[attr-defined]
    data["curves"] = scalars.thinned()
