"""A checkpoint whose pickle scans unsafe or unknown is marked unsafe everywhere, from one verdict.

`Zoo.download` scans (through `pickle_verdicts.file_verdict`), warns and records
the verdict next to the cache; `ckptzoo show` and the widget's checkpoint rows
read that record. Import names come from the file, so they reach the terminal
and the warning only through the text sinks.
"""

from __future__ import annotations

import hashlib
import json

import pytest

from . import pickles as P
from .bounded import run_bounded

# An import whose module name carries an OSC 52 clipboard write and a title change.
HOSTILE_MODULE = "os\x1b]52;c;ZXZpbA==\x07\x1b]0;pwned\x07"
FILES = {
    "clean": P.tensor_pickle(),
    "evil": P.PROTO2 + P.glob(HOSTILE_MODULE, "system") + P.text("echo") + P.TUPLE1 + P.REDUCE + P.STOP,
    "damaged": P.benign_dumps(2)[:-4],
}


@pytest.fixture()
def zoo_dir(tmp_path, monkeypatch):
    models = []
    for name, data in FILES.items():
        (tmp_path / f"{name}.pt").write_bytes(data)
        digest = hashlib.sha256(data).hexdigest()
        files = [{"path": f"{name}.pt", "sha256": digest, "size": len(data)}]
        models.append({"id": name, "library": "pytorch", "checkpoints": [{"name": "final", "files": files}]})
    (tmp_path / "index.json").write_text(json.dumps({"ckptzoo_index": 1, "models": models}))
    monkeypatch.setenv("CKPTZOO_CACHE", str(tmp_path / "cache"))
    return tmp_path


def _show(zoo_dir, ref: str) -> str:
    result = run_bounded(
        """
        from ckptzoo_widgets.cli import main
        main(["show", REF, "--zoo", INDEX, "--no-card"])
        """,
        memory_mb=1024,
        seconds=120,
        REF=ref,
        INDEX=str(zoo_dir / "index.json"),
    )
    assert result.ok or result.error_type == "SystemExit", (result.error_type, result.message)
    return result.stdout


def test_download_warns_records_and_show_marks(zoo_dir):
    before = _show(zoo_dir, "evil")
    assert "not scanned yet" in before and "UNSAFE" not in before
    result = run_bounded(
        """
        import json, warnings
        import ckptzoo_widgets as cz
        zoo = cz.open_zoo(INDEX)
        caught = {}
        for ref in ("clean", "evil", "damaged"):
            with warnings.catch_warnings(record=True) as seen:
                warnings.simplefilter("always")
                zoo.download(ref, quiet=True)
            caught[ref] = [str(w.message) for w in seen if type(w.message).__name__ == "UnsafePickleWarning"]
        print(json.dumps(caught))
        """,
        memory_mb=1024,
        seconds=120,
        INDEX=str(zoo_dir / "index.json"),
    )
    assert result.ok, (result.error_type, result.message)
    caught = json.loads(result.stdout)
    assert caught["clean"] == []
    assert len(caught["evil"]) == 1 and ".system when loaded" in caught["evil"][0]
    assert "\x1b" not in caught["evil"][0] and "\x07" not in caught["evil"][0]
    assert len(caught["damaged"]) == 1 and "could not scan the pickle" in caught["damaged"][0]

    evil = _show(zoo_dir, "evil")
    assert "UNSAFE final: evil.pt: pickle imports os" in evil
    assert "\x1b" not in evil and "\x07" not in evil
    assert "UNSAFE final: damaged.pt: could not scan the pickle" in _show(zoo_dir, "damaged")
    clean = _show(zoo_dir, "clean")
    assert "UNSAFE" not in clean and "not scanned" not in clean

    # The widget's checkpoint rows carry the same mark (and nothing for the clean one).
    from ckptzoo_widgets.widget import ZooBrowser

    browser = ZooBrowser(str(zoo_dir / "index.json"))
    marks = {}
    for ref in ("clean", "evil", "damaged"):
        browser.selected = ref
        marks[ref] = browser.detail["checkpoints"][0]["pickle_warning"]
    assert marks["clean"] is None
    assert marks["evil"].startswith("evil.pt: pickle imports os")
    assert marks["damaged"].startswith("damaged.pt: could not scan the pickle")


def test_one_verdict_per_content_is_recorded_and_reused(zoo_dir):
    from ckptzoo_widgets import pickle_verdicts

    path = zoo_dir / "evil.pt"
    sha = hashlib.sha256(path.read_bytes()).hexdigest()
    assert pickle_verdicts.recorded_verdict(sha) is None
    first = pickle_verdicts.file_verdict(path)
    assert first.status == "unsafe"
    assert pickle_verdicts.recorded_verdict(sha) == first
    # The record is keyed by content: the same bytes elsewhere give the same verdict without a scan,
    # other bytes under the same name are scanned afresh.
    path.write_bytes(FILES["clean"])
    assert pickle_verdicts.file_verdict(path).status == "safe"
    assert pickle_verdicts.file_verdict(path, sha256=sha).status == "unsafe"
