"""The `ckptzoo` parser and the one place a command's error becomes a message and an exit code."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from .. import __version__
from ..credentials import presentable
from ..errors import EXIT_INPUT, EXIT_INTERRUPTED, EXIT_OK, ZooError
from ..text import terminal_safe
from . import cache_commands, index_commands, pack_commands, zoo_commands
from .args import attach_dash_values


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="ckptzoo", description="A checkpoint zoo from the shell.")
    parser.add_argument("--version", action="version", version=f"ckptzoo {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    zoo_commands.add_parsers(commands)
    cache_commands.add_parser(commands)
    index_commands.add_parser(commands)
    pack_commands.add_parser(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command; exit codes from `errors.py`, one line on stderr when it fails."""
    args = build_parser().parse_args(attach_dash_values(sys.argv[1:] if argv is None else argv))
    try:
        return int(args.func(args) or 0)
    except ZooError as error:  # FetchError is a ZooError
        print(f"ckptzoo: error: {terminal_safe(presentable(error))}", file=sys.stderr)
        return EXIT_INPUT
    except KeyboardInterrupt:
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        return EXIT_OK
