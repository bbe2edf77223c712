"""MLflow as a zoo: a real `mlflow server` (SQLite + local artifacts), runs logged through the real client."""

from __future__ import annotations

import ast
import hashlib
import re
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

mlflow = pytest.importorskip("mlflow")
from httpserver import Reply, Request
from mlflow import MlflowClient
from mlflow_server import MlflowServer, free_port
from safetensors.numpy import save_file

import ckptzoo_widgets as cz
from ckptzoo_widgets.errors import ZooError

pytestmark = pytest.mark.slow


class Echo(mlflow.pyfunc.PythonModel):
    def predict(self, context, model_input, params=None):
        return model_input


def weights(path: Path, seed: int) -> bytes:
    path.parent.mkdir(parents=True, exist_ok=True)
    save_file({"w": np.full((2, 3), seed, dtype=np.float32)}, str(path))
    return path.read_bytes()


def val_acc(step: int) -> float:
    return 0.5 + step / 100


def populate(uri: str, folder: Path) -> dict[str, str]:
    """The runs the tests read; returns run name -> run id."""
    client = MlflowClient(uri)
    experiment = client.create_experiment("digits")
    ids: dict[str, str] = {}

    # A finished run: metrics per step, checkpoint folders with a SHA256SUMS (one sum wrong), a logged model.
    mlflow.set_tracking_uri(uri)
    with mlflow.start_run(experiment_id=experiment, run_name="mlp-a") as run:
        ids["mlp-a"] = run.info.run_id
        mlflow.log_params({"lr": 0.1, "hidden": 32})
        mlflow.set_tag("team", "teaching")
        for step in range(0, 31, 5):
            mlflow.log_metric("val_acc", val_acc(step), step=step)
            mlflow.log_metric("train/loss", 1.0 - step / 50, step=step)
        sums = []
        for step in (10, 20):
            data = weights(folder / "a" / f"step{step}" / "model.safetensors", seed=step)
            mlflow.log_artifacts(str(folder / "a" / f"step{step}"), f"checkpoints/step{step}")
            digest = hashlib.sha256(data).hexdigest() if step == 10 else "0" * 64
            sums.append(f"{digest}  checkpoints/step{step}/model.safetensors\n")
        mlflow.log_text("".join(sums), "SHA256SUMS")
        info = mlflow.pyfunc.log_model(name="mlp", python_model=Echo(), step=30, pip_requirements=[])
        mlflow.log_metric("test_acc", 0.88, step=30, model_id=info.model_id)
        ids["model"] = info.model_id

    # A run still in progress (never ended), with a Trainer folder and a Lightning file.
    run = client.create_run(experiment, run_name="mlp-b")
    ids["mlp-b"] = run.info.run_id
    client.log_metric(run.info.run_id, "val_acc", 0.6, step=10)
    weights(folder / "b" / "checkpoint-10" / "model.safetensors", seed=1)
    client.log_artifacts(run.info.run_id, str(folder / "b" / "checkpoint-10"), "checkpoint-10")
    (folder / "b" / "epoch=0-step=5.ckpt").write_bytes(b"lightning")
    client.log_artifact(run.info.run_id, str(folder / "b" / "epoch=0-step=5.ckpt"), "lightning")

    # A failed run and a deleted run, each with a checkpoint.
    for name, status in (("mlp-failed", "FAILED"), ("mlp-deleted", "FINISHED")):
        run = client.create_run(experiment, run_name=name)
        ids[name] = run.info.run_id
        client.log_metric(run.info.run_id, "val_acc", 0.1, step=5)
        weights(folder / name / "step5" / "model.safetensors", seed=5)
        client.log_artifacts(run.info.run_id, str(folder / name / "step5"), "checkpoints/step5")
        client.set_terminated(run.info.run_id, status)
    client.delete_run(ids["mlp-deleted"])

    # A registered model with two versions and an alias.
    client.create_registered_model("digits-clf", description="The digits classifier we ship.")
    client.create_model_version("digits-clf", f"models:/{ids['model']}", run_id=ids["mlp-a"], model_id=ids["model"])
    client.create_model_version("digits-clf", f"runs:/{ids['mlp-b']}/checkpoint-10", run_id=ids["mlp-b"])
    client.set_registered_model_alias("digits-clf", "champion", "1")
    return ids


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    folder = tmp_path_factory.mktemp("mlflow")
    with MlflowServer(folder / "server") as srv:
        srv.ids = populate(srv.uri, folder / "files")
        yield srv


@pytest.fixture(scope="module")
def zoo(server):
    return cz.open_zoo(f"mlflow:{server.uri}?experiment=digits")


def constant_call_arguments(code: str) -> None:
    for node in ast.walk(ast.parse(code)):
        if isinstance(node, ast.Call):
            for arg in [*node.args, *(k.value for k in node.keywords)]:
                assert isinstance(arg, (ast.Constant, ast.Call, ast.List)), ast.dump(arg)


def run_code(code: str) -> object:
    """Run generated code; the value of its last assignment."""
    namespace: dict = {}
    exec(code, namespace)
    last = [node for node in ast.parse(code).body if isinstance(node, ast.Assign)][-1]
    return namespace[last.targets[0].id]


def test_runs_are_models_deleted_runs_are_not(zoo, server):
    assert sorted(m.id for m in zoo) == ["mlp-a", "mlp-b", "mlp-failed", "models/digits-clf"]
    assert "running" in zoo.model("mlp-b").tags and "failed" in zoo.model("mlp-failed").tags
    a = zoo.model("mlp-a")
    assert {"mlflow", "finished", "experiment:digits", "team=teaching"} <= set(a.tags)
    assert "| lr | 0.1 |" in a.description and server.ids["mlp-a"] in a.description
    assert a.metrics == {"val_acc": val_acc(30), "train/loss": pytest.approx(0.4), "test_acc": 0.88}
    assert zoo.models.set_index("id").loc["mlp-a", "source"].startswith("mlflow:http://127.0.0.1:")


def test_checkpoints_from_artifacts_and_logged_models_with_metrics_at_their_step(zoo, server):
    table = zoo.checkpoints("mlp-a").set_index("checkpoint")
    assert list(table.index) == ["step10", "step20", "mlp-step-30"]
    assert table.loc["step10", "val_acc"] == val_acc(10) and table.loc["step20", "val_acc"] == val_acc(20)
    assert table.loc["mlp-step-30", "test_acc"] == 0.88 and table.loc["mlp-step-30", "val_acc"] == val_acc(30)
    a = zoo.model("mlp-a")
    run = server.ids["mlp-a"]
    assert a.checkpoint("step10").uri == f"runs:/{run}/checkpoints/step10"
    assert a.checkpoint("mlp-step-30").uri == f"models:/{server.ids['model']}"
    b = zoo.checkpoints("mlp-b").set_index("checkpoint")
    assert list(b.index) == ["epoch-0-step-5", "checkpoint-10"]
    assert b.loc["checkpoint-10", "val_acc"] == 0.6 and b["step"].tolist() == [5, 10]


def test_the_full_metric_history_is_the_curve(zoo):
    curve = zoo.model("mlp-a").curves["val_acc"]
    assert curve == [(step, val_acc(step)) for step in range(0, 31, 5)]


def test_registered_model_versions_and_alias(zoo, server):
    model = zoo.model("models/digits-clf")
    assert [c.name for c in model.checkpoints] == ["v1", "v2"]
    assert model.default_checkpoint == "v1" and "@champion=v1" in model.tags
    assert "models:/digits-clf@champion" in model.description
    v1, v2 = model.checkpoints
    assert v1.uri == "models:/digits-clf/1" and v1.step == 30 and v1.metrics["test_acc"] == 0.88
    assert "aliases: champion" in v1.notes and v2.step == 10


def test_load_code_is_pinned_and_literal_only(zoo, server):
    run = server.ids["mlp-a"]
    code = zoo.load_code("mlp-a@step20", library="mlflow")
    constant_call_arguments(code)
    assert f"runs:/{run}/checkpoints/step20" in code and "download_artifacts" in code
    code = zoo.load_code("models/digits-clf@v2")
    constant_call_arguments(code)
    assert '"models:/digits-clf/2"' in code and "mlflow.pyfunc.load_model" in code
    assert f'mlflow.set_tracking_uri("{server.uri}")' in code


def test_load_code_runs(zoo, server):
    path = run_code(zoo.load_code("mlp-b@checkpoint-10"))  # a folder artifact: its local path
    assert (Path(path) / "model.safetensors").is_file()
    # A logged model, through MLflow's own loader, scanned first: its pickle imports the Echo class
    # (code), so it is refused until trusted.
    code = zoo.load_code("mlp-a@mlp-step-30")
    with pytest.raises(cz.UnsafeModelError, match="python_model.pkl.*Echo.*trust=True"):
        run_code(code)
    trusted = re.sub(r'(cz\.scanned_mlflow_model\("[^"]+")\)', r"\1, trust=True)", code)
    assert "trust=True" in trusted
    model = run_code(trusted)
    assert model.predict([1, 2]) == [1, 2]


def test_verified_download_and_a_sha256_that_does_not_match(zoo, tmp_path, monkeypatch):
    monkeypatch.setenv("CKPTZOO_CACHE", str(tmp_path / "cache"))
    # With a known sha256, code through the verified cache is offered beside MLflow's own.
    assert zoo.code_libraries("mlp-a@step10")[:2] == ["mlflow", "safetensors-numpy"]
    code = zoo.load_code("mlp-a@step10", library="safetensors-numpy")
    assert "cz.fetch(" in code and "sha256=" in code
    (path,) = zoo.download("mlp-a@step10", quiet=True)
    assert path.read_bytes()[:8] and path.is_file()
    with pytest.raises(Exception, match="sha256"):
        zoo.download("mlp-a@step20", quiet=True)
    assert len(zoo) == 4  # the zoo itself still opens and stays whole


def broken_proxy(request: Request) -> Reply:
    """Every request: 500 and an HTML page (a proxy in front of a broken server)."""
    page = b"<html><body><h1>500 Internal Server Error</h1><script>x</script></body></html>"
    return Reply(500, page, {"Content-Type": "text/html"}, reason="Internal <b>Server</b> Error")


def test_server_that_answers_500_and_one_that_is_down(http_server):
    http_server.route("/", broken_proxy)
    uri = http_server.base
    started = time.monotonic()
    with pytest.raises(ZooError) as error:
        cz.open_zoo(f"mlflow:{uri}?experiment=digits")
    assert time.monotonic() - started < 30 and 1 <= len(http_server.requests()) <= 4
    assert "<script>" not in str(error.value) and uri in str(error.value)
    zoo = cz.open_zoo(["builtin", f"mlflow:{uri}"])
    assert len(zoo) == 3 and any("mlflow" in e and "failed to open" in e for e in zoo.errors)
    down = f"http://127.0.0.1:{free_port()}"
    with pytest.raises(ZooError, match="cannot read"):
        cz.open_zoo(f"mlflow:{down}")


def test_credentials_never_reach_messages_or_code():
    with pytest.raises(ZooError) as error:
        cz.open_zoo("mlflow:http://alice:s3cr3t-token@127.0.0.1:5000?experiment=digits")
    assert "s3cr3t" not in str(error.value) and "MLFLOW_TRACKING_TOKEN" in str(error.value)
    with pytest.raises(ZooError) as error:
        cz.open_zoo("mlflow:http://127.0.0.1:5000?token=s3cr3t")
    assert "s3cr3t" not in str(error.value) and "unknown option" in str(error.value)


def test_unknown_experiment(server):
    with pytest.raises(ZooError, match="no experiment named 'nope'"):
        cz.open_zoo(f"mlflow:{server.uri}?experiment=nope")


def test_local_sqlite_store_and_mlruns_folder(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("MLFLOW_ALLOW_FILE_STORE", "true")
    for uri in ("sqlite:///mlflow.db", (tmp_path / "mlruns").as_uri()):
        client = MlflowClient(uri)
        experiment = client.create_experiment("local", artifact_location=(tmp_path / f"art-{len(uri)}").as_uri())
        run = client.create_run(experiment, run_name="local-run")
        client.log_metric(run.info.run_id, "val_acc", 0.7, step=3)
        data = weights(tmp_path / "w" / "epoch=0-step=3.safetensors", seed=3)
        client.log_artifact(run.info.run_id, str(tmp_path / "w" / "epoch=0-step=3.safetensors"), "ckpts")
        digest = hashlib.sha256(data).hexdigest()
        client.log_text(run.info.run_id, f"{digest}  ckpts/epoch=0-step=3.safetensors\n", "SHA256SUMS")
        client.set_terminated(run.info.run_id)
    monkeypatch.delenv("MLFLOW_ALLOW_FILE_STORE")
    for source in ("sqlite:///mlflow.db", "mlflow:sqlite:///mlflow.db?experiment=local", "mlruns", "mlflow:mlruns/"):
        zoo = cz.open_zoo(source)
        assert [m.id for m in zoo] == ["local-run"], source
        checkpoint = zoo.model("local-run").checkpoint()
        assert checkpoint.name == "epoch-0-step-3" and checkpoint.metrics == {"val_acc": 0.7}
        assert checkpoint.files[0].sha256 == digest
        assert zoo.download("local-run", quiet=True)[0].read_bytes() == data
    code = cz.open_zoo("mlflow:mlruns").load_code("local-run", library="mlflow")
    assert (tmp_path / "mlruns").as_uri() in code
    assert run_code(code)["w"][0, 0] == 3


def test_refresh_shows_new_runs_and_checkpoints(server, tmp_path):
    client = MlflowClient(server.uri)
    experiment = client.create_experiment("live")
    run = client.create_run(experiment, run_name="live-run")
    weights(tmp_path / "s1" / "model.safetensors", seed=1)
    client.log_artifacts(run.info.run_id, str(tmp_path / "s1"), "checkpoints/step1")
    browser = cz.browse(f"mlflow:{server.uri}?experiment=live", selected="live-run")
    assert [c["name"] for c in browser.detail["checkpoints"]] == ["step1"]
    # The run goes on, and a second run starts.
    client.log_artifacts(run.info.run_id, str(tmp_path / "s1"), "checkpoints/step2")
    other = client.create_run(experiment, run_name="live-run-2")
    client.log_artifacts(other.info.run_id, str(tmp_path / "s1"), "checkpoints/step1")
    browser._handle_msg(
        {"content": {"data": {"method": "custom", "content": {"request": "refresh", "seq": 1}}}, "buffers": []}
    )
    assert [c["name"] for c in browser.detail["checkpoints"]] == ["step1", "step2"]
    assert browser.total == 2 and browser.error == ""


def test_hostile_run_names_params_and_tags_stay_text(tmp_path, monkeypatch):
    from ckptzoo_widgets.safety import render_markdown

    monkeypatch.chdir(tmp_path)
    client = MlflowClient("sqlite:///hostile.db")
    experiment = client.create_experiment("hostile")
    name = "<img src=x onerror=alert(1)>\x1b[31m"
    run = client.create_run(experiment, run_name=name, tags={"note": "<script>alert(1)</script>"})
    client.log_param(run.info.run_id, "evil", "| <a href='javascript:alert(1)'>x</a>\nnext")
    client.log_metric(run.info.run_id, "val acc", 0.5, step=1)  # a space breaks the metric-name rule
    client.log_metric(run.info.run_id, "val_acc", 0.5, step=1)
    weights(tmp_path / "w" / "model.safetensors", seed=1)
    client.log_artifacts(run.info.run_id, str(tmp_path / "w"), "checkpoint-1")
    zoo = cz.open_zoo("sqlite:///hostile.db")
    (model,) = list(zoo)
    assert model.id == run.info.run_id and model.name == name  # the name is text, never an id
    html = render_markdown(model.description)
    assert "<img" not in html and "<script" not in html and "href=" not in html and "&lt;img" in html
    assert any("'val acc'" in e and "metric-name rules" in e for e in zoo.errors)
    code = zoo.load_code(f"{model.id}@checkpoint-1")
    constant_call_arguments(code)
    assert "<img" not in code and "alert" not in code


def test_sqlite_without_sqlalchemy_says_what_to_install(tmp_path):
    # What a user with only the [mlflow] extra (mlflow-skinny: no SQLAlchemy) sees.
    code = (
        "import sys; sys.modules['sqlalchemy'] = None\n"
        "import ckptzoo_widgets as cz\n"
        "try:\n    cz.open_zoo('sqlite:///mlflow.db')\nexcept Exception as error:\n    print(error)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=tmp_path, timeout=120)
    assert "a sqlite:/// store needs the full MLflow package (pip install mlflow" in out.stdout, out.stderr[-2000:]


@pytest.mark.parametrize("target", ["/dev/zero", "secret"])
def test_a_linked_sha256sums_in_a_local_store_is_not_followed(tmp_path, monkeypatch, target):
    from hostile.bounded import run_bounded

    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("MLFLOW_ALLOW_FILE_STORE", "true")
    client = MlflowClient((tmp_path / "mlruns").as_uri())
    experiment = client.create_experiment("local", artifact_location=(tmp_path / "art").as_uri())
    run = client.create_run(experiment, run_name="linked-sums")
    weights(tmp_path / "w" / "epoch=0-step=3.safetensors", seed=3)
    client.log_artifact(run.info.run_id, str(tmp_path / "w" / "epoch=0-step=3.safetensors"), "ckpts")
    client.set_terminated(run.info.run_id)
    secret = tmp_path / "secret"
    secret.write_text("0" * 64 + "  ckpts/epoch=0-step=3.safetensors\n")
    sums = tmp_path / "art" / run.info.run_id / "artifacts" / "SHA256SUMS"
    sums.symlink_to(target if target.startswith("/") else secret)
    result = run_bounded(
        """
        import ckptzoo_widgets as cz
        zoo = cz.open_zoo("mlflow:mlruns/")
        print(len(zoo.model("linked-sums").checkpoint().files))
        print("\\n".join(zoo.errors))
        """,
        memory_mb=1024,
        seconds=120,
        cwd=tmp_path,
    )
    assert result.ok, (result.error_type, result.message)
    files, *problems = result.stdout.splitlines()
    assert files == "0"  # files are listed from SHA256SUMS, and the linked one is not read
    assert any("SHA256SUMS unreadable" in line for line in problems)
