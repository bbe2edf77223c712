"""`ckptzoo index build DIR [-o OUT] [--format json|parquet]`: publish a folder as a static zoo."""

from __future__ import annotations

import argparse
import sys

from .errors import EXIT_INPUT, EXIT_OK


def cmd_index_build(args: argparse.Namespace) -> int:
    from .sources.build import write_index
    from .text import terminal_safe

    out, document, problems = write_index(args.dir, args.output, fmt=args.format, name=args.name)
    for problem in problems:
        print(f"skipped: {terminal_safe(str(problem))}", file=sys.stderr)
    models = document["models"]
    checkpoints = sum(len(m["checkpoints"]) for m in models)
    files = sum(len(c.get("files", [])) for m in models for c in m["checkpoints"])
    print(
        f"{out}: {len(models)} model(s), {checkpoints} checkpoint(s), {files} file(s)"
        + (f"; {len(problems)} problem(s) reported" if problems else "")
    )
    return EXIT_OK if models or not problems else EXIT_INPUT


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    index = subparsers.add_parser("index", help="build a zoo index from a folder of checkpoints")
    commands = index.add_subparsers(dest="index_command", required=True, metavar="ACTION")
    build = commands.add_parser(
        "build", help="index a folder (sha256, size, format, metrics) so it can be served as a static zoo"
    )
    build.add_argument("dir", help="folder of checkpoints / training runs")
    build.add_argument("-o", "--output", help="index file to write (default: DIR/index.json)")
    build.add_argument("--format", choices=("json", "parquet"), help="default: from -o's suffix, else json")
    build.add_argument("--name", help="name of the zoo (default: the folder's name)")
    build.set_defaults(func=cmd_index_build)
