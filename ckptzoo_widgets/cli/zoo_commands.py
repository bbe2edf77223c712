"""`ckptzoo search | show | code | download | validate | schema`: the zoo's own commands."""

from __future__ import annotations

import argparse
import json
import sys
import textwrap
from typing import Any

import pandas as pd

from .. import credentials, pickle_verdicts
from ..catalog import MODEL_COLUMNS, Zoo, open_zoo
from ..errors import EXIT_INPUT, EXIT_OK, ZooError
from ..humanize import human_bytes, human_count, terminal_safe
from ..schema import Checkpoint, IndexFormatError, ModelEntry, json_schema, parse_index_text
from ..sources.index_file import read_index_bytes
from .args import add_search_filters
from .tables import fit_columns, table, terminal_width

# What `search` shows, most useful first: columns are dropped from the end to fit the terminal.
SEARCH_COLUMNS = [
    "id",
    "headline_metric",
    "headline_value",
    "num_params",
    "num_checkpoints",
    "task",
    "library",
    "license",
]
NOT_FOR_TABLES = {"match", "snippet"}  # the widget's relevance explanation


def _zoo(args: argparse.Namespace) -> Zoo:
    zoo = open_zoo(args.zoo or None)
    for problem in zoo.errors:
        print(f"ckptzoo: warning: {terminal_safe(credentials.presentable(problem))}", file=sys.stderr)
    return zoo


def _json_records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    # Not DataFrame.to_json: it rounds floats to 10 digits, and metrics must round-trip exactly.
    plain = frame.astype(object).where(frame.notna(), None)
    return [{k: (v.item() if hasattr(v, "item") else v) for k, v in row.items()} for row in plain.to_dict("records")]


def cmd_search(args: argparse.Namespace) -> int:
    zoo = _zoo(args)
    found = zoo.search(
        args.query or "",
        task=args.task,
        library=args.library,
        license=args.license,
        sort=args.sort,
        limit=args.limit,
        offset=args.offset,
    )
    for note in found.attrs.get("notes") or []:  # a live source that could not answer (one line each)
        print(f"ckptzoo: note: {terminal_safe(note)}", file=sys.stderr)
    if args.json:
        record = {"total": found.attrs["total"], "more": found.attrs.get("more"), "models": _json_records(found)}
        print(json.dumps(record, indent=1))
        return EXIT_OK
    if found.empty:
        print("no models match")
        return EXIT_OK
    columns = _search_columns(found, args.sort, args.columns)
    width = None if args.columns else terminal_width()
    shown, hidden = fit_columns(found, columns, width)
    print(table(found, shown, width))
    total = found.attrs["total"]
    if total is None:  # a live source that does not count its matches
        total = "more" if found.attrs.get("more") else args.offset + len(found)
    footer = f"\n{args.offset + 1}-{args.offset + len(found)} of {total} models"
    if hidden:
        footer += f"; not shown: {', '.join(hidden)} (choose with --columns)"
    print(footer if width is None else textwrap.fill(footer, width, replace_whitespace=False))
    return EXIT_OK


def _search_columns(found: pd.DataFrame, sort: str | None, chosen: str | None) -> list[str]:
    """The columns asked for with --columns, else the default ones, the sort column and metrics."""
    available = [c for c in found.columns if c not in NOT_FOR_TABLES]
    if chosen:
        columns = [c.strip() for c in chosen.split(",") if c.strip()]
        unknown = [c for c in columns if c not in available]
        if unknown:
            raise ZooError(f"no column {unknown[0]!r}; columns: {', '.join(available)}")
        return columns
    metrics = [c for c in available if c not in MODEL_COLUMNS]
    sort_column = (sort or "").lstrip("-")
    first = [sort_column] if sort_column in available and sort_column not in ("id", "headline_value") else []
    return list(dict.fromkeys(["id", *first, *SEARCH_COLUMNS[1:], *metrics]))


def cmd_show(args: argparse.Namespace) -> int:
    """A model (`REF`) or one checkpoint of it (`REF@CHECKPOINT`)."""
    zoo = _zoo(args)
    model, checkpoint = zoo.resolve(args.ref)
    if "@" in args.ref:
        return _show_checkpoint(zoo, model, checkpoint, args.json)
    checkpoints = zoo.checkpoints(model.id)
    if args.json:
        entry = model.model_dump(mode="json", exclude_none=True)
        print(
            json.dumps(
                {
                    "model": entry,
                    "source": model.source,
                    "selected_checkpoint": checkpoint.name,
                    "checkpoints": _json_records(checkpoints),
                    "duplicates": [d.as_dict() for d in _duplicates(zoo, model)],
                },
                indent=1,
            )
        )
        return EXIT_OK
    _print_fields(
        [
            ("id", model.id),
            ("name", model.display_name),
            ("task", model.task),
            ("library", model.library),
            ("framework", model.framework),
            ("architecture", model.architecture),
            ("license", model.license),
            ("datasets", ", ".join(model.datasets)),
            ("tags", ", ".join(model.tags)),
            ("parameters", human_count(model.num_params)),
            ("repo", model.repo),
            ("default checkpoint", model.checkpoint().name),
            ("source", model.source),
        ]
    )
    metric_columns = [
        c for c in checkpoints.columns if c not in ("ref", "num_files", "revision", "date", "formats", "size")
    ]
    print("\nCheckpoints:")
    print(table(checkpoints, metric_columns + ["size", "formats"], terminal_width()))
    for line in pickle_verdicts.summary_lines(model.checkpoints):  # unsafe or unscanned pickles
        print(terminal_safe(line))
    for duplicate in _duplicates(zoo, model):  # the same weights under another name
        print(terminal_safe(f"Identical: {duplicate.describe()}"))
    if model.description and not args.no_card:
        print("\nModel card:\n")
        print(terminal_safe(model.description).strip())
    return EXIT_OK


def _duplicates(zoo: Zoo, model: ModelEntry) -> list[Any]:
    """The model's repeated checkpoints (weights/duplicates.py); none when the Hub cannot say now."""
    try:
        return zoo.duplicates(model.id)
    except ZooError:
        return []


def _print_fields(fields: list[tuple[str, Any]]) -> None:
    for name, value in fields:
        if value not in (None, ""):
            print(f"{name + ':':20s}{terminal_safe(str(value))}")


def _show_checkpoint(zoo: Zoo, model: ModelEntry, checkpoint: Checkpoint, as_json: bool) -> int:
    """One checkpoint: where it sits in training, its metrics, its files (size, sha256) and load code."""
    ref = f"{model.id}@{checkpoint.name}"
    libraries = zoo.code_libraries(ref)
    files = [
        {"name": f.name, "size": f.size, "format": f.format, "sha256": f.sha256, "location": model.locate(f)}
        for f in checkpoint.files
    ]
    if as_json:
        entry = checkpoint.model_dump(mode="json", exclude_none=True, exclude={"files"})
        record = {"ref": ref, "model": model.id, "checkpoint": entry, "files": files, "load_code": libraries}
        print(json.dumps(record, indent=1))
        return EXIT_OK
    names = [c.name for c in model.checkpoints]
    default = model.checkpoint().name
    _print_fields(
        [
            ("checkpoint", ref),
            ("model", f"{model.id}, {model.display_name}" if model.name else model.id),
            ("position", f"{names.index(checkpoint.name) + 1} of {len(names)} ({names[0]} … {names[-1]})"),
            ("default", "yes" if checkpoint.name == default else f"no (the model's default is {default})"),
            ("step", checkpoint.step),
            ("epoch", checkpoint.epoch),
            ("date", checkpoint.date),
            ("revision", checkpoint.revision),
            ("uri", checkpoint.uri),
            ("size", human_bytes(checkpoint.size) if checkpoint.size is not None else None),
            ("notes", checkpoint.notes),
        ]
    )
    if checkpoint.metrics:
        print("\nMetrics:")
        width = max(len(name) for name in checkpoint.metrics)
        for name, value in checkpoint.metrics.items():
            print(f"  {terminal_safe(name).ljust(width)}  {value:.6g}")
    if files:
        print("\nFiles:")
    for file in files:  # one block a file: the sha256 is printed whole, never cut to fit
        print(f"  {terminal_safe(file['name'])}  {human_bytes(file['size'])}  {file['format'] or '-'}")
        print(f"    sha256  {file['sha256'] or '- (not in the index: not verified on download)'}")
        print(f"    from    {terminal_safe(file['location'])}")
    for line in pickle_verdicts.summary_lines([checkpoint]):  # unsafe or unscanned pickles
        print(terminal_safe(line))
    print(f"\nLoad code: {', '.join(libraries) or 'none'}")
    if libraries:
        print(f"  ckptzoo code {ref} --library {libraries[0]}")
    return EXIT_OK


def cmd_code(args: argparse.Namespace) -> int:
    zoo = _zoo(args)
    print(zoo.load_code(args.ref, library=args.library), end="")
    return EXIT_OK


def cmd_download(args: argparse.Namespace) -> int:
    zoo = _zoo(args)
    for path in zoo.download(args.ref, quiet=args.quiet or None):
        print(terminal_safe(path))
    return EXIT_OK


def cmd_validate(args: argparse.Namespace) -> int:
    """Every problem of an index file, one per line; exit 2 when there is any."""
    location = credentials.accept(args.index)  # never print a password
    try:
        text = read_index_bytes(location)  # the same byte, gzip and time budgets as open_zoo
    except Exception as error:  # any failure to read is one clear input error
        line = credentials.presentable(f"ckptzoo: error: {location}: cannot read ({error})")
        print(terminal_safe(line), file=sys.stderr)
        return EXIT_INPUT
    try:
        index, problems = parse_index_text(text, location)
    except IndexFormatError as error:
        print(f"{terminal_safe(credentials.presentable(error))}")
        return EXIT_INPUT
    for problem in problems:
        print(terminal_safe(credentials.presentable(problem)))
    checkpoints = sum(len(m.checkpoints) for m in index.models)
    verdict = f"{len(problems)} problem(s)" if problems else "valid"
    print(
        terminal_safe(credentials.presentable(location))
        + f": {verdict}; {len(index.models)} valid model(s), {checkpoints} checkpoint(s)",
        file=sys.stderr if problems else sys.stdout,
    )
    return EXIT_INPUT if problems else EXIT_OK


def cmd_schema(args: argparse.Namespace) -> int:
    print(json.dumps(json_schema(), indent=2))
    return EXIT_OK


def _add_zoo_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--zoo",
        action="append",
        metavar="SRC",
        help="source to open (repeat to merge several; default: the built-in zoo)",
    )


def add_parsers(commands: Any) -> None:
    """The zoo's own subcommands, added to the `ckptzoo` parser."""
    search = commands.add_parser("search", help="search and sort models")
    search.add_argument("query", nargs="?", default="", help="words to find in id, name, tags or card")
    _add_zoo_option(search)
    add_search_filters(search)
    search.add_argument("--limit", type=int, default=50)
    search.add_argument("--offset", type=int, default=0)
    search.add_argument(
        "--columns", help="comma-separated columns to show (default: as many as fit the terminal's width)"
    )
    search.add_argument("--json", action="store_true", help="machine-readable output")
    search.set_defaults(func=cmd_search)

    show = commands.add_parser("show", help="a model (metadata, checkpoints, card) or one checkpoint (REF@CHECKPOINT)")
    show.add_argument("ref", help="model_id, or model_id@checkpoint for that checkpoint's files, sha256 and metrics")
    _add_zoo_option(show)
    show.add_argument("--json", action="store_true")
    show.add_argument("--no-card", action="store_true", help="leave out the model card")
    show.set_defaults(func=cmd_show)

    code = commands.add_parser("code", help="print the load code of a checkpoint")
    code.add_argument("ref")
    _add_zoo_option(code)
    code.add_argument("--library", help="which library's code (default: the best that applies)")
    code.set_defaults(func=cmd_code)

    download = commands.add_parser("download", help="download and verify a checkpoint's files")
    download.add_argument("ref")
    _add_zoo_option(download)
    download.add_argument("--quiet", action="store_true", help="no progress bar")
    download.set_defaults(func=cmd_download)

    validate = commands.add_parser("validate", help="list every problem of an index file")
    validate.add_argument("index", help="path or URL of an index.json")
    validate.set_defaults(func=cmd_validate)

    schema = commands.add_parser("schema", help="print the JSON Schema of the index format")
    schema.set_defaults(func=cmd_schema)
