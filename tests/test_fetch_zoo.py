"""A zoo served over HTTP: Zoo.download and the generated load code go through the cache."""

from __future__ import annotations

import ast
import json
import os
import sys

import pytest

sys.path.insert(0, os.path.dirname(__file__))
from httpserver import FileServer
from indexes import good_index

import ckptzoo_widgets as cz
from ckptzoo_widgets.fetch import IntegrityError

REF = "team/alpha@step-100"


@pytest.fixture
def served_zoo(tmp_path, monkeypatch):
    monkeypatch.setenv("CKPTZOO_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("CKPTZOO_QUIET", "1")
    monkeypatch.setenv("CKPTZOO_BACKOFF", "0.01")
    monkeypatch.delenv("CKPTZOO_OFFLINE", raising=False)
    doc = good_index(tmp_path)
    weights = (tmp_path / "files" / "tiny.safetensors").read_bytes()
    with FileServer() as srv:
        srv.add("/zoo/files/tiny.safetensors", weights)
        srv.add("/zoo/index.json", json.dumps(doc).encode())
        yield srv, srv.url("/zoo/index.json"), weights, tmp_path / "cache"


def test_zoo_download_goes_through_the_cache(served_zoo):
    srv, index_url, weights, cache = served_zoo
    zoo = cz.open_zoo(index_url)
    (path,) = zoo.download(REF)
    assert path.read_bytes() == weights
    assert cache in path.parents and path.name == "tiny.safetensors"
    assert path.resolve().parent.parent.name == "sha256"  # content-addressed blob behind the view
    (again,) = zoo.download(REF)
    assert again == path
    assert len(srv.bodies("/zoo/files/tiny.safetensors")) == 1


def test_generated_code_calls_fetch_with_the_hash(served_zoo):
    srv, index_url, weights, cache = served_zoo
    zoo = cz.open_zoo(index_url)
    code = zoo.load_code(REF)
    for bare in ("urllib", "urlretrieve", "load_state_dict_from_url", "download_url_to_file", "requests."):
        assert bare not in code
    calls = [
        node
        for node in ast.walk(ast.parse(code))
        if isinstance(node, ast.Call) and ast.unparse(node.func) == "cz.fetch"
    ]
    assert calls, code
    call = calls[0]
    kwargs = {k.arg: ast.literal_eval(k.value) for k in call.keywords}
    assert ast.literal_eval(call.args[0]) == srv.url("/zoo/files/tiny.safetensors")
    assert kwargs["sha256"] and kwargs["size"] == len(weights)
    # run exactly that call, as the user's cell would: a verified file from the cache
    path = eval(compile(ast.Expression(call), "<cell>", "eval"), {"cz": cz})
    assert path.read_bytes() == weights and cache in path.parents


def test_tampered_file_is_refused_by_zoo_download(served_zoo):
    srv, index_url, weights, cache = served_zoo
    srv.resource("/zoo/files/tiny.safetensors").flip_at = 3
    with pytest.raises(IntegrityError, match="sha256 mismatch"):
        cz.open_zoo(index_url).download(REF)
    assert not list((cache / "tmp").glob("*.part"))
