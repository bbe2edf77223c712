"""Time to open an MLflow experiment as a zoo: N runs with M checkpoints each.

Starts a real `mlflow server` on 127.0.0.1 (SQLite backend, local artifact root, the
test suite's helper), logs N runs through the real client, each with two metrics at
every checkpoint step, M checkpoint folders `checkpoints/stepS/model.safetensors` and
a `SHA256SUMS`, then opens the experiment `--rounds` times over HTTP and prints
the median and best times. Not a test: nothing is
asserted. Usage::

    python benchmarks/mlflow_open.py [--runs 100] [--checkpoints 20] [--rounds 3]
"""

from __future__ import annotations

import argparse
import hashlib
import statistics
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
from mlflow import MlflowClient
from mlflow.entities import Metric
from safetensors.numpy import save_file

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from mlflow_server import MlflowServer  # noqa: E402

import ckptzoo_widgets as cz  # noqa: E402


def log_run(client: MlflowClient, experiment: str, index: int, checkpoints: int, folder: Path) -> None:
    run = client.create_run(experiment, run_name=f"run-{index:03d}")
    run_id = run.info.run_id
    now = int(time.time() * 1000)
    steps = [100 * (i + 1) for i in range(checkpoints)]
    metrics = [Metric("val_acc", s / steps[-1], now, s) for s in steps]
    metrics += [Metric("train/loss", 1 / s, now, s) for s in steps]
    client.log_batch(run_id, metrics=metrics)
    local = folder / run_id
    sums = []
    for step in steps:
        path = local / "checkpoints" / f"step{step}" / "model.safetensors"
        path.parent.mkdir(parents=True)
        save_file({"w": np.full((4,), step, dtype=np.float32)}, str(path))
        sums.append(f"{hashlib.sha256(path.read_bytes()).hexdigest()}  checkpoints/step{step}/model.safetensors\n")
    (local / "SHA256SUMS").write_text("".join(sums))
    client.log_artifacts(run_id, str(local))
    client.set_terminated(run_id)


def timed(source: str, rounds: int) -> list[float]:
    times = []
    for _ in range(rounds):
        started = time.perf_counter()
        zoo = cz.open_zoo(source)
        times.append(time.perf_counter() - started)
    print(f"  {zoo}: {sum(len(m.checkpoints) for m in zoo)} checkpoints, {len(zoo.errors)} problems")
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=100)
    parser.add_argument("--checkpoints", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp, MlflowServer(Path(tmp) / "server") as server:
        client = MlflowClient(server.uri)
        experiment = client.create_experiment("bench")
        started = time.perf_counter()
        with ThreadPoolExecutor(4) as pool:
            list(
                pool.map(
                    lambda i: log_run(client, experiment, i, args.checkpoints, Path(tmp) / "files"), range(args.runs)
                )
            )
        print(f"logged {args.runs} runs x {args.checkpoints} checkpoints in {time.perf_counter() - started:.1f} s")
        print("open over HTTP:")
        times = timed(f"mlflow:{server.uri}?experiment=bench", args.rounds)
        print(f"  open: median {statistics.median(times):.2f} s, best {min(times):.2f} s ({args.rounds} rounds)")


if __name__ == "__main__":
    main()
