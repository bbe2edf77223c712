"""A hostile logged curve: millions of points, junk values; the page gets a bounded, clean curve."""

from __future__ import annotations

from .bounded import run_bounded


def test_a_curve_of_two_million_points_reaches_the_page_thinned():
    result = run_bounded(
        """
import json, math
from ckptzoo_widgets.schema import ModelEntry
from ckptzoo_widgets.widget.payload import detail_payload
points = [(i, float("nan") if i % 3 == 0 else math.sin(i) + (1e6 if i == 1_234_567 else 0)) for i in range(2_000_000)]
entry = ModelEntry.model_validate({"id": "run", "checkpoints": [{"name": "s", "step": 1}]})
entry = entry.model_copy(update={"curves": {"loss": points, "<b>x</b>": [(0, "1"), (1, float("inf"))]}})
detail = detail_payload(entry)
text = json.dumps(detail, allow_nan=False)
(curve,) = detail["curves"]
print(len(text), len(curve["points"]), max(v for _, v in curve["points"]))
""",
        memory_mb=1536,
        seconds=60,
    )
    assert result.ok, (result.error_type, result.message, result.stderr[-2000:])
    size, drawn, top = result.stdout.split()
    assert int(drawn) <= 500 and int(size) < 20_000
    assert float(top) >= 999_999  # the one spike among two million points is on the line
