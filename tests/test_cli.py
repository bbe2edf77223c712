"""`ckptzoo` as a user runs it: a real process, readable output, exit 2 and no traceback on bad input."""

import json
import os
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest
from indexes import good_index, with_change, write_index

# The interpreter's own scripts directory: the suite may run as `venv/bin/python -m pytest` with no venv on PATH.
SCRIPTS = Path(sysconfig.get_path("scripts"))
CONSOLE_SCRIPT = SCRIPTS / ("ckptzoo.exe" if os.name == "nt" else "ckptzoo")


def ckptzoo(*args, cwd=None, columns=None):
    env = {**os.environ, "COLUMNS": str(columns)} if columns else None
    return subprocess.run([str(CONSOLE_SCRIPT), *args], capture_output=True, text=True, timeout=120, cwd=cwd, env=env)


def test_console_script_is_installed():
    assert CONSOLE_SCRIPT.is_file(), f"pip install -e . installs the ckptzoo command into {SCRIPTS}"
    done = subprocess.run([str(CONSOLE_SCRIPT), "--version"], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0 and done.stdout.startswith("ckptzoo ")


def test_python_dash_m_runs_the_same_cli():
    done = subprocess.run([sys.executable, "-m", "ckptzoo_widgets.cli", "--version"], capture_output=True, text=True)
    assert done.returncode == 0 and done.stdout == ckptzoo("--version").stdout


def test_search_sorted_by_validation_accuracy_lists_the_builtin_models():
    done = ckptzoo("search", "--sort", "-val_accuracy")
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    ids = [line.split()[0] for line in lines[1:4]]
    assert set(ids) == {"digits-cnn", "digits-mlp", "digits-logreg"}
    assert ids[-1] == "digits-logreg"  # the lowest validation accuracy comes last
    assert "1-3 of 3 models" in done.stdout


def test_search_json_is_machine_readable():
    done = ckptzoo("search", "mlp", "--json", "--sort", "name")
    payload = json.loads(done.stdout)
    mlp = next(m for m in payload["models"] if m["id"] == "digits-mlp")
    assert payload["total"] == len(payload["models"]) >= 1
    assert mlp["num_checkpoints"] == 9 and mlp["library"] == "ckptzoo" and 0.9 < mlp["val_accuracy"] <= 1


def test_show_prints_metadata_checkpoints_and_card():
    done = ckptzoo("show", "digits-cnn")
    assert done.returncode == 0
    assert "architecture:       cnn" in done.stdout and "epoch-20" in done.stdout
    assert "Model card:" in done.stdout and "convolutional" in done.stdout


def test_printed_code_runs_offline_in_a_fresh_interpreter(tmp_path):
    code = ckptzoo("code", "digits-mlp@epoch-5").stdout
    script = tmp_path / "load.py"
    score = "import ckptzoo_widgets as cz\nX, y = cz.digits_validation()\nprint(mlp_epoch_5.score(X, y))\n"
    script.write_text(code + score)
    done = subprocess.run(
        [sys.executable, str(script)],
        capture_output=True,
        text=True,
        timeout=120,
        env={"PATH": "/usr/bin:/bin", "CKPTZOO_OFFLINE": "1", "HOME": str(tmp_path)},
    )
    assert done.returncode == 0, done.stderr
    expected = json.loads(ckptzoo("show", "digits-mlp", "--json").stdout)["checkpoints"][4]
    assert expected["checkpoint"] == "epoch-5"
    assert float(done.stdout) == expected["val_accuracy"]


def test_code_for_another_library():
    done = ckptzoo("code", "digits-mlp@epoch-1", "--library", "safetensors-torch")
    assert "from safetensors.torch import load_file" in done.stdout and "sha256=" in done.stdout


def test_download_prints_verified_local_paths():
    done = ckptzoo("download", "digits-logreg@epoch-1", "--quiet")
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().endswith("digits-logreg/epoch-1.safetensors")


@pytest.mark.parametrize(
    "args, words",
    [
        (["show", "digits-mlpp"], "unknown model 'digits-mlpp'"),
        (["show", "digits-mlp@epoch-99"], "has no checkpoint 'epoch-99'"),
        (["code", "../../etc@x"], "bad reference"),
        (["search", "--sort", "-val_acc"], "unknown sort column 'val_acc'"),
        (["code", "digits-mlp", "--library", "keras"], "keras code does not apply"),
        (["search", "--zoo", "/no/such/place"], "not a known source"),
    ],
)
def test_bad_input_is_one_clear_line_and_exit_2(args, words):
    done = ckptzoo(*args)
    assert done.returncode == 2
    assert words in done.stderr and "Traceback" not in done.stderr
    assert done.stderr.startswith("ckptzoo: error: ") and len(done.stderr.strip().splitlines()) == 1


def test_validate_a_good_index(tmp_path):
    done = ckptzoo("validate", str(write_index(tmp_path, good_index(tmp_path))))
    assert done.returncode == 0 and "valid; 2 valid model(s), 3 checkpoint(s)" in done.stdout


def test_validate_lists_every_problem_at_once(tmp_path):
    def break_it(d):
        d["models"][0]["checkpoints"][1]["files"][0].update(path="/abs/path", sha256="nothex")
        d["models"] += [dict(d["models"][1]), dict(d["models"][1])]  # the second copy is a duplicate
        d["models"][1]["id"] = "bad..id"

    path = write_index(tmp_path, with_change(good_index(tmp_path), break_it))
    done = ckptzoo("validate", str(path))
    assert done.returncode == 2 and "Traceback" not in done.stderr
    lines = done.stdout.splitlines()
    assert len(lines) == 4
    assert f"{path}: models[0] (id 'team/alpha'), field 'checkpoints.1.files.0.path': " in lines[0]
    assert "absolute" in lines[0] and "sha256" in lines[1]
    assert "models[1] (id 'bad..id'), field 'id'" in lines[2]
    assert "models[3] (id 'beta'), field 'id': duplicate model id 'beta'" in lines[3]
    assert "4 problem(s)" in done.stderr


@pytest.mark.parametrize("content", ["{nope", "[]", '{"ckptzoo_index": 1, "models": 3}'])
def test_validate_not_an_index(tmp_path, content):
    done = ckptzoo("validate", str(write_index(tmp_path, content)))
    assert done.returncode == 2 and "Traceback" not in done.stderr + done.stdout
    assert str(tmp_path / "index.json") in done.stdout


def test_validate_missing_file(tmp_path):
    done = ckptzoo("validate", str(tmp_path / "nope.json"))
    assert done.returncode == 2 and "cannot read" in done.stderr


def test_hostile_card_cannot_drive_the_terminal(tmp_path):
    document = good_index(tmp_path)
    document["models"][0]["description"] = "hello \x1b]0;pwned\x07 \x1b[2J world"
    done = ckptzoo("show", "team/alpha", "--zoo", str(write_index(tmp_path, document)))
    assert "\x1b" not in done.stdout and "\x07" not in done.stdout and "hello" in done.stdout


def test_schema_command_prints_the_json_schema():
    schema = json.loads(ckptzoo("schema").stdout)
    assert schema["title"].startswith("ckptzoo index") and "models" in schema["properties"]


# --- show REF@CHECKPOINT ---------------------------------------------------------------------


def test_show_a_checkpoint_gives_its_files_sha256_metrics_and_load_code():
    import ckptzoo_widgets as cz

    checkpoint = cz.open_zoo().model("digits-mlp").checkpoint("epoch-5")
    (file,) = checkpoint.files
    done = ckptzoo("show", "digits-mlp@epoch-5", columns=80)
    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert out.startswith("checkpoint:         digits-mlp@epoch-5\n")
    assert f"    sha256  {file.sha256}\n" in out  # whole, not cut to the terminal's width
    assert "  epoch-5.safetensors  9.8 KiB  safetensors\n" in out and "digits-mlp/epoch-5.safetensors" in out
    assert f"  val_accuracy    {checkpoint.metrics['val_accuracy']:.6g}\n" in out
    assert "Load code: ckptzoo, safetensors-numpy, safetensors-torch" in out
    assert "default:            no (the model's default is epoch-30)" in out
    assert "Model card:" not in out and "Checkpoints:" not in out  # the checkpoint, not the model
    assert out != ckptzoo("show", "digits-mlp", columns=80).stdout


def test_show_a_checkpoint_as_json():
    record = json.loads(ckptzoo("show", "digits-cnn@epoch-3", "--json").stdout)
    assert record["ref"] == "digits-cnn@epoch-3" and record["checkpoint"]["name"] == "epoch-3"
    assert record["load_code"][0] == "ckptzoo" and len(record["files"][0]["sha256"]) == 64
    assert record["files"][0]["size"] > 0 and "val_accuracy" in record["checkpoint"]["metrics"]


# --- search fits the terminal ------------------------------------------------------------------


@pytest.mark.parametrize("width", [60, 80, 160])
def test_search_fits_the_terminal_width(width):
    done = ckptzoo("search", "--sort", "-val_loss", columns=width)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert max(len(line) for line in lines) <= width, done.stdout
    header = lines[0].split()
    assert header[:2] == ["id", "val_loss"]  # the id, then the column sorted by
    assert ("license" in header) == (width >= 160)  # a wider terminal shows more
    if width < 160:
        assert "choose with --columns" in done.stdout


def test_search_columns_chooses_exactly_the_columns():
    done = ckptzoo("search", "--columns", "id,val_accuracy,num_params", columns=40)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0].split() == ["id", "val_accuracy", "num_params"]
    assert lines[2].split()[2] == "2.4K" and "not shown" not in done.stdout
    bad = ckptzoo("search", "--columns", "id,nope")
    assert bad.returncode == 2 and bad.stderr.startswith("ckptzoo: error: no column 'nope'; columns: id, ")


def test_long_ids_are_cut_not_allowed_to_push_the_table_off_screen(tmp_path):
    document = good_index(tmp_path)
    document["models"][0]["id"] = "team/" + "a" * 90
    done = ckptzoo("search", "--zoo", str(write_index(tmp_path, document)), columns=80)
    assert done.returncode == 0, done.stderr
    assert max(len(line) for line in done.stdout.splitlines()) <= 80
    assert "team/aaaa" in done.stdout and "…" in done.stdout


# --- one argument helper, one size format, plain wiring --------------------------------------------


def test_sort_with_a_dash_value_is_one_helper_for_the_cli_and_the_magic():
    from ckptzoo_widgets.cli.args import attach_dash_values
    from ckptzoo_widgets.widget.magics import parse_zoo_args

    assert attach_dash_values(["search", "--sort", "-val_accuracy", "-x"]) == ["search", "--sort=-val_accuracy", "-x"]
    assert parse_zoo_args("mlp --sort -val_accuracy")["sort"] == "-val_accuracy"
    descending = ckptzoo("search", "--sort", "-val_loss", "--json")
    ascending = ckptzoo("search", "--sort", "val_loss", "--json")
    ids = [m["id"] for m in json.loads(descending.stdout)["models"]]
    assert ids == [m["id"] for m in json.loads(ascending.stdout)["models"]][::-1]


def test_sizes_read_the_same_in_the_cli_and_the_widget():
    """Python's human_bytes and the widget's formatBytes (run by node) write every size alike."""

    from ckptzoo_widgets.humanize import human_bytes

    node = shutil.which("node")
    if node is None:
        pytest.skip("node is not installed")
    sizes = [0, 1, 512, 1023, 1024, 1536, 10024, 102_400, 160_000, 1_048_575, 3_300_000, 5 * 2**30, 3 * 2**40]
    module = Path(__file__).resolve().parents[1] / "js" / "widget" / "format.js"
    script = f"import {{formatBytes}} from {json.dumps(module.as_uri())};"
    script += f"console.log(JSON.stringify({sizes}.map(formatBytes)))"
    done = subprocess.run([node, "--input-type=module", "-e", script], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == [human_bytes(n) for n in sizes]
    assert human_bytes(10024) == "9.8 KiB"


def test_cli_modules_import_each_other_plainly_without_a_cycle():
    package = Path(__file__).resolve().parents[1] / "ckptzoo_widgets"
    for path in (package / "cli").glob("*.py"):
        assert "importlib" not in path.read_text(), path
    program = (
        "import sys, ckptzoo_widgets.cli.index_commands, ckptzoo_widgets.cli.cache_commands;"
        "assert 'ckptzoo_widgets.cli.app' not in sys.modules, 'a subcommand imports the CLI app'"
    )
    done = subprocess.run([sys.executable, "-c", program], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    parser = __import__("ckptzoo_widgets.cli.app", fromlist=["build_parser"]).build_parser()
    assert {"search", "show", "code", "download", "validate", "schema", "cache", "index"} <= set(
        parser._subparsers._group_actions[0].choices
    )
