"""The index file formats: a zoo's JSON and Parquet index, read as columns, checked, written.

    json_lines.py      a JSON index written one entry per line, read by Arrow (gzip too)
    json_rules.py      the index rules of `schema.ModelEntry` checked per column
    json_grid.py       the grid assembled from proven rows and exactly validated ones
    json_columns.py    `read_json_columns`: the `JsonIndex` catalog part
    parquet_format.py  the Parquet layout, footer checks and decoding budgets; the first layout
    parquet_file.py    the file and its row groups (several read at once over a network)
    parquet_grid.py    the grid read in place and its row checks
    parquet_index.py   `ParquetIndex`: the catalog part, entries and cards read on demand
    parquet_write.py   `write_parquet` / `ParquetWriter`: the one Parquet writer

Nothing here knows where an index comes from: `sources/index_file.py` and
`sources/object_store.py` open an index as a source, `writers/` build, convert
and publish one.
"""
