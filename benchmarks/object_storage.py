"""Object storage: figures against a real S3 API server on 127.0.0.1 (moto's, its own process).

Sections (``--sections`` picks some; all by default):

* ``download``: verified download throughput. One random file (256 MiB by
  default, generated in a temporary folder) is put into a bucket; each round,
  alternating, downloads it with ``s3fs``'s own ``fs.get`` (the reference: one
  GetObject streamed to a file, no hashing) and with ``cz.fetch("s3://...",
  sha256=...)`` (ours: streamed into the cache's partial file, hashed, verified,
  moved into place), each into a fresh folder on the same disk. ``fs.get`` splits a
  file larger than its block size into concurrent ranged GETs; ``get 1 GET`` is
  the same call with ``max_concurrency=1`` (one streamed GetObject, as fetch does). Prints each
  round, the median and best of each, the ratios against the goal (within 10%
  of ``fs.get``), the client CPU seconds per GiB, and the bytes the server sent.

* ``first-page``: a Parquet zoo of ``--models`` models (1M by default; made once
  with benchmarks/scale.py's generator into ``--data``, benchmarks/data/ by
  default, git-ignored, and reused) put into a bucket; the time to the first page
  of cards (``ZooBrowser(zoo).cards``, a fresh interpreter, imports included)
  opening ``s3://.../index.parquet`` with a cold cache, again with the ETag
  unchanged (the grid from the cache), and the same file on local disk; the
  bytes the server sent for the first page as a share of the index's bytes
  (goal: under 10%); then opening one model from the middle of the zoo. moto
  reads a whole object to answer a ranged GET, so each request on a 560 MB
  object costs it a fixed time, measured and printed beside the figures.

Not a test: nothing is asserted. The server's CPU is not counted (another
process). Usage::

    python benchmarks/object_storage.py [--sections download,first-page] [--size-mib 256] [--rounds 3]
                                        [--models 1000000]

A section is a function ``(server, args) -> None`` in ``SECTIONS``; ``main()``
starts the server once and runs the chosen sections in order.
"""

from __future__ import annotations

import argparse
import json
import os
import pathlib
import random
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from typing import Any

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT / "benchmarks"))

import s3_server  # noqa: E402  (tests/s3_server.py: the moto server and its byte counter)
from download import make_file  # noqa: E402  (benchmarks/download.py: a random file and its sha256)

GOAL = 0.90  # fetch within 10% of s3fs's own get


def cpu_seconds() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def timed(work: Callable[[], Any]) -> tuple[float, float]:
    """(wall seconds, CPU seconds of this process) of ``work()``."""
    c0, t0 = cpu_seconds(), time.perf_counter()
    work()
    return time.perf_counter() - t0, cpu_seconds() - c0


def gbps(size: int, seconds: float) -> float:
    return size / seconds / 1e9


# ------------------------------------------------------------------------ sections


def download_section(server: s3_server.S3Server, args: argparse.Namespace) -> None:
    import s3fs

    import ckptzoo_widgets as cz

    size = args.size_mib << 20
    work = pathlib.Path(tempfile.mkdtemp(prefix="ckptzoo-bench-s3-", dir=args.dir))
    try:
        source = work / "model.safetensors"
        sha = make_file(source, size)
        bucket = server.make_bucket("bench-download")
        server.client().upload_file(str(source), bucket, "zoo/model.safetensors")
        source.unlink()  # the disk holds only what the clients write
        url = f"s3://{bucket}/zoo/model.safetensors"
        fs = s3fs.S3FileSystem()  # endpoint and keys from the environment, as fetch reads them

        def with_get(i: int, **kwargs: Any) -> Callable[[], Any]:
            return lambda: fs.get(f"{bucket}/zoo/model.safetensors", str(work / f"get-{i}.bin"), **kwargs)

        def with_fetch(i: int) -> Callable[[], Any]:
            def run() -> None:
                os.environ["CKPTZOO_CACHE"] = str(work / f"cache-{i}")
                path = cz.fetch(url, sha256=sha, size=size, quiet=True)
                assert path.stat().st_size == size

            return run

        def clean() -> None:
            for p in work.iterdir():
                shutil.rmtree(p) if p.is_dir() else p.unlink()

        print(f"download: {args.size_mib} MiB from {server.endpoint_url} (moto), {args.rounds} rounds + warm-up")
        with_get(-1)()
        with_fetch(-1)()
        clean()
        results: dict[str, list[tuple[float, float]]] = {"s3fs get": [], "get 1 GET": [], "cz.fetch": []}
        for r in range(args.rounds):
            order = [
                ("s3fs get", with_get(r)),
                ("get 1 GET", with_get(r, max_concurrency=1)),
                ("cz.fetch", with_fetch(r)),
            ]
            if r % 2:
                order.reverse()
            for name, work_fn in order:
                server.reset_counts()
                wall, cpu = timed(work_fn)
                sent = server.counts(bucket, "zoo/model.safetensors")["bytes"]
                results[name].append((wall, cpu))
                print(
                    f"  round {r + 1} {name:9s} {gbps(size, wall):.3f} GB/s  {wall:6.2f} s  "
                    f"CPU {cpu / (size / 2**30):.2f} s/GiB  server sent {sent} bytes"
                )
                clean()
        print("  client     median GB/s  best GB/s  CPU s/GiB (median)")
        med: dict[str, float] = {}
        best: dict[str, float] = {}
        for name, runs in results.items():
            walls = [w for w, _ in runs]
            med[name] = gbps(size, statistics.median(walls))
            best[name] = gbps(size, min(walls))
            cpu = statistics.median(c for _, c in runs) / (size / 2**30)
            print(f"  {name:9s}  {med[name]:11.3f}  {best[name]:9.3f}  {cpu:9.2f}")
        for reference in ("s3fs get", "get 1 GET"):
            ratio, ratio_best = med["cz.fetch"] / med[reference], best["cz.fetch"] / best[reference]
            verdict = "meets" if ratio >= GOAL else "misses"
            print(
                f"  cz.fetch / {reference}: {ratio:.0%} median, {ratio_best:.0%} best "
                f"(goal: at least {GOAL:.0%}; {verdict} it on the median)"
            )
    finally:
        shutil.rmtree(work, ignore_errors=True)


def parquet_zoo(size: int, data: pathlib.Path) -> pathlib.Path:
    """A synthetic Parquet zoo of `size` models (scale.py's generator), written once and reused."""
    from scale import model  # benchmarks/scale.py

    from ckptzoo_widgets.index.parquet_write import write_parquet
    from ckptzoo_widgets.schema import ModelEntry

    out = data / f"objstore-{size}.parquet"
    if out.exists():
        return out
    data.mkdir(parents=True, exist_ok=True)
    rng = random.Random(size)
    started = time.perf_counter()

    def entries():
        for i in range(size):
            yield ModelEntry.model_validate({k: v for k, v in model(rng, i).items() if v is not None})

    partial = out.with_suffix(".partial")
    write_parquet(entries(), partial, name="synthetic")
    partial.replace(out)
    print(f"  generated {out.name}: {out.stat().st_size / 1e6:,.0f} MB in {time.perf_counter() - started:.0f} s")
    return out


FIRST_PAGE = """
import json, time
t0 = time.perf_counter()
import ckptzoo_widgets as cz
from ckptzoo_widgets.widget import ZooBrowser
zoo = cz.open_zoo(SOURCE)
cards = ZooBrowser(zoo).cards
seconds = time.perf_counter() - t0
model_s = None
if OPEN_MODEL:  # a separate run: the first page's bytes are counted without it
    middle = zoo.search("", limit=1, offset=len(zoo) // 2)["id"].iloc[0]
    t = time.perf_counter(); zoo.model(middle); model_s = time.perf_counter() - t
print(json.dumps({"seconds": seconds, "cards": len(cards), "models": len(zoo), "model_s": model_s}))
"""
FIRST_PAGE_SHARE = 0.10  # goal: the first page after reading under 10% of the index's bytes


def child(code: str, env: dict[str, str]) -> dict[str, Any]:
    """Run `code` in a fresh interpreter (imports included in its timings); it prints one JSON line last."""
    full = {**os.environ, "PYTHONPATH": str(ROOT), **env}
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=full, timeout=3600)
    if done.returncode != 0:
        raise RuntimeError(done.stderr[-3000:])
    return json.loads(done.stdout.strip().splitlines()[-1])


def first_page_section(server: s3_server.S3Server, args: argparse.Namespace) -> None:
    """Time to the first page of cards: S3 (cold cache, then ETag unchanged) against local disk."""
    print(f"\n[first-page] a {args.models:,}-model Parquet zoo read in place")
    path = parquet_zoo(args.models, pathlib.Path(args.data))
    size = path.stat().st_size
    bucket, key = server.make_bucket(), "zoo/index.parquet"
    started = time.perf_counter()
    server.client().upload_file(str(path), bucket, key)
    print(f"  {size / 1e6:,.0f} MB of Parquet, uploaded to moto in {time.perf_counter() - started:.0f} s")
    client, probes = server.client(), []
    for _ in range(5):  # what one small ranged GET of this object costs moto (it reads the whole object)
        t = time.perf_counter()
        client.get_object(Bucket=bucket, Key=key, Range="bytes=100-199")["Body"].read()
        probes.append(time.perf_counter() - t)
    per_request = statistics.median(probes)
    with tempfile.TemporaryDirectory() as cache:
        env = {**server.env, "CKPTZOO_CACHE": cache}
        remote, disk = f"SOURCE = {f's3://{bucket}/{key}'!r}\n", f"SOURCE = {str(path)!r}\n"
        server.reset_counts()
        cold = child(remote + "OPEN_MODEL = False\n" + FIRST_PAGE, env)
        served = server.counts(bucket, key)
        server.reset_counts()
        warm = child(remote + "OPEN_MODEL = True\n" + FIRST_PAGE, env)
        warm_served = server.counts(bucket, key)
        local = child(disk + "OPEN_MODEL = True\n" + FIRST_PAGE, {"CKPTZOO_CACHE": cache})
    share = served["bytes"] / size
    print(f"  first page of {cold['cards']} cards of {cold['models']:,} models, fresh interpreter (imports included):")
    print(f"    local disk                    {local['seconds']:7.2f} s")
    print(
        f"    S3, cold cache                {cold['seconds']:7.2f} s   ({cold['seconds'] / local['seconds']:.1f}x disk)"
    )
    print(f"    S3, ETag unchanged (cached)   {warm['seconds']:7.2f} s   {warm_served['requests']} request(s) in all")
    print(
        f"  read from the server for the first page: {served['bytes'] / 1e6:,.1f} MB in {served['requests']} "
        f"requests = {share:.1%} of the index's bytes   goal < {FIRST_PAGE_SHARE:.0%}  "
        f"{'met' if share < FIRST_PAGE_SHARE else 'MISSED'}"
    )
    print(
        f"  moto answers one 100-byte ranged GET of this object in {per_request * 1e3:.0f} ms (it reads the whole "
        f"object for each); the first page took {served['requests']} ranged GETs, 8 at a time"
    )
    print(
        f"  opening a model from the middle (its row group's entry and card): S3 {warm['model_s'] * 1e3:.0f} ms, "
        f"disk {local['model_s'] * 1e3:.0f} ms"
    )


#: name -> section, in the order they run
SECTIONS: dict[str, Callable[[s3_server.S3Server, argparse.Namespace], None]] = {
    "download": download_section,
    "first-page": first_page_section,
}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sections", default=",".join(SECTIONS), help=f"comma-separated: {', '.join(SECTIONS)}")
    parser.add_argument("--size-mib", type=int, default=256, help="download: size of the file")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--models", type=int, default=1_000_000, help="first-page: models in the Parquet zoo")
    parser.add_argument("--data", default=str(ROOT / "benchmarks" / "data"), help="first-page: where the zoo is kept")
    parser.add_argument("--dir", default=None, help="where files are written (default: the temp folder)")
    args = parser.parse_args(argv)
    chosen = [s.strip() for s in args.sections.split(",") if s.strip()]
    unknown = [s for s in chosen if s not in SECTIONS]
    if unknown:
        parser.error(f"unknown sections {unknown}; known: {', '.join(SECTIONS)}")
    os.environ.setdefault("CKPTZOO_QUIET", "1")
    print(f"machine: {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.2f}, Python {sys.version.split()[0]}")
    server = s3_server.start()
    try:
        os.environ.update(server.env)
        for name in chosen:
            SECTIONS[name](server, args)
    finally:
        s3_server.stop(server)


if __name__ == "__main__":
    main()
