"""The same load code as a marimo cell."""

from __future__ import annotations

import ast
import sys
from collections.abc import Mapping

from .snippets import _snippet

# --- the same code as a marimo cell ------------------------------------------------

_MISSING = object()
_DROPPED = "\x00"  # the line of an import the cell does without


def _bound_to(statement: ast.Import | ast.ImportFrom, alias: ast.alias) -> object:
    """What the import would bind, when this process already has it (else a marker that matches nothing)."""
    if isinstance(statement, ast.ImportFrom):
        module = sys.modules.get(statement.module or "")
        return _MISSING if module is None else getattr(module, alias.name, _MISSING)
    return sys.modules.get(alias.name, _MISSING)


def marimo_cell(code: str, bound: Mapping[str, object]) -> str:
    """Load code as a cell marimo accepts: no name that another cell of the notebook defines is bound again.

    marimo refuses a cell that redefines a name another cell defines, and
    ``import ckptzoo_widgets as cz`` is in most notebooks already. `bound` is
    what the notebook defines (`widget/front_end.marimo_globals`). Each import of
    the snippet is dropped when the notebook binds its name to the same
    module or object (the code then uses the notebook's ``cz``), and is
    otherwise made cell-local (``import torch as _torch``: marimo keeps names
    that start with ``_`` to their cell) with every use renamed. The loaded
    variable keeps its name: it is what the cell is for.
    """
    tree = ast.parse(code)
    lines = code.splitlines(keepends=True)
    renamed: dict[str, str] = {}  # a name the snippet imports -> its cell-local name
    dotted: dict[str, str] = {}  # `import a.b`: the chain a.b -> _a_b
    edits: list[tuple[int, int, int, int, str]] = []  # (line, col, end line, end col, text); cols in UTF-8 bytes
    for statement in tree.body:
        if not isinstance(statement, ast.Import | ast.ImportFrom):
            continue
        kept: list[str] = []
        for alias in statement.names:
            name = alias.asname or alias.name
            if "." in name:  # `import importlib.resources`
                local = "_" + name.replace(".", "_")
                dotted[name] = local
                kept.append(f"import {alias.name} as {local}")
                continue
            if bound.get(name, _MISSING) is _bound_to(statement, alias) is not _MISSING:
                continue  # the notebook has it under this name: use the notebook's
            renamed[name] = "_" + name
            if isinstance(statement, ast.ImportFrom):
                kept.append(f"from {'.' * statement.level}{statement.module or ''} import {alias.name} as _{name}")
            else:
                kept.append(f"import {alias.name} as _{name}")
        end_line = statement.end_lineno or statement.lineno
        end_col = len(lines[end_line - 1].rstrip("\r\n").encode())
        edits.append((statement.lineno, 0, end_line, end_col, "\n".join(kept) or _DROPPED))
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and node.id in renamed:
            edits.append(
                (
                    node.lineno,
                    node.col_offset,
                    node.end_lineno or node.lineno,
                    node.end_col_offset or 0,
                    renamed[node.id],
                )
            )
        elif isinstance(node, ast.Attribute) and dotted and ast.unparse(node) in dotted:
            end = (node.end_lineno or node.lineno, node.end_col_offset or 0)
            edits.append((node.lineno, node.col_offset, *end, dotted[ast.unparse(node)]))
    text = [line.encode() for line in lines]
    for line, col, end_line, end_col, new in sorted(edits, reverse=True):
        head, tail = text[line - 1][:col], text[end_line - 1][end_col:]
        text[line - 1 : end_line] = [head + new.encode() + tail]
    kept_lines = [line.decode().rstrip("\r\n") for line in text]
    return _snippet(*(line for line in kept_lines if line != _DROPPED))  # blank lines left at the top go
