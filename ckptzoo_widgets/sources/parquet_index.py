"""The import path docs/index-format.md named for the Parquet writer before the formats moved to `index/`.

Kept for scripts that import it; new code imports `ckptzoo_widgets.index.parquet_write`.
"""

from ..index.parquet_write import write_parquet

__all__ = ["write_parquet"]
