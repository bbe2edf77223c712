"""A class at the start of a lab: 30 students load the same three checkpoints at the same moment.

Two ways, measured one after the other on the same files:

* **pack**: the teacher staged a course pack once (`ckptzoo pack build`); every student's
  process loads from it read-only with no network: `cz.load(ref, zoo=pack)` (a built-in
  checkpoint), `hf_hub_download(repo, file, revision=branch)` with `HF_HUB_CACHE=<pack>/hf`
  and `HF_HUB_OFFLINE=1`, `torch.hub.load_state_dict_from_url` with `TORCH_HOME=<pack>/torch`;
* **download**: no pack; every student makes the same three calls online, each library
  downloading into the student's own cache, from a local HTTP server (tests/httpserver.py on
  127.0.0.1: the built-in zoo's folder, a Hub-shaped API with the branch, the torch file).

Printed per way: wall time from the bell to the last student done, bytes the students read
from and wrote to storage (Linux `/proc/<pid>/io`: page-cache hits are not storage reads),
and bytes the server sent; beside the goals. Students are forked from one process that
imported the libraries (tests/classroom_students.py), all as the current user, each with its
own HOME. Not a test: nothing is asserted. Usage::

    python benchmarks/classroom.py [--students 30] [--hub-mib 32] [--torch-mib 16] [--drop-caches]

`--drop-caches` (root) empties the page cache before each way, so the first reads come from
the disk; without it both ways read warm files.
"""

from __future__ import annotations

import argparse
import hashlib
import io
import json
import os
import pathlib
import shutil
import subprocess
import sys
import tempfile
import time

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from fixtures.branch_hub import BranchHub  # noqa: E402
from httpserver import FileServer  # noqa: E402

import ckptzoo_widgets as cz  # noqa: E402
from ckptzoo_widgets.humanize import human_bytes  # noqa: E402
from ckptzoo_widgets.pack import build_pack, environment  # noqa: E402

REPO = "course/bench-lm"
LAUNCHER = ROOT / "tests" / "classroom_students.py"


def sent(server: FileServer) -> int:
    return sum(int(e.get("sent") or 0) for e in server.requests())


def drop_caches() -> None:
    os.sync()
    with open("/proc/sys/vm/drop_caches", "w") as f:
        f.write("1\n")


def run(spec: dict, base: pathlib.Path, name: str) -> dict:
    path = base / f"{name}.json"
    path.write_text(json.dumps(spec))
    result = subprocess.run([sys.executable, str(LAUNCHER), str(path)], capture_output=True, text=True, cwd="/")
    if result.returncode != 0:
        raise SystemExit(result.stderr[-3000:])
    outcome = json.loads(result.stdout.strip().splitlines()[-1])
    bad = [s for s in outcome["students"] if not s.get("ok")]
    if bad:
        raise SystemExit(f"{name}: a student failed:\n{bad[0].get('error')}")
    return outcome


def students(base: pathlib.Path, count: int, way: str) -> list[dict]:
    out = []
    for i in range(count):
        home, tmp = base / way / f"s{i:02d}" / "home", base / way / f"s{i:02d}" / "tmp"
        home.mkdir(parents=True)
        tmp.mkdir(parents=True)
        out.append({"name": f"s{i:02d}", "uid": os.getuid(), "gid": os.getgid(), "home": str(home), "tmp": str(tmp)})
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--students", type=int, default=30)
    parser.add_argument("--hub-mib", type=int, default=32, help="size of the Hub checkpoint")
    parser.add_argument("--torch-mib", type=int, default=16, help="size of the torch.hub weights file")
    parser.add_argument("--drop-caches", action="store_true", help="empty the page cache before each way (root)")
    args = parser.parse_args()

    import numpy as np
    import torch
    from safetensors.numpy import save

    base = pathlib.Path(tempfile.mkdtemp(prefix="ckptzoo-classroom-bench-"))
    os.environ["CKPTZOO_QUIET"] = "1"
    os.environ["CKPTZOO_CACHE"] = str(base / "teacher-cache")
    rng = np.random.default_rng(0)
    hub_weights = save({"w": rng.standard_normal(args.hub_mib << 18).astype(np.float32)})
    buffer = io.BytesIO()
    torch.save({"w": torch.from_numpy(rng.standard_normal(args.torch_mib << 18).astype(np.float32))}, buffer)
    torch_data = buffer.getvalue()
    builtin = cz.load("digits-mlp@epoch-12").path.read_bytes()

    with FileServer() as server:
        hub = BranchHub(server)
        hub.add_branch(REPO, "step3000", {"config.json": b"{}", "model.safetensors": hub_weights})
        torch_name = f"net-{hashlib.sha256(torch_data).hexdigest()[:8]}.pth"
        torch_url = server.add(f"/models/{torch_name}", torch_data)
        zoo_url = server.add_dir("/zoo/", pathlib.Path(cz.__file__).resolve().parent / "zoo") + "index.json"
        os.environ["HF_ENDPOINT"] = hub.url
        course = base / "course.toml"
        course.write_text(
            'title = "Benchmark lab"\n[[checkpoint]]\nref = "digits-mlp@epoch-12"\n'
            f'[[checkpoint]]\nref = "hf:{REPO}@step3000"\n[[checkpoint]]\nurl = "{torch_url}"\n'
        )
        pack = base / "pack"
        t0 = time.perf_counter()
        build_pack(course, pack)
        build_seconds = time.perf_counter() - t0
        staged = sum(p.stat().st_size for p in pack.rglob("*") if p.is_file() and not p.is_symlink())
        three = len(builtin) + len(hub_weights) + len(torch_data)

        refused = "http://127.0.0.1:9"
        common = {"CKPTZOO_QUIET": "1", "PATH": os.environ.get("PATH", "/usr/bin:/bin")}
        if args.drop_caches:
            drop_caches()
        before = sent(server)
        pack_run = run(
            {
                "mode": "pack",
                "env": environment(pack) | common | {"HF_ENDPOINT": refused},
                "students": students(base, args.students, "pack"),
                "load": {
                    "pack": str(pack),
                    "builtin_ref": "digits-mlp@epoch-12",
                    "repo": REPO,
                    "revision": "step3000",
                    "hub_file": "model.safetensors",
                    "torch_url": torch_url,
                },
            },
            base,
            "pack",
        )
        pack_net = sent(server) - before

        if args.drop_caches:
            drop_caches()
        before = sent(server)
        download_run = run(
            {
                "mode": "online",
                "env": common | {"HF_ENDPOINT": hub.url, "HF_HUB_DISABLE_PROGRESS_BARS": "1"},
                "students": students(base, args.students, "download"),
                "load": {
                    "zoo": zoo_url,
                    "builtin_ref": "digits-mlp@epoch-12",
                    "repo": REPO,
                    "revision": "step3000",
                    "hub_file": "model.safetensors",
                    "torch_url": torch_url,
                },
            },
            base,
            "download",
        )
        download_net = sent(server) - before

    def totals(outcome: dict) -> tuple[float, int, int]:
        s = outcome["students"]
        return outcome["wall_seconds"], sum(x["read_bytes"] for x in s), sum(x["write_bytes"] for x in s)

    n = args.students
    load = os.getloadavg() if hasattr(os, "getloadavg") else (0.0, 0.0, 0.0)
    print(
        f"{n} students, 3 checkpoints ({human_bytes(three)} per student; pack {human_bytes(staged)}, "
        f"built in {build_seconds:.2f} s), page cache {'dropped' if args.drop_caches else 'warm'}, "
        f"{os.cpu_count()} CPUs, load average after: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}"
    )
    print(f"{'':<10}{'wall s':>9}{'read from disk':>17}{'written to disk':>17}{'network sent':>15}")
    for name, outcome, net in (("pack", pack_run, pack_net), ("download", download_run, download_net)):
        wall, read, written = totals(outcome)
        print(f"{name:<10}{wall:>9.2f}{human_bytes(read):>17}{human_bytes(written):>17}{human_bytes(net):>15}")
    pack_wall, pack_read, pack_written = totals(pack_run)
    dl_wall = download_run["wall_seconds"]
    print("goals (pack):")
    print(
        f"  network sent 0 B                                  {human_bytes(pack_net)}: "
        f"{'met' if pack_net == 0 else 'MISSED'}"
    )
    print(
        f"  students write 0 B of checkpoints (< 1 MiB)        {human_bytes(pack_written)}: "
        f"{'met' if pack_written < (1 << 20) else 'MISSED'}"
    )
    print(
        f"  disk reads at most the pack once ({human_bytes(staged)})  {human_bytes(pack_read)}: "
        f"{'met' if pack_read <= staged else 'MISSED'}"
    )
    print(
        f"  wall at most half of downloading ({dl_wall / 2:.2f} s)      {pack_wall:.2f} s: "
        f"{'met' if pack_wall <= dl_wall / 2 else 'MISSED'}"
    )
    print(f"  (downloading: {human_bytes(download_net)} sent = {download_net / max(three, 1):.1f} x the three files)")
    shutil.rmtree(base, ignore_errors=True)


if __name__ == "__main__":
    main()
