"""`ckptzoo`: the zoo from a shell. Readable tables by default, `--json` for scripts.

    app.py              the parser and the one place errors become messages and exit codes
    zoo_commands.py     search, show, code, download, validate, schema
    cache_commands.py   cache ls / verify / prune
    index_commands.py   index build / publish / convert
    pack_commands.py    pack build / verify / status
    args.py             argument helpers shared with the `%zoo` magic
    tables.py           plain-text tables that fit the terminal

Each command module adds its subcommands through `add_parser(subparsers)` (the
zoo commands through `add_parsers`) and never imports `app.py`. Exit codes are
the ones in `errors.py`.
"""

from __future__ import annotations

from collections.abc import Sequence


def main(argv: Sequence[str] | None = None) -> int:
    """The `ckptzoo` command (the app is imported here, so `%zoo` can use `cli.args` without pandas)."""
    from .app import main as run

    return run(argv)


__all__ = ["main"]
