"""Checkpoints on object storage: cz.fetch / Zoo.download / cz.load / load code against a real S3 server.

The server is moto's, in its own process (tests/s3_server.py); the client is the
real s3fs. Its byte counter shows what the server sent for each object.
"""

from __future__ import annotations

import ast
import copy
import hashlib
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

sys.path.insert(0, os.path.dirname(__file__))

import ckptzoo_widgets as cz
from ckptzoo_widgets import storage
from ckptzoo_widgets.errors import HTTPStatusError, IntegrityError, NetworkError
from ckptzoo_widgets.fetch import FetchError

ROOT = Path(__file__).resolve().parents[1]
BUILTIN = ROOT / "ckptzoo_widgets" / "zoo"

pytest.importorskip("s3fs")


@pytest.fixture
def cache(tmp_path, monkeypatch, s3_env):
    root = tmp_path / "cache"
    monkeypatch.setenv("CKPTZOO_CACHE", str(root))
    monkeypatch.setenv("CKPTZOO_QUIET", "1")
    monkeypatch.setenv("CKPTZOO_BACKOFF", "0.01")
    monkeypatch.delenv("CKPTZOO_OFFLINE", raising=False)
    return root


def blobs(root: Path) -> list[Path]:
    return sorted(p for p in (root / "blobs").rglob("*") if p.is_file()) if (root / "blobs").exists() else []


def partials(root: Path) -> list[Path]:
    return sorted((root / "tmp").glob("*.part*")) if (root / "tmp").exists() else []


def child_env(s3_server, cache_root: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(s3_server.env, CKPTZOO_CACHE=str(cache_root), CKPTZOO_QUIET="1", PYTHONPATH=str(ROOT), **extra)
    return env


def test_download_is_verified_cached_and_served_once(s3_server, cache):
    bucket = s3_server.make_bucket()
    data = os.urandom(3 << 20)
    url = s3_server.put(bucket, "mlp/epoch-3/model.safetensors", data)
    sha = hashlib.sha256(data).hexdigest()

    path = cz.fetch(url, sha256=sha, size=len(data))
    assert path.read_bytes() == data
    assert path.name == "model.safetensors" and cache in path.parents
    assert path.resolve() == cache / "blobs" / "sha256" / sha[:2] / sha
    served = s3_server.counts(bucket, "mlp/epoch-3/model.safetensors")
    assert served["bytes"] == len(data)

    assert cz.fetch(url, sha256=sha, size=len(data)) == path  # from the cache: nothing asked
    assert cz.fetch(url, offline=True) == path  # by the URL's record, offline
    assert s3_server.counts(bucket, "mlp/epoch-3/model.safetensors") == served
    assert partials(cache) == []


def test_wrong_sha_is_an_error_and_nothing_is_cached(s3_server, cache):
    bucket = s3_server.make_bucket()
    data = os.urandom(1 << 20)
    url = s3_server.put(bucket, "model.safetensors", data)
    wrong = hashlib.sha256(b"the bytes the index promised").hexdigest()
    with pytest.raises(IntegrityError) as info:
        cz.fetch(url, sha256=wrong)
    message = str(info.value)
    assert "\n" not in message and url in message and wrong in message
    assert blobs(cache) == [] and partials(cache) == []


def test_missing_object_and_bucket_are_one_line_errors(s3_server, cache):
    bucket = s3_server.make_bucket()
    for url in (f"s3://{bucket}/no/such/model.safetensors", f"s3://{bucket}-absent/model.safetensors"):
        with pytest.raises(HTTPStatusError) as info:
            cz.fetch(url, sha256="a" * 64)
        assert info.value.status == 404
        assert str(info.value).startswith(f"{url} does not exist") and "\n" not in str(info.value)
    assert blobs(cache) == [] and partials(cache) == []


def test_server_errors_are_retried_within_the_budget(s3_server, cache, monkeypatch):
    bucket = s3_server.make_bucket()
    data = os.urandom(1 << 20)
    url = s3_server.put(bucket, "flaky.bin", data)
    s3_server.behave(bucket, "flaky.bin", fail=[500, 500, 500])
    path = cz.fetch(url, sha256=hashlib.sha256(data).hexdigest())
    assert path.read_bytes() == data
    counts = s3_server.counts(bucket, "flaky.bin")
    assert counts["failed"] == 3 and counts["bytes"] == len(data)

    get_fails = os.urandom(1 << 20)
    url = s3_server.put(bucket, "get-fails.bin", get_fails)
    s3_server.behave(bucket, "get-fails.bin", fail=[500, 503], methods=["GET"])
    assert cz.fetch(url, sha256=hashlib.sha256(get_fails).hexdigest()).read_bytes() == get_fails
    counts = s3_server.counts(bucket, "get-fails.bin")
    assert counts["methods"] == ["HEAD", "GET"] * 3 and counts["failed"] == 2

    other_data = os.urandom(1 << 20)
    other = s3_server.put(bucket, "down.bin", other_data)
    s3_server.behave(bucket, "down.bin", fail=[500] * 50)
    monkeypatch.setenv("CKPTZOO_RETRIES", "2")
    with pytest.raises(NetworkError, match=r"gave up after 2 retries"):
        cz.fetch(other, sha256=hashlib.sha256(other_data).hexdigest())
    assert s3_server.counts(bucket, "down.bin")["failed"] == 3  # the first try and two retries
    assert partials(cache) == []


def test_resume_after_a_killed_download_asks_only_for_the_rest(s3_server, cache):
    bucket = s3_server.make_bucket()
    data = os.urandom(8 << 20)
    sha = hashlib.sha256(data).hexdigest()
    url = s3_server.put(bucket, "big/model.safetensors", data)
    s3_server.behave(bucket, "big/model.safetensors", rate=2 << 20)  # 4 s for all of it
    code = f"import ckptzoo_widgets as cz; cz.fetch({url!r}, sha256={sha!r})"
    child = subprocess.Popen([sys.executable, "-c", code], env=child_env(s3_server, cache))
    part = cache / "tmp" / f"{sha}.part"
    try:
        deadline = time.monotonic() + 60
        while not (part.exists() and part.stat().st_size >= 2 << 20):
            assert child.poll() is None, "the download ended before it could be killed"
            assert time.monotonic() < deadline, "no partial file appeared"
            time.sleep(0.05)
    finally:
        os.kill(child.pid, signal.SIGKILL)
        child.wait()
    offset = part.stat().st_size
    assert 0 < offset < len(data)

    s3_server.behave(bucket, "big/model.safetensors")  # full speed again
    s3_server.reset_counts()
    path = cz.fetch(url, sha256=sha)
    assert path.read_bytes() == data
    served = s3_server.counts(bucket, "big/model.safetensors")
    assert served["ranges"] == [f"bytes={offset}-"]
    assert served["bytes"] == len(data) - offset
    assert partials(cache) == []


def test_an_object_that_changed_since_the_partial_is_downloaded_whole(s3_server, cache):
    bucket = s3_server.make_bucket()
    old, new = os.urandom(2 << 20), os.urandom(2 << 20)
    url = s3_server.put(bucket, "model.bin", old)
    key = f"url-{hashlib.sha256(url.encode()).hexdigest()}"  # no sha256 given: the URL's key
    (cache / "tmp").mkdir(parents=True)
    (cache / "tmp" / f"{key}.part").write_bytes(old[: 1 << 20])
    etag = s3_server.client().head_object(Bucket=bucket, Key="model.bin")["ETag"]
    meta = {"url": url, "etag": etag, "last_modified": None, "encoded": False}
    (cache / "tmp" / f"{key}.part.json").write_text(json.dumps(meta))
    s3_server.put(bucket, "model.bin", new)  # a new version: another ETag
    s3_server.reset_counts()
    assert cz.fetch(url).read_bytes() == new
    served = s3_server.counts(bucket, "model.bin")
    assert served["ranges"] == [] and served["bytes"] == len(new)


def test_missing_extra_names_it_in_one_line(tmp_path):
    code = (
        "import sys; sys.modules['s3fs'] = None\n"
        "import ckptzoo_widgets as cz\n"
        "try:\n    cz.fetch('s3://bucket/model.safetensors', sha256='a' * 64)\n"
        "except cz.ZooError as e:\n    print(type(e).__name__); print(e)\n"
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT), "CKPTZOO_CACHE": str(tmp_path / "cache")}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120)
    assert out.stdout.splitlines() == [
        "MissingExtraError",
        "reading s3:// needs s3fs: pip install 'ckptzoo-widgets[s3]'",
    ], out.stderr
    # a file already in a (shared) cache is served without the extra
    data = b"cached by someone with s3fs"
    sha = hashlib.sha256(data).hexdigest()
    blob = tmp_path / "cache" / "blobs" / "sha256" / sha[:2] / sha
    blob.parent.mkdir(parents=True)
    blob.write_bytes(data)
    cached = (
        "import sys; sys.modules['s3fs'] = None\n"
        "import ckptzoo_widgets as cz\n"
        f"print(cz.fetch('s3://bucket/model.safetensors', sha256={sha!r}).read_bytes())\n"
    )
    out = subprocess.run([sys.executable, "-c", cached], capture_output=True, text=True, env=env, timeout=120)
    assert out.stdout.splitlines() == [repr(data)], out.stderr


def test_wrong_credentials_are_refused_without_the_secret(s3_auth_server, tmp_path, monkeypatch):
    bucket = s3_auth_server.make_bucket()
    data = b"private weights" * 1000
    url = s3_auth_server.put(bucket, "model.safetensors", data)
    secret = "wrong-secret-Zx9Qp2Lm7Rt4Vb1Nk8Hs"
    monkeypatch.setenv("CKPTZOO_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("CKPTZOO_QUIET", "1")
    monkeypatch.setenv("AWS_ENDPOINT_URL", s3_auth_server.endpoint_url)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", s3_auth_server.key_id)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", secret)
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    with pytest.raises(HTTPStatusError) as info:
        cz.fetch(url, sha256=hashlib.sha256(data).hexdigest())
    message = str(info.value)
    assert info.value.status == 403 and "\n" not in message
    assert message.startswith(f"access denied to {url}")
    assert secret not in message and s3_auth_server.secret not in message and s3_auth_server.key_id not in message
    assert blobs(tmp_path / "cache") == []
    # the right secret, passed as storage_options, works (and is not kept anywhere)
    options = {"key": s3_auth_server.key_id, "secret": s3_auth_server.secret}
    path = cz.fetch(url, sha256=hashlib.sha256(data).hexdigest(), storage_options=options)
    assert path.read_bytes() == data
    for record in (tmp_path / "cache").rglob("*.json"):
        assert s3_auth_server.secret not in record.read_text()


def test_credentials_in_an_object_url_are_refused(cache):
    with pytest.raises(FetchError) as info:
        cz.fetch("s3://AKIAIOSFODNN7EXAMPLE:hunter2hunter2@bucket/model.safetensors")
    assert "hunter2" not in str(info.value) and "AKIAIOSFODNN7EXAMPLE" not in str(info.value)
    assert "s3://bucket/model.safetensors" in str(info.value)


def test_other_file_systems_download_with_ranged_reads(cache):
    import fsspec

    fs = fsspec.filesystem("memory")
    data = os.urandom((5 << 20) + 123)
    fs.pipe_file("/ckptzoo-test/model.bin", data)
    try:
        path = cz.fetch("memory://ckptzoo-test/model.bin", sha256=hashlib.sha256(data).hexdigest())
        assert path.read_bytes() == data and path.name == "model.bin"
    finally:
        fs.rm("/ckptzoo-test", recursive=True)


@pytest.mark.slow
def test_sixteen_processes_share_one_verified_copy(s3_server, cache, tmp_path):
    """16 notebooks open the same zoo on S3 (a Parquet index read in place) and download
    the same checkpoint into one shared cache at the same moment."""
    from ckptzoo_widgets.index.parquet_write import write_parquet
    from ckptzoo_widgets.schema import ModelEntry

    bucket = s3_server.make_bucket()
    data = os.urandom(16 << 20)
    sha = hashlib.sha256(data).hexdigest()
    url = s3_server.put(bucket, "shared/model.safetensors", data)
    entry = ModelEntry.model_validate(
        {
            "id": "team/shared-model",
            "library": "safetensors",
            "checkpoints": [{"name": "final", "files": [{"url": url, "sha256": sha, "size": len(data)}]}],
        }
    )
    index = tmp_path / "index.parquet"
    write_parquet([entry], index, name="shared zoo")
    index_url = s3_server.put(bucket, "zoo/index.parquet", index.read_bytes())
    s3_server.behave(bucket, "shared/model.safetensors", rate=4 << 20)  # 4 s: the others wait on the lock
    code = (
        "import sys, time, ckptzoo_widgets as cz\n"
        "while time.time() < float(sys.argv[1]): time.sleep(0.01)\n"
        f"zoo = cz.open_zoo({index_url!r})\n"
        "print(zoo.download('team/shared-model@final')[0].resolve())\n"
    )
    start = str(time.time() + 8)  # all 16 start together, once their imports are done
    env = child_env(s3_server, cache)
    children = [
        subprocess.Popen([sys.executable, "-c", code, start], env=env, stdout=subprocess.PIPE, text=True)
        for _ in range(16)
    ]
    outputs = [child.communicate(timeout=300)[0].strip() for child in children]
    assert [child.returncode for child in children] == [0] * 16
    assert set(outputs) == {str(cache / "blobs" / "sha256" / sha[:2] / sha)}
    assert [p.name for p in blobs(cache)] == [sha]
    assert hashlib.sha256(blobs(cache)[0].read_bytes()).hexdigest() == sha
    assert partials(cache) == []
    served = s3_server.counts(bucket, "shared/model.safetensors")
    assert served["bytes"] == len(data)  # each byte sent once for this cache
    assert served["methods"] == ["HEAD", "GET"]  # by the one process that held the lock
    # The index's checked grid is one cached copy too, and it opens offline afterwards.
    assert [p for p in (cache / "indexes").rglob("*") if p.name.endswith(".tmp")] == []  # no half-written record
    offline = subprocess.run(
        [sys.executable, "-c", f"import ckptzoo_widgets as cz; print(cz.open_zoo({index_url!r}).models['id'][0])"],
        env={**env, "CKPTZOO_OFFLINE": "1"},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert offline.returncode == 0 and offline.stdout.strip() == "team/shared-model", offline.stderr[-2000:]


# ---------------------------------------------------------------- zoos on object storage


def s3_zoo(s3_server, tmp_path: Path) -> tuple[Path, str, bytes]:
    """A local index whose digits-mlp checkpoint files live in a bucket."""
    doc = json.loads((BUILTIN / "index.json").read_text())
    model = copy.deepcopy(next(m for m in doc["models"] if m["id"] == "digits-mlp"))
    bucket = s3_server.make_bucket()
    checkpoint = model["checkpoints"][-1]
    data = b""
    for file in checkpoint["files"]:
        data = (BUILTIN / file.pop("path")).read_bytes()
        file["url"] = s3_server.put(bucket, f"zoo/digits-mlp/{checkpoint['name']}/model.safetensors", data)
    model["checkpoints"] = [checkpoint]
    model["default_checkpoint"] = checkpoint["name"]
    index = tmp_path / "index.json"
    index.write_text(json.dumps({**doc, "models": [model]}))
    return index, f"digits-mlp@{checkpoint['name']}", data


def test_zoo_download_and_cz_load_read_from_the_bucket(s3_server, cache, tmp_path):
    index, ref, data = s3_zoo(s3_server, tmp_path)
    zoo = cz.open_zoo(str(index))
    (path,) = zoo.download(ref)
    assert path.read_bytes() == data and cache in path.parents
    loaded = cz.load(ref, zoo=str(index))
    assert loaded.sha256 == hashlib.sha256(data).hexdigest()


def test_load_code_fetches_the_object_url_and_runs(s3_server, cache, tmp_path):
    index, ref, data = s3_zoo(s3_server, tmp_path)
    zoo = cz.open_zoo(str(index))
    code = zoo.load_code(ref, library="safetensors-numpy")
    calls = [n for n in ast.walk(ast.parse(code)) if isinstance(n, ast.Call) and ast.unparse(n.func) == "cz.fetch"]
    assert len(calls) == 1
    (url,) = [a.value for a in calls[0].args if isinstance(a, ast.Constant)]
    assert storage.is_object_url(url) and url.startswith("s3://")
    keywords = {k.arg: k.value for k in calls[0].keywords}
    assert isinstance(keywords["sha256"], ast.Constant) and keywords["sha256"].value == hashlib.sha256(data).hexdigest()
    for secret in (s3_server.secret, s3_server.key_id, s3_server.endpoint_url, "AWS_"):
        assert secret not in code
    out = subprocess.run(
        [sys.executable, "-c", code + "\nprint(sorted(state_dict) if 'state_dict' in dir() else 'ran')"],
        capture_output=True,
        text=True,
        env=child_env(s3_server, cache),
        timeout=120,
    )
    assert out.returncode == 0, out.stderr
    assert blobs(cache) and blobs(cache)[0].read_bytes() == data


def test_credentials_in_an_object_url_never_enter_through_any_door(tmp_path):
    url = "s3://AKIAIOSFODNN7EXAMPLE:hunter2hunter2@team-zoo/zoo/index.parquet"
    with pytest.raises(cz.ZooError) as info:
        cz.open_zoo(url)
    assert "hunter2" not in str(info.value) and "AKIAIOSFODNN7EXAMPLE" not in str(info.value)
    assert "s3://team-zoo/zoo/index.parquet" in str(info.value)
    with pytest.raises(cz.ZooError):
        cz.open_zoo(["builtin", url])
    env = {**os.environ, "PYTHONPATH": str(ROOT), "CKPTZOO_CACHE": str(tmp_path / "cache")}
    done = subprocess.run(
        [sys.executable, "-m", "ckptzoo_widgets.cli", "validate", url], capture_output=True, text=True, env=env
    )
    assert done.returncode == 2
    assert "hunter2" not in done.stdout + done.stderr and "AKIAIOSFODNN7EXAMPLE" not in done.stdout + done.stderr


def test_a_hostile_object_name_reaches_the_cache_as_plain_text(s3_server, cache):
    bucket = s3_server.make_bucket()
    data = b"weights" * 100
    url = s3_server.put(bucket, 'zoo/<img src=x onerror="alert(1)">.safetensors', data)
    path = cz.fetch(url, sha256=hashlib.sha256(data).hexdigest())
    assert path.name == "download.safetensors" and path.read_bytes() == data


def test_a_too_slow_object_store_is_given_up_within_the_budget(s3_server, cache, monkeypatch):
    bucket = s3_server.make_bucket()
    data = os.urandom(2 << 20)
    url = s3_server.put(bucket, "slow.bin", data)
    s3_server.behave(bucket, "slow.bin", rate=64 << 10)
    monkeypatch.setenv("CKPTZOO_MIN_SPEED", str(1 << 20))
    monkeypatch.setenv("CKPTZOO_SPEED_WINDOW", "1")
    with pytest.raises(cz.ZooError, match=r"too slow") as info:
        cz.fetch(url, sha256=hashlib.sha256(data).hexdigest())
    assert url in str(info.value) and "\n" not in str(info.value)
    assert blobs(cache) == []


def test_ckptzoo_download_reads_the_bucket_from_a_shell(s3_server, cache, tmp_path):
    index, ref, data = s3_zoo(s3_server, tmp_path)
    env = child_env(s3_server, cache)
    done = subprocess.run(
        [sys.executable, "-m", "ckptzoo_widgets.cli", "download", ref, "--zoo", str(index), "--quiet"],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    (printed,) = done.stdout.split()
    assert Path(printed).read_bytes() == data
    missing = json.loads(index.read_text())
    gone = missing["models"][0]["checkpoints"][0]["files"][0]
    gone["url"] += ".gone"
    gone["sha256"] = hashlib.sha256(b"not in the cache either").hexdigest()  # (the old one is: a cache hit)
    index.write_text(json.dumps(missing))
    done = subprocess.run(
        [sys.executable, "-m", "ckptzoo_widgets.cli", "download", ref, "--zoo", str(index), "--quiet"],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert done.returncode == 2
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and "does not exist" in lines[0], done.stderr


def test_a_size_that_differs_from_the_index_is_refused_before_the_body(s3_server, cache):
    bucket = s3_server.make_bucket()
    data = os.urandom(2 << 20)
    url = s3_server.put(bucket, "grown.bin", data)
    with pytest.raises(IntegrityError, match=r"size mismatch .* expected 1048576 bytes"):
        cz.fetch(url, sha256=hashlib.sha256(data[: 1 << 20]).hexdigest(), size=1 << 20)
    assert s3_server.counts(bucket, "grown.bin")["bytes"] == 0  # the HEAD said so: no GET
    assert blobs(cache) == [] and partials(cache) == []


# ------------------------------------------------- credentials given only as storage_options


def test_a_zoo_opened_with_storage_options_downloads_its_files_with_them(s3_auth_server, tmp_path, monkeypatch):
    """No AWS_* variable: the options given to open_zoo reach zoo.download, cz.load, the
    generated load code run in this kernel and the browser, and are written nowhere."""
    from ckptzoo_widgets import credentials
    from ckptzoo_widgets.widget import browse

    for name in [n for n in os.environ if n.startswith("AWS_")]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-aws-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-aws-credentials"))
    monkeypatch.setenv("CKPTZOO_QUIET", "1")
    monkeypatch.setenv("CKPTZOO_BACKOFF", "0.01")
    credentials.forget()
    server = s3_auth_server
    doc = json.loads((BUILTIN / "index.json").read_text())
    model = copy.deepcopy(next(m for m in doc["models"] if m["id"] == "digits-mlp"))
    checkpoint = model["checkpoints"][-1]
    bucket = server.make_bucket()
    (file,) = checkpoint["files"]
    data = (BUILTIN / file["path"]).read_bytes()
    file["path"] = "files/model.safetensors"  # relative to the index: s3://bucket/zoo/files/...
    server.put(bucket, "zoo/files/model.safetensors", data)
    model["checkpoints"], model["default_checkpoint"] = [checkpoint], checkpoint["name"]
    index = server.put(bucket, "zoo/index.json", json.dumps({**doc, "models": [model]}).encode())
    other = server.put(server.make_bucket(), "model.safetensors", data)  # a bucket the zoo does not name
    ref, sha = f"digits-mlp@{checkpoint['name']}", hashlib.sha256(data).hexdigest()
    options = {
        "key": server.key_id,
        "secret": server.secret,
        "endpoint_url": server.endpoint_url,
        "client_kwargs": {"region_name": "us-east-1"},
    }

    def use_cache(name: str) -> Path:
        monkeypatch.setenv("CKPTZOO_CACHE", str(tmp_path / name))
        return tmp_path / name

    try:
        roots = [use_cache("cache-download")]
        with pytest.raises(cz.ZooError):  # nothing in the environment: the options are needed
            cz.open_zoo(index)
        zoo = cz.open_zoo(index, storage_options=options)
        (path,) = zoo.download(ref)
        assert path.read_bytes() == data

        roots.append(use_cache("cache-load"))
        assert cz.load(ref, zoo=zoo).sha256 == sha
        assert [p.read_bytes() for p in blobs(roots[-1])] == [data]

        roots.append(use_cache("cache-code"))  # the browser's insert: load code run in this kernel
        b = browse(zoo)
        code = zoo.load_code(ref, library="safetensors-numpy")
        exec(compile(code, "<cell>", "exec"), {})
        assert [p.read_bytes() for p in blobs(roots[-1])] == [data]

        # the options stay with the buckets the zoo names: another bucket still needs the environment
        roots.append(use_cache("cache-other"))  # (the blob is not there by its sha256)
        with pytest.raises(FetchError):
            cz.fetch(other, sha256=sha)
        assert cz.fetch(other, sha256=sha, storage_options=options).read_bytes() == data

        shown = [code, repr(zoo), "\n".join(zoo.errors), json.dumps(b.get_state(), default=str)]
        shown += [p.read_text(errors="replace") for root in roots for p in root.rglob("*") if p.is_file()]
        for text in shown:
            assert server.secret not in text and server.key_id not in text and server.endpoint_url not in text
    finally:
        credentials.forget()
