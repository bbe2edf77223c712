"""Load code: parses, every call argument is a literal, literals equal the index's values."""

import ast
import builtins
import json
import keyword
import re
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import ckptzoo_widgets as cz
from ckptzoo_widgets import codegen
from ckptzoo_widgets.schema import ModelEntry

SHA = "0123456789abcdef" * 4


def model(**fields) -> ModelEntry:
    checkpoints = fields.pop("checkpoints")
    entry = ModelEntry.model_validate({"id": fields.pop("id", "org/m"), "checkpoints": checkpoints, **fields})
    return entry.with_origin("https://zoo.example/index.json", "https://zoo.example/")


def files(*names):
    return [{"path": f"weights/{name}", "sha256": SHA, "size": 1234} for name in names]


CASES = {
    "ckptzoo": model(library="ckptzoo", checkpoints=[{"name": "epoch-3", "files": files("a.safetensors")}]),
    "transformers": model(
        id="EleutherAI/pythia-70m",
        library="transformers",
        task="text-generation",
        repo="EleutherAI/pythia-70m",
        checkpoints=[{"name": "step3000", "revision": "step3000"}],
    ),
    "timm": model(id="timm/resnet50.a1_in1k", library="timm", checkpoints=[{"name": "main"}]),
    "torchvision": model(
        id="resnet50",
        library="torchvision",
        architecture="resnet50",
        checkpoints=[{"name": "v2", "revision": "ResNet50_Weights.IMAGENET1K_V2"}],
    ),
    "torch.hub": model(
        id="dino",
        library="torch.hub",
        repo="facebookresearch/dino",
        architecture="dino_vits16",
        checkpoints=[{"name": "main", "revision": "main"}],
    ),
    "kagglehub": model(
        id="google/gemma",
        library="kagglehub",
        checkpoints=[{"name": "keras.gemma_2b_en.v3", "revision": "google/gemma/keras/gemma_2b_en/3"}],
    ),
    "tensorflow_hub": model(
        id="google/mobilenet-v2",
        library="kagglehub",
        checkpoints=[{"name": "tf2.v2", "revision": "google/mobilenet-v2/tensorFlow2/100-224-classification/2"}],
    ),
    "safetensors-numpy": model(checkpoints=[{"name": "c1", "files": files("m.safetensors")}]),
    "safetensors-torch": model(checkpoints=[{"name": "c1", "files": files("m-1.safetensors", "m-2.safetensors")}]),
    "torch": model(checkpoints=[{"name": "c1", "files": files("pytorch_model.bin")}]),
    "onnxruntime": model(checkpoints=[{"name": "c1", "files": files("model.onnx")}]),
    "keras": model(checkpoints=[{"name": "c1", "files": files("model.keras")}]),
    "mlflow": model(library="mlflow", checkpoints=[{"name": "v2", "uri": "models:/digits-clf/2"}]).with_origin(
        "mlflow:http://127.0.0.1:5000?experiment=digits", ""
    ),
}


def literal_only(tree: ast.AST) -> list[str]:
    """Call arguments that are not constants (nested calls and lists of constants are fine)."""
    bad = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            for argument in [*node.args, *(k.value for k in node.keywords)]:
                if isinstance(argument, (ast.Constant, ast.Call)):
                    continue
                if isinstance(argument, (ast.List, ast.Tuple)) and all(
                    isinstance(e, ast.Constant) for e in argument.elts
                ):
                    continue
                bad.append(ast.unparse(argument))
    return bad


def constants(code: str) -> set:
    return {node.value for node in ast.walk(ast.parse(code)) if isinstance(node, ast.Constant)}


def test_every_library_has_a_case():
    assert set(CASES) == set(codegen.GENERATORS)


@pytest.mark.parametrize("library", sorted(CASES))
def test_snippet_parses_is_literal_only_and_pins_the_checkpoint(library):
    entry = CASES[library]
    checkpoint = entry.checkpoints[0]
    code = codegen.generate(entry, checkpoint, library)
    tree = ast.parse(code)
    assert literal_only(tree) == [], code
    values = constants(code)
    # File-based code names the file and its hash; cz.load checks them against the index itself.
    file_based = library not in ("ckptzoo", "transformers", "timm", "torchvision", "torch.hub", "kagglehub")
    file_based = file_based and library != "tensorflow_hub"
    for file in codegen._files(checkpoint, "safetensors", "pytorch", "onnx", "keras") if file_based else []:
        assert entry.locate(file) in values and SHA in values and 1234 in values
    if library == "ckptzoo":
        assert "org/m@epoch-3" in values and "https://zoo.example/index.json" in values
    if library == "transformers":
        assert {"EleutherAI/pythia-70m", "step3000"} <= values and "AutoModelForCausalLM" in code
    if library == "timm":
        assert "resnet50.a1_in1k" in values and True in values
    if library == "torchvision":
        assert {"resnet50", "ResNet50_Weights.IMAGENET1K_V2"} <= values
    if library == "torch.hub":
        assert {"facebookresearch/dino:main", "dino_vits16", "check"} <= values
    if library == "kagglehub":
        assert "google/gemma/keras/gemma_2b_en/3" in values
    if library == "tensorflow_hub":
        assert "https://www.kaggle.com/models/google/mobilenet-v2/tensorFlow2/100-224-classification/2" in values
    if library == "torch":
        assert "weights_only=True" in code
    if library == "safetensors-torch":
        assert code.count("cz.fetch(") == 2  # one call per shard
    if library == "mlflow":
        assert {"models:/digits-clf/2", "http://127.0.0.1:5000"} <= values


def test_default_library_and_preference_order():
    assert codegen.libraries_for(CASES["ckptzoo"], CASES["ckptzoo"].checkpoints[0])[0] == "ckptzoo"
    both = model(library="pytorch", checkpoints=[{"name": "c", "files": files("a.safetensors", "b.bin")}])
    assert codegen.libraries_for(both, both.checkpoints[0]) == ["torch", "safetensors-numpy", "safetensors-torch"]
    plain = model(checkpoints=[{"name": "c", "files": files("a.safetensors", "b.bin")}])
    assert codegen.libraries_for(plain, plain.checkpoints[0])[0] == "safetensors-numpy"


def test_library_that_does_not_apply_is_a_clear_error():
    entry = CASES["timm"]
    with pytest.raises(cz.ZooError, match="keras code does not apply.*applicable: timm"):
        codegen.generate(entry, entry.checkpoints[0], "keras")
    with pytest.raises(cz.ZooError, match="unknown library 'tensorflow2'"):
        codegen.generate(entry, entry.checkpoints[0], "tensorflow2")
    bare = model(checkpoints=[{"name": "c"}])
    with pytest.raises(cz.ZooError, match="no load code"):
        codegen.generate(bare, bare.checkpoints[0])


url_tails = st.text(st.characters(min_codepoint=33, max_codepoint=0x2FFF, exclude_characters="#?"), max_size=30)


@settings(max_examples=150, suppress_health_check=[HealthCheck.too_slow])
@given(tail=url_tails, revision=st.from_regex(r"[A-Za-z0-9][A-Za-z0-9._-]{0,20}", fullmatch=True))
def test_hostile_values_stay_literals(tail, revision):
    # Whatever text an index carries (quotes, newlines, code), it reaches the snippet as a literal.
    url = "https://host.example/" + tail
    try:
        entry = model(checkpoints=[{"name": "c", "revision": revision, "files": [{"url": url, "sha256": SHA}]}])
    except Exception:
        return  # rejected by validation: never reaches codegen
    for library in codegen.libraries_for(entry, entry.checkpoints[0]):
        code = codegen.generate(entry, entry.checkpoints[0], library)
        tree = ast.parse(code)
        assert literal_only(tree) == []
        assert url in constants(code)
        # Only our own statements: imports and assignments/calls, never a statement the data made.
        assert all(isinstance(s, (ast.Import, ast.ImportFrom, ast.Assign, ast.Expr)) for s in tree.body)


ids = st.from_regex(r"[A-Za-z0-9][A-Za-z0-9._-]{0,40}(/[A-Za-z0-9][A-Za-z0-9._-]{0,40})?", fullmatch=True)
names = st.from_regex(r"[A-Za-z0-9][A-Za-z0-9._-]{0,40}", fullmatch=True)


def _shaped_like(case: ModelEntry, model_id: str, checkpoint_names: list[str]) -> ModelEntry | None:
    """The test case of one library with a different id and checkpoint names (None when invalid)."""
    data = case.model_dump(mode="json", exclude_none=True)
    template = data["checkpoints"][0]
    data["checkpoints"] = [{**template, "name": name} for name in checkpoint_names]
    data["id"] = model_id
    try:
        return model(**data).with_origin(case.source, case.base)
    except Exception:
        return None


@settings(max_examples=150, suppress_health_check=[HealthCheck.too_slow])
@given(ids, st.lists(names, min_size=1, max_size=3, unique=True), st.sampled_from(sorted(CASES)))
def test_any_valid_ref_gives_literal_code_with_a_plain_variable_name(model_id, checkpoint_names, library):
    entry = _shaped_like(CASES[library], model_id, checkpoint_names)
    if entry is None:
        return  # rejected by validation: never reaches codegen
    for checkpoint in entry.checkpoints:
        code = codegen.generate(entry, checkpoint, library)
        tree = ast.parse(code)
        assert literal_only(tree) == [], code
        assigned = {t.id for s in tree.body if isinstance(s, ast.Assign) for t in s.targets}
        assert len(assigned) == 1, code
        name = assigned.pop()
        assert name.isidentifier() and not keyword.iskeyword(name) and not keyword.issoftkeyword(name)
        assert name not in dir(builtins) and len(name) <= 70
        assert re.fullmatch(r"[a-z][a-z0-9_]*", name)  # only letters, digits, '_' from the validated ids
        if library == "ckptzoo":
            assert f"{model_id}@{checkpoint.name}" in constants(code)


@pytest.mark.parametrize(
    ("model_id", "checkpoints", "datasets", "expected"),
    [
        ("digits-mlp", ["epoch-0", "epoch-1"], ["sklearn-digits"], "mlp_epoch_1"),
        ("EleutherAI/pythia-70m", ["step0", "step3000"], ["EleutherAI/pile"], "pythia_70m_step3000"),
        ("timm/resnet50.a1_in1k", ["main"], [], "resnet50_a1_in1k"),  # one checkpoint: the model says it all
        ("7b", ["a", "b"], [], "model_7b_b"),  # never starts with a digit
        ("lambda", ["only"], [], "lambda_model"),  # never a keyword
        ("list", ["only"], [], "list_model"),  # never shadows a builtin
        ("digits", ["x"], ["digits"], "digits"),  # nothing left after the data words: keep the id
    ],
)
def test_variable_name_is_model_and_checkpoint(model_id, checkpoints, datasets, expected):
    entry = model(
        id=model_id, datasets=datasets, checkpoints=[{"name": n, "files": files("w.safetensors")} for n in checkpoints]
    )
    assert codegen.variable_name(entry, entry.checkpoints[-1]) == expected


def test_builtin_code_names_the_variable_after_model_and_checkpoint():
    zoo = cz.open_zoo()
    code = zoo.load_code("digits-mlp@epoch-1")
    assert code == 'import ckptzoo_widgets as cz\n\nmlp_epoch_1 = cz.load("digits-mlp@epoch-1")\nmlp_epoch_1\n'
    assert "cnn_epoch_5_state_dict = load_file(" in zoo.load_code("digits-cnn@epoch-5", library="safetensors-numpy")


def test_models_with_the_same_short_name_get_different_variable_names(tmp_path):
    from ckptzoo_widgets.catalog import Zoo

    def entry(model_id):
        return model(
            id=model_id, checkpoints=[{"name": n, "files": files("w.safetensors")} for n in ("epoch-0", "epoch-1")]
        )

    zoo = Zoo([entry("org1/mlp"), entry("org2/mlp"), entry("org1/cnn")])
    names = {
        ref: re.match(r"(\w+) = ", zoo.load_code(ref).split("\n\n")[1]).group(1)
        for ref in ("org1/mlp@epoch-1", "org2/mlp@epoch-1", "org1/cnn@epoch-1")
    }
    assert names == {
        "org1/mlp@epoch-1": "org1_mlp_epoch_1_state_dict",
        "org2/mlp@epoch-1": "org2_mlp_epoch_1_state_dict",
        "org1/cnn@epoch-1": "cnn_epoch_1_state_dict",
    }  # a short name nobody else has stays short
    # every library's code takes the qualified name
    assert "org2_mlp_epoch_1_state_dict = load_file(" in zoo.load_code("org2/mlp@epoch-1", library="safetensors-numpy")
    # a merge that had to prefix an id: the two digits-mlp differ in the notebook too
    runs = tmp_path / "runs" / "digits-mlp"
    runs.mkdir(parents=True)
    from fixtures.make_runs import weights

    weights(runs / "w.safetensors", 1)
    merged = cz.open_zoo(["builtin", str(tmp_path / "runs")])
    builtin_code, runs_code = merged.load_code("digits-mlp@epoch-1"), merged.load_code("runs.digits-mlp@w")
    assert "mlp_epoch_1 = " in builtin_code and "runs_digits_mlp" not in builtin_code
    assert re.search(r"^runs_\w*mlp\w* = ", runs_code, re.M) and not re.search(r"^mlp\w* = ", runs_code, re.M)


def test_names_alike():
    assert codegen.names_alike("org1/mlp", "org2/mlp") and codegen.names_alike("digits-mlp", "runs.digits-mlp")
    assert codegen.names_alike("a/My-MLP", "b/my_mlp")  # the same words, as the variable name sees them
    assert not codegen.names_alike("org1/mlp", "org1/cnn") and not codegen.names_alike("org/mlp-big", "org/mlp")


# --- portable code: what runs here runs on another install ------------------------------------

PACKAGE = Path(cz.__file__).resolve().parent

RUN_EVERY_SNIPPET = textwrap.dedent("""
    import json, sys
    import numpy as np
    import ckptzoo_widgets as cz
    from ckptzoo_widgets.numpy_nets import DigitsClassifier

    cases = json.loads(sys.stdin.read())
    X, y = cz.digits_validation()
    results = {"package": cz.__file__, "accuracy": {}}
    for case in cases:
        namespace = {}
        exec(compile(case["code"], case["key"], "exec"), namespace)
        loaded = namespace[case["name"]]
        if isinstance(loaded, dict):  # a state dict (numpy or torch tensors)
            params = {k: np.asarray(v.numpy() if hasattr(v, "numpy") else v) for k, v in loaded.items()}
            loaded = DigitsClassifier(case["arch"], params)
        results["accuracy"][case["key"]] = float((loaded.predict(X) == y).mean())
    print(json.dumps(results))
""")


def _copy_of_the_package(root: Path) -> Path:
    """The package copied to another path, as another machine would have it installed."""
    shutil.copytree(PACKAGE, root / "ckptzoo_widgets", ignore=shutil.ignore_patterns("__pycache__"))
    return root


def test_builtin_code_of_every_library_runs_from_a_copy_of_the_package_offline(tmp_path):
    """Every built-in checkpoint x every library: generated here, run by a fresh Python that imports a copy."""
    pytest.importorskip("torch")
    zoo = cz.open_zoo()
    cases, expected = [], {}
    for model_id in zoo.models["id"]:
        entry = zoo.model(model_id)
        for checkpoint in entry.checkpoints:
            ref = f"{model_id}@{checkpoint.name}"
            libraries = zoo.code_libraries(ref)
            assert libraries == ["ckptzoo", "safetensors-numpy", "safetensors-torch"]
            for library in libraries:
                code = zoo.load_code(ref, library)
                assert str(PACKAGE) not in code and "/" + PACKAGE.name + "/" not in code  # no path of this machine
                (name,) = {t.id for s in ast.parse(code).body if isinstance(s, ast.Assign) for t in s.targets}
                key = f"{ref} {library}"
                cases.append({"key": key, "code": code, "name": name, "arch": entry.architecture})
                expected[key] = checkpoint.metrics["val_accuracy"]
    elsewhere = _copy_of_the_package(tmp_path / "site")
    env = {
        "PATH": "/usr/bin:/bin",
        "PYTHONPATH": str(elsewhere),
        "CKPTZOO_OFFLINE": "1",
        "CKPTZOO_CACHE": str(tmp_path / "cache"),
        "CKPTZOO_QUIET": "1",
        "HOME": str(tmp_path / "home"),
        "PYTHONNOUSERSITE": "1",
    }
    done = subprocess.run(
        [sys.executable, "-c", RUN_EVERY_SNIPPET],
        input=json.dumps(cases),
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr
    measured = json.loads(done.stdout)
    assert Path(measured["package"]).resolve().is_relative_to(elsewhere)  # the copy ran, not this tree
    assert len(measured["accuracy"]) == len(expected) >= 72
    assert measured["accuracy"] == expected


def test_file_inside_any_installed_package_is_named_as_a_package_resource(tmp_path, monkeypatch):
    """An index shipped inside some installed package: its files are package resources, not paths."""
    package = tmp_path / "site" / "classzoo"
    (package / "weights").mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "weights" / "m.safetensors").write_bytes(b"x")
    monkeypatch.syspath_prepend(str(tmp_path / "site"))
    entry = ModelEntry.model_validate(
        {"id": "m", "checkpoints": [{"name": "c", "files": [{"path": "weights/m.safetensors", "sha256": SHA}]}]}
    ).with_origin(str(package / "index.json"), str(package))
    code = codegen.generate(entry, entry.checkpoints[0], "safetensors-numpy")
    assert str(tmp_path) not in code
    assert 'importlib.resources.files("classzoo").joinpath("weights", "m.safetensors")' in code
    assert code.startswith("import importlib.resources\n")
    assert literal_only(ast.parse(code)) == []
    # A folder that is not an importable package keeps its path (that is where the user's files are).
    plain = tmp_path / "runs"
    plain.mkdir()
    local = entry.with_origin(str(plain / "index.json"), str(plain))
    assert str(plain / "weights" / "m.safetensors") in constants(codegen.generate(local, local.checkpoints[0]))


def test_builtin_safetensors_numpy_code_loads_the_same_weights():
    zoo = cz.open_zoo()
    code = zoo.load_code("digits-logreg@epoch-2", library="safetensors-numpy")
    namespace = {}
    exec(code, namespace)
    model = cz.load("digits-logreg@epoch-2")
    state_dict = namespace["logreg_epoch_2_state_dict"]
    assert sorted(state_dict) == ["bias", "weight"]
    assert (state_dict["weight"].astype("float64") == model.params["weight"]).all()


def test_the_default_library_is_the_one_that_does_not_execute():
    # MLflow's loader of a models:/ checkpoint unpickles the model's files; safetensors of the same
    # checkpoint load without running code, so they come first. The MLflow code stays offered, scanned first.
    checkpoint = {"name": "v1", "uri": "models:/evil/1", "files": files("model.safetensors")}
    entry = model(library="mlflow", checkpoints=[checkpoint]).with_origin("mlflow:http://127.0.0.1:5000", "")
    libraries = codegen.libraries_for(entry, entry.checkpoints[0])
    assert libraries[0] == "safetensors-numpy" and "mlflow" in libraries
    code = codegen.generate(entry, entry.checkpoints[0], "mlflow")
    assert 'cz.scanned_mlflow_model("models:/evil/1")' in code and "# MLflow's loader unpickles" in code
    # A runs:/ artifact is only downloaded: MLflow's own code stays the default.
    run = {"name": "s1", "uri": f"runs:/{'a' * 32}/ckpt/model.safetensors", "files": files("model.safetensors")}
    entry = model(library="mlflow", checkpoints=[run]).with_origin("mlflow:http://127.0.0.1:5000", "")
    assert codegen.libraries_for(entry, entry.checkpoints[0])[0] == "mlflow"
