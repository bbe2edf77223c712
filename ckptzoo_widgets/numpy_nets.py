"""The small numpy networks of the built-in teaching zoo.

Three classifiers for scikit-learn's 8x8 digits (64 pixel values 0-16, ten
classes): softmax regression, a one-hidden-layer MLP and a small CNN. The
forward passes live here so that the training script and `cz.load` compute
exactly the same thing; training (the backward pass) lives in
`scripts/train_builtin_zoo.py`.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

ARCHITECTURES = ("logreg", "mlp", "cnn")
PIXEL_MAX = 16.0
IMAGE_SIDE = 8
CONV_FILTERS = 8


def prepare(pixels: np.ndarray) -> np.ndarray:
    """Digits as scikit-learn gives them, shape (n, 64) values 0-16 -> floats in [0, 1]."""
    x = np.asarray(pixels, dtype=np.float64)
    if x.ndim == 1:
        x = x[None, :]
    if x.ndim != 2 or x.shape[1] != IMAGE_SIDE * IMAGE_SIDE:
        raise ValueError(f"expected digits of shape (n, 64), got {np.shape(pixels)}")
    return x / PIXEL_MAX


def patches3x3(images: np.ndarray) -> np.ndarray:
    """(n, 8, 8) -> (n, 64, 9): every 3x3 neighbourhood (zero padded), one row per pixel."""
    padded = np.pad(images, ((0, 0), (1, 1), (1, 1)))
    windows = np.lib.stride_tricks.sliding_window_view(padded, (3, 3), axis=(1, 2))
    return windows.reshape(images.shape[0], IMAGE_SIDE * IMAGE_SIDE, 9)


def maxpool2x2(maps: np.ndarray) -> np.ndarray:
    """(n, 8, 8, c) -> (n, 4, 4, c)."""
    n, h, w, c = maps.shape
    return maps.reshape(n, h // 2, 2, w // 2, 2, c).max(axis=(2, 4))


def logits(arch: str, params: Mapping[str, np.ndarray], x: np.ndarray) -> np.ndarray:
    """Class scores for prepared inputs `x` (n, 64)."""
    if arch == "logreg":
        return x @ params["weight"] + params["bias"]
    if arch == "mlp":
        hidden = np.maximum(x @ params["hidden.weight"] + params["hidden.bias"], 0.0)
        return hidden @ params["out.weight"] + params["out.bias"]
    if arch == "cnn":
        n = x.shape[0]
        kernels = params["conv.weight"].reshape(CONV_FILTERS, 9)
        maps = patches3x3(x.reshape(n, IMAGE_SIDE, IMAGE_SIDE)) @ kernels.T + params["conv.bias"]
        maps = np.maximum(maps, 0.0).reshape(n, IMAGE_SIDE, IMAGE_SIDE, CONV_FILTERS)
        pooled = maxpool2x2(maps).reshape(n, -1)
        return pooled @ params["out.weight"] + params["out.bias"]
    raise ValueError(f"unknown architecture {arch!r}; known: {', '.join(ARCHITECTURES)}")


def expected_shapes(arch: str, params: Mapping[str, np.ndarray]) -> dict[str, tuple[int, ...]]:
    """The parameter shapes `logits` needs for `arch` (the MLP's hidden width is read from the file)."""
    classes, pixels = 10, IMAGE_SIDE * IMAGE_SIDE
    if arch == "logreg":
        return {"weight": (pixels, classes), "bias": (classes,)}
    if arch == "mlp":
        hidden = np.shape(params.get("hidden.bias", ()))
        width = hidden[0] if len(hidden) == 1 and 0 < hidden[0] <= 4096 else -1
        return {
            "hidden.weight": (pixels, width),
            "hidden.bias": (width,),
            "out.weight": (width, classes),
            "out.bias": (classes,),
        }
    if arch == "cnn":
        pooled = (IMAGE_SIDE // 2) ** 2 * CONV_FILTERS
        return {
            "conv.weight": (CONV_FILTERS, 1, 3, 3),
            "conv.bias": (CONV_FILTERS,),
            "out.weight": (pooled, classes),
            "out.bias": (classes,),
        }
    raise ValueError(f"unknown architecture {arch!r}; known: {', '.join(ARCHITECTURES)}")


def check_params(arch: str, params: Mapping[str, np.ndarray]) -> None:
    """ValueError unless `params` holds exactly the numeric tensors `arch` needs, in their shapes."""
    for name, shape in expected_shapes(arch, params).items():
        if name not in params:
            raise ValueError(f"the {arch} model needs a tensor {name!r}")
        value = params[name]
        if not isinstance(value, np.ndarray) or value.dtype.kind not in "fiub":
            raise ValueError(f"tensor {name!r} is not numeric")
        if value.shape != shape and not (name == "conv.weight" and value.shape == (CONV_FILTERS, 9)):
            raise ValueError(f"tensor {name!r} has shape {value.shape[:8]}, the {arch} model needs {shape}")


def softmax(scores: np.ndarray) -> np.ndarray:
    shifted = scores - scores.max(axis=1, keepdims=True)
    exp = np.exp(shifted)
    return exp / exp.sum(axis=1, keepdims=True)


def cross_entropy(probabilities: np.ndarray, labels: np.ndarray) -> float:
    picked = probabilities[np.arange(len(labels)), labels]
    return float(-np.mean(np.log(np.clip(picked, 1e-12, None))))


class DigitsClassifier:
    """A loaded built-in checkpoint: `predict(X)` gives class labels for digits data."""

    def __init__(self, arch: str, params: Mapping[str, np.ndarray], ref: str = "") -> None:
        check_params(arch, params)  # a file with the wrong tensors fails here, not later in predict
        self.arch = arch
        self.ref = ref
        # Compute in float64 from the stored float32 weights, as the training script measured.
        self.params = {name: np.asarray(value, dtype=np.float64) for name, value in params.items()}

    @property
    def num_params(self) -> int:
        return int(sum(value.size for value in self.params.values()))

    def predict_proba(self, pixels: np.ndarray) -> np.ndarray:
        return softmax(logits(self.arch, self.params, prepare(pixels)))

    def predict(self, pixels: np.ndarray) -> np.ndarray:
        return np.argmax(logits(self.arch, self.params, prepare(pixels)), axis=1)

    def score(self, pixels: np.ndarray, labels: np.ndarray) -> float:
        """Accuracy on (pixels, labels), as scikit-learn's `score`."""
        return float(np.mean(self.predict(pixels) == np.asarray(labels)))

    def __repr__(self) -> str:
        label = f" {self.ref}" if self.ref else ""
        return f"<DigitsClassifier{label} arch={self.arch} params={self.num_params}>"
