"""Secrets never in state (docs/security.md): a password or token in a source string
never reaches the widget's synced state, the view saved with the notebook, ``zoo.errors``
or a CLI line. One function owns how a source or message is shown:
``credentials.presentable``.
"""

from __future__ import annotations

import subprocess
import sys

from hypothesis import given, settings
from hypothesis import strategies as st

import ckptzoo_widgets as cz
from ckptzoo_widgets.credentials import presentable
from ckptzoo_widgets.storage import redact, shown

PASSWORD = "S3cretPw"
TOKEN = "tok3nVa1ueX"
WITH_PASSWORD = f"mlflow:http://alice:{PASSWORD}@127.0.0.1:9"
WITH_TOKEN = f"mlflow:http://127.0.0.1:9?experiment=a&token={TOKEN}"


def _clean(text: str) -> bool:
    return PASSWORD not in text and TOKEN not in text and "alice" not in text


def test_a_refused_source_with_a_password_leaves_no_trace_in_the_widget_or_the_saved_view() -> None:
    browser = cz.browse(WITH_PASSWORD)
    assert browser.error and "credentials" in browser.error  # refused, and says why
    assert browser.source_label == "mlflow:http://127.0.0.1:9"
    state = browser.get_state()
    assert _clean(repr(state)), [k for k, v in state.items() if not _clean(repr(v))]
    bundle = browser.static_view()
    assert "mlflow:http://127.0.0.1:9" in bundle["text/plain"]
    assert _clean(bundle["text/html"]) and _clean(bundle["text/plain"])


def test_a_token_in_a_merged_source_is_not_in_zoo_errors_or_the_widget() -> None:
    zoo = cz.open_zoo(["builtin", WITH_TOKEN])
    assert len(zoo.errors) == 1 and "token=…" in zoo.errors[0] and "experiment=a" in zoo.errors[0]
    assert all(_clean(e) for e in zoo.errors)
    browser = cz.browse(["builtin", WITH_TOKEN])
    assert browser.total > 0 and _clean(repr(browser.get_state()))
    assert _clean(browser.static_view()["text/html"])


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "ckptzoo_widgets.cli", *args], capture_output=True, text=True, timeout=120
    )


def test_cli_lines_carry_no_password_or_token() -> None:
    warned = _cli("search", "--zoo", "builtin", "--zoo", WITH_TOKEN)
    assert warned.returncode == 0 and "warning" in warned.stderr and "token=…" in warned.stderr
    refused = _cli("search", "--zoo", WITH_PASSWORD)
    assert refused.returncode == 2 and refused.stderr.startswith("ckptzoo: error:")
    unreadable = _cli("validate", f"http://alice:{PASSWORD}@127.0.0.1:9/index.json?token={TOKEN}")
    assert unreadable.returncode == 2 and "cannot read" in unreadable.stderr
    for done in (warned, refused, unreadable):
        assert _clean(done.stdout + done.stderr), done.stderr


def test_the_older_helpers_are_the_same_function() -> None:
    """storage.shown / storage.redact present through it (one owner, no second copy)."""
    text = f"s3://bucket/k failed at https://alice:{PASSWORD}@h/x?sig={TOKEN}&v=1"
    assert redact(text) == presentable(text) and _clean(redact(text))
    assert shown(f"https://alice:{PASSWORD}@h/x?sig={TOKEN}") == "https://h/x"


# ---- the property -------------------------------------------------------------------------

_USERINFO_CHARS = st.text(
    alphabet="abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._~!$&'()*+,;=%:/@",
    min_size=0,
    max_size=12,
)
_VALUE_CHARS = st.text(alphabet="abcXYZ0189-._~%+/=:@!$'()*", min_size=0, max_size=16)
_SECRET_PARAMS = st.sampled_from(
    [
        "token",
        "access_token",
        "id_token",
        "sig",
        "sas",
        "key",
        "api_key",
        "apikey",
        "password",
        "passwd",
        "pwd",
        "secret",
        "client_secret",
        "signature",
        "X-Amz-Signature",
        "X-Amz-Credential",
        "X-Amz-Security-Token",
        "X-Goog-Signature",
        "X-Goog-Credential",
        "AccountKey",
        "SharedAccessSignature",
        "auth",
    ]
)
_CONTEXTS = st.sampled_from(
    [
        "{}",
        "mlflow:{}",
        "source {!r} failed to open: cannot reach",
        "Could not open the zoo '{}': refused",
        "cannot read ({}) after 3 tries",
        "{}, builtin",
    ]
)


@settings(max_examples=500, deadline=None)
@given(
    scheme=st.sampled_from(["http", "https", "s3", "az", "mlflow+http", "HTTP"]),
    user=_USERINFO_CHARS,
    password=_USERINFO_CHARS,
    host=st.sampled_from(["127.0.0.1:5000", "host", "bucket", "a.b.example"]),
    path=st.sampled_from(["", "/", "/x/index.json", "/org/repo@main/f"]),
    params=st.lists(st.tuples(_SECRET_PARAMS, st.booleans()), max_size=3),
    value=_VALUE_CHARS,
    context=_CONTEXTS,
)
def test_property_presentable_never_contains_the_secret(
    scheme, user, password, host, path, params, value, context
) -> None:
    secret_pw = f"PWSECRET{password}"
    secret_value = f"QSECRET{value}"
    query = "&".join(
        f"{name.upper() if upper else name}={secret_value}" for name, upper in [("experiment", False), *params]
    )
    url = f"{scheme}://{user}:{secret_pw}@{host}{path}" + (f"?{query}" if params else "")
    text = context.format(url)
    out = presentable(text)
    assert "PWSECRET" not in out, (text, out)
    if params:
        assert "QSECRET" not in out.split("experiment=", 1)[1].split("&", 1)[1], (text, out)
    assert presentable(out) == out  # idempotent: presenting twice changes nothing
