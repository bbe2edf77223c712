"""Paths an index controls (issue 17, item 5): many metric columns, many checkpoints, each figure beside its goal.

    python benchmarks/hostile_scale.py

Zoos are generated into a temporary folder: 8 models with 8,000 metrics each (JSON, and a
Parquet file holding all 8,000 metric columns as a hand-made file could), one model with
20,000 checkpoints (JSON and Parquet) and one with 55,000 (JSON). Each case runs in a fresh
interpreter: open time, the time of a search sorted by a metric, and for the checkpoint
cases the browser's select (the detail payload built and sent) with the payload's size.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
GOALS = {"open_s": 1.0, "search_s": 1.0, "select_s": 1.0, "detail_kb": 200.0}

MEASURE = textwrap.dedent(
    """
    import json, sys, time
    import ckptzoo_widgets as cz
    from ckptzoo_widgets.widget import ZooBrowser
    import ckptzoo_widgets.catalog, ckptzoo_widgets.sources  # imports are not the open's time
    path, sort, ref = sys.argv[1], sys.argv[2], sys.argv[3]
    start = time.perf_counter(); zoo = cz.open_zoo(path); opened = time.perf_counter() - start
    start = time.perf_counter(); zoo.search(sort=sort, limit=24); searched = time.perf_counter() - start
    out = {"open_s": opened, "search_s": searched, "metric_columns": zoo.table.num_columns - 17}
    if ref:
        browser = ZooBrowser(zoo)
        start = time.perf_counter(); browser.selected = ref; out["select_s"] = time.perf_counter() - start
        out["detail_kb"] = len(json.dumps(browser.detail)) / 1024
        out["sent"] = len(browser.detail.get("checkpoints", []))
        out["error"] = browser.error
    print(json.dumps(out))
    """
)


def metric_zoo(folder: Path) -> tuple[Path, Path]:
    import pyarrow as pa
    import pyarrow.parquet as pq

    from ckptzoo_widgets.columns import entries_to_batch
    from ckptzoo_widgets.index.parquet_format import FORMAT, FORMAT_KEY
    from ckptzoo_widgets.schema import ModelEntry

    names = [f"m{j}" for j in range(8_000)]
    raw = [
        {
            "id": f"org/model-{i}",
            "metrics": {n: (i + j) / 1e4 for j, n in enumerate(names)},
            "checkpoints": [{"name": "final"}],
        }
        for i in range(8)
    ]
    json_path = folder / "metrics8k.json"
    json_path.write_text(json.dumps({"ckptzoo_index": 1, "models": raw}))
    batch = entries_to_batch([ModelEntry.model_validate(r) for r in raw], metrics=names, stored=True)
    parquet_path = folder / "metrics8k.parquet"
    pq.write_table(pa.Table.from_batches([batch]).replace_schema_metadata({FORMAT_KEY: FORMAT}), parquet_path)
    return json_path, parquet_path


def checkpoint_zoo(folder: Path, count: int) -> Path:
    checkpoints = [
        {"name": f"s{i}", "step": i, "metrics": {"acc": round(i / count, 4)}, "files": [{"path": f"w/{i}.safetensors"}]}
        for i in range(count)
    ]
    model = {"id": "org/long-run", "library": "transformers", "headline_metric": "acc", "checkpoints": checkpoints}
    path = folder / f"checkpoints{count}.json"
    path.write_text(json.dumps({"ckptzoo_index": 1, "models": [model]}, separators=(",", ":")))
    return path


def measure(path: Path, sort: str, ref: str = "") -> dict:
    done = subprocess.run(
        [sys.executable, "-c", MEASURE, str(path), sort, ref],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"},
        check=True,
    )
    return json.loads(done.stdout.splitlines()[-1])


def main() -> None:
    sys.path.insert(0, str(ROOT))
    from ckptzoo_widgets.index.parquet_write import write_parquet

    with tempfile.TemporaryDirectory(prefix="ckptzoo-hostile-scale-") as temporary:
        folder = Path(temporary)
        json8k, parquet8k = metric_zoo(folder)
        ck20 = checkpoint_zoo(folder, 20_000)
        ck55 = checkpoint_zoo(folder, 55_000)
        from ckptzoo_widgets.catalog import open_zoo

        ck20_parquet = folder / "checkpoints20000.parquet"
        write_parquet(list(open_zoo(str(ck20))), ck20_parquet, name="long")
        cases = [
            ("8 models x 8,000 metrics, JSON", json8k, "-m5", ""),
            ("8 models x 8,000 metric columns, Parquet", parquet8k, "-m5", ""),
            ("1 model x 20,000 checkpoints, JSON", ck20, "-num_checkpoints", "org/long-run@s12345"),
            ("1 model x 20,000 checkpoints, Parquet", ck20_parquet, "-num_checkpoints", "org/long-run@s12345"),
            ("1 model x 55,000 checkpoints, JSON", ck55, "-num_checkpoints", "org/long-run@s12345"),
        ]
        for label, path, sort, ref in cases:
            size = path.stat().st_size / 2**20
            result = measure(path, sort, ref)
            print(f"{label} ({size:.2f} MiB)")
            for key, goal in GOALS.items():
                if key in result:
                    print(f"  {key:10} {result[key]:8.2f}   goal < {goal}")
            for key in ("metric_columns", "sent", "error"):
                if result.get(key) not in (None, ""):
                    print(f"  {key:10} {result[key]}")


if __name__ == "__main__":
    main()
