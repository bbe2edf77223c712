"""What every generator builds with: values as literals, calls, a file's fetch, a snippet's
imports, variable names, and the notes above code that would run the model's own code."""

from __future__ import annotations

import functools
import importlib.util
import keyword
import re
from contextvars import ContextVar
from pathlib import Path

from ..safety import is_url
from ..schema import Checkpoint, FileEntry, ModelEntry
from ..storage import check_destination, is_object_url

BUILTIN = "builtin"

_LINE = 88  # longer calls are written one argument a line


def _lit(value: object) -> str:
    """A validated value as a Python literal (double-quoted when that needs no escapes)."""
    if isinstance(value, str) and value.isascii() and value.isprintable() and not set(value) & {'"', "\\"}:
        return f'"{value}"'
    if value is None or isinstance(value, (bool, int, float, str)):
        return repr(value)
    raise TypeError(f"not a literal: {type(value).__name__}")


def _call(function: str, *args: object, **kwargs: object) -> str:
    """`function(args..., key=value...)` with every value a literal or a `Code` fragment."""
    parts = [a if isinstance(a, Code) else _lit(a) for a in args]
    parts += [f"{k}={v if isinstance(v, Code) else _lit(v)}" for k, v in kwargs.items() if v is not None]
    one_line = f"{function}({', '.join(parts)})"
    if len(one_line) <= _LINE or len(parts) < 2:
        return one_line
    # One argument a line, as a formatter would write it (nested lines indented along).
    inner = "".join("\n    " + part.replace("\n", "\n    ") + "," for part in parts)
    return f"{function}({inner}\n)"


class Code(str):
    """A fragment we generated ourselves (a nested call), inserted as is."""


RESOURCES_IMPORT = "import importlib.resources"


@functools.lru_cache(maxsize=256)
def _package_dir(folder: Path) -> Path | None:
    """The top-level importable package that holds `folder`, or None.

    Walks up to the nearest folder with an `__init__.py`, then up while the
    parent is a package too, and checks that importing the top name finds
    this very folder (a checkout that merely looks like a package does not count).
    """
    package = next((p for p in (folder, *folder.parents) if (p / "__init__.py").is_file()), None)
    if package is None:
        return None
    while (package.parent / "__init__.py").is_file():
        package = package.parent
    if not package.name.isidentifier():
        return None
    try:
        spec = importlib.util.find_spec(package.name)
    except (ImportError, ValueError):
        return None
    locations = [Path(p).resolve() for p in (spec.submodule_search_locations or [])] if spec else []
    return package if package in locations else None


def package_resource(path: str) -> tuple[str, tuple[str, ...]] | None:
    """A local file inside an installed package -> (package, parts inside it); else None."""
    if is_url(path) or "://" in path:
        return None
    resolved = Path(path).resolve()
    package = _package_dir(resolved.parent)
    if package is None:
        return None
    return package.name, resolved.relative_to(package).parts


def _location(model: ModelEntry, file: FileEntry) -> Code:
    """Where a file is, as code that holds on any install: a package resource, else the URL or path.

    A file shipped inside an installed package (the built-in zoo) is named
    through `importlib.resources`, so the code never carries this machine's
    site-packages path.
    """
    location = model.locate(file)
    if is_object_url(location):
        check_destination(location)  # the code never sends credentials where the index chose
    resource = package_resource(location)
    if resource is None:
        return Code(_lit(location))
    package, parts = resource
    return Code(f"{_call('importlib.resources.files', package)}.{_call('joinpath', *parts)}")


# Libraries whose weights files follow torch.hub's naming rule (`resnet50-11ad3fa6.pth`: sha256 starts 11ad3fa6).
HASH_NAMED = ("torchvision", "torch.hub")


def hash_prefix(model: ModelEntry, file: FileEntry) -> str | None:
    """The sha256 prefix a file's name promises, for libraries that name files torch.hub's way."""
    if model.library not in HASH_NAMED or file.sha256 is not None:
        return None
    from ..fetch.api import hash_prefix_of_name

    return hash_prefix_of_name(model.locate(file))


def _fetch_call(model: ModelEntry, file: FileEntry) -> Code:
    """`cz.fetch(<url, path or resource>, sha256=..., size=...)`: download/verify, return the local path."""
    prefix = hash_prefix(model, file)
    return Code(_call("cz.fetch", _location(model, file), sha256=file.sha256, size=file.size, sha256_prefix=prefix))


def _imports(model: ModelEntry, files: list[FileEntry], *lines: str) -> list[str]:
    """The snippet's imports: `importlib.resources` first when a file is a package resource."""
    uses_resources = any(package_resource(model.locate(f)) for f in files)
    return ([RESOURCES_IMPORT, ""] if uses_resources else []) + list(lines)


def _files(checkpoint: Checkpoint, *formats: str) -> list[FileEntry]:
    return [f for f in checkpoint.files if f.format in formats]


def _ref(model: ModelEntry, checkpoint: Checkpoint) -> str:
    return f"{model.local_id}@{checkpoint.name}"


def _snippet(*lines: str) -> str:
    return "\n".join(lines).strip() + "\n"


# --- variable names -----------------------------------------------------------

_MAX_NAME = 48
# Names a snippet itself uses, and builtins a student would miss if shadowed.
_TAKEN = {"cz", "torch", "timm", "keras", "onnxruntime", "torchvision", "importlib", "load_file", "transformers"}
_TAKEN |= {"mlflow", "os", "kagglehub", "tensorflow_hub"}
_TAKEN |= set(dir(__import__("builtins")))


# Set by `generate(..., qualified=True)` for the generator it calls: name after the whole id.
_QUALIFIED: ContextVar[bool] = ContextVar("ckptzoo_qualified_names", default=False)


def _words(text: str) -> list[str]:
    return [w for w in re.split(r"[^a-z0-9]+", text.lower()) if w]


def names_alike(model_id: str, other_id: str) -> bool:
    """Whether `other_id`'s load code may name its variable as `model_id`'s does.

    Names come from the words of an id's last part (org1/mlp and org2/mlp are
    both `mlp`); a merge may put a source's label before them (`runs.mlp`),
    so `other_id` is alike when its last part ends with the same words.
    """
    words, other = _words(model_id.rpartition("/")[2]), _words(other_id.rpartition("/")[2])
    return bool(words) and other[-len(words) :] == words


def variable_name(model: ModelEntry, checkpoint: Checkpoint, suffix: str = "") -> str:
    """The name load code assigns to: model and checkpoint, e.g. `mlp_epoch_1` for digits-mlp@epoch-1.

    Built only from the validated model id and checkpoint name (ASCII letters,
    digits, `._-`): the words of the id's last part (of the whole id, org
    included, when `generate` is told the short name is shared in the zoo),
    less words that only repeat the training data (`digits` of
    `sklearn-digits`), then the checkpoint's words when the model has more
    than one checkpoint. Always a valid identifier, never a keyword, a
    builtin or a name the snippet imports.
    """
    words = _words(model.id if _QUALIFIED.get() else model.local_id.rpartition("/")[2])
    data_words = {w for dataset in model.datasets for w in _words(dataset)}
    words = [w for w in words if w not in data_words] or words
    if len(model.checkpoints) > 1:
        words += _words(checkpoint.name)
    name = "_".join(words)[:_MAX_NAME].strip("_") or "model"
    if name[0].isdigit():
        name = f"model_{name}"
    if suffix:
        name = f"{name}_{suffix}"
    if keyword.iskeyword(name) or keyword.issoftkeyword(name) or name in _TAKEN:
        name = f"{name}_model"
    assert name.isidentifier(), name  # words are [a-z0-9]+ joined by "_": cannot fail
    return name


# Comments above load code that would run code from the model's files, and how it is gated
# (load_gates.py). Fixed text: nothing from the index reaches a comment.
GATE_NOTES = {
    "mlflow": (
        "# MLflow's loader unpickles the model's files and imports its code: that runs code.",
        "# cz.scanned_mlflow_model downloads the model and scans every pickle in it first; it refuses",
        "# (and names what would be imported) unless you pass trust=True.",
    ),
    "torch.hub": ("# torch.hub runs the repo's hubconf.py; trust_repo=check asks before a repo it has not seen.",),
}


def executes(model: ModelEntry, checkpoint: Checkpoint, library: str) -> bool:
    """Whether `library`'s load code for this checkpoint runs code that comes with the model (gated)."""
    if library == "mlflow":
        return (checkpoint.uri or "").startswith("models:/")
    return library == "torch.hub"
