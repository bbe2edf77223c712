"""Download throughput: curl vs huggingface_hub's http_get vs ckptzoo's verified fetch.

Starts Python's ``http.server`` (a separate process) on 127.0.0.1 serving one
random file (1 GiB by default), then, alternating between the three clients in
each round, downloads it to the same disk:

* ``curl -o FILE``                               the practical limit of the machine
* ``huggingface_hub.file_download.http_get``     the reference peer (does not hash)
* ``ckptzoo_widgets.fetch.fetch(url, sha256=..)`` ours: hashes, verifies, caches

and prints the median (and best) throughput of each, the ratios, and the CPU
seconds each client spends per GiB (the server's CPU excluded), a figure that a
busy machine disturbs much less than wall-clock throughput. Not a test: nothing
is asserted. Usage::

    python benchmarks/download.py [--size-mib 1024] [--rounds 3]
"""

from __future__ import annotations

import argparse
import hashlib
import os
import pathlib
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request

os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def cpu_seconds() -> float:
    """CPU time of this process (all threads) plus finished children (curl)."""
    import resource

    total = 0.0
    for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN):
        r = resource.getrusage(who)
        total += r.ru_utime + r.ru_stime
    return total


def make_file(path: pathlib.Path, size: int) -> str:
    h = hashlib.sha256()
    chunk = 16 << 20
    with open(path, "wb") as f:
        left = size
        while left:
            b = os.urandom(min(chunk, left))
            f.write(b)
            h.update(b)
            left -= len(b)
    return h.hexdigest()


def wait_for(url: str, timeout: float = 20) -> None:
    end = time.monotonic() + timeout
    while True:
        try:
            urllib.request.urlopen(urllib.request.Request(url, method="HEAD"), timeout=2).close()
            return
        except OSError:
            if time.monotonic() > end:
                raise
            time.sleep(0.1)


def run_curl(url: str, out: pathlib.Path, **_: object) -> None:
    subprocess.run(["curl", "-sS", "-f", "-o", str(out), url], check=True)


def run_hf(url: str, out: pathlib.Path, **_: object) -> None:
    from huggingface_hub.file_download import http_get

    with open(out, "wb") as f:
        http_get(url, f)


def run_ours(url: str, out: pathlib.Path, *, sha: str, cache: pathlib.Path, **_: object) -> None:
    from ckptzoo_widgets.fetch import fetch

    shutil.rmtree(cache, ignore_errors=True)
    os.environ["CKPTZOO_CACHE"] = str(cache)
    fetch(url, sha256=sha, quiet=True)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--size-mib", type=int, default=1024)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--dir", default=None, help="work folder (default: a temp dir)")
    args = ap.parse_args()

    if shutil.which("curl") is None:
        print("curl is not installed", file=sys.stderr)
        return 2
    work = pathlib.Path(tempfile.mkdtemp(prefix="ckptzoo-bench-", dir=args.dir))
    serve = work / "serve"
    serve.mkdir()
    size = args.size_mib << 20
    print(f"making a {args.size_mib} MiB random file in {serve} ...", flush=True)
    sha = make_file(serve / "weights.bin", size)
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "http.server", str(port), "--bind", "127.0.0.1", "--directory", str(serve)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}/weights.bin"
    load0 = " ".join(f"{x:.2f}" for x in os.getloadavg())
    clients = {"curl": run_curl, "hf_http_get": run_hf, "ckptzoo_fetch": run_ours}
    times: dict[str, list[float]] = {k: [] for k in clients}
    cpu: dict[str, list[float]] = {k: [] for k in clients}
    try:
        wait_for(url)
        run_curl(url, work / "warmup.bin")  # page cache and first-write effects, untimed
        import huggingface_hub.file_download  # noqa: F401  (imports are not timed)

        import ckptzoo_widgets.fetch  # noqa: F401

        (work / "warmup.bin").unlink()
        for r in range(args.rounds):
            for name, fn in clients.items():
                out = work / f"out-{name}.bin"
                cache = work / "cache"
                c0 = cpu_seconds()
                t0 = time.perf_counter()
                fn(url, out, sha=sha, cache=cache)
                dt = time.perf_counter() - t0
                cpu[name].append(cpu_seconds() - c0)
                got = out if out.exists() else next((cache / "blobs").rglob(sha))
                assert got.stat().st_size == size, f"{name}: wrong size"
                times[name].append(dt)
                print(
                    f"round {r + 1} {name:14s} {size / dt / 1e9:6.3f} GB/s ({dt:.2f} s, "
                    f"client CPU {cpu[name][-1]:.2f} s)",
                    flush=True,
                )
                out.unlink(missing_ok=True)
                shutil.rmtree(cache, ignore_errors=True)
    finally:
        server.terminate()
        server.wait()
        shutil.rmtree(work, ignore_errors=True)

    med = {k: size / statistics.median(v) / 1e9 for k, v in times.items()}
    best = {k: size / min(v) / 1e9 for k, v in times.items()}
    print()
    print(
        f"file: {args.size_mib} MiB, rounds: {args.rounds}, server: python -m http.server, "
        f"python {sys.version.split()[0]}, {os.cpu_count()} CPUs, load average before: {load0}"
    )
    gib = size / (1 << 30)
    for k in clients:
        print(
            f"{k:14s} median {med[k]:6.3f} GB/s   best {best[k]:6.3f} GB/s   "
            f"client CPU {statistics.median(cpu[k]) / gib:5.2f} s per GiB"
        )
    for label, g in (("median", med), ("best", best)):
        print(
            f"{label:6s}: ckptzoo_fetch / hf_http_get = {g['ckptzoo_fetch'] / g['hf_http_get']:.2f}x "
            f"(goal >= 2x), ckptzoo_fetch / curl = {g['ckptzoo_fetch'] / g['curl']:.0%} (goal >= 50%)"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
