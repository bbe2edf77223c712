"""One Parquet index file: opened (memory-mapped, from bytes, or through an opener of ranged reads), its
footer checked before anything else is read, its row groups read (several at once over a network)."""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from ..errors import ZooError
from .parquet_format import check_footer, fail, text_columns

# A Parquet index: a local path (memory-mapped), its bytes, or a function opening a seekable file and
# giving its size (an fsspec file on object storage: every read is a ranged read).
Opener = Callable[[], tuple[BinaryIO, int]]
Data = str | Path | bytes | Opener
REMOTE_READERS = 8  # row groups read at once from object storage (each read waits on the network)


class IndexFile:
    """A Parquet index whose footer passed `check_footer`; strings are read dictionary-encoded."""

    def __init__(self, data: Data, origin: str):
        self.origin = origin
        self._opener: Opener | None = data if callable(data) else None
        if isinstance(data, bytes):
            size, handle = len(data), pa.BufferReader(data)
        elif callable(data):
            handle, size = data()  # ranged reads: pyarrow coalesces a row group's grid columns
        else:
            size, handle = os.path.getsize(data), pa.memory_map(str(data))
        try:
            probe = pq.ParquetFile(handle)
        except ZooError:  # a read refused on its way in (object_read: a body longer than asked)
            raise
        except Exception as error:  # pyarrow raises several types for a file that is not Parquet
            raise fail(origin, f"not a readable Parquet file ({type(error).__name__})") from None
        self.metadata = probe.metadata
        self.size = size
        check_footer(self.metadata, size, origin)
        self._dictionary = text_columns(probe.schema)
        self._file = self._parquet_file(handle)

    def _parquet_file(self, handle: Any) -> pq.ParquetFile:
        remote = self._opener is not None
        return pq.ParquetFile(handle, read_dictionary=self._dictionary, metadata=self.metadata, pre_buffer=remote)

    @property
    def groups(self) -> int:
        return self.metadata.num_row_groups

    def starts(self) -> np.ndarray:
        """The first file row of each row group, and the row count at the end."""
        return np.cumsum([0] + [self.metadata.row_group(i).num_rows for i in range(self.groups)])

    def read(self, group: int, columns: list[str], file: pq.ParquetFile | None = None) -> pa.Table:
        try:
            return (file or self._file).read_row_group(group, columns=columns)
        except ZooError:
            raise
        except Exception as error:  # a damaged or lying file, a backend's error: one line, no traceback
            raise fail(self.origin, f"row group {group} cannot be read ({_short(error)})") from None

    def read_groups(self, names: list[str]) -> list[pa.Table]:
        """Every row group's `names`; from object storage several at once, each reader with its own file."""
        if self._opener is None or self.groups < 2:
            return [self.read(group, names) for group in range(self.groups)]
        from concurrent.futures import ThreadPoolExecutor

        opener, local = self._opener, threading.local()

        def read(group: int) -> pa.Table:
            if not hasattr(local, "file"):
                local.file = self._parquet_file(opener()[0])
            return self.read(group, names, local.file)

        with ThreadPoolExecutor(REMOTE_READERS, thread_name_prefix="ckptzoo-parquet") as pool:
            return list(pool.map(read, range(self.groups)))


def _short(error: BaseException) -> str:
    """A reader's or a backend's error as a few words on one line (no credentials: see storage.error_message)."""
    from .. import storage

    return storage.error_message(error)[:160]
