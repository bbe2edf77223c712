"""Helpers for the real-browser tests: Jupyter servers and notebook access.

Import in a test under tests/browser/ with ``from .harness import ...``.
The fixtures that use these live in conftest.py next to this file.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-quic",
    "--no-first-run",
]
LABEXTENSION_NAME = "ckptzoo-widgets"
ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts"

# Seconds. Generous: CI shares two cores between the server, the kernel and
# Chromium.
SERVER_START_TIMEOUT = 90
PAGE_TIMEOUT_MS = 60_000

# JupyterLab asks every new user whether to fetch Jupyter news; the toast is
# noise in a test and the question would lead to traffic off this machine.
ALWAYS_DISABLED = ("@jupyterlab/apputils-extension:announcements",)


# ---------------------------------------------------------------------------
# Jupyter servers
# ---------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class JupyterServer:
    """One running ``jupyter lab`` or ``jupyter notebook`` process."""

    kind: str  # "lab" or "notebook"
    root_dir: Path
    port: int
    token: str
    proc: subprocess.Popen
    home: Path  # temporary config / runtime / settings directories live here
    log_path: Path
    disabled_extensions: tuple[str, ...] = ()
    _log_file: Any = field(default=None, repr=False)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def log_tail(self, lines: int = 60) -> str:
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError:
            return ""
        return "\n".join(text.splitlines()[-lines:])

    # -- files ------------------------------------------------------------
    def write_notebook(
        self,
        name: str,
        cells: Sequence[str | tuple[str, str] | dict[str, Any]],
    ) -> str:
        """Write a notebook into the root directory; return its relative path.

        Each cell is a code source string, a ``("markdown"|"code", source)``
        pair, or a dict with ``cell_type``, ``source`` and optional
        ``outputs`` (nbformat output dicts) / ``execution_count``.
        """
        import nbformat
        from nbformat import v4

        nb = v4.new_notebook()
        nb.metadata["kernelspec"] = {
            "name": "python3",
            "display_name": "Python 3 (ipykernel)",
            "language": "python",
        }
        nb.metadata["language_info"] = {"name": "python"}
        for spec in cells:
            if isinstance(spec, str):
                spec = {"cell_type": "code", "source": spec}
            elif isinstance(spec, tuple):
                spec = {"cell_type": spec[0], "source": spec[1]}
            if spec["cell_type"] == "markdown":
                nb.cells.append(v4.new_markdown_cell(spec["source"]))
            else:
                cell = v4.new_code_cell(spec["source"], execution_count=spec.get("execution_count"))
                cell.outputs = [nbformat.from_dict(o) for o in spec.get("outputs", [])]
                nb.cells.append(cell)
        if not name.endswith(".ipynb"):
            name += ".ipynb"
        path = self.root_dir / name
        path.parent.mkdir(parents=True, exist_ok=True)
        nbformat.write(nb, str(path))
        return name

    def read_notebook(self, name: str):
        """The notebook as saved on disk (nbformat node)."""
        import nbformat

        return nbformat.read(str(self.root_dir / name), as_version=4)

    # -- urls -------------------------------------------------------------
    def notebook_url(self, rel_path: str) -> str:
        from urllib.parse import quote

        quoted = quote(rel_path)
        if self.kind == "lab":
            # `reset` drops the saved workspace so only this notebook opens.
            return f"{self.url}/lab/tree/{quoted}?reset&token={self.token}"
        return f"{self.url}/notebooks/{quoted}?token={self.token}"

    def api(self, path: str, method: str = "GET", body: Any = None) -> Any:
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(
            f"{self.url}{path}",
            data=data,
            method=method,
            headers={"Authorization": f"token {self.token}", "Content-Type": "application/json"},
        )
        with urllib.request.urlopen(req, timeout=10) as resp:  # noqa: S310 - 127.0.0.1 only
            raw = resp.read()
        return json.loads(raw) if raw else None

    # -- browser ----------------------------------------------------------
    def open_notebook(self, page, rel_path: str, wait_for_kernel: bool = True):
        """Open ``rel_path`` in ``page`` and wait until the notebook is ready."""
        page.set_default_timeout(PAGE_TIMEOUT_MS)
        page.goto(self.notebook_url(rel_path), wait_until="domcontentloaded")
        page.wait_for_function(
            """(path) => {
                const app = window.jupyterapp;
                const panel = app && app.shell && app.shell.currentWidget;
                if (!panel || !panel.context || !panel.context.isReady) return false;
                if (panel.context.path !== path) return false;
                const nb = panel.content;
                return !!nb && !!nb.model && nb.widgets.length === nb.model.cells.length
                    && nb.widgets.length > 0;
            }""",
            arg=rel_path,
            timeout=PAGE_TIMEOUT_MS,
        )
        if wait_for_kernel:
            wait_for_kernel_idle(page)
        return page

    # -- lifetime ---------------------------------------------------------
    def stop(self) -> None:
        if self.proc.poll() is None:
            try:
                # Graceful: also shuts the kernels down.
                self.api("/api/shutdown", method="POST")
            except (OSError, urllib.error.URLError, ValueError):
                pass
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.send_signal(signal.SIGTERM)
                try:
                    self.proc.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    self.proc.kill()
                    self.proc.wait(timeout=10)
        # Kernels run in the server's own process group; end any left behind.
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        if self._log_file is not None:
            self._log_file.close()
            self._log_file = None
        shutil.rmtree(self.home, ignore_errors=True)


def start_jupyter_server(
    kind: str = "lab",
    disabled_extensions: Iterable[str] = (),
    extra_args: Sequence[str] = (),
) -> JupyterServer:
    """Start ``jupyter lab`` (kind="lab") or ``jupyter notebook`` (kind="notebook").

    The server gets its own temporary root directory and its own config,
    runtime, data-free settings and workspace directories, so nothing from the
    user's ``~/.jupyter`` leaks in. Installed labextensions (sys.prefix) stay
    visible. ``disabled_extensions`` names extensions or plugins to disable
    through ``labconfig/page_config.json``, exactly what
    ``jupyter labextension disable`` writes.
    """
    if kind not in ("lab", "notebook"):
        raise ValueError(f"kind must be 'lab' or 'notebook', not {kind!r}")
    home = Path(tempfile.mkdtemp(prefix=f"ckptzoo-{kind}-"))
    root = home / "root"
    config_dir = home / "config"
    for sub in (
        root,
        config_dir / "labconfig",
        home / "runtime",
        home / "settings",
        home / "workspaces",
        home / "ipython",
    ):
        sub.mkdir(parents=True, exist_ok=True)
    disabled = tuple(ALWAYS_DISABLED) + tuple(disabled_extensions)
    (config_dir / "labconfig" / "page_config.json").write_text(
        json.dumps({"disabledExtensions": {name: True for name in disabled}}, indent=2)
    )

    env = dict(os.environ)
    env.update(
        JUPYTER_CONFIG_DIR=str(config_dir),
        JUPYTER_RUNTIME_DIR=str(home / "runtime"),
        JUPYTERLAB_SETTINGS_DIR=str(home / "settings"),
        JUPYTERLAB_WORKSPACES_DIR=str(home / "workspaces"),
        IPYTHONDIR=str(home / "ipython"),
        JUPYTER_PLATFORM_DIRS="1",
        PYTHONUNBUFFERED="1",
    )
    # Kernels must import the checkout under test even without an install.
    repo_root = str(Path(__file__).resolve().parents[2])
    env["PYTHONPATH"] = os.pathsep.join(p for p in (repo_root, env.get("PYTHONPATH", "")) if p)

    port = _free_port()
    token = secrets.token_hex(16)
    app_cls = "LabApp" if kind == "lab" else "JupyterNotebookApp"
    module = "jupyterlab" if kind == "lab" else "notebook"
    cmd = [
        sys.executable,
        "-m",
        module,
        "--no-browser",
        "--allow-root",
        "--ServerApp.ip=127.0.0.1",
        f"--ServerApp.port={port}",
        "--ServerApp.port_retries=0",
        f"--ServerApp.root_dir={root}",
        f"--IdentityProvider.token={token}",
        f"--{app_cls}.expose_app_in_browser=True",
    ]
    if not any(arg.startswith("--ServerApp.terminals_enabled") for arg in extra_args):
        cmd.append("--ServerApp.terminals_enabled=False")
    if kind == "lab":
        cmd += [
            "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
            "--LabApp.news_url=",
            "--LabApp.extension_manager=readonly",
        ]
    cmd += list(extra_args)

    log_path = home / "server.log"
    log_file = open(log_path, "w")  # noqa: SIM115 - closed in stop()
    proc = subprocess.Popen(
        cmd,
        cwd=str(root),
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=log_file,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    server = JupyterServer(
        kind=kind,
        root_dir=root,
        port=port,
        token=token,
        proc=proc,
        home=home,
        log_path=log_path,
        disabled_extensions=tuple(disabled_extensions),
        _log_file=log_file,
    )
    deadline = time.monotonic() + SERVER_START_TIMEOUT
    while True:
        if proc.poll() is not None:
            tail = server.log_tail()
            server.stop()
            raise RuntimeError(f"jupyter {kind} exited with {proc.returncode}:\n{tail}")
        try:
            server.api("/api/status")
            break
        except (OSError, urllib.error.URLError, ValueError):
            if time.monotonic() > deadline:
                tail = server.log_tail()
                server.stop()
                raise RuntimeError(f"jupyter {kind} did not answer in {SERVER_START_TIMEOUT}s:\n{tail}") from None
            time.sleep(0.25)
    return server


# ---------------------------------------------------------------------------
# Notebook helpers (work in JupyterLab and Notebook 7 through window.jupyterapp)
# ---------------------------------------------------------------------------

_CELLS_JS = """() => {
    const panel = window.jupyterapp.shell.currentWidget;
    const cells = panel.content.model.cells;
    const out = [];
    for (let i = 0; i < cells.length; i++) {
        const shared = cells.get(i).sharedModel;
        out.push({
            cell_type: shared.cell_type,
            source: shared.getSource(),
            execution_count: shared.cell_type === 'code' ? (shared.execution_count ?? null) : null,
            outputs: shared.cell_type === 'code' ? shared.getOutputs() : [],
        });
    }
    return out;
}"""


def notebook_cells(page) -> list[dict[str, Any]]:
    """Cells of the current notebook: dicts of cell_type, source, execution_count, outputs."""
    return page.evaluate(_CELLS_JS)


def cell_sources(page) -> list[str]:
    return [cell["source"] for cell in notebook_cells(page)]


# Uncaught errors that Notebook 7.6 itself raises now and then while it loads
# (its shortcuts plugin reads the schema of a settings plugin that is not in
# the registry yet). Seen with and without our extension; not ours.
KNOWN_UPSTREAM_ERRORS = ("Cannot read properties of undefined (reading 'schema')",)


def own_page_errors(page) -> list[str]:
    """Uncaught page errors (``page.page_errors``) minus known upstream noise."""
    return [
        err
        for err in getattr(page, "page_errors", [])
        if not any(err.startswith(known) for known in KNOWN_UPSTREAM_ERRORS)
    ]


def notebook_state(page) -> dict[str, Any]:
    """Active cell index, mode ('edit' / 'command') and whether the active editor has focus."""
    return page.evaluate(
        """() => {
            const nb = window.jupyterapp.shell.currentWidget.content;
            const cell = nb.activeCell;
            return {
                active_index: nb.activeCellIndex,
                mode: nb.mode,
                editor_focused: !!(cell && cell.editor && cell.editor.hasFocus()),
            };
        }"""
    )


def wait_for_kernel_idle(page, timeout_ms: int = PAGE_TIMEOUT_MS) -> None:
    page.wait_for_function(
        """() => {
            const panel = window.jupyterapp.shell.currentWidget;
            const ctx = panel && panel.sessionContext;
            const kernel = ctx && ctx.session && ctx.session.kernel;
            return !!kernel && kernel.connectionStatus === 'connected' && kernel.status === 'idle';
        }""",
        timeout=timeout_ms,
    )


def cell_locator(page, index: int):
    """The DOM node of cell ``index`` of the current notebook."""
    return page.locator(".jp-NotebookPanel:visible .jp-Notebook .jp-Cell").nth(index)


def run_cell(page, index: int, timeout_ms: int = PAGE_TIMEOUT_MS) -> dict[str, Any]:
    """Run cell ``index`` as a user does (click into it, Shift+Enter); return its state."""
    before = notebook_cells(page)[index]["execution_count"]
    cell = cell_locator(page, index)
    cell.scroll_into_view_if_needed()
    cell.locator(".jp-InputArea-editor").click()
    page.keyboard.press("Shift+Enter")
    page.wait_for_function(
        """([index, before]) => {
            const panel = window.jupyterapp.shell.currentWidget;
            const shared = panel.content.model.cells.get(index).sharedModel;
            const kernel = panel.sessionContext.session && panel.sessionContext.session.kernel;
            return shared.execution_count != null && shared.execution_count !== before
                && kernel && kernel.status === 'idle';
        }""",
        arg=[index, before],
        timeout=timeout_ms,
    )
    return notebook_cells(page)[index]
