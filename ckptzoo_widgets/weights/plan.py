"""What is read of each tensor: whole within the byte budget, else a documented deterministic sample.

The rule (docs/weights.md, "Sampling"):

1. The tensors asked for are read whole when their bytes together fit the budget
   (`decode.WEIGHTS_READ_BYTES` per checkpoint file unless given).
2. Otherwise one cap `c` is found such that reading `min(size, c)` bytes of every
   tensor fits the budget (water filling: small tensors whole, the large ones
   share what is left equally); a tensor larger than `c` is *sampled*.
3. A sampled tensor of `n` elements is read as `SAMPLE_BLOCKS` contiguous blocks
   of `L = (c // itemsize) // SAMPLE_BLOCKS` elements (fewer blocks when `c` holds
   fewer elements), the first at element 0, the last ending at element `n`, the
   others evenly spaced between: block `j` of `m` starts at `j * (n - L) // (m - 1)`.
   At least `MIN_SAMPLE_BYTES` of each tensor are read, and at most
   `decode.WEIGHTS_TENSOR_BYTES` whatever the budget (a comparison holds three).

A plan depends only on the tensors' element counts, item sizes and the budget, so
the same tensors of two checkpoints are sampled at the same elements and their
change is measured on the same weights.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..decode import WEIGHTS_TENSOR_BYTES
from ..safetensors_check import DTYPE_SIZES, TensorInfo

SAMPLE_BLOCKS = 8
MIN_SAMPLE_BYTES = 4096


@dataclass(frozen=True)
class TensorPlan:
    """Which elements of one tensor are read: `blocks` of (first element, element count)."""

    name: str
    numel: int
    blocks: tuple[tuple[int, int], ...]

    @property
    def sampled(self) -> bool:
        return self.read_elements < self.numel

    @property
    def read_elements(self) -> int:
        return sum(count for _, count in self.blocks)

    @property
    def key(self) -> list[int]:
        """What a cache record keeps to know it measured the same elements: [numel, block length, blocks]."""
        if not self.sampled:
            return [self.numel, 0, 0]
        return [self.numel, self.blocks[0][1], len(self.blocks)]


def sample_blocks(numel: int, elements: int) -> tuple[tuple[int, int], ...]:
    """`elements` of `numel` as evenly spaced contiguous blocks (the whole tensor when it fits)."""
    if elements >= numel:
        return ((0, numel),) if numel else ()
    count = max(1, min(SAMPLE_BLOCKS, elements))
    length = max(1, elements // count)
    if count == 1:
        return (((numel - length) // 2, length),)
    return tuple((j * (numel - length) // (count - 1), length) for j in range(count))


def water_cap(sizes: list[int], budget: int) -> int | None:
    """The largest per-tensor byte cap c with sum(min(s, c)) <= budget; None when everything fits."""
    if sum(sizes) <= budget:
        return None
    left, remaining = budget, len(sizes)
    for size in sorted(sizes):
        share = left // remaining
        if size > share:
            return max(share, MIN_SAMPLE_BYTES)
        left -= size
        remaining -= 1
    return max(left, MIN_SAMPLE_BYTES)  # pragma: no cover - unreachable when the sum is over budget


def plan_tensors(tensors: list[TensorInfo], budget: int) -> dict[str, TensorPlan]:
    """The plan of each tensor under `budget` bytes for all of them (the rule in the module notes)."""
    cap = water_cap([t.end - t.begin for t in tensors], budget)
    cap = WEIGHTS_TENSOR_BYTES if cap is None else min(cap, WEIGHTS_TENSOR_BYTES)
    plans = {}
    for info in tensors:
        itemsize = DTYPE_SIZES[info.dtype]
        if info.end - info.begin <= cap:
            blocks = sample_blocks(info.numel, info.numel)
        else:
            blocks = sample_blocks(info.numel, max(1, cap // itemsize))
        plans[info.name] = TensorPlan(info.name, info.numel, blocks)
    return plans


def planned_bytes(plan: TensorPlan, info: TensorInfo) -> int:
    return plan.read_elements * DTYPE_SIZES[info.dtype]
