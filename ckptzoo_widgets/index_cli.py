"""`ckptzoo index build SOURCE... -o OUT` and `ckptzoo index convert IN -o OUT`.

build: a folder of checkpoints becomes a static zoo (files hashed, paths
relative to the index); any other source string (`hf:author=...`, `timm`,
an index, several merged) is snapshotted as it opens, to search offline.
convert: JSON <-> Parquet, streaming (convert.py).
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Any

from .errors import EXIT_INPUT, EXIT_OK
from .text import terminal_safe

MAX_REPORTED = 1000  # problems printed one per line; the rest are counted


class _Reporter:
    def __init__(self, prefix: str = ""):
        self.count, self.prefix = 0, prefix

    def __call__(self, problem: object) -> None:
        self.count += 1
        if self.count <= MAX_REPORTED:
            print(terminal_safe(f"{self.prefix}{problem}"), file=sys.stderr)

    def summary(self) -> str:
        more = f" ({self.count - MAX_REPORTED} not shown)" if self.count > MAX_REPORTED else ""
        return f"; {self.count} problem(s) reported{more}" if self.count else ""


def _is_runs_folder(source: str) -> bool:
    from .sources import READERS

    kinds = [kind for kind, matches, _ in READERS if matches(source)]
    return bool(kinds) and kinds[0] == "runs"


def cmd_index_build(args: argparse.Namespace) -> int:
    from .errors import ZooError

    sources: list[str] = args.source
    fmt = args.format or ("parquet" if args.output and str(args.output).endswith(".parquet") else "json")
    report = _Reporter("skipped: ")
    try:
        if len(sources) == 1 and Path(sources[0]).is_dir() and _is_runs_folder(sources[0]):
            from .sources.build import write_index

            out, document, problems = write_index(sources[0], args.output, fmt=fmt, name=args.name)
            for problem in problems:
                report(problem)
            models = document["models"]
            count, checkpoints = len(models), sum(len(m["checkpoints"]) for m in models)
            files = sum(len(c.get("files", [])) for m in models for c in m["checkpoints"])
        else:
            if not args.output:
                print("ckptzoo: error: -o OUT is needed for a source that is not a folder", file=sys.stderr)
                return EXIT_INPUT
            out, count, checkpoints, files = _snapshot(sources, Path(args.output), fmt, args.name, report)
    except ZooError as error:
        print(terminal_safe(f"ckptzoo: error: {error}"), file=sys.stderr)
        return EXIT_INPUT
    print(f"{out}: {count} model(s), {checkpoints} checkpoint(s), {files} file(s)" + report.summary())
    return EXIT_OK if count or not report.count else EXIT_INPUT


def _snapshot(
    sources: list[str], out: Path, fmt: str, name: str | None, report: _Reporter
) -> tuple[Path, int, int, int]:
    """Every model of the sources as they open now, written as one index (files keep their URLs)."""
    from .catalog import open_zoo
    from .convert import JsonWriter
    from .sources.parquet_index import ParquetWriter

    zoo = open_zoo(sources if len(sources) > 1 else sources[0])
    for error in zoo.errors:
        report(error)
    out.parent.mkdir(parents=True, exist_ok=True)
    temporary = out.with_name(f".{out.name}.{os.getpid()}.tmp")
    writer = ParquetWriter(temporary, name=name or ", ".join(sources)) if fmt == "parquet" else JsonWriter(temporary)
    count = checkpoints = files = 0
    batch = []
    for model in zoo:
        if model.base and not model.base.startswith(("http://", "https://")):
            model = _relocated(model, out.parent, report)
        batch.append(model)
        count, checkpoints = count + 1, checkpoints + len(model.checkpoints)
        files += sum(len(c.files) for c in model.checkpoints)
        if len(batch) >= 4096:
            writer.write(batch)
            batch = []
    writer.write(batch)
    writer.close() if fmt == "parquet" else writer.close(name or ", ".join(sources))  # type: ignore[call-arg]
    os.replace(temporary, out)
    return out, count, checkpoints, files


def _relocated(model: Any, folder: Path, report: _Reporter) -> Any:
    """A model whose local files are named relative to the snapshot's folder (files outside it are dropped)."""
    checkpoints = []
    for checkpoint in model.checkpoints:
        files = []
        for file in checkpoint.files:
            if file.path is not None:
                relative = os.path.relpath(Path(model.locate(file)).resolve(), folder.resolve())
                if relative.startswith(".."):
                    report(f"{model.id}@{checkpoint.name}: {file.path} is outside {folder}; left out of the snapshot")
                    continue
                file = file.model_copy(update={"path": Path(relative).as_posix()})
            files.append(file)
        checkpoints.append(checkpoint.model_copy(update={"files": files}))
    return model.model_copy(update={"checkpoints": checkpoints})


def cmd_index_convert(args: argparse.Namespace) -> int:
    from .convert import convert
    from .errors import ZooError

    report = _Reporter()
    try:
        done = convert(args.input, args.output, report=report)
    except ZooError as error:
        print(terminal_safe(f"ckptzoo: error: {error}"), file=sys.stderr)
        return EXIT_INPUT
    except OSError as error:
        print(terminal_safe(f"ckptzoo: error: {args.input}: {error.strerror or error}"), file=sys.stderr)
        return EXIT_INPUT
    print(f"{done.out}: {done.models} model(s), {done.checkpoints} checkpoint(s)" + report.summary())
    return EXIT_OK if done.models or not report.count else EXIT_INPUT


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    index = subparsers.add_parser("index", help="build a zoo index, or convert one between JSON and Parquet")
    commands = index.add_subparsers(dest="index_command", required=True, metavar="ACTION")
    build = commands.add_parser(
        "build",
        help="index a folder (sha256, size, format, metrics), or snapshot any source (hf:..., timm, several merged)",
    )
    build.add_argument("source", nargs="+", help="a folder of checkpoints, or source strings as open_zoo takes them")
    build.add_argument("-o", "--output", help="index file to write (default for a folder: DIR/index.json)")
    build.add_argument("--format", choices=("json", "parquet"), help="default: from -o's suffix, else json")
    build.add_argument("--name", help="name of the zoo (default: the folder's name)")
    build.set_defaults(func=cmd_index_build)
    convert = commands.add_parser("convert", help="JSON <-> Parquet, streaming (the suffixes say which way)")
    convert.add_argument("input", help="index.json, index.json.gz or index.parquet")
    convert.add_argument("-o", "--output", required=True, help="the index to write (.parquet or .json)")
    convert.set_defaults(func=cmd_index_convert)
