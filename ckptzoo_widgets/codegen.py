"""Load code: one small pure function per library, (model, checkpoint) -> Python source.

Rules: values from an index reach the code only as
Python literals (`repr` of validated strings and numbers), never spliced as
text; every call argument is a constant (or a call of the same kind); each
snippet pins the exact checkpoint (`revision=`, the timm `arch.tag`, the file
and its sha256). A snippet never runs by itself: the user runs the cell.
"""

from __future__ import annotations

import ast
import functools
import importlib.util
import keyword
import re
import sys
from collections.abc import Callable, Mapping
from contextvars import ContextVar
from pathlib import Path

from .errors import ZooError
from .safety import is_url
from .schema import Checkpoint, FileEntry, ModelEntry, format_from_name
from .storage import check_destination, is_object_url

BUILTIN = "builtin"

# pipeline_tag -> transformers Auto class. Our own table: a class name is code,
# so it never comes from the index.
AUTO_CLASSES = {
    "text-generation": "AutoModelForCausalLM",
    "fill-mask": "AutoModelForMaskedLM",
    "text-classification": "AutoModelForSequenceClassification",
    "token-classification": "AutoModelForTokenClassification",
    "question-answering": "AutoModelForQuestionAnswering",
    "summarization": "AutoModelForSeq2SeqLM",
    "translation": "AutoModelForSeq2SeqLM",
    "text2text-generation": "AutoModelForSeq2SeqLM",
    "image-classification": "AutoModelForImageClassification",
    "object-detection": "AutoModelForObjectDetection",
    "automatic-speech-recognition": "AutoModelForSpeechSeq2Seq",
    "audio-classification": "AutoModelForAudioClassification",
}


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
    from .fetch.api import hash_prefix_of_name

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


# --- one generator per library ----------------------------------------------


def ckptzoo_code(model: ModelEntry, checkpoint: Checkpoint) -> str:
    zoo = None if model.source in ("", BUILTIN) else model.source
    name = variable_name(model, checkpoint)
    # The bare name on the last line: running the cell shows what was loaded (ref, file, sha256).
    return _snippet(
        "import ckptzoo_widgets as cz",
        "",
        f"{name} = {_call('cz.load', _ref(model, checkpoint), zoo=zoo)}",
        name,
    )


def _state_dict_code(
    model: ModelEntry, checkpoint: Checkpoint, file_format: str, imports: list[str], loader: str, **kwargs: object
) -> str:
    files = _files(checkpoint, file_format)
    name = variable_name(model, checkpoint, "state_dict")
    if len(files) == 1:
        body = [f"{name} = {_call(loader, _fetch_call(model, files[0]), **kwargs)}"]
    else:  # sharded checkpoint: one call per shard
        body = [f"{name} = {{}}"]
        body += [f"{name}.update({_call(loader, _fetch_call(model, f), **kwargs)})" for f in files]
    return _snippet(*_imports(model, files, "import ckptzoo_widgets as cz", *imports), "", *body)


def safetensors_numpy_code(model: ModelEntry, checkpoint: Checkpoint) -> str:
    return _state_dict_code(model, checkpoint, "safetensors", ["from safetensors.numpy import load_file"], "load_file")


def safetensors_torch_code(model: ModelEntry, checkpoint: Checkpoint) -> str:
    return _state_dict_code(
        model, checkpoint, "safetensors", ["from safetensors.torch import load_file"], "load_file", device="cpu"
    )


def torch_state_dict_code(model: ModelEntry, checkpoint: Checkpoint) -> str:
    # weights_only=True: a pickle may only rebuild tensors, never import code.
    return _state_dict_code(
        model, checkpoint, "pytorch", ["import torch"], "torch.load", map_location="cpu", weights_only=True
    )


def transformers_code(model: ModelEntry, checkpoint: Checkpoint) -> str:
    auto_class = AUTO_CLASSES.get(model.task or "", "AutoModel")
    name = variable_name(model, checkpoint)
    loaded = _call(f"{auto_class}.from_pretrained", model.repo, revision=checkpoint.revision or "main")
    return _snippet(f"from transformers import {auto_class}", "", f"{name} = {loaded}")


def timm_name(model: ModelEntry) -> str:
    """timm's pretrained name `arch.tag` (the last part of the id: `timm/resnet50.a1_in1k`)."""
    return model.local_id.rpartition("/")[2]


def timm_code(model: ModelEntry, checkpoint: Checkpoint) -> str:
    name = variable_name(model, checkpoint)
    loaded = _call("timm.create_model", timm_name(model), pretrained=True)
    return _snippet("import timm", "", f"{name} = {loaded}", f"{name}.eval()")


def torchvision_code(model: ModelEntry, checkpoint: Checkpoint) -> str:
    name = variable_name(model, checkpoint)
    loaded = _call("torchvision.models.get_model", model.architecture, weights=checkpoint.revision)
    return _snippet("import torchvision", "", f"{name} = {loaded}", f"{name}.eval()")


def torch_hub_code(model: ModelEntry, checkpoint: Checkpoint) -> str:
    name = variable_name(model, checkpoint)
    if model.library == "torchvision":  # torchvision's hubconf: the weights by name, as get_model takes them
        loaded = _call(
            "torch.hub.load", model.repo, model.architecture, weights=checkpoint.revision, trust_repo="check"
        )
        return _snippet("import torch", "", *GATE_NOTES["torch.hub"], f"{name} = {loaded}", f"{name}.eval()")
    repo = f"{model.repo}:{checkpoint.revision}" if checkpoint.revision else model.repo
    # trust_repo="check": torch.hub asks before running code from a repo it has not seen.
    loaded = _call("torch.hub.load", repo, model.architecture, pretrained=True, trust_repo="check")
    return _snippet("import torch", "", *GATE_NOTES["torch.hub"], f"{name} = {loaded}")


# A kagglehub model handle: owner/model/framework/variation/version (Kaggle Models, sources/kaggle.py).
_KAGGLE_HANDLE = re.compile(
    r"[A-Za-z0-9][A-Za-z0-9._-]*/[A-Za-z0-9][A-Za-z0-9._-]*/[A-Za-z0-9]+/[A-Za-z0-9][A-Za-z0-9._-]*/[0-9]+"
)
KAGGLE_WEB = "https://www.kaggle.com/models/"


def _kaggle_handle(model: ModelEntry, checkpoint: Checkpoint) -> str | None:
    revision = checkpoint.revision or ""
    return revision if model.library == "kagglehub" and _KAGGLE_HANDLE.fullmatch(revision) else None


def kagglehub_code(model: ModelEntry, checkpoint: Checkpoint) -> str:
    path = variable_name(model, checkpoint, "path")
    # kagglehub reads the user's own Kaggle credentials; none are in the code.
    loaded = _call("kagglehub.model_download", _kaggle_handle(model, checkpoint))
    return _snippet("import kagglehub", "", f"{path} = {loaded}", path)


def _tensorflow_instance(model: ModelEntry, checkpoint: Checkpoint) -> bool:
    handle = _kaggle_handle(model, checkpoint)
    return handle is not None and handle.split("/")[2].lower() in ("tensorflow1", "tensorflow2")


def tensorflow_hub_code(model: ModelEntry, checkpoint: Checkpoint) -> str:
    name = variable_name(model, checkpoint)
    url = KAGGLE_WEB + str(_kaggle_handle(model, checkpoint))  # what tfhub.dev handles now resolve to
    return _snippet("import tensorflow_hub", "", f"{name} = {_call('tensorflow_hub.KerasLayer', url)}")


def onnxruntime_code(model: ModelEntry, checkpoint: Checkpoint) -> str:
    file = _files(checkpoint, "onnx")[0]
    session = _call(
        "onnxruntime.InferenceSession", _fetch_call(model, file), providers=Code("['CPUExecutionProvider']")
    )
    name = variable_name(model, checkpoint, "session")
    imports = _imports(model, [file], "import ckptzoo_widgets as cz", "import onnxruntime")
    return _snippet(*imports, "", f"{name} = {session}")


def keras_code(model: ModelEntry, checkpoint: Checkpoint) -> str:
    file = _files(checkpoint, "keras", "h5")[0]
    # safe_mode=True: refuse lambda layers that would deserialise arbitrary code.
    loaded = _call("keras.saving.load_model", _fetch_call(model, file), safe_mode=True)
    name = variable_name(model, checkpoint)
    imports = _imports(model, [file], "import ckptzoo_widgets as cz", "import keras")
    return _snippet(*imports, "", f"{name} = {loaded}")


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


def mlflow_code(model: ModelEntry, checkpoint: Checkpoint) -> str:
    """MLflow's own loading, pinned by `checkpoint.uri` (runs:/<run id>/<path>, models:/m-<id>, models:/<name>/<v>)."""
    tracking_uri = model.source.removeprefix("mlflow:").partition("?")[0]  # made absolute by the reader
    uri = checkpoint.uri
    imports, lines = ["import mlflow"], [f"mlflow.set_tracking_uri({_lit(tracking_uri)})"]
    if tracking_uri.startswith("file:"):  # MLflow 3 reads an mlruns/ folder only when allowed
        imports.insert(0, "import os")
        lines.insert(0, 'os.environ.setdefault("MLFLOW_ALLOW_FILE_STORE", "true")')
    if uri is not None and uri.startswith("models:/"):
        # MLflow's loaders unpickle the model's files and import its code: scanned first (load_gates).
        loader = "mlflow.pytorch.load_model" if model.framework == "pytorch" else "mlflow.pyfunc.load_model"
        name = variable_name(model, checkpoint)
        scanned = Code(_call("cz.scanned_mlflow_model", uri))
        imports.insert(imports.index("import mlflow"), "import ckptzoo_widgets as cz")
        lines += [*GATE_NOTES["mlflow"], f"{name} = {_call(loader, scanned)}"]
        return _snippet(*imports, "", *lines)
    path = variable_name(model, checkpoint, "path")
    lines.append(f"{path} = {_call('mlflow.artifacts.download_artifacts', artifact_uri=uri)}")
    state_dict = variable_name(model, checkpoint, "state_dict")
    file_format = format_from_name(uri or "")
    if file_format == "safetensors":
        imports.append(f"from safetensors.{'torch' if model.framework == 'pytorch' else 'numpy'} import load_file")
        lines.append(f"{state_dict} = load_file({path})")
    elif file_format == "pytorch":  # weights_only=True: a pickle may only rebuild tensors
        imports.append("import torch")
        lines.append(f'{state_dict} = torch.load({path}, map_location="cpu", weights_only=True)')
    return _snippet(*imports, "", *lines)


Applies = Callable[[ModelEntry, Checkpoint], bool]
Generator = Callable[[ModelEntry, Checkpoint], str]


def _has(*formats: str) -> Applies:
    return lambda model, checkpoint: bool(_files(checkpoint, *formats))


def _library(*names: str) -> Applies:
    return lambda model, checkpoint: (model.library or "") in names


def _ckptzoo_applies(model: ModelEntry, checkpoint: Checkpoint) -> bool:
    if model.library == "torchvision":  # cz.load: the verified download, built by torchvision (torchvision_load.py)
        return _torchvision_applies(model, checkpoint) and len(_files(checkpoint, "pytorch")) == 1
    return model.library == "ckptzoo" and bool(_files(checkpoint, "safetensors"))


def _torchvision_applies(model: ModelEntry, checkpoint: Checkpoint) -> bool:
    return model.library == "torchvision" and bool(model.architecture and checkpoint.revision)


# library -> (applies?, generator). Order is the fallback preference.
GENERATORS: dict[str, tuple[Applies, Generator]] = {
    "ckptzoo": (_ckptzoo_applies, ckptzoo_code),
    "transformers": (lambda m, c: m.library == "transformers" and m.repo is not None, transformers_code),
    "timm": (_library("timm"), timm_code),
    "torchvision": (_torchvision_applies, torchvision_code),
    "torch.hub": (
        lambda m, c: bool(m.repo and m.architecture) and (m.library == "torch.hub" or _torchvision_applies(m, c)),
        torch_hub_code,
    ),
    "kagglehub": (lambda m, c: _kaggle_handle(m, c) is not None, kagglehub_code),
    "tensorflow_hub": (_tensorflow_instance, tensorflow_hub_code),
    "safetensors-numpy": (_has("safetensors"), safetensors_numpy_code),
    "safetensors-torch": (_has("safetensors"), safetensors_torch_code),
    "torch": (_has("pytorch"), torch_state_dict_code),
    "onnxruntime": (_has("onnx"), onnxruntime_code),
    "keras": (_has("keras", "h5"), keras_code),
    "mlflow": (lambda m, c: c.uri is not None and m.source.startswith("mlflow:"), mlflow_code),
}
# What a model's `library` field asks for, when it names a generator differently.
LIBRARY_ALIASES = {"safetensors": "safetensors-torch", "pytorch": "torch", "onnx": "onnxruntime", "tf-keras": "keras"}


def libraries_for(model: ModelEntry, checkpoint: Checkpoint) -> list[str]:
    """Generators that apply, the model's own library first, safetensors before pickles.

    When the first one would run code from the model's files (`executes`) and another applies
    that does not, that one comes first: the default is the safe one where there is one.
    """
    applicable = [name for name, (applies, _) in GENERATORS.items() if applies(model, checkpoint)]
    preferred = LIBRARY_ALIASES.get(model.library or "", model.library or "")
    if preferred in applicable:
        applicable.remove(preferred)
        applicable.insert(0, preferred)
    if applicable and executes(model, checkpoint, applicable[0]):
        safe = [name for name in applicable if not executes(model, checkpoint, name)]
        applicable = safe + [name for name in applicable if name not in safe]
    return applicable


def generate(model: ModelEntry, checkpoint: Checkpoint, library: str | None = None, *, qualified: bool = False) -> str:
    """The load code for one checkpoint, with `library` or the best one that applies.

    `qualified`: another model of the zoo has the same short name (`names_alike`),
    so variables are named after the whole id (`org1_mlp_epoch_1`, `org2_mlp_epoch_1`).
    """
    applicable = libraries_for(model, checkpoint)
    if library is None:
        if not applicable:
            raise ZooError(
                f"no load code for {model.id}@{checkpoint.name}: it has no files in a known format "
                "and no library that loads it by name"
            )
        library = applicable[0]
    if library not in GENERATORS:
        raise ZooError(f"unknown library {library!r}; known: {', '.join(GENERATORS)}")
    if library not in applicable:
        raise ZooError(
            f"{library} code does not apply to {model.id}@{checkpoint.name}; "
            f"applicable: {', '.join(applicable) or 'none'}"
        )
    token = _QUALIFIED.set(qualified)
    try:
        return GENERATORS[library][1](model, checkpoint)
    finally:
        _QUALIFIED.reset(token)


# --- the same code as a marimo cell ------------------------------------------------

_MISSING = object()
_DROPPED = "\x00"  # the line of an import the cell does without


def _bound_to(statement: ast.Import | ast.ImportFrom, alias: ast.alias) -> object:
    """What the import would bind, when this process already has it (else a marker that matches nothing)."""
    if isinstance(statement, ast.ImportFrom):
        module = sys.modules.get(statement.module or "")
        return _MISSING if module is None else getattr(module, alias.name, _MISSING)
    return sys.modules.get(alias.name, _MISSING)


def marimo_cell(code: str, bound: Mapping[str, object]) -> str:
    """Load code as a cell marimo accepts: no name that another cell of the notebook defines is bound again.

    marimo refuses a cell that redefines a name another cell defines, and
    ``import ckptzoo_widgets as cz`` is in most notebooks already. `bound` is
    what the notebook defines (`widget/front_end.marimo_globals`). Each import of
    the snippet is dropped when the notebook binds its name to the same
    module or object (the code then uses the notebook's ``cz``), and is
    otherwise made cell-local (``import torch as _torch``: marimo keeps names
    that start with ``_`` to their cell) with every use renamed. The loaded
    variable keeps its name: it is what the cell is for.
    """
    tree = ast.parse(code)
    lines = code.splitlines(keepends=True)
    renamed: dict[str, str] = {}  # a name the snippet imports -> its cell-local name
    dotted: dict[str, str] = {}  # `import a.b`: the chain a.b -> _a_b
    edits: list[tuple[int, int, int, int, str]] = []  # (line, col, end line, end col, text); cols in UTF-8 bytes
    for statement in tree.body:
        if not isinstance(statement, ast.Import | ast.ImportFrom):
            continue
        kept: list[str] = []
        for alias in statement.names:
            name = alias.asname or alias.name
            if "." in name:  # `import importlib.resources`
                local = "_" + name.replace(".", "_")
                dotted[name] = local
                kept.append(f"import {alias.name} as {local}")
                continue
            if bound.get(name, _MISSING) is _bound_to(statement, alias) is not _MISSING:
                continue  # the notebook has it under this name: use the notebook's
            renamed[name] = "_" + name
            if isinstance(statement, ast.ImportFrom):
                kept.append(f"from {'.' * statement.level}{statement.module or ''} import {alias.name} as _{name}")
            else:
                kept.append(f"import {alias.name} as _{name}")
        end_line = statement.end_lineno or statement.lineno
        end_col = len(lines[end_line - 1].rstrip("\r\n").encode())
        edits.append((statement.lineno, 0, end_line, end_col, "\n".join(kept) or _DROPPED))
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and node.id in renamed:
            edits.append(
                (
                    node.lineno,
                    node.col_offset,
                    node.end_lineno or node.lineno,
                    node.end_col_offset or 0,
                    renamed[node.id],
                )
            )
        elif isinstance(node, ast.Attribute) and dotted and ast.unparse(node) in dotted:
            end = (node.end_lineno or node.lineno, node.end_col_offset or 0)
            edits.append((node.lineno, node.col_offset, *end, dotted[ast.unparse(node)]))
    text = [line.encode() for line in lines]
    for line, col, end_line, end_col, new in sorted(edits, reverse=True):
        head, tail = text[line - 1][:col], text[end_line - 1][end_col:]
        text[line - 1 : end_line] = [head + new.encode() + tail]
    kept_lines = [line.decode().rstrip("\r\n") for line in text]
    return _snippet(*(line for line in kept_lines if line != _DROPPED))  # blank lines left at the top go
