"""`ckptzoo`: the zoo from a shell. Readable tables by default, `--json` for scripts.

Exit codes: 0 success, 2 a problem with the input (bad source, ref, index,
sort key, download), with one line on stderr saying what and where.
"""

from __future__ import annotations

import argparse
import importlib
import json
import sys
from collections.abc import Sequence
from typing import Any

import pandas as pd

from . import __version__, credentials, pickle_verdicts
from .catalog import MODEL_COLUMNS, Zoo, open_zoo
from .errors import EXIT_INPUT, EXIT_INTERRUPTED, EXIT_OK, ZooError
from .fetch import FetchError
from .humanize import human_bytes, human_count, terminal_safe
from .schema import IndexFormatError, json_schema, parse_index_text
from .sources.index_file import read_index_bytes


def _cell(value: Any) -> str:
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return "-"
    if isinstance(value, float):
        return f"{value:.4g}"
    return terminal_safe(str(value))


def table(frame: pd.DataFrame, columns: Sequence[str]) -> str:
    """A plain-text table of the given columns (missing columns skipped)."""
    columns = [c for c in columns if c in frame.columns]
    shown = frame[columns].copy()
    if "num_params" in shown:
        shown["num_params"] = shown["num_params"].map(human_count)
    if "size" in shown:
        shown["size"] = shown["size"].map(human_bytes)
    shown = shown.map(_cell) if hasattr(shown, "map") else shown.applymap(_cell)
    return shown.to_string(index=False)


def _zoo(args: argparse.Namespace) -> Zoo:
    zoo = open_zoo(args.zoo or None)
    for problem in zoo.errors:
        print(f"ckptzoo: warning: {terminal_safe(problem)}", file=sys.stderr)
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
    if args.json:
        print(json.dumps({"total": found.attrs["total"], "models": _json_records(found)}, indent=1))
        return EXIT_OK
    if found.empty:
        print("no models match")
        return EXIT_OK
    metric_columns = [c for c in found.columns if c not in MODEL_COLUMNS][:3]
    sort_column = (args.sort or "").lstrip("-")
    if sort_column and sort_column not in metric_columns and sort_column not in ("id", "name", "num_params"):
        metric_columns = [sort_column, *metric_columns][:3]
    print(
        table(
            found,
            [
                "id",
                "task",
                "library",
                "license",
                "num_params",
                "num_checkpoints",
                "headline_metric",
                "headline_value",
                *metric_columns,
            ],
        )
    )
    shown = f"{args.offset + 1}-{args.offset + len(found)}"
    print(f"\n{shown} of {found.attrs['total']} models")
    return EXIT_OK


def cmd_show(args: argparse.Namespace) -> int:
    zoo = _zoo(args)
    model, checkpoint = zoo.resolve(args.ref)
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
                },
                indent=1,
            )
        )
        return EXIT_OK
    fields = [
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
    for name, value in fields:
        if value:
            print(f"{name + ':':20s}{terminal_safe(str(value))}")
    metric_columns = [
        c for c in checkpoints.columns if c not in ("ref", "num_files", "revision", "date", "formats", "size")
    ]
    print("\nCheckpoints:")
    print(table(checkpoints, metric_columns + ["size", "formats"]))
    for line in pickle_verdicts.summary_lines(model.checkpoints):  # unsafe or unscanned pickles
        print(terminal_safe(line))
    if model.description and not args.no_card:
        print("\nModel card:\n")
        print(terminal_safe(model.description).strip())
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
        print(terminal_safe(f"ckptzoo: error: {location}: cannot read ({error})"), file=sys.stderr)
        return EXIT_INPUT
    try:
        index, problems = parse_index_text(text, location)
    except IndexFormatError as error:
        print(f"{terminal_safe(str(error))}")
        return EXIT_INPUT
    for problem in problems:
        print(terminal_safe(str(problem)))
    checkpoints = sum(len(m.checkpoints) for m in index.models)
    verdict = f"{len(problems)} problem(s)" if problems else "valid"
    print(
        f"{location}: {verdict}; {len(index.models)} valid model(s), {checkpoints} checkpoint(s)",
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


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="ckptzoo", description="A checkpoint zoo from the shell.")
    parser.add_argument("--version", action="version", version=f"ckptzoo {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    search = commands.add_parser("search", help="search and sort models")
    search.add_argument("query", nargs="?", default="", help="words to find in id, name, tags or card")
    _add_zoo_option(search)
    search.add_argument("--task")
    search.add_argument("--library")
    search.add_argument("--license")
    search.add_argument("--sort", help="column to sort by, '-' prefix for descending (e.g. -val_accuracy)")
    search.add_argument("--limit", type=int, default=50)
    search.add_argument("--offset", type=int, default=0)
    search.add_argument("--json", action="store_true", help="machine-readable output")
    search.set_defaults(func=cmd_search)

    show = commands.add_parser("show", help="a model's metadata, checkpoints and card")
    show.add_argument("ref", help="model_id or model_id@checkpoint")
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

    for module_name in EXTENSION_MODULES:
        importlib.import_module(f"{__package__}.{module_name}").add_parser(commands)
    return parser


# Modules that add their own subcommands (`add_parser(subparsers)`).
EXTENSION_MODULES: list[str] = ["cache_cli", "index_cli"]


def _attach_dash_values(argv: Sequence[str]) -> list[str]:
    """`--sort -val_accuracy` -> `--sort=-val_accuracy`: argparse would read the value as an option."""
    out: list[str] = []
    for arg in argv:
        if out and out[-1] == "--sort" and arg.startswith("-") and not arg.startswith("--"):
            out[-1] = f"--sort={arg}"
        else:
            out.append(arg)
    return out


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(_attach_dash_values(sys.argv[1:] if argv is None else argv))
    try:
        return int(args.func(args) or 0)
    except (ZooError, FetchError) as error:
        print(f"ckptzoo: error: {terminal_safe(str(error))}", file=sys.stderr)
        return EXIT_INPUT
    except KeyboardInterrupt:
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
