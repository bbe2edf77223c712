"""`cz.load` for a torchvision checkpoint: the weights file through the verified cache, then torchvision's builder.

The file is downloaded by `Zoo.download` (the index's sha256 and size when it
gives them, and torch.hub's rule for the name: `resnet50-11ad3fa6.pth` must
have a sha256 starting with `11ad3fa6`), scanned like every pickle, then handed
to torchvision's own builder with its weights enum
(`get_model("resnet50", weights="ResNet50_Weights.IMAGENET1K_V2")`), so every
adjustment the builder makes for those weights (number of classes, image
size, quantization) is torchvision's. The builder loads weights through
torch.hub's cache folder; for the time of the call that folder is a private
temporary one holding only a link to our verified file under the name
torchvision asks for, so nothing is downloaded twice and nothing unverified
is read. A file our pickle scan does not find to be a plain state dict is
refused, and the builder's `torch.load` runs with weights only
(`TORCH_FORCE_WEIGHTS_ONLY_LOAD`; torch.hub itself would unpickle anything).
"""

from __future__ import annotations

import os
import shutil
import tempfile
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .errors import ZooError
from .pickle_verdicts import file_verdict
from .schema import Checkpoint, ModelEntry
from .sources.torchvision import import_torchvision
from .text import one_line

if TYPE_CHECKING:
    from .catalog import Zoo

_HUB_DIR_LOCK = threading.Lock()  # torch.hub's folder is one setting per process
_WEIGHTS_ONLY = "TORCH_FORCE_WEIGHTS_ONLY_LOAD"  # torch.load reads it at each call


def _link(target: Path, link: Path) -> None:
    try:
        os.symlink(target.resolve(), link)
    except OSError:
        try:
            os.link(target.resolve(), link)
        except OSError:
            shutil.copyfile(target, link)


def load_torchvision(zoo: Zoo, model: ModelEntry, checkpoint: Checkpoint, *, quiet: bool | None = None) -> Any:
    """The torchvision model of `checkpoint` (in eval mode), built from our verified download."""
    models = import_torchvision()
    import torch.hub

    exact = f"{model.id}@{checkpoint.name}"
    if not model.architecture or not checkpoint.revision:
        raise ZooError(f"{exact}: a torchvision checkpoint needs an architecture and a weights name (revision)")
    try:
        weights = models.get_weight(checkpoint.revision)
    except (ValueError, KeyError, AttributeError, TypeError):
        raise ZooError(
            f"{exact}: the installed torchvision has no weights {one_line(checkpoint.revision, 130)!r}"
        ) from None
    files = [f for f in checkpoint.files if f.format == "pytorch"]
    if len(files) != 1 or len(checkpoint.files) != 1:
        raise ZooError(f"{exact}: a torchvision checkpoint has one weights file; this one has {len(checkpoint.files)}")
    (path,) = zoo.download(exact, quiet=quiet)  # verified, and scanned (a warning when not a plain state dict)
    verdict = file_verdict(path, files[0].sha256)
    if not verdict.safe:
        raise ZooError(f"{exact}: not loaded: {path.name}: {one_line(verdict.describe(), 300)}")
    wanted = Path(str(weights.url).split("?", 1)[0]).name  # the name torch.hub looks for
    with _HUB_DIR_LOCK, tempfile.TemporaryDirectory(prefix="ckptzoo-torchvision-") as folder:
        checkpoints = Path(folder) / "checkpoints"
        checkpoints.mkdir()
        _link(path, checkpoints / wanted)
        before = getattr(torch.hub, "_hub_dir", None)
        forced = os.environ.get(_WEIGHTS_ONLY)
        torch.hub.set_dir(folder)
        os.environ[_WEIGHTS_ONLY] = "1"
        try:
            built = models.get_model(model.architecture, weights=weights)
        except (RuntimeError, ValueError, KeyError, TypeError, OSError) as error:
            raise ZooError(f"{exact}: torchvision cannot build it from {path.name} ({one_line(error, 300)})") from None
        finally:
            torch.hub._hub_dir = before  # as it was: None means torch's default again
            if forced is None:
                os.environ.pop(_WEIGHTS_ONLY, None)
            else:
                os.environ[_WEIGHTS_ONLY] = forced
    return built.eval()
