"""What writes a zoo: `ckptzoo index build`, `convert` and `publish` (the commands are in `cli/index_commands.py`).

    build.py    an index from a folder of runs or from any source, local or on object storage
    convert.py  JSON <-> Parquet, streaming (`JsonWriter`: the JSON index written one entry per line)
    publish.py  a zoo and the files it names uploaded to object storage, with a SHA256SUMS manifest

The formats they write are in `index/`; every file lands through `cache.atomic_write`.
"""
