"""Thirty students at once: run as root, forks one process per student, each becomes its user.

    python tests/classroom_students.py spec.json      -> one JSON line per student on stdout

The libraries are imported once here, before the fork (a zygote, as a JupyterHub image's
kernels would all have them on disk), with the environment a spawner gives every student
(read by huggingface_hub at import). Each child then drops to its own user (groups cleared,
gid, uid), gets its own HOME and TMPDIR, waits for the bell, and loads what the spec asks,
at the same moment as the others. Used by tests/test_classroom.py and
benchmarks/classroom.py.

spec: {"env": {...}, "students": [{"name", "uid", "gid", "home", "tmp"[, "groups", "umask"]}],
       "mode": "pack" | "online" | "hub", "load": {...}}
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
import tempfile
import time
import traceback
from typing import Any


def _sha(path: str) -> str:
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def _io() -> dict[str, int]:
    """This process's bytes read from and written to storage (Linux /proc/self/io)."""
    try:
        with open("/proc/self/io") as f:
            fields = dict(line.split(": ") for line in f.read().splitlines())
        return {"read_bytes": int(fields["read_bytes"]), "write_bytes": int(fields["write_bytes"])}
    except (OSError, KeyError, ValueError):
        return {"read_bytes": -1, "write_bytes": -1}


def load_pack(load: dict[str, Any]) -> dict[str, Any]:
    """The three loads of a lab, from the pack, as a student's notebook would do them."""
    import huggingface_hub
    import torch
    from safetensors.numpy import load_file

    import ckptzoo_widgets as cz

    out: dict[str, Any] = {}
    model = cz.load(load["builtin_ref"], zoo=load["pack"])
    out["builtin"] = _sha(str(model.path))
    out["builtin_score"] = float(model.score(*cz.digits_validation()))
    path = huggingface_hub.hf_hub_download(load["repo"], load["hub_file"], revision=load["revision"])
    out["hub_sha"] = _sha(path)
    out["hub_sum"] = float(sum(t.sum() for t in load_file(path).values()))
    state = torch.hub.load_state_dict_from_url(load["torch_url"], check_hash=True, map_location="cpu")
    out["torch_sum"] = float(sum(t.sum() for t in state.values()))
    return out


def load_online(load: dict[str, Any]) -> dict[str, Any]:
    """The same three loads with no pack: each student downloads into its own caches (the
    zoo's index and file into ~/.cache/ckptzoo, the Hub's into ~/.cache/huggingface, torch's
    into ~/.cache/torch), from the server the spec names."""
    import huggingface_hub
    import torch
    from safetensors.numpy import load_file

    import ckptzoo_widgets as cz

    home = os.environ["HOME"]
    out: dict[str, Any] = {}
    model = cz.load(load["builtin_ref"], zoo=load["zoo"])
    out["builtin"] = _sha(str(model.path))
    out["builtin_score"] = float(model.score(*cz.digits_validation()))
    path = huggingface_hub.hf_hub_download(
        load["repo"], load["hub_file"], revision=load["revision"], cache_dir=f"{home}/.cache/huggingface/hub"
    )
    out["hub_sha"] = _sha(path)
    out["hub_sum"] = float(sum(t.sum() for t in load_file(path).values()))
    state = torch.hub.load_state_dict_from_url(
        load["torch_url"], model_dir=f"{home}/.cache/torch/hub/checkpoints", check_hash=True, map_location="cpu"
    )
    out["torch_sum"] = float(sum(t.sum() for t in state.values()))
    return out


def load_hub(load: dict[str, Any]) -> dict[str, Any]:
    """What a student browsing the Hub asks: one search, one model opened (`hf:`, anonymously)."""
    import ckptzoo_widgets as cz

    zoo = cz.open_zoo("hf:")
    found = zoo.search(load["query"])
    model = zoo.model(load["model"])
    return {"ids": sorted(found["id"]), "checkpoints": len(model.checkpoints)}


def student(spec: dict[str, Any], me: dict[str, Any], bell: int, answer: int) -> None:
    if "umask" in me:
        os.umask(me["umask"])
    if me["uid"] != os.getuid():  # (a benchmark may run every student as the same user)
        os.setgroups(me.get("groups", []))  # a class group the shared answer cache belongs to
        os.setgid(me["gid"])
        os.setuid(me["uid"])
    os.environ.pop("XDG_CACHE_HOME", None)  # the user's cache is under its own HOME
    os.environ.update(HOME=me["home"], USER=me["name"], LOGNAME=me["name"], TMPDIR=me["tmp"])
    tempfile.tempdir = None
    os.chdir(me["home"])
    os.read(bell, 1)  # the bell: every student starts at once
    started = time.perf_counter()
    before = _io()
    try:
        work = {"pack": load_pack, "online": load_online, "hub": load_hub}[spec["mode"]]
        result: dict[str, Any] = {"name": me["name"], "ok": True, **work(spec["load"])}
    except BaseException as error:  # reported to the test, which fails on it
        result = {"name": me["name"], "ok": False, "error": "".join(traceback.format_exception(error))[-3000:]}
    after = _io()
    result["seconds"] = time.perf_counter() - started
    result["read_bytes"] = after["read_bytes"] - before["read_bytes"]
    result["write_bytes"] = after["write_bytes"] - before["write_bytes"]
    os.write(answer, (json.dumps(result) + "\n").encode())


def main(path: str) -> int:
    with open(path) as f:
        spec = json.load(f)
    for key in [k for k in os.environ if k.startswith(("CKPTZOO_", "HF_", "TORCH_"))]:
        del os.environ[key]
    os.environ.update(spec["env"])
    import huggingface_hub  # noqa: F401 - imported with the students' environment, before the fork

    if spec["mode"] != "hub":
        import torch  # noqa: F401
        from safetensors.numpy import load_file  # noqa: F401

    import ckptzoo_widgets as cz
    from ckptzoo_widgets import catalog, loader  # noqa: F401

    cz.digits_validation()
    bell_r, bell_w = os.pipe()
    children = []
    for me in spec["students"]:
        answer_r, answer_w = os.pipe()
        pid = os.fork()
        if pid == 0:
            os.close(bell_w)
            os.close(answer_r)
            code = 0
            try:
                student(spec, me, bell_r, answer_w)
            except BaseException:
                traceback.print_exc()
                code = 1
            os._exit(code)
        os.close(answer_w)
        children.append((pid, answer_r))
    os.close(bell_r)
    started = time.perf_counter()
    os.write(bell_w, b"g" * len(children))  # one byte each, all at once
    os.close(bell_w)
    results = []
    for pid, answer_r in children:
        with os.fdopen(answer_r) as f:
            line = f.read().strip()
        _, status = os.waitpid(pid, 0)
        entry = json.loads(line) if line else {"ok": False, "error": "no answer"}
        entry["exit"] = os.waitstatus_to_exitcode(status)
        results.append(entry)
    wall = time.perf_counter() - started
    print(json.dumps({"wall_seconds": wall, "students": results}))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
