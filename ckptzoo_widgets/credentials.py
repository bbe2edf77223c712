"""Credentials written into a URL (``http://user:pw@host/index.json``).

They never reach anything shown, stored or generated: every entry point that
takes a source or URL from the user (``open_zoo``, ``browse``, ``fetch``, the
CLI) passes it through :func:`accept`, which returns the URL without them and
keeps them in this process only, for requests to the same scheme, host and
port (:func:`auth_for`). Load code, cache records, messages and the widget see
the clean URL; a fresh process asks again (or reads ``~/.netrc``, see
docs/downloads.md "Authentication"). Object-storage URLs carrying credentials are
refused here: their credentials come from the environment (``storage``) or from
``storage_options``. Options a zoo was opened with are remembered here for the
buckets that zoo names (:func:`remember_storage`), so ``cz.fetch`` of one of its
files (its generated load code, run in the same kernel) uses them too; they live
in this process's memory only.

How any source string, URL or message is shown (labels, errors, ``zoo.errors``,
the widget and its saved view, the CLI) has one owner too: :func:`presentable`.
"""

from __future__ import annotations

import re
import threading
import urllib.parse
from typing import Any

_DEFAULT_PORTS = {"http": 80, "https": 443}
_store: dict[tuple[str, str, int], tuple[str, str]] = {}
_storage: dict[tuple[str, str], dict[str, Any]] = {}  # (fsspec family, bucket) -> storage_options
_lock = threading.Lock()


def _split(url: str) -> tuple[urllib.parse.SplitResult, str, str] | None:
    """(parts, userinfo, host[:port]) of an http(s) URL that carries userinfo, else None."""
    if not isinstance(url, str) or "@" not in url:
        return None
    parts = urllib.parse.urlsplit(url)
    if parts.scheme.lower() not in _DEFAULT_PORTS or "@" not in parts.netloc:
        return None
    userinfo, _, hostport = parts.netloc.rpartition("@")
    return parts, userinfo, hostport


def _origin(url: str) -> tuple[str, str, int] | None:
    parts = urllib.parse.urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme not in _DEFAULT_PORTS:
        return None
    try:
        port = parts.port or _DEFAULT_PORTS[scheme]
    except ValueError:
        return None
    return scheme, (parts.hostname or "").lower(), port


# Query or key=value names whose values are secrets (token, access_token, sig, sas, key,
# password, X-Amz-Signature / Credential / Security-Token, X-Goog-Signature, client_secret,
# AccountKey, SharedAccessSignature ...): a name containing one of these words.
_SECRET_NAME = r"[\w.-]*(?:key|secret|token|passw(?:or)?d|pwd|credential|signature|sig|sas|policy|auth)[\w.-]*"
# scheme:// then a candidate userinfo: up to the last '@' before whitespace, '?', '#', '"', '<', '>'
_USERINFO = re.compile(r"(?i)\b([a-z][a-z0-9+.-]*://)([^\s?#\"<>]*@)")
_PRESENTATIONS = [
    (re.compile(rf"(?i)(?<![\w.-])({_SECRET_NAME}=)[^\s&;,'\"#<>]+"), r"\1…"),  # key=value, query or not
    (re.compile(rf"(?i)(['\"]{_SECRET_NAME}['\"]\s*:\s*)(['\"])[^'\"]*\2"), r"\1'…'"),  # 'key': 'value'
    (re.compile(r"(?i)\b(AKIA|ASIA|AIDA|AROA)[A-Z0-9]{12,}"), "…"),  # AWS access key ids
    (re.compile(r"\bhf_[A-Za-z0-9]{20,}"), "…"),  # Hugging Face tokens
    (re.compile(r"(?i)\b(Bearer|Basic|Token)\s+[A-Za-z0-9._~+/=-]+"), r"\1 …"),
]


def _drop_userinfo(match: re.Match[str]) -> str:
    scheme, userinfo = match.group(1), match.group(2)
    if userinfo == "…@":  # already presented
        return scheme + userinfo
    if "/" not in userinfo:  # RFC 3986 userinfo: removed
        return scheme
    if ":" in userinfo:  # 'user:pa/ss@host' typed without percent-encoding: say something went
        return scheme + "…@"
    return scheme + userinfo  # hf://org/repo@revision, https://host/pkg@1.0: a path, kept


def presentable(text: object) -> str:
    """``text`` (a source string, URL, message or label) as it may be shown or stored:
    ``user:password@`` taken out of every URL in it (``mlflow:http://alice:pw@host`` ->
    ``mlflow:http://host``), the value of every secret parameter redacted (``?token=…``,
    ``sig=…``, ``X-Amz-Signature=…``, ``AccountKey=…``), access key ids, ``hf_`` tokens and
    ``Bearer`` values replaced by ``…``. Other text is unchanged; no length bound (each
    sink cuts to its own, after this). The one owner of how a secret looks when shown:
    ``storage.shown`` / ``storage.redact`` and every label, error and CLI line use it."""
    out = _USERINFO.sub(_drop_userinfo, str(text))
    for pattern, repl in _PRESENTATIONS:
        out = pattern.sub(repl, out)
    return out


def strip(url: str) -> str:
    """``url`` without ``user:password@`` (other text unchanged)."""
    split = _split(url)
    if split is None:
        return url
    parts, _userinfo, hostport = split
    return urllib.parse.urlunsplit((parts.scheme, hostport, parts.path, parts.query, parts.fragment))


def accept(source: Any) -> Any:
    """A source (or list of sources) as the product may keep it: credentials taken out
    of each http(s) URL and remembered in this process for that URL's origin.

    An object-storage URL that names more than a bucket, container or repository
    (``s3://KEY:SECRET@bucket/...``, ``az://acct.blob.core.windows.net/...``) is refused
    (``storage.check_destination``, a ZooError): credentials and where they go come from
    the environment or ``storage_options``."""
    if isinstance(source, (list, tuple)):
        return type(source)(accept(item) for item in source)
    if isinstance(source, str):
        from . import storage

        if storage.is_object_url(source):  # credentials, account, endpoint: never from the URL
            return storage.check_destination(source)
    split = _split(source)
    if split is None:
        return source
    _parts, userinfo, _hostport = split
    clean = strip(source)
    user, _, password = userinfo.partition(":")
    origin = _origin(clean)
    if origin is not None:
        with _lock:
            _store[origin] = (urllib.parse.unquote(user), urllib.parse.unquote(password))
    return clean


def auth_for(url: str) -> tuple[str, str] | None:
    """The (user, password) remembered for this URL's origin, for a request's ``auth=``.

    None when there is none: requests then falls back to ``~/.netrc``. Requests
    drops the header when a redirect leaves the host.
    """
    origin = _origin(url)
    if origin is None:
        return None
    with _lock:
        return _store.get(origin)


def remember_storage(url: str, options: dict[str, Any]) -> None:
    """Use ``options`` for later downloads of object URLs in ``url``'s bucket (same family)."""
    from . import storage

    with _lock:
        _storage[storage.scope(url)] = dict(options)


def storage_options_for(url: str) -> dict[str, Any] | None:
    """The storage_options remembered for ``url``'s bucket, or None (the environment then)."""
    from . import storage

    with _lock:
        options = _storage.get(storage.scope(url))
    return None if options is None else dict(options)


def forget() -> None:
    """Drop every remembered credential (tests; a long-lived kernel)."""
    with _lock:
        _store.clear()
        _storage.clear()


__all__ = ["accept", "auth_for", "forget", "presentable", "remember_storage", "storage_options_for", "strip"]
