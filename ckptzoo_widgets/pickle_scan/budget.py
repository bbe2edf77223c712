"""What one scan may spend (`ScanBudget`), the meter that counts it, and the scan's two failures."""

from __future__ import annotations

import time
from dataclasses import dataclass


@dataclass(frozen=True)
class ScanBudget:
    """Limits of one scan; spending any of them gives an ``unknown`` verdict."""

    member_bytes: int = 128 << 20  # decompressed bytes of one zip member
    total_bytes: int = 512 << 20  # bytes read or decompressed in all (seeking over raw data is free)
    opcodes: int = 2_000_000
    seconds: float = 30.0
    entries: int = 1_000_000  # stack + memo entries of one pickle
    tracked: int = 16 << 20  # bytes of small values followed to resolve names (then: not followed)
    central_directory: int = 16 << 20  # bytes of a zip's central directory


class _CannotTell(Exception):
    """The scan cannot say what this input would do (damaged, unsupported)."""


class _BudgetSpent(_CannotTell):
    pass


class _Meter:
    """Counts bytes, opcodes and time against one ScanBudget."""

    def __init__(self, budget: ScanBudget) -> None:
        self.budget = budget
        self.bytes = 0
        self.opcodes = 0
        self.tracked = 0
        self.deadline = time.monotonic() + budget.seconds

    def read(self, n: int) -> None:
        self.bytes += n
        if self.bytes > self.budget.total_bytes:
            raise _BudgetSpent(f"could not scan: budget of {self.budget.total_bytes} bytes read spent")

    def opcode(self) -> None:
        self.opcodes += 1
        if self.opcodes > self.budget.opcodes:
            raise _BudgetSpent(f"could not scan: budget of {self.budget.opcodes} opcodes spent")
        if self.opcodes % 4096 == 0:
            self.clock()

    def clock(self) -> None:
        if time.monotonic() > self.deadline:
            raise _BudgetSpent(f"could not scan: budget of {self.budget.seconds:g} s spent")

    def track(self, cost: int) -> bool:
        """Whether a value of `cost` bytes may still be followed."""
        if self.tracked + cost > self.budget.tracked:
            return False
        self.tracked += cost
        return True
