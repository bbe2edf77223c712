"""Train the built-in teaching zoo and write it into ckptzoo_widgets/zoo/.

    pip install -e ".[train]"
    python scripts/train_builtin_zoo.py            # rewrites the zoo
    python scripts/train_builtin_zoo.py --check    # retrains in a temp dir, compares

Three numpy classifiers of scikit-learn's bundled 8x8 digits, each saved at
several epochs from the untrained start. Every number in the index is measured
here on the validation split; nothing is typed in. Seeded and deterministic:
running it twice writes the same bytes.
"""

from __future__ import annotations

import argparse
import filecmp
import hashlib
import json
import sys
import tempfile
from pathlib import Path

import numpy as np
from safetensors.numpy import save_file
from sklearn.datasets import load_digits

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from ckptzoo_widgets import numpy_nets as nets  # noqa: E402

ZOO_DIR = ROOT / "ckptzoo_widgets" / "zoo"
CARDS_DIR = Path(__file__).resolve().parent / "builtin_zoo_cards"
SEED = 0
VALIDATION_SIZE = 360
BATCH_SIZE = 32
BUILD_DATE = "2026-11-23"

MODELS = {
    # id: (architecture, display name, learning rate, epochs to save)
    "digits-logreg": ("logreg", "Digits softmax regression", 0.02, [0, 1, 2, 3, 5, 8, 12, 20]),
    "digits-mlp": ("mlp", "Digits MLP (64-32-10)", 0.01, [0, 1, 2, 3, 5, 8, 12, 20, 30]),
    "digits-cnn": ("cnn", "Digits CNN (3x3 conv, 8 filters)", 0.01, [0, 1, 2, 3, 5, 8, 12, 20]),
}


def split_digits() -> dict[str, np.ndarray]:
    """A fixed, seeded split of load_digits(): 360 validation images, the rest for training."""
    digits = load_digits()
    order = np.random.default_rng(SEED).permutation(len(digits.target))
    val, train = order[:VALIDATION_SIZE], order[VALIDATION_SIZE:]
    return {
        "train_x": digits.data[train],
        "train_y": digits.target[train],
        "val_x": digits.data[val],
        "val_y": digits.target[val],
        "val_index": val,
    }


def init_params(arch: str, rng: np.random.Generator) -> dict[str, np.ndarray]:
    def he(fan_in: int, *shape: int) -> np.ndarray:
        return rng.normal(0.0, np.sqrt(2.0 / fan_in), size=shape)

    if arch == "logreg":
        return {"weight": he(64, 64, 10) * 0.1, "bias": np.zeros(10)}
    if arch == "mlp":
        return {
            "hidden.weight": he(64, 64, 32),
            "hidden.bias": np.zeros(32),
            "out.weight": he(32, 32, 10),
            "out.bias": np.zeros(10),
        }
    return {
        "conv.weight": he(9, nets.CONV_FILTERS, 1, 3, 3),
        "conv.bias": np.zeros(nets.CONV_FILTERS),
        "out.weight": he(128, 128, 10),
        "out.bias": np.zeros(10),
    }


def gradients(arch: str, p: dict[str, np.ndarray], x: np.ndarray, y: np.ndarray) -> dict[str, np.ndarray]:
    """Backward pass of mean cross-entropy for each architecture."""
    n = len(y)
    if arch == "logreg":
        d = nets.softmax(nets.logits(arch, p, x))
        d[np.arange(n), y] -= 1.0
        d /= n
        return {"weight": x.T @ d, "bias": d.sum(0)}
    if arch == "mlp":
        pre = x @ p["hidden.weight"] + p["hidden.bias"]
        hidden = np.maximum(pre, 0.0)
        d = nets.softmax(hidden @ p["out.weight"] + p["out.bias"])
        d[np.arange(n), y] -= 1.0
        d /= n
        d_hidden = (d @ p["out.weight"].T) * (pre > 0)
        return {
            "hidden.weight": x.T @ d_hidden,
            "hidden.bias": d_hidden.sum(0),
            "out.weight": hidden.T @ d,
            "out.bias": d.sum(0),
        }
    # cnn
    side, filters = nets.IMAGE_SIDE, nets.CONV_FILTERS
    patches = nets.patches3x3(x.reshape(n, side, side))
    pre = patches @ p["conv.weight"].reshape(filters, 9).T + p["conv.bias"]
    maps = np.maximum(pre, 0.0).reshape(n, side, side, filters)
    pooled = nets.maxpool2x2(maps)
    flat = pooled.reshape(n, -1)
    d = nets.softmax(flat @ p["out.weight"] + p["out.bias"])
    d[np.arange(n), y] -= 1.0
    d /= n
    d_pooled = (d @ p["out.weight"].T).reshape(pooled.shape)
    # Route each pooled gradient to the position(s) that held the maximum.
    up = lambda a: a.repeat(2, axis=1).repeat(2, axis=2)  # noqa: E731
    d_maps = up(d_pooled) * (maps == up(pooled))
    d_pre = d_maps.reshape(n, side * side, filters) * (pre > 0)
    return {
        "conv.weight": np.einsum("npk,npc->ck", patches, d_pre).reshape(filters, 1, 3, 3),
        "conv.bias": d_pre.sum((0, 1)),
        "out.weight": flat.T @ d,
        "out.bias": d.sum(0),
    }


def evaluate(arch: str, stored: dict[str, np.ndarray], x: np.ndarray, y: np.ndarray) -> dict[str, float]:
    """Metrics of the weights exactly as stored (float32), through the loader's own class."""
    model = nets.DigitsClassifier(arch, stored)
    probabilities = model.predict_proba(x)
    return {
        "accuracy": float(np.mean(np.argmax(probabilities, axis=1) == y)),
        "loss": round(nets.cross_entropy(probabilities, y), 6),
    }


def file_metadata(**fields: str) -> dict[str, str]:
    # One metadata key: safetensors writes several keys in a random order,
    # which would make the bytes (and the index's sha256) differ between runs.
    return {"ckptzoo": json.dumps({"format": 1, **fields}, sort_keys=True)}


def sha256_of(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def train_model(model_id: str, data: dict[str, np.ndarray], out: Path) -> dict:
    arch, display_name, lr, save_epochs = MODELS[model_id]
    rng = np.random.default_rng([SEED, list(MODELS).index(model_id)])
    params = init_params(arch, rng)
    velocity = {k: np.zeros_like(v) for k, v in params.items()}
    train_x, train_y = nets.prepare(data["train_x"]), data["train_y"]
    steps_per_epoch = int(np.ceil(len(train_y) / BATCH_SIZE))
    checkpoints = []
    for epoch in range(max(save_epochs) + 1):
        if epoch > 0:
            order = rng.permutation(len(train_y))
            for start in range(0, len(order), BATCH_SIZE):
                batch = order[start : start + BATCH_SIZE]
                grads = gradients(arch, params, train_x[batch], train_y[batch])
                for name, grad in grads.items():
                    velocity[name] = 0.9 * velocity[name] - lr * grad
                    params[name] += velocity[name]
        if epoch not in save_epochs:
            continue
        stored = {name: value.astype(np.float32) for name, value in params.items()}
        name = f"epoch-{epoch}"
        relative = f"{model_id}/{name}.safetensors"
        (out / model_id).mkdir(parents=True, exist_ok=True)
        save_file(stored, str(out / relative), metadata=file_metadata(arch=arch, input="digits-8x8"))
        val = evaluate(arch, stored, data["val_x"], data["val_y"])
        train = evaluate(arch, stored, data["train_x"], data["train_y"])
        checkpoints.append(
            {
                "name": name,
                "step": epoch * steps_per_epoch,
                "epoch": epoch,
                "metrics": {
                    "val_accuracy": val["accuracy"],
                    "val_loss": val["loss"],
                    "train_accuracy": train["accuracy"],
                    "train_loss": train["loss"],
                },
                "files": [
                    {
                        "path": relative,
                        "sha256": sha256_of(out / relative),
                        "size": (out / relative).stat().st_size,
                        "format": "safetensors",
                    }
                ],
            }
        )
        print(f"{model_id:14s} {name:9s} val_accuracy={val['accuracy']:.4f} val_loss={val['loss']:.4f}")
    num_params = int(sum(v.size for v in params.values()))
    card = (CARDS_DIR / f"{model_id}.md").read_text(encoding="utf-8")
    return {
        "id": model_id,
        "name": display_name,
        "task": "image-classification",
        "library": "ckptzoo",
        "framework": "numpy",
        "architecture": arch,
        "license": "bsd-3-clause",
        "datasets": ["sklearn-digits"],
        "tags": ["teaching", "digits", "numpy", arch],
        "num_params": num_params,
        "description": card.replace("{checkpoint_table}", metric_table(checkpoints)),
        "headline_metric": "val_accuracy",
        "default_checkpoint": checkpoints[-1]["name"],
        "created": BUILD_DATE,
        "checkpoints": checkpoints,
    }


def metric_table(checkpoints: list[dict]) -> str:
    rows = ["| checkpoint | step | validation accuracy | validation loss |", "|---|---:|---:|---:|"]
    for c in checkpoints:
        m = c["metrics"]
        rows.append(f"| {c['name']} | {c['step']} | {m['val_accuracy']:.1%} | {m['val_loss']:.3f} |")
    return "\n".join(rows)


def build(out: Path) -> None:
    data = split_digits()
    out.mkdir(parents=True, exist_ok=True)
    save_file(
        {
            "x": data["val_x"].astype(np.uint8),
            "y": data["val_y"].astype(np.uint8),
            "index": data["val_index"].astype(np.int32),
        },
        str(out / "digits-validation.safetensors"),
        metadata=file_metadata(dataset="sklearn load_digits, seeded validation split"),
    )
    index = {
        "ckptzoo_index": 1,
        "name": "ckptzoo built-in teaching zoo",
        "description": "Three small numpy classifiers of scikit-learn's 8x8 digits, saved across training. "
        "Rebuild with: python scripts/train_builtin_zoo.py",
        "models": [train_model(model_id, data, out) for model_id in MODELS],
    }
    (out / "index.json").write_text(json.dumps(index, indent=1) + "\n", encoding="utf-8")


def check() -> int:
    """Retrain into a temporary folder and compare byte for byte with the committed zoo."""
    with tempfile.TemporaryDirectory() as tmp:
        build(Path(tmp))
        fresh = sorted(p.relative_to(tmp) for p in Path(tmp).rglob("*") if p.is_file())
        committed = sorted(
            p.relative_to(ZOO_DIR) for p in ZOO_DIR.rglob("*") if p.is_file() and p.suffix in (".json", ".safetensors")
        )
        differ = (
            [str(p) for p in fresh if not filecmp.cmp(Path(tmp) / p, ZOO_DIR / p, shallow=False)]
            if fresh == committed
            else ["file lists differ"]
        )
    if differ:
        print("built-in zoo differs from a fresh training run:", ", ".join(differ))
        return 1
    print(f"built-in zoo matches a fresh training run ({len(fresh)} files)")
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="retrain in a temp dir and compare")
    parser.add_argument("--out", type=Path, default=ZOO_DIR)
    args = parser.parse_args()
    if args.check:
        return check()
    build(args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
