"""A registered MLflow model whose pickle runs a command: the code and the card say so, the scan names
what it would import, and the generated code refuses to load it (the command never runs)."""

from __future__ import annotations

import os
import pickle
import subprocess
import sysconfig
from pathlib import Path

import pytest

from .bounded import run_bounded

mlflow = pytest.importorskip("mlflow")
from mlflow import MlflowClient  # noqa: E402

import ckptzoo_widgets as cz  # noqa: E402
from ckptzoo_widgets.load_gates import scan_model_folder  # noqa: E402
from ckptzoo_widgets.widget.payload import detail_payload  # noqa: E402

pytestmark = pytest.mark.slow


class Echo(mlflow.pyfunc.PythonModel):
    def predict(self, context, model_input, params=None):
        return model_input


class Command:
    """Pickles as `os.system(<command>)`: what a hostile python_model.pkl holds."""

    def __init__(self, command: str):
        self.command = command

    def __reduce__(self):
        return (os.system, (self.command,))


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    """`mlruns/` with registered models `evil` (its python_model.pkl runs a command) and `echo` (plain)."""
    root = tmp_path_factory.mktemp("mlflow-evil")
    marker = root / "PWNED"
    uri = (root / "mlruns").as_uri()
    local = ""
    saved = os.environ.get("MLFLOW_ALLOW_FILE_STORE")
    os.environ["MLFLOW_ALLOW_FILE_STORE"] = "true"
    # MLflow's default store (after set_tracking_uri(None)) is ./mlflow.db: keep it in the test's folder.
    cwd = os.getcwd()
    os.chdir(root)
    try:
        mlflow.set_tracking_uri(uri)
        client = MlflowClient(uri)
        for name in ("evil", "echo"):
            with mlflow.start_run(run_name=f"{name}-run") as run:
                info = mlflow.pyfunc.log_model(name=name, python_model=Echo(), pip_requirements=[])
            if name == "evil":
                folder = Path(mlflow.artifacts.download_artifacts(info.model_uri, dst_path=str(root / "probe")))
                assert (folder / "python_model.pkl").is_file()
                local = client.get_logged_model(info.model_id).artifact_location.removeprefix("file://")
                (Path(local) / "python_model.pkl").write_bytes(pickle.dumps(Command(f"touch {marker}")))
            client.create_registered_model(name)
            client.create_model_version(name, info.model_uri, run_id=run.info.run_id, model_id=info.model_id)
    finally:
        mlflow.set_tracking_uri(None)
        os.chdir(cwd)
        if saved is None:
            os.environ.pop("MLFLOW_ALLOW_FILE_STORE", None)
        else:
            os.environ["MLFLOW_ALLOW_FILE_STORE"] = saved
    return root, marker, Path(local)


def test_code_for_the_registered_model_scans_it_first_and_says_so(store):
    root, marker, evil_folder = store
    done = subprocess.run(
        [str(Path(sysconfig.get_path("scripts")) / "ckptzoo"), "code", "models/evil@v1", "--zoo", "mlflow:mlruns"],
        cwd=root,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    code = done.stdout
    assert 'mlflow.pyfunc.load_model(cz.scanned_mlflow_model("models:/evil/1"))' in code
    assert "# MLflow's loader unpickles the model's files and imports its code: that runs code." in code
    assert not marker.exists()


def test_the_card_and_notes_carry_the_scan_verdict(store, monkeypatch):
    root, marker, evil_folder = store
    monkeypatch.chdir(root)
    zoo = cz.open_zoo("mlflow:mlruns")
    evil, echo = zoo.model("models/evil"), zoo.model("models/echo")
    assert "UNSAFE" in evil.description and "system" in evil.description
    assert "python\\_model\\.pkl" in evil.description  # markdown-escaped, as the card renders it
    assert "system" in evil.checkpoint("v1").notes
    # The widget's card shows it too.
    card = detail_payload(evil)["card_html"]
    assert "UNSAFE" in card and "python_model.pkl" in card and "system" in card
    # A plain pyfunc model: its pickle imports the model's class, which is code too, and says so.
    assert "UNSAFE" in echo.description and "Echo" in echo.description
    # The scan verdict names what the pickle would import.
    scan = scan_model_folder(evil_folder)
    unsafe = [v for name, v in scan.pickles if name.endswith("python_model.pkl") and not v.safe]
    assert any("system" in " ".join(v.imports) for v in unsafe)
    assert not marker.exists()


def test_running_the_generated_code_refuses_and_the_command_never_runs(store):
    root, marker, evil_folder = store
    code = cz.open_zoo(f"mlflow:{root / 'mlruns'}").load_code("models/evil@v1")
    result = run_bounded(code, cwd=root, seconds=120)
    assert result.error_type == "UnsafeModelError", (result.error_type, result.message, result.stderr[-2000:])
    assert "python_model.pkl" in result.message and "system" in result.message and "trust=True" in result.message
    assert not marker.exists()


def test_a_trusted_plain_model_still_loads(store):
    root, marker, evil_folder = store
    code = cz.open_zoo(f"mlflow:{root / 'mlruns'}").load_code("models/echo@v1")
    trusted = code.replace(
        'cz.scanned_mlflow_model("models:/echo/1")', 'cz.scanned_mlflow_model("models:/echo/1", trust=True)'
    )
    assert trusted != code
    tests = str(Path(__file__).resolve().parents[1])  # the pickle names this module's Echo class
    result = run_bounded(
        trusted + "\nassert echo.predict([1, 2]) == [1, 2]\n", cwd=root, seconds=120, env={"PYTHONPATH": tests}
    )
    assert result.ok, (result.error_type, result.message, result.stderr[-2000:])
    assert not marker.exists()


def test_opening_a_store_with_registered_models_writes_nothing_in_the_working_folder(store, tmp_path, monkeypatch):
    # MLflow's file registry makes a client of the default store inside its own calls; unset, that
    # default is ./mlflow.db, which used to appear in the user's working folder on every open.
    root, marker, evil_folder = store
    monkeypatch.chdir(tmp_path)
    zoo = cz.open_zoo(f"mlflow:{root / 'mlruns'}")
    assert "models/evil" in [m.id for m in zoo]
    zoo.load_code("models/evil@v1")
    assert list(tmp_path.iterdir()) == []
