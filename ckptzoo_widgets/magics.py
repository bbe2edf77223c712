"""IPython extension: ``%load_ext ckptzoo_widgets`` then ``%zoo [query]``.

    %zoo                       the built-in zoo
    %zoo mlp                   ... with "mlp" in the search box
    %zoo --source runs/ resnet  another source, with a query
    %zoo --sort -val_accuracy --task image-classification

The magic returns the browser, so it is displayed as the cell's result and can
be kept: ``browser = %zoo mlp``.
"""

from __future__ import annotations

import argparse
import shlex
from typing import Any

__all__ = ["load_ipython_extension", "unload_ipython_extension", "zoo_magic", "parse_zoo_args"]


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # no SystemExit inside a kernel
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
    p.add_argument("--task", default=None)
    p.add_argument("--library", default=None)
    p.add_argument("--license", default=None)
    p.add_argument("--sort", default=None, help="a column, '-' prefix for descending, e.g. -val_accuracy")
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
    # "--sort -val_accuracy": argparse would read the value as an option.
    fixed: list[str] = []
    i = 0
    while i < len(tokens):
        tok = tokens[i]
        if tok == "--sort" and i + 1 < len(tokens):
            fixed.append(f"--sort={tokens[i + 1]}")
            i += 2
            continue
        fixed.append(tok)
        i += 1
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
    kwargs: dict[str, Any] = {"query": " ".join(query_words)}
    for key in ("task", "library", "license", "sort"):
        value = getattr(ns, key)
        if value:
            kwargs[key] = value
    if ns.limit:
        kwargs["limit"] = ns.limit
    return {"source": source, **kwargs}


def zoo_magic(line: str = "") -> Any:
    """The body of ``%zoo``: a ZooBrowser, or a short usage message."""
    from IPython.core.error import UsageError

    from .widget import browse

    try:
        args = parse_zoo_args(line)
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    source = args.pop("source")
    return browse(source, **args)


def load_ipython_extension(ipython: Any) -> None:
    """``%load_ext ckptzoo_widgets``: registers ``%zoo``."""
    ipython.register_magic_function(zoo_magic, magic_kind="line", magic_name="zoo")


def unload_ipython_extension(ipython: Any) -> None:  # pragma: no cover - IPython keeps magics
    magics = ipython.magics_manager.magics.get("line", {})
    magics.pop("zoo", None)
