"""Load code: parses, every call argument is a literal, literals equal the index's values."""

import ast
import json
import subprocess
import sys
import textwrap

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
    "safetensors-numpy": model(checkpoints=[{"name": "c1", "files": files("m.safetensors")}]),
    "safetensors-torch": model(checkpoints=[{"name": "c1", "files": files("m-1.safetensors", "m-2.safetensors")}]),
    "torch": model(checkpoints=[{"name": "c1", "files": files("pytorch_model.bin")}]),
    "onnxruntime": model(checkpoints=[{"name": "c1", "files": files("model.onnx")}]),
    "keras": model(checkpoints=[{"name": "c1", "files": files("model.keras")}]),
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
    file_based = library not in ("ckptzoo", "transformers", "timm", "torchvision", "torch.hub")
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
    if library == "torch":
        assert "weights_only=True" in code
    if library == "safetensors-torch":
        assert code.count("cz.fetch(") == 2  # one call per shard


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


@settings(max_examples=100)
@given(
    st.from_regex(r"[A-Za-z0-9][A-Za-z0-9._-]{0,30}(/[A-Za-z0-9][A-Za-z0-9._-]{0,30})?", fullmatch=True),
    st.from_regex(r"[A-Za-z0-9][A-Za-z0-9._-]{0,30}", fullmatch=True),
)
def test_any_valid_ref_gives_literal_code(model_id, checkpoint_name):
    try:
        entry = ModelEntry.model_validate(
            {
                "id": model_id,
                "library": "ckptzoo",
                "checkpoints": [{"name": checkpoint_name, "files": files("w.safetensors")}],
            }
        )
    except Exception:
        return
    code = codegen.generate(entry, entry.checkpoints[0])
    assert f"{model_id}@{checkpoint_name}" in constants(code)
    assert literal_only(ast.parse(code)) == []


def test_builtin_code_runs_offline_in_a_fresh_interpreter_and_reproduces_each_metric():
    """Every built-in checkpoint: run its generated code in a new Python, score it on the validation split."""
    zoo = cz.open_zoo()
    snippets, expected = {}, {}
    for model_id in zoo.models["id"]:
        for _, row in zoo.checkpoints(model_id).iterrows():
            snippets[row["ref"]] = zoo.load_code(row["ref"])
            expected[row["ref"]] = row["val_accuracy"]
    program = textwrap.dedent("""
        import json, sys
        snippets = json.loads(sys.stdin.read())
        results = {}
        for ref, code in snippets.items():
            namespace = {}
            exec(compile(code, ref, "exec"), namespace)
            import ckptzoo_widgets as cz
            X, y = cz.digits_validation()
            results[ref] = float((namespace["model"].predict(X) == y).mean())
        print(json.dumps(results))
    """)
    env = {"PATH": "/usr/bin:/bin", "CKPTZOO_OFFLINE": "1", "HOME": "/nonexistent", "PYTHONNOUSERSITE": "1"}
    done = subprocess.run(
        [sys.executable, "-c", program],
        input=json.dumps(snippets),
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    measured = json.loads(done.stdout)
    assert len(measured) == len(expected) >= 24
    assert measured == expected


def test_builtin_safetensors_numpy_code_loads_the_same_weights():
    zoo = cz.open_zoo()
    code = zoo.load_code("digits-logreg@epoch-2", library="safetensors-numpy")
    namespace = {}
    exec(code, namespace)
    model = cz.load("digits-logreg@epoch-2")
    assert sorted(namespace["state_dict"]) == ["bias", "weight"]
    assert (namespace["state_dict"]["weight"].astype("float64") == model.params["weight"]).all()
