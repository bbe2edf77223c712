"""The package's import graph: no cycle among modules, and no import from a downstream stage.

Every module of `ckptzoo_widgets` is parsed (nothing is imported) and every import
statement counts, at the top or inside a function. Imports under `if TYPE_CHECKING:`
never run, so they do not make a cycle; they still count for the stage order.

Run as a script (`python tests/test_architecture.py`) to print the cycles and the
stage violations.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

PACKAGE = "ckptzoo_widgets"
ROOT = Path(__file__).resolve().parents[1] / PACKAGE

# Cycles still there, each as its sorted set of modules, with the reason it stays.
ALLOWED_CYCLES: dict[frozenset[str], str] = {
    frozenset({f"{PACKAGE}.credentials", f"{PACKAGE}.storage"}): (
        "credentials.accept refuses an object URL that names where credentials go (storage.check_destination)"
        " and storage quotes every URL through credentials.presentable; breaking it means presentable in a"
        " module of its own, imported by some thirty modules"
    ),
    frozenset({f"{PACKAGE}.sources.hub", f"{PACKAGE}.sources.hub_live"}): (
        "hub.read_hub opens a HubLive, whose pages map each answer through hub.model_data (the one"
        " Hub-answer -> entry mapping, imported inside HubLive); breaking it means the mapping in a module"
        " of its own"
    ),
}


def module_files() -> dict[str, Path]:
    """Every module of the package by dotted name (a package by its own name)."""
    modules = {}
    for path in sorted(ROOT.rglob("*.py")):
        parts = list(path.relative_to(ROOT.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        modules[".".join(parts)] = path
    return modules


def _type_checking_lines(tree: ast.Module) -> set[int]:
    lines: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If):
            test = node.test
            name = test.attr if isinstance(test, ast.Attribute) else getattr(test, "id", None)
            if name == "TYPE_CHECKING":
                for child in node.body:
                    for inner in ast.walk(child):
                        if hasattr(inner, "lineno"):
                            lines.add(inner.lineno)
    return lines


def _imported(name: str, node: ast.ImportFrom | ast.Import, known: set[str], is_package: bool) -> Iterator[str]:
    """The package modules one import statement of module `name` loads (most specific known name)."""
    if isinstance(node, ast.Import):
        for alias in node.names:
            target = alias.name
            while target and target not in known:
                target = target.rpartition(".")[0]
            if target:
                yield target
        return
    if node.level:
        base = name.split(".")
        if not is_package:
            base = base[:-1]
        base = base[: len(base) - (node.level - 1)]
        stem = ".".join(base + ([node.module] if node.module else []))
    else:
        stem = node.module or ""
    if not stem.startswith(PACKAGE):
        return
    for alias in node.names:
        candidate = f"{stem}.{alias.name}"
        if candidate in known:
            yield candidate
        elif stem in known:
            yield stem


def import_graph(include_type_checking: bool) -> dict[str, set[str]]:
    """Module -> the package modules it imports (anywhere in its body)."""
    files = module_files()
    known = set(files)
    graph: dict[str, set[str]] = {name: set() for name in files}
    for name, path in files.items():
        tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
        skip = set() if include_type_checking else _type_checking_lines(tree)
        is_package = path.name == "__init__.py"
        for node in ast.walk(tree):
            if isinstance(node, ast.Import | ast.ImportFrom) and node.lineno not in skip:
                graph[name].update(t for t in _imported(name, node, known, is_package) if t != name)
    return graph


def cycles(graph: dict[str, set[str]]) -> list[frozenset[str]]:
    """Strongly connected components of more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[frozenset[str]] = []
    counter = 0
    for start in sorted(graph):
        if start in index:
            continue
        work = [(start, iter(sorted(graph[start])))]
        index[start] = low[start] = counter
        counter += 1
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph[child]))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
            if low[node] == index[node]:
                component = set()
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.add(member)
                    if member == node:
                        break
                if len(component) > 1:
                    found.append(frozenset(component))
    return sorted(found, key=sorted)


def _short(module: str) -> str:
    return module.removeprefix(PACKAGE + ".")


def _is_widget(short: str) -> bool:
    return short.startswith("widget") or short == "magics"


def _is_reader(short: str) -> bool:
    return short.startswith(("sources", "index"))


def _is_cli(short: str) -> bool:
    return short == "cli" or short.startswith("cli.")


def _is_catalog(short: str) -> bool:
    return short == "catalog" or short.startswith("catalog.")


def stage_violations(graph: dict[str, set[str]]) -> list[str]:
    """Imports against the flow: a reader of catalog, widget, codegen or cli; the catalog of widget or cli."""
    bad = []
    for module, targets in sorted(graph.items()):
        short = _short(module)
        for target in sorted(targets):
            other = _short(target)
            codegen = other == "codegen" or other.startswith("codegen.")
            if _is_reader(short) and (_is_catalog(other) or _is_widget(other) or codegen or _is_cli(other)):
                bad.append(f"{short} -> {other}")
            elif _is_catalog(short) and (_is_widget(other) or _is_cli(other)):
                bad.append(f"{short} -> {other}")
    return bad


def _describe(component: frozenset[str]) -> str:
    return " <-> ".join(_short(m) for m in sorted(component))


def test_the_graph_sees_every_module_and_relative_imports() -> None:
    graph = import_graph(include_type_checking=True)
    assert f"{PACKAGE}.catalog" in graph and f"{PACKAGE}.cli.app" in graph
    # cli/app.py imports the commands: the parser is built from them.
    assert any(t.startswith(f"{PACKAGE}.cli.") for t in graph[f"{PACKAGE}.cli.app"])


def test_no_import_cycle() -> None:
    found = cycles(import_graph(include_type_checking=False))
    unexpected = [_describe(c) for c in found if c not in ALLOWED_CYCLES]
    assert not unexpected, "import cycles: " + "; ".join(unexpected)
    stale = [_describe(c) for c in ALLOWED_CYCLES if c not in found]
    assert not stale, "allowed cycles that are gone (remove them from ALLOWED_CYCLES): " + "; ".join(stale)


def test_no_import_from_a_downstream_stage() -> None:
    bad = stage_violations(import_graph(include_type_checking=True))
    assert not bad, "imports against the flow: " + "; ".join(bad)


if __name__ == "__main__":
    graph = import_graph(include_type_checking=False)
    for component in cycles(graph):
        print("cycle:", _describe(component))
    for line in stage_violations(import_graph(include_type_checking=True)):
        print("downstream:", line)
