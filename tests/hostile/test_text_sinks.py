"""Hostile text reaches each sink only as plain text (docs/security.md, "Text sinks").

File names come from URLs a stranger's index names; they reach the progress
bar (tqdm.notebook renders its label through an HTML widget), the view path,
messages and the terminal. Each case runs in a bounded child process.
"""

from __future__ import annotations

import hashlib
import re
import urllib.parse

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ckptzoo_widgets.fetch import file_name_from_url
from ckptzoo_widgets.text import html_text, label_text, one_line, terminal_safe, truncate
from tests.httpserver import FileServer

from .bounded import run_bounded

HOSTILE_NAMES = {
    "img-onerror": "<img src=x onerror=alert(1)>.safetensors",
    "script": "<script>fetch('http://127.0.0.1:9/x')</script>",
    "quotes": "a\"b'c`d.bin",
    "newline": "model\nERROR: fake line.bin",
    "carriage-return": "ok\r[fake] done.bin",
    "bidi": "evil\u202egnp.exe",
    "isolate": "x\u2066y\u2069.bin",
    "osc52": "\x1b]52;c;ZWNobyBwd25lZA==\x07.bin",
    "title": "\x1b]0;pwned\x07.bin",
    "csi": "\x1b[2J\x1b[31mred.bin",
    "c1-csi": "\x9b31mred.bin",
    "nul": "a\x00b.bin",
    "dotdot": "..",
    "slash": "../../etc/passwd",
    "backslash": "..\\..\\x.bin",
    "entity": "&lt;img src=x onerror=alert(1)&gt;",
    "long": "a" * 60_000 + ".bin",
}

# Characters that must never reach a label shown through HTML, or a terminal.
MARKUP = re.compile(r"[<>&\"'`]")
CONTROLS = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def quoted(name: str) -> str:
    return "/" + urllib.parse.quote(name, safe="")


# ------------------------------------------------------------------ the functions


@pytest.mark.parametrize("name", HOSTILE_NAMES.values(), ids=HOSTILE_NAMES.keys())
def test_label_keeps_no_markup_no_controls_and_is_short(name):
    label = label_text(name)
    assert not MARKUP.search(label) and not CONTROLS.search(label)
    assert len(label) <= 41


@pytest.mark.parametrize("name", HOSTILE_NAMES.values(), ids=HOSTILE_NAMES.keys())
def test_terminal_and_message_text_have_no_controls(name):
    assert not CONTROLS.search(terminal_safe(name).replace("\n", "").replace("\t", ""))
    line = one_line(name)
    assert not CONTROLS.search(line) and "\n" not in line
    assert len(line) < 260


def test_terminal_safe_keeps_plain_text_and_line_breaks():
    assert terminal_safe("café 模型\n\tok") == "café 模型\n\tok"
    assert terminal_safe("\x1b]52;c;AAAA\x07") == "?]52;c;AAAA?"
    assert terminal_safe("\ud800") == "?"  # a lone surrogate cannot even be printed


def test_truncate_says_how_much_it_left_out():
    assert truncate("x" * 100_000, 10) == "x" * 10 + "… (99990 more characters)"
    assert truncate("short") == "short"


def test_html_text_escapes_markup():
    assert html_text("<img src=x onerror='a'>&") == "&lt;img src=x onerror=&#x27;a&#x27;&gt;&amp;"


def test_label_keeps_ordinary_names():
    assert label_text("model-epoch_10.safetensors") == "model-epoch_10.safetensors"
    assert label_text("模型.bin") == "模型.bin"


@pytest.mark.parametrize("name", HOSTILE_NAMES.values(), ids=HOSTILE_NAMES.keys())
def test_file_name_from_url_follows_the_index_rules_or_falls_back(name):
    got = file_name_from_url("http://127.0.0.1/zoo" + quoted(name))
    assert got == name or got.startswith("download")
    assert "/" not in got and not MARKUP.search(got) and not CONTROLS.search(got) and got not in ("..", ".")
    assert len(got) <= 200


def test_file_name_from_url_keeps_good_names_and_plain_suffixes():
    assert file_name_from_url("http://h/a/model%20v2.safetensors?x=1") == "model v2.safetensors"
    assert file_name_from_url("http://h/a/%3Cimg%3E.safetensors") == "download.safetensors"
    assert file_name_from_url("http://h/a/") == "download"


# Any text at all, surrogates and controls included.
ANY_TEXT = st.text(st.characters(codec=None, exclude_categories=()), max_size=300)


@settings(max_examples=500, deadline=None)
@given(ANY_TEXT)
def test_property_every_sink_output_is_plain(text):
    label = label_text(text)
    assert not MARKUP.search(label) and not CONTROLS.search(label) and len(label) <= 41
    assert not CONTROLS.search(terminal_safe(text).replace("\n", "").replace("\t", ""))
    line = one_line(text)
    assert "\n" not in line and not CONTROLS.search(line)
    assert "<" not in html_text(text) and '"' not in html_text(text)
    label.encode("utf-8")  # printable: no lone surrogate survives
    line.encode("utf-8")


@settings(max_examples=500, deadline=None)
@given(ANY_TEXT)
def test_property_file_names_from_urls_pass_the_index_rules(name):
    from ckptzoo_widgets.safety import check_relative_path

    got = file_name_from_url("http://h/z/" + urllib.parse.quote(name, safe="", errors="surrogatepass"))
    check_relative_path(got)
    assert "/" not in got and not got.startswith(".") and len(got) <= 200
    assert label_text(got, limit=200) == got


# ------------------------------------------- through fetch: progress bar and messages

# The child swaps tqdm.auto's bar for tqdm.notebook's (the one a notebook shows,
# whose label is an ipywidgets HTML widget) and records every label it showed.
NOTEBOOK_BAR = """
import tqdm.auto, tqdm.notebook
shown = []
class Recording(tqdm.notebook.tqdm):
    def display(self, *args, **kwargs):
        shown.append(self.container.children[0].value)
        return super().display(*args, **kwargs)
tqdm.auto.tqdm = Recording
from ckptzoo_widgets.fetch import fetch
path = fetch(URL, sha256=SHA, quiet=False)
print("PATH", repr(str(path)))
print("LABELS", repr(shown))
"""


# ("..": the HTTP client removes the dot segment before sending; the unit test above covers it)
@pytest.mark.parametrize("key", [k for k in HOSTILE_NAMES if k != "dotdot"])
def test_hostile_file_name_reaches_the_notebook_progress_bar_as_plain_text(key, tmp_path):
    data = b"weights" * 1000
    with FileServer() as srv:
        url = srv.add(quoted(HOSTILE_NAMES[key]), data)
        result = run_bounded(
            NOTEBOOK_BAR,
            memory_mb=1024,
            seconds=60,
            env={"CKPTZOO_CACHE": str(tmp_path / "cache")},
            URL=url,
            SHA=hashlib.sha256(data).hexdigest(),
        )
    assert result.ok, (result.error_type, result.message, result.stderr[-2000:])
    labels = eval(result.stdout.split("LABELS ", 1)[1])  # noqa: S307 - our own repr of a list of str
    assert labels, "the bar was shown"
    for label in labels:
        assert not MARKUP.search(label) and not CONTROLS.search(label), label
        assert len(label) <= 41
    path = eval(result.stdout.split("PATH ", 1)[1].split("\n", 1)[0])  # noqa: S307
    assert path.startswith(str(tmp_path / "cache" / "views"))
    assert not MARKUP.search(path.rsplit("/", 1)[1]) and not CONTROLS.search(path)


def test_hostile_names_and_reason_phrases_reach_messages_as_one_short_plain_line(tmp_path):
    name = HOSTILE_NAMES["osc52"] + HOSTILE_NAMES["img-onerror"] + "x" * 50_000
    with FileServer() as srv:
        url = srv.add(quoted(name), b"", status_only=404)
        result = run_bounded(
            "from ckptzoo_widgets.fetch import fetch\nfetch(URL, quiet=True)",
            env={"CKPTZOO_CACHE": str(tmp_path / "cache")},
            URL=url,
        )
    assert result.raised("FetchError"), result
    assert "404" in result.message
    assert not CONTROLS.search(result.message)
    assert len(result.message) < 600


def test_reason_phrase_with_escape_sequences_is_not_passed_on(tmp_path):
    # http.server sends our reason phrase verbatim: ESC ] 52 writes a terminal's clipboard
    reason = "Forbidden\x1b]52;c;cHduZWQ=\x07\x1b]0;title\x07" + "y" * 5000
    with FileServer() as srv:
        srv.add("/f.bin", b"", status_only=403)
        srv.httpd.reasons = {403: reason}  # see tests/httpserver.py
        result = run_bounded(
            "from ckptzoo_widgets.fetch import fetch\nfetch(URL, quiet=True)",
            env={"CKPTZOO_CACHE": str(tmp_path / "cache")},
            URL=srv.url("/f.bin"),
        )
    assert result.raised("HTTPStatusError"), result
    assert "403" in result.message and "Forbidden" in result.message
    assert "\x1b" not in result.message and "\x07" not in result.message
    assert len(result.message) < 600


# ------------------------------------------------------------ the terminal (the CLI)

OSC52 = "\x1b]52;c;cHduZWQ=\x07"
TERMINAL_BAD = re.compile("[\x1b\x07\x9b\x9d\u202a-\u202e\u2066-\u2069]")
CLI = "from ckptzoo_widgets.cli import main\nraise SystemExit(main(ARGV))"


def run_cli(tmp_path, *argv: str):
    return run_bounded(
        CLI,
        seconds=90,
        env={"CKPTZOO_CACHE": str(tmp_path / "cache"), "CKPTZOO_QUIET": "1", "CKPTZOO_RETRIES": "0"},
        ARGV=list(argv),
    )


def hostile_local_zoo(tmp_path) -> str:
    import json

    name = "w\u202egnp.\x9b31mevil\x9d0;title.safetensors"
    (tmp_path / "zoo").mkdir()
    (tmp_path / "zoo" / name).write_bytes(b"bytes")
    index = {
        "ckptzoo_index": 1,
        "models": [
            {
                "id": "m",
                "library": "safetensors",
                "checkpoints": [
                    {"name": "c", "files": [{"path": name, "sha256": hashlib.sha256(b"bytes").hexdigest()}]}
                ],
            }
        ],
    }
    path = tmp_path / "zoo" / "index.json"
    path.write_text(json.dumps(index))
    return str(path)


def test_cli_download_prints_file_names_terminal_safe(tmp_path):
    result = run_cli(tmp_path, "download", "m@c", "--zoo", hostile_local_zoo(tmp_path))
    assert result.error_type == "SystemExit" or result.ok, result
    assert "gnp" in result.stdout + result.stderr  # the name is there, as text
    assert not TERMINAL_BAD.search(result.stdout), repr(result.stdout)
    assert not TERMINAL_BAD.search(result.stderr), repr(result.stderr)


def test_cli_validate_prints_a_reason_phrase_terminal_safe(tmp_path):
    with FileServer() as srv:
        srv.add("/index.json", b"", status_only=403)
        srv.httpd.reasons = {403: "Forbidden" + OSC52 + "\x1b]0;title\x07"}
        result = run_cli(tmp_path, "validate", srv.url("/index.json"))
    assert "403" in result.stderr, result
    assert not TERMINAL_BAD.search(result.stdout + result.stderr), repr(result.stderr)


def test_cli_download_error_with_a_reason_phrase_is_terminal_safe(tmp_path):
    import json

    with FileServer() as srv:
        srv.add("/w.safetensors", b"", status_only=403)
        srv.httpd.reasons = {403: "Forbidden" + OSC52}
        index = {
            "ckptzoo_index": 1,
            "models": [{"id": "m", "checkpoints": [{"name": "c", "files": [{"path": "w.safetensors"}]}]}],
        }
        srv.add("/index.json", json.dumps(index).encode())
        result = run_cli(tmp_path, "download", "m@c", "--zoo", srv.url("/index.json"))
    assert "403" in result.stderr and "Forbidden" in result.stderr, result
    assert not TERMINAL_BAD.search(result.stdout + result.stderr), repr(result.stderr)


def test_cache_ls_and_verify_print_remote_names_terminal_safe(tmp_path):
    data = b"cached bytes"
    with FileServer() as srv:
        url = srv.add(quoted(OSC52 + "\u202eevil.bin"), data)
        fetched = run_bounded(
            "from ckptzoo_widgets.fetch import fetch\nfetch(URL, view=('z', 'm\u202ex', 'c\x9b', 'f.bin'))",
            env={"CKPTZOO_CACHE": str(tmp_path / "cache"), "CKPTZOO_QUIET": "1"},
            URL=url,
        )
    assert fetched.ok or fetched.raised("FetchError"), fetched
    for argv in (("cache", "ls"), ("cache", "verify", "-v"), ("cache", "prune", "--all", "-n")):
        result = run_cli(tmp_path, *argv)
        assert result.stdout, (argv, result)
        assert not TERMINAL_BAD.search(result.stdout + result.stderr), (argv, repr(result.stdout))


def test_a_local_path_from_an_index_reaches_messages_as_plain_text(tmp_path):
    result = run_bounded(
        "import pathlib\nfrom ckptzoo_widgets.fetch import fetch\nfetch(pathlib.Path(P))",
        env={"CKPTZOO_CACHE": str(tmp_path / "cache")},
        P=str(tmp_path / "w\u202egnp.\x9b31m.bin"),
    )
    assert result.raised("FetchError") and "file not found" in result.message, result
    assert not CONTROLS.search(result.message)
