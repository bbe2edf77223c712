"""Run one hostile case in a child process under a memory and a time limit.

A bomb that gets past the product's own budgets must fail the test, not take
the machine down: the child has an address-space limit (RLIMIT_AS) and a
wall-clock limit, and the parent reports which one it hit.

    result = run_bounded('''
        import ckptzoo_widgets as cz
        cz.open_zoo(PATH)
    ''', PATH=str(index_path))
    assert result.error_type == "ZooError"

The snippet runs with the given names bound as globals. Its outcome comes
back as a `Bounded`: whether it returned, the exception's type and message
(the first line), its printed output, the child's peak RSS.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from dataclasses import dataclass
from pathlib import Path

MEMORY_LIMIT_MB = 1536
TIME_LIMIT_S = 60.0

_RUNNER = r"""
import json, resource, sys, traceback
limit = int(sys.argv[1]) * 1024 * 1024
resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
spec = json.loads(sys.stdin.read())
scope = dict(spec["names"])
outcome = {"ok": True, "error_type": None, "message": None}
try:
    exec(compile(spec["code"], "<hostile case>", "exec"), scope)
except MemoryError:
    outcome = {"ok": False, "error_type": "MemoryError", "message": "memory limit hit"}
except BaseException as error:
    message = str(error).splitlines()[0] if str(error) else ""
    outcome = {"ok": False, "error_type": type(error).__name__, "message": message[:2000],
               "mro": [cls.__name__ for cls in type(error).__mro__]}
# VmHWM is this program's own peak: ru_maxrss also keeps the parent's RSS at fork across exec
# (a pytest process that built a large table would show as this child's peak).
try:
    with open("/proc/self/status") as status:
        peak_kb = next(int(line.split()[1]) for line in status if line.startswith("VmHWM:"))
except (OSError, StopIteration, ValueError):
    peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
outcome["peak_rss_mb"] = peak_kb / 1024
sys.stdout.flush()
sys.stderr.write("\n@@BOUNDED@@" + json.dumps(outcome) + "\n")
"""


@dataclass
class Bounded:
    ok: bool  # the snippet ran to its end
    error_type: str | None  # the exception's class name, or a limit: "MemoryError", "Timeout"
    message: str | None
    stdout: str
    stderr: str
    peak_rss_mb: float | None
    error_mro: list[str]

    def raised(self, name: str) -> bool:
        """True when the snippet raised `name` or a subclass of it."""
        return name in self.error_mro


def run_bounded(
    code: str,
    *,
    memory_mb: int = MEMORY_LIMIT_MB,
    seconds: float = TIME_LIMIT_S,
    env: dict[str, str] | None = None,
    cwd: str | Path | None = None,
    **names: object,
) -> Bounded:
    """Run `code` in a fresh interpreter with `names` as globals (JSON-serialisable values)."""
    spec = json.dumps({"code": textwrap.dedent(code), "names": names})
    child_env = {**os.environ, **(env or {})}
    # The child imports the package from the tree under test, like the parent.
    repo = str(Path(__file__).resolve().parents[2])
    child_env["PYTHONPATH"] = os.pathsep.join(p for p in (repo, child_env.get("PYTHONPATH", "")) if p)
    try:
        done = subprocess.run(
            [sys.executable, "-c", _RUNNER, str(memory_mb)],
            input=spec,
            capture_output=True,
            text=True,
            timeout=seconds,
            env=child_env,
            cwd=cwd,
        )
    except subprocess.TimeoutExpired as expired:
        return Bounded(
            False,
            "Timeout",
            f"no answer in {seconds} s",
            _text(expired.stdout),
            _text(expired.stderr),
            None,
            ["Timeout"],
        )
    stderr, _, tail = done.stderr.rpartition("\n@@BOUNDED@@")
    if not _ or not tail.strip():
        # Killed before it could report (the kernel's OOM killer, a signal, a crash in C).
        return Bounded(
            False,
            f"exit {done.returncode}",
            done.stderr[-2000:],
            done.stdout,
            done.stderr,
            None,
            [f"exit {done.returncode}"],
        )
    outcome = json.loads(tail)
    return Bounded(
        outcome["ok"],
        outcome["error_type"],
        outcome["message"],
        done.stdout,
        stderr,
        outcome.get("peak_rss_mb"),
        outcome.get("mro", [outcome["error_type"]] if outcome["error_type"] else []),
    )


def _text(value: bytes | str | None) -> str:
    if value is None:
        return ""
    return value.decode(errors="replace") if isinstance(value, bytes) else value
