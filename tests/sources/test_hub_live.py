"""`hf:` as a live source against a fake Hub of 200,000 generated models on 127.0.0.1 (tests/fixtures/generated_hub.py).

Real clients throughout: our own HTTP reader, and for the load code huggingface_hub and
transformers with HF_ENDPOINT pointing at the fake Hub. Request counts are what the
server saw.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

pytest.importorskip("huggingface_hub")

from fixtures.generated_hub import BULK, GeneratedHub, commit_of  # noqa: E402
from fixtures.hub_session import fresh_session  # noqa: E402

import ckptzoo_widgets as cz  # noqa: E402
from ckptzoo_widgets.cli import main  # noqa: E402
from ckptzoo_widgets.errors import ZooError  # noqa: E402
from ckptzoo_widgets.sources import hub_client  # noqa: E402

TESTS = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def fake_hub():
    with GeneratedHub() as hub:
        yield hub


@pytest.fixture
def hub(fake_hub, tmp_path, monkeypatch):
    """The module's fake Hub with a fresh cache, no failures, no delay, counts reset."""
    yield from fresh_session(fake_hub, tmp_path, monkeypatch)


def list_requests(hub: GeneratedHub) -> list[str]:
    return [path for path, _ in hub.api_requests() if path.startswith("/api/models?")]


def test_opening_the_hub_costs_one_list_request(hub):
    zoo = cz.open_zoo("hf:")
    first = zoo.search("")
    assert len(first) == 50 and set(first["source"]) == {"hf:"}
    assert first.attrs["total"] is None and first.attrs["more"] is True
    assert len(hub.requests()) == 1 and len(list_requests(hub)) == 1
    asked = list_requests(hub)[0]
    for field in ("downloads", "likes", "pipeline_tag", "library_name", "tags", "safetensors"):
        assert f"expand%5B%5D={field}" in asked  # the fields a card shows, in the same request
    assert first["num_params"].notna().all() and first["license"].notna().all()


def test_typing_pythia_finds_repos_that_were_not_on_the_first_page(hub):
    zoo = cz.open_zoo("hf:")
    first = zoo.search("")
    assert not any("pythia" in i for i in first["id"])
    found = zoo.search("pythia")
    assert {"EleutherAI/pythia-70m", "EleutherAI/pythia-12b-deduped"} <= set(found["id"])
    assert all("pythia" in i for i in found["id"]) and found.attrs["total"] == 20  # one page: the end is known
    assert set(found["match"]) == {"id"}
    assert len(list_requests(hub)) == 2
    zoo.search("pythia")  # the same query again: kept
    assert len(list_requests(hub)) == 2


def test_load_more_costs_one_request_per_hub_page(hub):
    zoo = cz.open_zoo("hf:")
    pages = [zoo.search("", sort="-downloads", limit=24, offset=offset) for offset in (0, 24, 48, 72)]
    ids = [i for page in pages for i in page["id"]]
    assert len(ids) == len(set(ids)) == 96
    downloads = [d for page in pages for d in page["downloads"]]
    assert downloads == sorted(downloads, reverse=True)
    assert len(list_requests(hub)) == 2  # 96 rows: two pages of 50
    assert "cursor=" in list_requests(hub)[1]  # the second through the Link: rel="next" cursor
    with pytest.raises(ZooError, match="pages past what was read"):
        zoo.search("", limit=10, offset=5_000)  # no silent walk through a hundred pages


def test_filters_sorts_and_menus_come_from_the_hub(hub):
    zoo = cz.open_zoo("hf:")
    assert [o["key"] for o in zoo.sort_options()] == ["", "downloads", "likes", "trending", "created", "updated"]
    assert {o["direction"] for o in zoo.sort_options()} == {"desc"}
    menus = zoo.filter_options()
    assert "text-generation" in menus["task"] and "timm" in menus["library"] and "mit" in menus["license"]
    assert any(r["value"] == "min:1B,max:7B" for r in zoo.range_options()["num_params"])
    page = zoo.search("", task="text-generation", license="mit", sort="-likes", limit=30)
    assert set(page["task"]) == {"text-generation"} and set(page["license"]) == {"mit"}
    assert list(page["likes"]) == sorted(page["likes"], reverse=True)
    asked = list_requests(hub)[-1]
    assert "pipeline_tag=text-generation" in asked and "filter=license%3Amit" in asked and "sort=likes" in asked
    big = zoo.search("pythia", num_params="min:1B,max:7B")
    assert set(big["id"]) == {
        f"EleutherAI/pythia-{s}{d}" for s in ("1b", "1.4b", "2.8b", "6.9b") for d in ("", "-deduped")
    }
    with pytest.raises(ZooError, match="cannot sort by"):
        zoo.search("", sort="downloads")  # ascending: the Hub sorts one way only
    with pytest.raises(ZooError, match="whole Hub"):
        zoo.search("", sort="-val_accuracy")


def test_what_needs_the_whole_hub_says_so_in_one_line(hub):
    zoo = cz.open_zoo("hf:")
    for attempt in (lambda: zoo.models, lambda: len(zoo), lambda: list(zoo), lambda: zoo.search("", limit=None)):
        with pytest.raises(ZooError) as error:
            attempt()
        assert "\n" not in str(error.value) and "live" in str(error.value)
    assert zoo.is_live and bool(zoo) and "live: hf:" in repr(zoo)
    assert hub.requests() == []


def test_author_option_is_a_fixed_filter(hub):
    zoo = cz.open_zoo("hf:author=allenai")
    assert set(zoo.search("")["id"]) == {"allenai/OLMo-1B-hf", "allenai/OLMo-7B-hf"}
    assert "author=allenai" in list_requests(hub)[0]
    assert zoo.search("olmo-1b")["id"].tolist() == ["allenai/OLMo-1B-hf"]
    with pytest.raises(ZooError, match="unknown model"):
        zoo.model("EleutherAI/pythia-70m")  # another author: not this zoo's


def test_opening_a_model_reads_its_card_branches_and_files(hub):
    zoo = cz.open_zoo("hf:")
    model = zoo.model("EleutherAI/pythia-70m")
    names = [c.name for c in model.checkpoints]
    assert (
        len(names) == 155 and names[:4] == ["step0", "step1", "step2", "step4"] and names[-2:] == ["step143000", "main"]
    )
    assert model.default_checkpoint == "main" and model.checkpoint().name == "main"
    step = model.checkpoint("step3000")
    assert step.revision == "step3000" and step.step == 3000
    assert step.notes == f"commit {commit_of('EleutherAI/pythia-70m', 'step3000')}"
    assert model.num_params == 70426624 and model.license == "apache-2.0" and model.datasets == ["EleutherAI/pile"]
    assert model.description.startswith("# pythia-70m")
    assert zoo.load_code("EleutherAI/pythia-70m@step3000").endswith(
        'AutoModelForCausalLM.from_pretrained("EleutherAI/pythia-70m", revision="step3000")\n'
    )
    assert len(hub.api_requests()) == 2  # info + refs (the README is a resolve)
    zoo.model("EleutherAI/pythia-70m")
    zoo.checkpoints("EleutherAI/pythia-70m")
    assert len(hub.api_requests()) == 2  # opened once
    olmo = zoo.model("allenai/OLMo-1B-hf")
    assert olmo.checkpoint("step21000-tokens88B").metrics["tokens"] == 88e9
    steps = [c.step for c in olmo.checkpoints[:-1]]
    assert steps == sorted(steps)


def test_result_files_give_metrics_per_checkpoint_and_files_carry_lfs_sha256(hub):
    repo = "someone/evaluated-lm"
    result = {"results": {"lambada_openai": {"acc,none": 0.41, "acc_stderr,none": 0.01}}}
    hub.extra_files[repo] = {
        "evals/results_step1000.json": json.dumps(
            {**result, "config": {"model_args": f"pretrained={repo},revision=main"}}
        ).encode(),
        "model.onnx": b"not really onnx",
    }
    try:
        model = cz.open_zoo("hf:").model(repo)
    finally:
        del hub.extra_files[repo]
    main_ckpt = model.checkpoint("main")
    assert main_ckpt.metrics["lambada_openai.acc"] == 0.41
    files = {f.name: f for f in main_ckpt.files}
    assert set(files) == set()  # transformers repo: loaded by name, no files needed
    assert model.library == "transformers"


def test_merged_zoo_alternates_local_and_hub_rows(hub):
    zoo = cz.open_zoo(["builtin", "hf:"])
    page = zoo.search("", limit=8)
    assert list(page["source"]) == ["builtin", "hf:", "builtin", "hf:", "builtin", "hf:", "hf:", "hf:"]
    assert page.attrs["total"] is None and page.attrs["more"]
    only_local = zoo.search("mlp")
    assert list(only_local["id"]) == ["digits-mlp", "digits-cnn"] and only_local.attrs["total"] == 2
    sorted_local = zoo.search("", sort="-val_accuracy", limit=4)
    assert sorted_local["source"].iloc[0] == "builtin" and sorted_local.attrs["notes"]
    assert zoo.model("digits-mlp").source == "builtin"
    assert zoo.model("EleutherAI/pythia-70m").source == "hf:"
    hub.fail.append(503)
    failing = zoo.search("gpt")  # the Hub fails: the local rows and one line
    assert failing.attrs["notes"] == ["hf:: the Hub answered HTTP 503 (status 503)"]


def test_rate_limits_are_waited_for_or_said_in_one_line(hub, monkeypatch):
    zoo = cz.open_zoo("hf:")
    hub.fail.append((429, {"Retry-After": "1"}))
    assert len(zoo.search("bert")) == 50  # waited 1 s as told, asked once more
    assert [s for _, s in hub.api_requests()] == [429, 200]
    hub.fail.append((429, {"Retry-After": "12"}))
    with pytest.raises(ZooError, match=r"^the Hub asks to wait 12 s$"):
        zoo.search("whisper")
    with pytest.raises(ZooError, match=r"^the Hub asks to wait 1\d s$"):
        zoo.search("clip")  # not sent: the Hub said when
    assert len(hub.api_requests()) == 3
    hub_client._Limits.blocked_until.clear()
    monkeypatch.setenv("CKPTZOO_HUB_FRESH", "0")  # every answer revalidated: a 429 serves what was seen
    hub.fail.append((429, {"Retry-After": "30"}))
    again = zoo.search("bert", limit=10)
    assert len(again) == 10


def test_rate_limit_header_with_nothing_left_stops_the_next_request(hub):
    hub.quota, used = 3, len(hub.api_requests())
    try:
        hub._used = 0
        zoo = cz.open_zoo("hf:")
        zoo.search("a")
        zoo.search("b")
        zoo.search("c")  # RateLimit: r=0;t=... -> the next one waits (longer than the cap: said)
        with pytest.raises(ZooError, match="the Hub asks to wait"):
            zoo.search("d")
        assert len(hub.api_requests()) == used + 3
    finally:
        hub.quota, hub._used = 100_000, 0


def test_failures_are_one_line(hub, monkeypatch):
    hub.fail.append(502)
    with pytest.raises(ZooError, match=r"^the Hub answered HTTP 502 \(status 502\)$"):
        cz.open_zoo("hf:").search("")
    monkeypatch.setenv("CKPTZOO_HUB_TIMEOUT", "0.5")
    hub.delay = 2.0
    with pytest.raises(ZooError, match=r"^the Hub did not answer in 0.5 s$"):
        cz.open_zoo("hf:").search("")
    hub.delay = 0.0
    monkeypatch.setenv("HF_ENDPOINT", "http://127.0.0.1:9")  # nothing listens there
    with pytest.raises(ZooError, match=r"^offline: the Hub \(127.0.0.1:9\) cannot be reached$"):
        cz.open_zoo("hf:").search("")
    monkeypatch.setenv("CKPTZOO_OFFLINE", "1")
    with pytest.raises(ZooError, match=r"^offline: the Hub's search 'never' was not seen before$"):
        cz.open_zoo("hf:").search("never")


def test_the_token_is_sent_to_the_hub_and_kept_nowhere(hub, monkeypatch, tmp_path):
    secret = "hf_" + "s3cr3t" * 6
    monkeypatch.delenv("HF_HUB_DISABLE_IMPLICIT_TOKEN")
    monkeypatch.setenv("HF_TOKEN", secret)
    zoo = cz.open_zoo("hf:")
    zoo.search("pythia")
    zoo.model("EleutherAI/pythia-70m")
    code = zoo.load_code("EleutherAI/pythia-70m@step3000")
    assert {e["authorization"] for e in hub.server.requests()} == {f"Bearer {secret}"}
    assert secret not in code
    for path in (tmp_path / "cache").rglob("*"):
        if path.is_file():
            assert secret.encode() not in path.read_bytes()
    hub.fail.append(500)
    with pytest.raises(ZooError) as error:
        zoo.search("whisper")
    assert secret not in str(error.value)


SESSION = textwrap.dedent(
    """
    import json, sys
    import ckptzoo_widgets as cz

    zoo = cz.open_zoo("hf:")
    out = {"first": list(zoo.search("")["id"])}
    out["menus"] = [zoo.filter_options()["task"][:3], [o["key"] for o in zoo.sort_options()]]
    out["pythia"] = list(zoo.search("pythia")["id"])
    out["text-gen"] = list(zoo.search("pythia", task="text-generation")["id"])
    picked = ("EleutherAI/pythia-70m", "allenai/OLMo-1B-hf")
    out["models"] = [[c.name for c in zoo.model(m).checkpoints] for m in picked]
    refs = ("EleutherAI/pythia-70m@step3000", "allenai/OLMo-1B-hf@step1000-tokens4B")
    out["code"] = [zoo.load_code(ref) for ref in refs]
    print(json.dumps(out))
    """
)


def run_session(env: dict[str, str]) -> dict:
    done = subprocess.run([sys.executable, "-c", SESSION], env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_scripted_session_request_counts_across_kernels_and_offline(hub, tmp_path):
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    first = run_session(env)
    counted = len(hub.requests())
    assert counted <= 12, hub.requests()
    assert "EleutherAI/pythia-70m" in first["pythia"] and len(first["models"][0]) == 155
    assert first["code"][1].endswith('revision="step1000-tokens4B")\n')
    hub.reset_counts()
    second = run_session(env)  # another kernel within the freshness window
    assert second == first and len(hub.requests()) <= 2, hub.requests()
    hub.reset_counts()
    offline = run_session({**env, "CKPTZOO_OFFLINE": "1"})
    assert offline == first and hub.requests() == []


def test_cli_search_and_show(hub, capsys):
    assert main(["search", "pythia", "--zoo", "hf:", "--limit", "5"]) == 0
    out = capsys.readouterr().out
    assert "EleutherAI/pythia-12b" in out and "1-5 of 20 models" in out
    assert main(["search", "", "--zoo", "hf:", "--limit", "3"]) == 0
    assert "1-3 of more models" in capsys.readouterr().out
    assert main(["show", "EleutherAI/pythia-70m@step3000", "--zoo", "hf:"]) == 0
    out = capsys.readouterr().out
    assert "step3000" in out and "revision:" in out and "position:" in out and "155" in out


def test_index_build_pages_through_every_match_and_resumes(hub, tmp_path, capsys):
    out = tmp_path / "bulk.parquet"
    source = "hf:author=bulk-org&details=no"
    hub.fail += [200] * 5 + [503]  # the sixth page fails: the build stops, the journal keeps five
    assert main(["index", "build", source, "-o", str(out)]) == 2
    assert "503" in capsys.readouterr().err and not out.exists()
    hub.reset_counts()
    assert main(["index", "build", source, "-o", str(out)]) == 0
    assert "resuming: 500 model(s) listed" in capsys.readouterr().err
    assert len(list_requests(hub)) == 8  # pages 6..13 only (100 a page)
    snapshot = cz.open_zoo(str(out))
    assert len(snapshot) == BULK and snapshot.models["id"].is_unique
    assert not (tmp_path / f".{out.name}.hub-journal.jsonl").exists()


def test_index_build_with_cards_is_searched_offline(hub, tmp_path, monkeypatch):
    out = tmp_path / "eleuther.parquet"
    assert main(["index", "build", "hf:author=EleutherAI", "-o", str(out)]) == 0
    monkeypatch.setenv("CKPTZOO_OFFLINE", "1")
    hub.reset_counts()
    snapshot = cz.open_zoo(str(out))
    assert len(snapshot) == 21 and not snapshot.is_live
    found = snapshot.search("generated")  # a word of the cards
    assert len(found) == 21 and set(found["match"]) == {"card"}
    model = snapshot.model("EleutherAI/pythia-70m")
    assert len(model.checkpoints) == 155 and model.description.startswith("# pythia-70m")
    assert snapshot.load_code("EleutherAI/pythia-70m@step3000") == cz.open_zoo("hf:").load_code(
        "EleutherAI/pythia-70m@step3000"
    )
    assert hub.requests() == []


def _torchvision_broken() -> bool:
    done = subprocess.run([sys.executable, "-c", "import torchvision"], capture_output=True, timeout=120)
    return done.returncode != 0 and b"No module named" not in done.stderr


def _tiny_gpt_neox(folder: Path, seed: int) -> dict[str, bytes]:
    torch = pytest.importorskip("torch")
    transformers = pytest.importorskip("transformers")
    torch.manual_seed(seed)
    config = transformers.GPTNeoXConfig(
        vocab_size=64,
        hidden_size=16,
        num_hidden_layers=1,
        num_attention_heads=2,
        intermediate_size=32,
        max_position_embeddings=32,
    )
    transformers.GPTNeoXForCausalLM(config).save_pretrained(folder, safe_serialization=True)
    return {p.name: p.read_bytes() for p in folder.iterdir() if p.is_file()}


def test_load_code_for_a_branch_loads_that_branchs_weights(hub, tmp_path, monkeypatch):
    if _torchvision_broken():
        monkeypatch.setitem(sys.modules, "torchvision", None)  # (see below)
    main_files = _tiny_gpt_neox(tmp_path / "main", seed=0)
    step_files = _tiny_gpt_neox(tmp_path / "step3000", seed=1)
    hub.serve_files("EleutherAI/pythia-70m", {"main": main_files, "step3000": step_files})
    try:
        code = cz.open_zoo("hf:").load_code("EleutherAI/pythia-70m@step3000")
        probe = code + textwrap.dedent(
            """
            import torch
            print(float(sum(p.double().sum() for p in pythia_70m_step3000.state_dict().values())))
            """
        )
        if _torchvision_broken():
            # a torchvision wheel that does not match this torch breaks transformers' imports; hide it
            probe = "import sys\nsys.modules['torchvision'] = None\n" + probe
        env = {**os.environ, "HF_HOME": str(tmp_path / "hf-home"), "HF_HUB_DISABLE_TELEMETRY": "1"}
        done = subprocess.run([sys.executable, "-c", probe], env=env, capture_output=True, text=True, timeout=300)
        assert done.returncode == 0, done.stderr[-2000:]
        loaded = float(done.stdout.strip().splitlines()[-1])
    finally:
        hub.files.clear()

    import torch
    from safetensors.torch import load_file

    def total(files: dict[str, bytes], name: str) -> float:
        (tmp_path / name).write_bytes(files["model.safetensors"])
        return float(sum(t.double().sum() for t in load_file(tmp_path / name).values()))

    assert loaded == pytest.approx(total(step_files, "s.safetensors"), rel=1e-9)
    assert loaded != pytest.approx(total(main_files, "m.safetensors"), rel=1e-6)
    assert torch is not None
