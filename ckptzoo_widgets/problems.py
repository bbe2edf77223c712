"""What is wrong with an index, said once: `Problem` (bounded text), `Problems` (the first in full,
the rest counted by kind), `summarise`, and `problems_from` (one problem per field of a ValidationError).

Every reader reports its skipped entries through these; schema.py re-exports them (their old import path).
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

from pydantic import ValidationError

from .text import truncate


@dataclass(frozen=True)
class Problem:
    """One thing wrong with an index: where it is and why (each part truncated: a value can be huge)."""

    origin: str
    entry: str
    field: str
    message: str

    def __post_init__(self) -> None:
        # The one place problem text is bounded: a 50 MB metric name costs 300 characters here.
        for name, limit in (("origin", 300), ("entry", 200), ("field", 200), ("message", 600)):
            value = getattr(self, name)
            if not isinstance(value, str) or len(value) > limit:
                object.__setattr__(self, name, truncate(value, limit))

    def __str__(self) -> str:
        where = f"{self.origin}: {self.entry}"
        if self.field:
            where += f", field '{self.field}'"
        return f"{where}: {self.message}"

    @property
    def kind(self) -> str:
        """What kind of problem this is, for a summary: the field with positions and keys folded."""
        return _POSITIONS.sub(".*", self.field) or self.message.split(" ", 1)[0]


_POSITIONS = re.compile(r"\.(\d+|[^.]{24,})(?=\.|$)")
MAX_PROBLEMS = 100  # kept in full per source; the rest are counted by kind


class Problems:
    """The problems of one source: the first `limit` in full, the rest counted by kind.

    100,000 invalid entries make 100 problems and one summary line, not 200,000
    messages in the widget's state.
    """

    def __init__(self, limit: int = MAX_PROBLEMS):
        self.limit = limit
        self.kept: list[Problem] = []
        self.more: Counter[str] = Counter()

    def add(self, problem: Problem) -> None:
        if len(self.kept) < self.limit:
            self.kept.append(problem)
        else:
            self.more[problem.kind] += 1

    def extend(self, problems: Iterable[Problem]) -> None:
        for problem in problems:
            self.add(problem)

    def __len__(self) -> int:
        return len(self.kept) + sum(self.more.values())

    def as_list(self) -> list[Problem]:
        """The kept problems, and one that summarises the rest."""
        if not self.more:
            return list(self.kept)
        kinds = ", ".join(f"{kind} ({count:,})" for kind, count in self.more.most_common(8))
        if len(self.more) > 8:
            kinds += f", and {len(self.more) - 8:,} more kinds"
        origin = self.kept[-1].origin if self.kept else ""
        total = sum(self.more.values())
        summary = Problem(origin, "more", "", f"and {total:,} more problems of these kinds: {kinds}")
        return [*self.kept, summary]


def summarise(problems: Iterable[Problem], limit: int = MAX_PROBLEMS) -> list[Problem]:
    """At most `limit` problems in full and one summary line for the rest."""
    log = Problems(limit)
    log.extend(problems)
    return log.as_list()


def problems_from(error: ValidationError, origin: str, entry: str) -> list[Problem]:
    """One problem per field a ValidationError names."""
    problems = []
    for item in error.errors(include_url=False, include_input=False):
        field = ".".join(truncate(part, 60) if isinstance(part, str) else str(part) for part in item["loc"])
        message = item["msg"].removeprefix("Value error, ")
        problems.append(Problem(origin, entry, field, message))
    return problems
