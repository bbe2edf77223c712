"""TEST FIXTURE ONLY - never part of the product: make the installed torchvision importable.

Why: the package registry offers no CPU build of torchvision, and PyPI's
`torchvision==0.28.0` (the release for torch 2.13) ships compiled operators
built against torch's CUDA build. Against the local CPU `torch==2.13.0` its
`_C` library does not load, and `import torchvision` (and `import timm`, which
imports it) then stops at "operator torchvision::nms does not exist": the
Python module registers fake kernels for `torchvision::nms` and
`torchvision::qnms` without checking that the operators exist.

Defining the schemas of those two operators (as torchvision's own C++ code
declares them) before importing lets its pure-Python parts load: the models,
their builders and the whole weights registry, which is all the sources and
the generated load code need. The operators themselves stay unusable (no
kernel), so detection models build but cannot run non-maximum suppression.

With a torchvision that imports by itself, `ensure_importable()` does nothing.
The product never does this: `sources/torchvision.py` reports the failed import
in one line instead.
"""

from __future__ import annotations

import sys
from types import ModuleType

SCHEMA = "(Tensor dets, Tensor scores, float iou_threshold) -> Tensor"
UNGUARDED_OPERATORS = ("nms", "qnms")
# The lines a fresh interpreter runs first (tests run generated load code in a child process).
PRELUDE = "import torchvision_ops\ntorchvision_ops.ensure_importable()\n"


def ensure_importable() -> ModuleType:
    """`import torchvision`, defining the two operator schemas first when that alone fails."""
    try:
        import torchvision
    except RuntimeError as error:
        if "torchvision::nms" not in str(error):
            raise
        import torch

        for name in UNGUARDED_OPERATORS:
            torch.library.define(f"torchvision::{name}", SCHEMA)
        for module in [m for m in sys.modules if m == "torchvision" or m.startswith("torchvision.")]:
            del sys.modules[module]  # the failed import left half-initialised modules
        import torchvision
    return torchvision
