"""A class of thirty on one machine: real Unix users, a pack owned by the teacher, read-only to them.

Thirty processes, each its own user, load at the same moment a built-in checkpoint, a Hub
checkpoint at a branch (from the Hub cache layout, `HF_HUB_OFFLINE=1`, an endpoint that
refuses) and a torch.hub weights file: every load gives the right bytes, nothing in the pack
changes, nobody writes outside its home and temp folder, no permission error. Needs root
(`useradd`); skipped with the reason otherwise. The students are forked from one process that
imported the libraries (tests/classroom_students.py) so thirty of them stay cheap on 2 cores.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import shutil
import stat
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from fixtures.branch_hub import BranchHub  # noqa: E402
from fixtures.tree import tree_hash  # noqa: E402

import ckptzoo_widgets as cz  # noqa: E402
from ckptzoo_widgets.pack import build_pack, environment  # noqa: E402

STUDENTS = 30
REPO = "course/tiny-lm"
LAUNCHER = Path(__file__).resolve().parent / "classroom_students.py"
WRITABLE_BY_ALL = ("/tmp", "/var/tmp", "/dev/shm", "/run/lock")  # where any user may create files


def _blocked_ancestor(path: Path) -> Path | None:
    """The first folder above ``path`` that other users cannot enter, if any."""
    for parent in reversed(path.parents):
        if not stat.S_IMODE(parent.stat().st_mode) & 0o001:
            return parent
    return None


def _why_not() -> str | None:
    if not hasattr(os, "geteuid") or os.geteuid() != 0:
        return "needs root to create 30 Unix users (useradd)"
    for tool in ("useradd", "userdel"):
        if shutil.which(tool) is None:
            return f"{tool} is not installed"
    blocked = _blocked_ancestor(Path(sys.prefix))
    if blocked is not None and (blocked != Path("/root") or shutil.which("unshare") is None):
        return f"other users cannot run this Python ({blocked} is closed to them) and no mount namespace helps"
    return None


@pytest.fixture
def classroom() -> Iterator[dict]:
    """A teacher and thirty students (users, homes, temp folders), removed afterwards."""
    reason = _why_not()
    if reason:
        pytest.skip(reason)
    base = Path(tempfile.mkdtemp(prefix="ckptzoo-class-", dir="/tmp"))
    base.chmod(0o755)
    tag = f"{os.getpid() % 100000:05d}"
    made: list[str] = []
    people: list[dict] = []
    try:
        for i in range(STUDENTS + 1):
            name = f"czt{tag}" if i == 0 else f"czs{tag}x{i:02d}"
            home = base / "home" / name
            made_ok = subprocess.run(
                [
                    "useradd",
                    "--no-create-home",
                    "--home-dir",
                    str(home),
                    "--shell",
                    "/usr/sbin/nologin",
                    "--user-group",
                    name,
                ],
                capture_output=True,
                text=True,
            )
            if made_ok.returncode != 0:
                pytest.skip(f"useradd failed: {made_ok.stderr.strip()[:200]}")
            made.append(name)
            import pwd

            entry = pwd.getpwnam(name)
            tmp = base / "tmp" / name
            for folder in (home, tmp):
                folder.mkdir(parents=True)
                os.chown(folder, entry.pw_uid, entry.pw_gid)
                folder.chmod(0o700)
            (base / "home").chmod(0o755)
            (base / "tmp").chmod(0o755)
            people.append({"name": name, "uid": entry.pw_uid, "gid": entry.pw_gid, "home": str(home), "tmp": str(tmp)})
        yield {"base": base, "teacher": people[0], "students": people[1:]}
    finally:
        for name in made:
            subprocess.run(["userdel", name], capture_output=True)
        shutil.rmtree(base, ignore_errors=True)


def _run_students(spec: dict, base: Path) -> dict:
    spec_path = base / "spec.json"
    spec_path.write_text(json.dumps(spec))
    command = [sys.executable, str(LAUNCHER), str(spec_path)]
    if _blocked_ancestor(Path(sys.prefix)) is not None:
        # The interpreter lives under /root (closed to others). In a private mount namespace
        # only, /root becomes an empty open folder with the interpreter's tree bound back in
        # at the same path; the machine's /root is untouched.
        top = Path("/root") / Path(sys.prefix).relative_to("/root").parts[0]
        scratch = base / "interpreter"
        scratch.mkdir(exist_ok=True)
        script = (
            f"set -e; mount --bind {top} {scratch}; mount -t tmpfs -o mode=755,size=1m tmpfs /root; "
            f"mkdir -p {top}; mount --bind {scratch} {top}; exec {' '.join(command)}"
        )
        command = ["unshare", "--mount", "--propagation", "private", "sh", "-c", script]
    result = subprocess.run(command, capture_output=True, text=True, timeout=600, cwd="/")
    assert result.returncode == 0, result.stderr[-3000:]
    assert "ermission" not in result.stderr, result.stderr[-3000:]
    return json.loads(result.stdout.strip().splitlines()[-1])


def _owned_by(uids: set[int], roots: list[str]) -> list[str]:
    found = []
    for root in roots:
        for dirpath, dirnames, filenames in os.walk(root):
            for name in dirnames + filenames:
                path = os.path.join(dirpath, name)
                try:
                    if os.lstat(path).st_uid in uids:
                        found.append(path)
                except OSError:
                    pass
    return found


def _chown_tree(root: Path, uid: int, gid: int) -> None:
    os.lchown(root, uid, gid)
    for dirpath, dirnames, filenames in os.walk(root):
        for name in dirnames + filenames:
            os.lchown(os.path.join(dirpath, name), uid, gid)


def test_thirty_students_load_three_packed_checkpoints_at_once(
    classroom: dict, http_server, monkeypatch: pytest.MonkeyPatch
) -> None:
    torch = pytest.importorskip("torch")
    import numpy as np
    from safetensors.numpy import save

    base: Path = classroom["base"]
    # what the teacher stages: a built-in checkpoint, a Hub branch, a torch.hub file
    hub = BranchHub(http_server)
    weights = save({"w": np.arange(256, dtype=np.float32)})
    config = b'{"model_type": "gpt_neox"}'
    hub.add_branch(REPO, "step3000", {"config.json": config, "model.safetensors": weights})
    buffer = io.BytesIO()
    torch.save({"fc.weight": torch.arange(12.0).reshape(3, 4)}, buffer)
    torch_data = buffer.getvalue()
    torch_name = f"tinynet-{hashlib.sha256(torch_data).hexdigest()[:8]}.pth"
    torch_url = http_server.add(f"/models/{torch_name}", torch_data)
    course = base / "course.toml"
    course.write_text(
        'title = "Class of thirty"\n[[checkpoint]]\nref = "digits-mlp@epoch-12"\n'
        f'[[checkpoint]]\nref = "hf:{REPO}@step3000"\n[[checkpoint]]\nurl = "{torch_url}"\n'
    )
    monkeypatch.setenv("CKPTZOO_CACHE", str(base / "teacher-cache"))
    monkeypatch.setenv("CKPTZOO_QUIET", "1")
    monkeypatch.setenv("HF_ENDPOINT", hub.url)
    pack = base / "course-pack"
    build_pack(course, pack)
    teacher = classroom["teacher"]
    _chown_tree(pack, teacher["uid"], teacher["gid"])
    before = tree_hash(pack)
    seen = len(http_server.requests())

    refused = f"http://127.0.0.1:{_closed_port()}"
    spec = {
        "mode": "pack",
        "env": environment(pack) | {"HF_ENDPOINT": refused, "CKPTZOO_QUIET": "1", "PATH": os.environ["PATH"]},
        "students": classroom["students"],
        "load": {
            "pack": str(pack),
            "builtin_ref": "digits-mlp@epoch-12",
            "repo": REPO,
            "revision": "step3000",
            "hub_file": "model.safetensors",
            "torch_url": torch_url,
        },
    }
    outcome = _run_students(spec, base)

    print(f"{STUDENTS} students loaded 3 checkpoints in {outcome['wall_seconds']:.2f} s (wall, figure only)")
    students = outcome["students"]
    assert len(students) == STUDENTS
    failures = [s for s in students if not s.get("ok") or s["exit"] != 0]
    assert failures == [], failures[0].get("error")
    expected_builtin = hashlib.sha256(cz.load("digits-mlp@epoch-12").path.read_bytes()).hexdigest()
    assert {s["builtin"] for s in students} == {expected_builtin}
    assert {s["hub_sha"] for s in students} == {hashlib.sha256(weights).hexdigest()}
    assert {s["hub_sum"] for s in students} == {float(np.arange(256).sum())}
    assert {s["torch_sum"] for s in students} == {66.0}
    assert len({s["builtin_score"] for s in students}) == 1

    assert tree_hash(pack) == before  # not a byte, mode, owner or link changed
    assert len(http_server.requests()) == seen  # nobody reached the network
    uids = {s["uid"] for s in classroom["students"]}
    allowed = [Path(s["home"]) for s in classroom["students"]] + [Path(s["tmp"]) for s in classroom["students"]]
    outside = [
        p
        for p in _owned_by(uids, [r for r in WRITABLE_BY_ALL if os.path.isdir(r)] + [str(base)])
        if not any(Path(p) == a or a in Path(p).parents for a in allowed)
    ]
    assert outside == []


def _closed_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def class_group(classroom: dict) -> Iterator[dict]:
    """A Unix group of the teacher and the thirty students (the shared answer cache's group), removed afterwards."""
    import grp

    name = f"czg{os.getpid() % 100000:05d}"
    made = subprocess.run(["groupadd", name], capture_output=True, text=True)
    if made.returncode != 0:
        pytest.skip(f"groupadd failed: {made.stderr.strip()[:200]}")
    try:
        yield {"name": name, "gid": grp.getgrnam(name).gr_gid}
    finally:
        subprocess.run(["groupdel", name], capture_output=True)


def test_thirty_students_asking_the_hub_the_same_thing_share_one_answer(classroom: dict, class_group: dict) -> None:
    """CKPTZOO_SHARED_CACHE: thirty users, each its own process, the same search and model at once."""
    pytest.importorskip("huggingface_hub")
    from fixtures.generated_hub import GeneratedHub

    base: Path = classroom["base"]
    gid = class_group["gid"]
    shared = base / "hub-answers"  # what the teacher makes: install -d -m 2770 -g <class> <folder>
    shared.mkdir()
    os.chown(shared, classroom["teacher"]["uid"], gid)
    shared.chmod(0o2770)
    students = [
        {**s, "groups": [gid], "umask": 0o077 if i % 2 else 0o022}  # half of them with a private umask
        for i, s in enumerate(classroom["students"])
    ]
    with GeneratedHub(size=2_000) as hub:
        spec = {
            "mode": "hub",
            "env": {
                "HF_ENDPOINT": hub.url,
                "CKPTZOO_SHARED_CACHE": str(shared),
                "HF_HUB_DISABLE_IMPLICIT_TOKEN": "1",
                "CKPTZOO_QUIET": "1",
                "PATH": os.environ["PATH"],
            },
            "students": students,
            "load": {"query": "pythia", "model": "EleutherAI/pythia-70m"},
        }
        unshared = {k: v for k, v in spec["env"].items() if k != "CKPTZOO_SHARED_CACHE"}
        alone = _run_students({**spec, "env": unshared}, base)
        without = len(hub.requests())
        for student in students:  # each its own cache again, empty
            shutil.rmtree(Path(student["home"]) / ".cache", ignore_errors=True)
        hub.reset_counts()
        outcome = _run_students(spec, base)
        asked = hub.requests()

    results = outcome["students"]
    failures = [s for s in results if not s.get("ok") or s["exit"] != 0]
    assert failures == [], failures[0].get("error")
    assert len({json.dumps(s["ids"]) for s in results}) == 1 and "EleutherAI/pythia-70m" in results[0]["ids"]
    assert {s["checkpoints"] for s in results} == {155}
    # Alone, each student asks 4 things (the search, the model's info, its branches, its README).
    assert all(s.get("ok") for s in alone["students"]) and without == 4 * STUDENTS
    print(f"{STUDENTS} students, the same search and model: {without} requests alone, {len(asked)} shared: {asked}")
    assert len(asked) <= 8, asked
    files = [Path(d, n) for d, _, names in os.walk(shared) for n in names]
    folders = [Path(d) for d, _, _ in os.walk(shared)]
    assert len([f for f in files if f.suffix == ".body"]) == 4
    for path in files:  # every file readable by the group, with the class's group; no temporary left
        status = path.lstat()
        assert stat.S_ISREG(status.st_mode) and status.st_gid == gid, path
        assert stat.S_IMODE(status.st_mode) & 0o040, (path, oct(status.st_mode))
        assert not path.name.endswith(".tmp"), path
    for folder in folders:  # every folder enterable and writable by the group, setgid
        mode = stat.S_IMODE(folder.lstat().st_mode)
        assert mode & 0o2070 == 0o2070 and folder.lstat().st_gid == gid, (folder, oct(mode))
    writers = {path.lstat().st_uid for path in files if path.suffix == ".body"}
    assert writers <= {s["uid"] for s in students}
