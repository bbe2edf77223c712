"""`ckptzoo index build SOURCE... -o OUT` and `ckptzoo index convert IN -o OUT`.

build: a folder of checkpoints becomes a static zoo (files hashed, paths
relative to the index); any other source string (`hf:author=...`, `timm`,
an index, several merged) is snapshotted as it opens, to search offline.
Either side may be on object storage (`s3://bucket/runs/ -o s3://bucket/zoo/index.parquet`).
publish: a zoo and the files it names, uploaded to object storage (writers/publish.py).
convert: JSON <-> Parquet, streaming (writers/convert.py).
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Any

from ..errors import EXIT_INPUT, EXIT_OK
from ..text import terminal_safe

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
    from ..sources import READERS

    kinds = [kind for kind, matches, _ in READERS if matches(source)]
    return bool(kinds) and kinds[0] == "runs"


def _is_runs_build(source: str) -> bool:
    """A folder of runs to index and hash: on disk, or on object storage without an index in it."""
    from .. import storage

    if storage.is_object_url(source):
        from ..sources.object_store import folder_index, is_object_folder

        return is_object_folder(source) and folder_index(source) is None
    return Path(source).is_dir() and _is_runs_folder(source)


def cmd_index_build(args: argparse.Namespace) -> int:
    from ..errors import ZooError

    sources: list[str] = args.source
    fmt = args.format or ("parquet" if args.output and str(args.output).endswith(".parquet") else "json")
    report = _Reporter("skipped: ")
    try:
        if len(sources) == 1 and _is_runs_build(sources[0]):
            from ..writers.build import write_index

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
            out, count, checkpoints, files = _snapshot(sources, args.output, fmt, args.name, report)
    except ZooError as error:
        print(terminal_safe(f"ckptzoo: error: {error}"), file=sys.stderr)
        return EXIT_INPUT
    print(terminal_safe(f"{out}: {count} model(s), {checkpoints} checkpoint(s), {files} file(s)") + report.summary())
    return EXIT_OK if count or not report.count else EXIT_INPUT


def _snapshot(
    sources: list[str], output: str, fmt: str, name: str | None, report: _Reporter
) -> tuple[str | Path, int, int, int]:
    """Every model of the sources as they open now, written as one index (files keep their URLs).

    An `-o s3://...` snapshot is written locally, then uploaded; files on this machine
    cannot be named from there (`ckptzoo index publish` uploads them) and are left out.
    """
    from .. import storage

    if storage.is_object_url(output):
        import tempfile

        from ..writers.build import upload

        with tempfile.TemporaryDirectory(prefix="ckptzoo-snapshot-") as scratch:
            local = Path(scratch) / f"index.{fmt}"
            _, count, checkpoints, files = _write_snapshot(sources, local, None, fmt, name, report)
            upload(local, output)
        return output, count, checkpoints, files
    out = Path(output)
    return _write_snapshot(sources, out, out.parent, fmt, name, report)


def _write_snapshot(
    sources: list[str], out: Path, folder: Path | None, fmt: str, name: str | None, report: _Reporter
) -> tuple[Path, int, int, int]:
    from .. import storage
    from ..cache import atomic_write
    from ..catalog import open_zoo
    from ..index.parquet_write import ParquetWriter
    from ..writers.convert import JsonWriter

    live = [s for s in sources if s.startswith("hf:") and "=" in s or s.strip() == "hf:"]
    local = [s for s in sources if s not in live]
    zoo = open_zoo(local if len(local) > 1 else local[0]) if local else None
    for error in zoo.errors if zoo is not None else []:
        report(error)
    count = checkpoints = files = 0
    with atomic_write(out) as temporary:
        writer = (
            ParquetWriter(temporary, name=name or ", ".join(sources)) if fmt == "parquet" else JsonWriter(temporary)
        )
        batch = []
        for model in _snapshot_models(zoo, live, out, report):
            local_base = model.base and not model.base.startswith(("http://", "https://"))
            if local_base and not storage.is_object_url(model.base):
                model = _relocated(model, folder, report)
            batch.append(model)
            count, checkpoints = count + 1, checkpoints + len(model.checkpoints)
            files += sum(len(c.files) for c in model.checkpoints)
            if len(batch) >= 4096:
                writer.write(batch)
                batch = []
        writer.write(batch)
        writer.close() if fmt == "parquet" else writer.close(name or ", ".join(sources))  # type: ignore[call-arg]
    if live:
        from ..sources.hub_snapshot import finish

        finish(out)
    return out, count, checkpoints, files


def _snapshot_models(zoo: Any, live: list[str], out: Path, report: _Reporter) -> Any:
    """The local sources' models as they open, then every model of each live query (paged to its end,
    resumable: sources/hub_snapshot.py); a live model whose id a local one has is left out."""
    seen: set[str] = set()
    if zoo is not None:
        for model in zoo:
            seen.add(model.id)
            yield model
    for source in live:
        from ..sources.hub import parse_source
        from ..sources.hub_snapshot import snapshot_models

        def say(line: str, source: str = source) -> None:
            print(terminal_safe(f"ckptzoo: {source}: {line}"), file=sys.stderr)

        for model in snapshot_models(source, parse_source(source), out, report=report, say=say):
            if model.id in seen:
                report(f"{source}: {model.id} is already in an earlier source; left out")
                continue
            seen.add(model.id)
            yield model


def _relocated(model: Any, folder: Path | None, report: _Reporter) -> Any:
    """A model whose local files are named relative to the snapshot's folder (files outside it are dropped)."""
    checkpoints = []
    for checkpoint in model.checkpoints:
        files = []
        for file in checkpoint.files:
            if file.path is not None:
                if folder is None:
                    report(f"{model.id}@{checkpoint.name}: {file.path} is on this machine; left out (index publish)")
                    continue
                relative = os.path.relpath(Path(model.locate(file)).resolve(), folder.resolve())
                if relative.startswith(".."):
                    report(f"{model.id}@{checkpoint.name}: {file.path} is outside {folder}; left out of the snapshot")
                    continue
                file = file.model_copy(update={"path": Path(relative).as_posix()})
            files.append(file)
        checkpoints.append(checkpoint.model_copy(update={"files": files}))
    return model.model_copy(update={"checkpoints": checkpoints})


def cmd_index_publish(args: argparse.Namespace) -> int:
    """Upload a zoo (its index and the files it names on this machine) to a folder on object storage."""
    from .. import storage
    from ..catalog import open_zoo
    from ..errors import ZooError
    from ..humanize import human_bytes
    from ..writers.publish import publish

    report = _Reporter("skipped: ")
    try:
        if not storage.is_object_url(args.dest):
            raise ZooError(f"{args.dest[:200]!r}: publish to a folder on object storage (s3://bucket/zoo/)")
        zoo = open_zoo(args.source)
        for error in zoo.errors:
            report(error)
        name = args.name or Path(args.source.rstrip("/")).name or "zoo"
        done = publish(zoo, args.dest, name=name, fmt=args.format, report=report)
    except ZooError as error:
        print(terminal_safe(f"ckptzoo: error: {error}"), file=sys.stderr)
        return EXIT_INPUT
    print(
        terminal_safe(
            f"{done.index}: {done.models} model(s); uploaded {len(done.uploaded)} file(s) "
            f"({human_bytes(done.uploaded_bytes)}), {len(done.kept)} already there with the same sha256"
        )
        + report.summary()
    )
    return EXIT_OK if done.models or not report.count else EXIT_INPUT


def cmd_index_convert(args: argparse.Namespace) -> int:
    from ..errors import ZooError
    from ..writers.convert import convert

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
        help="index a folder (sha256, size, format, metrics; s3://bucket/runs/ too), or snapshot any source",
    )
    build.add_argument("source", nargs="+", help="a folder of checkpoints, or source strings as open_zoo takes them")
    build.add_argument(
        "-o", "--output", help="index to write, local or s3://... (default for a folder: DIR/index.json)"
    )
    build.add_argument("--format", choices=("json", "parquet"), help="default: from -o's suffix, else json")
    build.add_argument("--name", help="name of the zoo (default: the folder's name)")
    build.set_defaults(func=cmd_index_build)
    publish = commands.add_parser(
        "publish",
        help="upload a zoo (index + the files it names) to object storage, skipping files already there",
    )
    publish.add_argument("source", help="a folder of runs or of a zoo, or any source string as open_zoo takes it")
    publish.add_argument("dest", help="a folder on object storage: s3://bucket/zoo/ (gs://, az://, ...)")
    publish.add_argument("--format", choices=("parquet", "json"), default="parquet", help="of the index (parquet)")
    publish.add_argument("--name", help="name of the zoo (default: the source's name)")
    publish.set_defaults(func=cmd_index_publish)
    convert = commands.add_parser("convert", help="JSON <-> Parquet, streaming (the suffixes say which way)")
    convert.add_argument("input", help="index.json, index.json.gz or index.parquet")
    convert.add_argument("-o", "--output", required=True, help="the index to write (.parquet or .json)")
    convert.set_defaults(func=cmd_index_convert)
