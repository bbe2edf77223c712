"""Argument helpers shared by `ckptzoo` and the `%zoo` magic (one parser behaviour, two front ends)."""

from __future__ import annotations

import argparse
from collections.abc import Sequence

# Options whose value may start with '-' ("descending"): argparse would read it as an option.
DASH_VALUE_OPTIONS = ("--sort",)


def attach_dash_values(tokens: Sequence[str], options: Sequence[str] = DASH_VALUE_OPTIONS) -> list[str]:
    """`--sort -val_accuracy` -> `--sort=-val_accuracy`, so the value is not taken for an option."""
    out: list[str] = []
    for token in tokens:
        if out and out[-1] in options and token.startswith("-") and not token.startswith("--"):
            out[-1] = f"{out[-1]}={token}"
        else:
            out.append(token)
    return out


def add_search_filters(parser: argparse.ArgumentParser) -> None:
    """The filters and sort order `zoo.search` takes: --task, --library, --license, --sort."""
    parser.add_argument("--task", default=None, help="only models of this task (e.g. image-classification)")
    parser.add_argument("--library", default=None, help="only models of this library (e.g. timm)")
    parser.add_argument("--license", default=None, help="only models under this licence")
    parser.add_argument(
        "--sort", default=None, help="a column to sort by, '-' prefix for descending (e.g. -val_accuracy)"
    )
