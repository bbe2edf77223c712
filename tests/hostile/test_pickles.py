"""Malicious pickles in every format torch reads, and the scan's verdict on each.

The corpus is written by `tests/hostile/pickles.py` (no torch, no files from
elsewhere). All verdicts are computed in one child process under a memory and
a time limit. Where torch is installed, a few tests prove that torch really
runs the payload the scan reports (torch is optional: only those tests skip).
"""

from __future__ import annotations

import collections
import importlib
import json
import os
import pickle

import pytest

from ckptzoo_widgets.pickle_scan import SAFE_PICKLE_GLOBALS

from . import pickles as P
from .bounded import run_bounded

SYSTEM = f"{os.system.__module__}.system"  # posix.system


def _corpus() -> dict[str, tuple[bytes, str, str]]:
    """name -> (file bytes, expected status, an import or reason fragment the verdict must carry)."""
    cases: dict[str, tuple[bytes, str, str]] = {}
    for protocol in range(6):
        cases[f"plain-reduce-p{protocol}"] = (P.evil_dumps(protocol), "unsafe", SYSTEM)
        cases[f"plain-eval-p{protocol}"] = (P.evil_dumps(protocol, eval, "1+1"), "unsafe", "builtins.eval")
        cases[f"plain-importlib-p{protocol}"] = (
            P.evil_dumps(protocol, importlib.import_module, "os"),
            "unsafe",
            "importlib.import_module",
        )
        cases[f"plain-benign-p{protocol}"] = (P.benign_dumps(protocol), "safe", "")
        cases[f"zip-reduce-p{protocol}"] = (P.torch_zip(P.evil_dumps(protocol)), "unsafe", SYSTEM)
        cases[f"legacy-main-p{protocol}"] = (P.legacy_file(main=P.evil_dumps(protocol)), "unsafe", SYSTEM)
    tricks = {
        "inst": (P.EVIL_INST, "os.system"),
        "obj": (P.EVIL_OBJ, "os.system"),
        "stack-global-memo": (P.EVIL_STACK_GLOBAL_MEMO, "os.system"),
        "stack-global-pop-dup": (P.EVIL_STACK_GLOBAL_SHUFFLE, "builtins.eval"),
        "copyreg-extension": (P.EVIL_EXT, "<copyreg extension 1>"),
        "global-eval": (P.EVIL_EVAL, "builtins.eval"),
        "global-importlib": (P.EVIL_IMPORTLIB, "importlib.import_module"),
        "load-from-bytes": (P.nested_load_from_bytes(P.benign_dumps(2)), "torch.storage._load_from_bytes"),
        "load-from-bytes-nested-evil": (P.nested_load_from_bytes(P.EVIL_EVAL), "torch.storage._load_from_bytes"),
    }
    for name, (data, imported) in tricks.items():
        cases[f"plain-{name}"] = (data, "unsafe", imported)
        cases[f"zip-{name}"] = (P.torch_zip(data), "unsafe", imported)
        cases[f"legacy-{name}"] = (P.legacy_file(main=data), "unsafe", imported)
    evil = P.EVIL_EVAL
    benign_zip = P.torch_zip(P.tensor_pickle())
    cases |= {
        # torch.load: benign; legacy format read pickle after pickle (the old scan stopped at the first STOP)
        "legacy-benign": (P.legacy_file(), "safe", ""),
        "legacy-evil-sys-info": (P.legacy_file(sys_info=evil), "unsafe", "builtins.eval"),
        "legacy-evil-keys": (P.legacy_file(keys=evil), "unsafe", "builtins.eval"),
        "legacy-evil-after-storages": (P.legacy_file(tail=evil), "unsafe", "builtins.eval"),
        "legacy-junk-after-storages": (P.legacy_file(tail=b"\xff" * 10), "unknown", "neither a pickle"),
        "legacy-evil-then-zip": (P.legacy_file(sys_info=evil) + benign_zip, "unsafe", "builtins.eval"),
        "legacy-then-evil-zip": (P.legacy_file() + P.torch_zip(evil), "unsafe", "builtins.eval"),
        "legacy-then-benign-zip": (P.legacy_file() + benign_zip, "unknown", "neither a pickle"),
        "pickle-then-evil-pickle": (P.benign_dumps(2) + evil, "unsafe", "builtins.eval"),
        "pickle-then-junk": (P.benign_dumps(2) + b"\xfe\xfd", "unknown", "neither a pickle"),
        "pickle-then-evil-zip": (P.benign_dumps(2) + P.torch_zip(evil), "unsafe", "builtins.eval"),
        "truncated": (P.benign_dumps(2)[:-5], "unknown", "truncated"),
        "empty": (b"", "unknown", "empty"),
        "not-a-pickle": (b"\xff\xfe hello", "unknown", "not a pickle"),
        "tar-format": (P.tar_header(), "unknown", "tar"),
        # zip: every .pkl member, any case, duplicates (torch reads the first, zipfile the last)
        "zip-benign": (benign_zip, "safe", ""),
        "zip-duplicate-evil-first": (
            P.zip_file([("archive/data.pkl", evil), ("archive/data.pkl", P.tensor_pickle())]),
            "unsafe",
            "builtins.eval",
        ),
        "zip-duplicate-evil-last": (
            P.zip_file([("archive/data.pkl", P.tensor_pickle()), ("archive/data.pkl", evil)]),
            "unsafe",
            "builtins.eval",
        ),
        "zip-upper-case-name": (P.zip_file([("archive/DATA.PKL", evil)]), "unsafe", "builtins.eval"),
        "zip-deflated": (P.zip_file([("archive/data.pkl", evil)], method=8), "unsafe", "builtins.eval"),
        "zip-bzip2": (P.zip_file([("archive/data.pkl", evil)], method=12), "unsafe", "builtins.eval"),
        "zip-lzma": (P.zip_file([("archive/data.pkl", evil)], method=14), "unsafe", "builtins.eval"),
        "zip-unknown-method": (P.set_compression_method(P.torch_zip(P.tensor_pickle()), 99), "unknown", "method 99"),
        "zip-no-pickle": (P.zip_file([("archive/version", b"3\n")]), "unknown", "without any .pkl"),
        "zip-torchscript": (
            P.torch_zip(P.tensor_pickle(), ("archive/constants.pkl", P.benign_dumps(2))), "unknown", "TorchScript"
        ),
        "zip-bytes-after-stop": (P.torch_zip(P.tensor_pickle() + evil), "unsafe", "builtins.eval"),
        # a local entry the central directory leaves out (streaming readers walk local headers)
        "zip-hidden-local-entry": (
            P.drop_first_central_entry(P.torch_zip(evil, ("archive/data.pkl", P.tensor_pickle()))),
            "unsafe",
            "builtins.eval",
        ),
        # readers disagree: miniz reads offsets as written, zipfile shifts them by the data in front
        "zip-prefixed-readers-disagree": (
            P.torch_zip(P.tensor_pickle())[:60] + P.torch_zip(evil), "unsafe", "builtins.eval"
        ),
    }  # fmt: skip
    return cases


CASES = _corpus()


@pytest.fixture(scope="module")
def verdicts(tmp_path_factory) -> dict[str, dict]:
    folder = tmp_path_factory.mktemp("pickles")
    paths = {}
    for name, (data, _, _) in CASES.items():
        path = folder / f"{name}.pt"
        path.write_bytes(data)
        paths[name] = str(path)
    result = run_bounded(
        """
        import json
        from ckptzoo_widgets.pickle_scan import scan_pickle_file
        print(json.dumps({name: scan_pickle_file(path).to_json() for name, path in PATHS.items()}))
        """,
        memory_mb=512,
        seconds=120,
        PATHS=paths,
    )
    assert result.ok, (result.error_type, result.message, result.stderr[-2000:])
    return json.loads(result.stdout)


@pytest.mark.parametrize("name", sorted(CASES))
def test_corpus_verdict(verdicts, name):
    _, status, fragment = CASES[name]
    verdict = verdicts[name]
    assert verdict["status"] == status, verdict
    if status == "unsafe":
        assert fragment in verdict["imports"], verdict
    elif status == "unknown":
        assert fragment in verdict["reason"], verdict
    else:
        assert verdict["imports"] == [] and verdict["reason"] == ""


def test_the_allowlist_holds_nothing_that_loads_a_pickle_or_runs_code():
    assert "torch.storage._load_from_bytes" not in SAFE_PICKLE_GLOBALS
    for name in SAFE_PICKLE_GLOBALS:
        module = name.rpartition(".")[0]
        assert module in ("collections", "_codecs", "torch", "torch._utils", "torch._tensor"), name
        assert not any(word in name.lower() for word in ("load", "eval", "exec", "system", "import")), name


def test_old_safety_names_are_gone():
    """One scanner: the pickle code moved out of safety.py, nothing imports the old names."""
    from ckptzoo_widgets import safety

    assert not hasattr(safety, "unsafe_pickle_imports") and not hasattr(safety, "SAFE_PICKLE_GLOBALS")


# --- torch proves what torch would read (skipped without torch) ---------------------------------


@pytest.mark.parametrize(
    "build",
    [
        pytest.param(lambda evil: P.legacy_file(sys_info=evil), id="legacy-third-pickle"),
        pytest.param(lambda evil: P.legacy_file(keys=evil), id="legacy-keys-pickle"),
        pytest.param(lambda evil: P.legacy_file(sys_info=evil) + P.torch_zip(P.tensor_pickle()), id="legacy-then-zip"),
        pytest.param(
            lambda evil: P.zip_file(
                [("archive/data.pkl", evil), ("archive/data.pkl", P.tensor_pickle()), ("archive/version", b"3\n")]
            ),
            id="zip-duplicate-first",
        ),
        pytest.param(lambda evil: P.nested_load_from_bytes(P.legacy_file(main=evil)), id="load-from-bytes"),
    ],
)
def test_torch_runs_what_the_scan_reports(tmp_path, build):
    pytest.importorskip("torch")
    from ckptzoo_widgets.pickle_scan import scan_pickle_bytes

    marker = tmp_path / "payload-ran"
    evil = pickle.dumps(P._Reduce(os.mkdir, str(marker)), protocol=2)
    data = build(evil)
    if data.startswith(P.PROTO2 + b"ctorch.storage"):  # the nested case: torch needs a zip or legacy outer file
        data = P.legacy_file(main=data)
    path = tmp_path / "checkpoint.pt"
    path.write_bytes(data)
    verdict = scan_pickle_bytes(data)
    assert verdict.status == "unsafe", verdict
    run_bounded("import torch\ntorch.load(PATH, weights_only=False)\n", memory_mb=2048, seconds=120, PATH=str(path))
    assert marker.exists(), "torch did not run the payload: the case proves nothing"


def test_torch_saved_checkpoints_scan_safe(tmp_path):
    torch = pytest.importorskip("torch")
    from ckptzoo_widgets.pickle_scan import scan_pickle_file

    state = collections.OrderedDict(
        w=torch.randn(3, 4),
        b=torch.zeros(4, dtype=torch.int64),
        h=torch.ones(2, dtype=torch.bfloat16),
        p=torch.nn.Parameter(torch.ones(2)),
    )
    for zip_format in (True, False):
        path = tmp_path / f"state-{zip_format}.pt"
        torch.save(state, path, _use_new_zipfile_serialization=zip_format)
        verdict = scan_pickle_file(path)
        assert verdict.status == "safe", verdict
        assert "torch._utils._rebuild_tensor_v2" in verdict.seen


# --- budgets: real bombs, each scanned in a child under 512 MB and a time limit -----------------

GIB = 1 << 30


def _bombs(folder) -> dict[str, str]:
    """Small files that expand to a gigabyte, or to millions of opcodes, when scanned naively."""
    paths = {}

    def add(name: str, chunks, member: str = "archive/data.pkl") -> None:
        paths[name] = str(folder / f"{name}.pt")
        P.zip_streamed(paths[name], member, chunks)

    # 1 GiB of bytes in one BINBYTES argument: ~1 MiB on disk.
    add("zip-1gib-bytes", [b"\x80\x02B" + GIB.to_bytes(4, "little"), *P.repeat(b"\0", GIB)])
    # ~500 million cheap opcodes (NONE, POP): the CPU bomb.
    add("zip-opcodes", [b"\x80\x02", *P.repeat(b"N0", GIB)])
    # A GLOBAL whose module name never ends.
    add("zip-endless-line", [b"\x80\x02c", *P.repeat(b"a", GIB)])
    # Millions of lists and marks on the stack, and memo entries.
    add("zip-stack", [b"\x80\x02", *P.repeat(b"]", 256 << 20)])
    add("zip-memo", [b"\x80\x02N", *(b"r" + i.to_bytes(4, "little") for i in range(3_000_000))])
    # 64 directory entries over the same 1 GiB member, each a little different.
    with open(paths["zip-1gib-bytes"], "rb") as handle:
        overlapping = P.overlapping_entries(handle.read(), 64)
    paths["zip-overlapping-entries"] = str(folder / "zip-overlapping-entries.pt")
    (folder / "zip-overlapping-entries.pt").write_bytes(overlapping)
    # Lengths that promise far more than the file holds: nothing may be allocated for them.
    small = {
        "binbytes8-2-63": b"\x80\x04\x8e" + (1 << 63).to_bytes(8, "little") + b"\0" * 16,
        "frame-2-63": b"\x80\x04\x95" + (1 << 63).to_bytes(8, "little") + b"N.",
        "legacy-storage-2-62": P.legacy_file()[:-16] + (1 << 62).to_bytes(8, "little") + b"\0" * 8,
        "zip-directory-4gib": P.torch_zip(P.tensor_pickle())[:-10] + b"\xff\xff\xff\xff" + b"\0" * 6,
    }
    for name, data in small.items():
        paths[name] = str(folder / f"{name}.pt")
        (folder / f"{name}.pt").write_bytes(data)
    return paths


@pytest.fixture(scope="module")
def bombs(tmp_path_factory) -> dict[str, str]:
    return _bombs(tmp_path_factory.mktemp("bombs"))


BOMBS = [
    "zip-1gib-bytes",
    "zip-opcodes",
    "zip-endless-line",
    "zip-stack",
    "zip-memo",
    "zip-overlapping-entries",
    "binbytes8-2-63",
    "frame-2-63",
    "legacy-storage-2-62",
    "zip-directory-4gib",
]


@pytest.mark.parametrize("name", BOMBS)
def test_bomb_gives_unknown_within_budget(bombs, name):
    result = run_bounded(
        """
        import json, os, resource, time
        from ckptzoo_widgets.pickle_scan import scan_pickle_file
        before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        started = time.monotonic()
        verdict = scan_pickle_file(PATH)
        seconds, size = time.monotonic() - started, os.path.getsize(PATH)
        print(json.dumps({**verdict.to_json(), "seconds": seconds, "size": size, "rss_before": before}))
        """,
        memory_mb=512,
        seconds=90,
        PATH=bombs[name],
    )
    assert result.ok, (result.error_type, result.message)
    verdict = json.loads(result.stdout)
    print(
        f"{name}: {verdict['size']} bytes on disk -> {verdict['status']} in {verdict['seconds']:.1f} s, "
        f"peak RSS {result.peak_rss_mb:.0f} MB ({verdict['rss_before']:.0f} MB after imports): {verdict['reason']}"
    )
    assert verdict["status"] == "unknown", verdict
    assert verdict["reason"], verdict


def test_every_budget_gives_its_own_reason(tmp_path):
    from ckptzoo_widgets.pickle_scan import ScanBudget, scan_pickle_bytes

    many_ops = b"\x80\x02" + b"N0" * 5000 + b"N."
    assert "opcodes" in scan_pickle_bytes(many_ops, ScanBudget(opcodes=1000)).reason
    assert "0 s" in scan_pickle_bytes(many_ops, ScanBudget(seconds=0)).reason
    assert "entries" in scan_pickle_bytes(b"\x80\x02" + b"]" * 5000, ScanBudget(entries=100)).reason
    zipped = P.zip_file([("archive/data.pkl", many_ops)], method=8)
    assert "decompresses to more than 1000 bytes" in scan_pickle_bytes(zipped, ScanBudget(member_bytes=1000)).reason
    assert "bytes read" in scan_pickle_bytes(many_ops, ScanBudget(total_bytes=1000)).reason
    for verdict in (scan_pickle_bytes(many_ops, ScanBudget(opcodes=1000)),):
        assert verdict.status == "unknown" and verdict.describe().startswith(
            "could not scan the pickle: could not scan: budget"
        )
    # Within its budgets the same stream is safe: the budget, not the content, made it unknown.
    assert scan_pickle_bytes(many_ops).status == "safe"
