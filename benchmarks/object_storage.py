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

Not a test: nothing is asserted. The server's CPU is not counted (another
process). Usage::

    python benchmarks/object_storage.py [--sections download] [--size-mib 256] [--rounds 3]

A section is a function ``(server, args) -> None`` in ``SECTIONS``; ``main()``
starts the server once and runs the chosen sections in order.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import pathlib
import resource
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from typing import Any

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

import s3_server  # noqa: E402  (tests/s3_server.py: the moto server and its byte counter)

GOAL = 0.90  # fetch within 10% of s3fs's own get


def cpu_seconds() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def timed(work: Callable[[], Any]) -> tuple[float, float]:
    """(wall seconds, CPU seconds of this process) of ``work()``."""
    c0, t0 = cpu_seconds(), time.perf_counter()
    work()
    return time.perf_counter() - t0, cpu_seconds() - c0


def make_file(path: pathlib.Path, size: int) -> str:
    h = hashlib.sha256()
    chunk = 16 << 20
    with open(path, "wb") as f:
        left = size
        while left:
            data = os.urandom(min(chunk, left))
            f.write(data)
            h.update(data)
            left -= len(data)
    return h.hexdigest()


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


#: name -> section, in the order they run
SECTIONS: dict[str, Callable[[s3_server.S3Server, argparse.Namespace], None]] = {
    "download": download_section,
}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sections", default=",".join(SECTIONS), help=f"comma-separated: {', '.join(SECTIONS)}")
    parser.add_argument("--size-mib", type=int, default=256, help="download: size of the file")
    parser.add_argument("--rounds", type=int, default=3)
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
