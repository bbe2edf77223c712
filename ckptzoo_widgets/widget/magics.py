"""IPython extension: ``%load_ext ckptzoo_widgets`` then ``%zoo [query]``.

    %zoo                       the built-in zoo
    %zoo mlp                   ... with "mlp" in the search box
    %zoo --source runs/ resnet  another source, with a query
    %zoo --sort -val_accuracy --task image-classification

The magic returns the browser, so it is displayed as the cell's result and can
be kept: ``browser = %zoo mlp``.

Importing the package inside IPython (a Jupyter kernel or the terminal shell)
also registers ``show_errors_briefly``: a ``ZooError`` / ``FetchError`` raised by
a cell prints as one line (its message) instead of a traceback through the
library; ``%tb`` still prints the full traceback.
"""

from __future__ import annotations

import argparse
import shlex
import sys
from typing import Any, NoReturn

from ..cli.args import add_search_filters, attach_dash_values

__all__ = [
    "load_ipython_extension",
    "parse_zoo_args",
    "show_errors_briefly",
    "unload_ipython_extension",
    "zoo_magic",
]


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:  # no SystemExit inside a kernel
        raise ValueError(message)


def _parser() -> argparse.ArgumentParser:
    p = _Parser(prog="%zoo", add_help=False, description="Open the checkpoint zoo browser.")
    p.add_argument(
        "--source",
        "-s",
        action="append",
        default=None,
        help="zoo source (builtin, index file or URL, runs folder); repeat to merge",
    )
    add_search_filters(p)
    p.add_argument("--limit", type=int, default=None, help="cards per page")
    p.add_argument("--help", "-h", action="store_true")
    p.add_argument("query", nargs="*")
    return p


def parse_zoo_args(line: str) -> dict[str, Any]:
    """``%zoo`` arguments -> keyword arguments of ``browse``; ValueError with a usage hint."""
    try:
        tokens = shlex.split(line or "")
    except ValueError as exc:
        raise ValueError(f"%zoo: {exc}") from None
    fixed = attach_dash_values(tokens)
    try:
        ns, extra = _parser().parse_known_args(fixed)
    except ValueError as exc:
        raise ValueError(f"%zoo: {exc}\n{_parser().format_usage().strip()}") from None
    if ns.help:
        raise ValueError(_parser().format_help())
    unknown = [x for x in extra if x.startswith("-") and x != "-"]
    if unknown:
        raise ValueError(f"%zoo: unknown option {unknown[0]}\n{_parser().format_usage().strip()}")
    query_words = list(ns.query) + [x for x in extra if x not in unknown]
    source: Any = None
    if ns.source:
        source = ns.source[0] if len(ns.source) == 1 else list(ns.source)
    from ..columns import FILTERS  # here, not at the top: columns imports pyarrow, and the magic loads with the package

    kwargs: dict[str, Any] = {"query": " ".join(query_words)}
    for key in (*FILTERS, "sort"):
        value = getattr(ns, key)
        if value:
            kwargs[key] = value
    if ns.limit:
        kwargs["limit"] = ns.limit
    return {"source": source, **kwargs}


def zoo_magic(line: str = "") -> Any:
    """The body of ``%zoo``: a ZooBrowser, or a short usage message."""
    from IPython.core.error import UsageError

    from .browser import browse

    try:
        args = parse_zoo_args(line)
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    source = args.pop("source")
    return browse(source, **args)


# --- errors a student can read ------------------------------------------------

_RED, _RESET = "\x1b[0;31m", "\x1b[0m"


def _brief_error(shell: Any, etype: type, value: BaseException, tb: Any, tb_offset: Any = None) -> None:
    """IPython custom exception handler: the message in one line, the full traceback kept for %tb."""
    from ..text import terminal_safe

    # What showtraceback would have recorded: `%tb` and `%debug` read these.
    sys.last_type, sys.last_value, sys.last_traceback = etype, value, tb
    name = etype.__name__
    # IPython 8 names the scheme "NoColor", IPython 9 "nocolor".
    if str(getattr(shell, "colors", "NoColor")).lower() != "nocolor":
        name = f"{_RED}{name}{_RESET}"
    # The message may carry zoo text (ids, URLs): plain text on a terminal-like sink.
    lines = [f"{name}: {terminal_safe(str(value))}", "(%tb shows the full traceback)"]
    # _showtraceback is the sink both front ends implement: the terminal prints, a kernel
    # sends an `error` message (so the cell fails, as any error does).
    shell._showtraceback(etype, value, lines)


def show_errors_briefly(shell: Any = None) -> bool:
    """Let IPython print the zoo's own errors as their one-line message. True when registered.

    Does nothing outside IPython, or when something else already registered a
    custom exception handler (IPython keeps only one).
    """
    if shell is None:
        ipython = sys.modules.get("IPython")
        shell = ipython.get_ipython() if ipython is not None else None
    if shell is None or not hasattr(shell, "set_custom_exc"):
        return False
    from ..errors import ZooError
    from ..fetch import FetchError

    ours = (ZooError, FetchError)
    if shell.custom_exceptions not in ((), ours):
        return False
    shell.set_custom_exc(ours, _brief_error)
    return True


def load_ipython_extension(ipython: Any) -> None:
    """``%load_ext ckptzoo_widgets``: registers ``%zoo``."""
    ipython.register_magic_function(zoo_magic, magic_kind="line", magic_name="zoo")
    show_errors_briefly(ipython)


def unload_ipython_extension(ipython: Any) -> None:  # pragma: no cover - IPython keeps magics
    magics = ipython.magics_manager.magics.get("line", {})
    magics.pop("zoo", None)
