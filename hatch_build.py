"""The front end's build step for hatch-jupyter-builder: npm only when js/ changed, one clear line without Node.

`pyproject.toml` names `build_front_end` as the jupyter-builder build
function. It runs `npm install` + `npm run build` (hatch-jupyter-builder's
`npm_builder`) only when something under `js/` is newer than the built
labextension. A source checkout needs Node.js 20+ and npm for that; when they
are missing the build stops with one line that says what to install, not a
traceback. A wheel or an sdist carries the built files and needs no Node.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from typing import Any

NODE_MAJOR = 20
INSTALL_HINT = "install Node.js 20+ and npm (https://nodejs.org, or `apt-get install nodejs npm`) and run pip again"


def _node_problem() -> str | None:
    """Why this machine cannot build the front end, or None when it can."""
    if shutil.which("npm") is None or shutil.which("node") is None:
        missing = " and ".join(name for name in ("node", "npm") if shutil.which(name) is None)
        return f"{missing} not found on PATH"
    try:
        version = subprocess.run(["node", "--version"], capture_output=True, text=True, timeout=30).stdout
    except (OSError, subprocess.SubprocessError) as error:
        return f"`node --version` failed ({error})"
    match = re.match(r"v(\d+)\.", version.strip())
    if match is None or int(match.group(1)) < NODE_MAJOR:
        return f"node {version.strip() or '(unknown version)'} is older than {NODE_MAJOR}"
    return None


def build_front_end(target_name: str, version: str, **kwargs: Any) -> None:
    """hatch-jupyter-builder build function: `npm_builder` when the built front end is stale."""
    from hatch_jupyter_builder.utils import is_stale, npm_builder

    source_dir, build_dir = kwargs.get("source_dir"), kwargs.get("build_dir")
    if source_dir and build_dir and not is_stale(build_dir, source_dir):
        return  # built and up to date (a wheel or sdist, or a checkout built before): no Node needed
    problem = _node_problem()
    if problem is not None:
        # SystemExit, not an exception: pip shows this one line instead of a traceback.
        sys.exit(
            f"ckptzoo-widgets: building the front end (js/) needs Node.js {NODE_MAJOR}+ and npm: {problem}; "
            f"{INSTALL_HINT}."
        )
    npm_builder(target_name, version, **kwargs)
