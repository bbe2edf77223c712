"""Object storage through fsspec: which URLs are object URLs, their file system, safe messages.

Every reader of ``s3://``, ``gs://``, ``az://``, ``hf://`` ... (zoo indexes, runs
folders, checkpoint downloads) gets its file system from :func:`filesystem` and
turns a backend's exception into a message with :func:`error_message`.

- The packages are optional extras (``[s3]``, ``[gcs]``, ``[azure]``, ``[hf]``); a
  missing one is a :class:`MissingExtraError` whose one line names the extra.
- Credentials and endpoints come from the environment (``AWS_ENDPOINT_URL``,
  ``AWS_ACCESS_KEY_ID``, ``AWS_PROFILE``, ``GOOGLE_APPLICATION_CREDENTIALS``,
  ``AZURE_STORAGE_*``, ``HF_TOKEN`` ...) through each package's own lookup, or from
  an explicit ``storage_options`` argument; never from an index, and a URL that
  carries ``user:secret@`` is refused.
- Messages name the URL without credentials or query strings and never quote a
  key, secret or token (:func:`redact`).
"""

from __future__ import annotations

import importlib.util
import os
import re
import urllib.parse
from typing import TYPE_CHECKING, Any

from .errors import MissingExtraError, ZooError
from .text import one_line

if TYPE_CHECKING:
    import fsspec

#: protocol -> (the package that implements it, the extra that installs it)
PROTOCOLS: dict[str, tuple[str, str]] = {
    "s3": ("s3fs", "s3"),
    "s3a": ("s3fs", "s3"),
    "gs": ("gcsfs", "gcs"),
    "gcs": ("gcsfs", "gcs"),
    "az": ("adlfs", "azure"),
    "abfs": ("adlfs", "azure"),
    "abfss": ("adlfs", "azure"),
    "hf": ("huggingface_hub", "hf"),
}
#: protocols a zoo index may name for its files (``memory://`` is for tests, in this process only)
INDEX_PROTOCOLS = frozenset(PROTOCOLS)
_TEST_PROTOCOLS = {"memory": ("fsspec", "")}

# Environment variables whose values are secrets: never quoted in a message.
_SECRET_ENV = (
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AWS_SECURITY_TOKEN",
    "AWS_ACCESS_KEY_ID",
    "GOOGLE_APPLICATION_CREDENTIALS",
    "AZURE_STORAGE_KEY",
    "AZURE_STORAGE_ACCOUNT_KEY",
    "AZURE_STORAGE_CONNECTION_STRING",
    "AZURE_STORAGE_SAS_TOKEN",
    "AZURE_CLIENT_SECRET",
    "HF_TOKEN",
    "HUGGING_FACE_HUB_TOKEN",
)
_SECRET_OPTION = re.compile(r"key|secret|token|password|credential|sas|signature|connection", re.IGNORECASE)
_SECRET_WORDS = "(?:key|secret|token|password|credential|signature|sig|sas|policy)"
_REDACTIONS = [
    # key=value pairs naming a secret (query strings, connection strings, reprs)
    (re.compile(rf"(?i)\b([\w.-]*{_SECRET_WORDS}[\w.-]*=)[^\s&;,'\"]+"), r"\1…"),
    (re.compile(rf"(?i)(['\"][\w.-]*{_SECRET_WORDS}[\w.-]*['\"]\s*:\s*)(['\"])[^'\"]*\2"), r"\1'…'"),
    (re.compile(r"(?i)\b(AKIA|ASIA|AIDA|AROA)[A-Z0-9]{12,}"), "…"),  # AWS access key ids
    (re.compile(r"\bhf_[A-Za-z0-9]{20,}"), "…"),  # Hugging Face tokens
    (re.compile(r"(?i)(Bearer|Basic)\s+[A-Za-z0-9._~+/=-]+"), r"\1 …"),
    (re.compile(r"(//)[^/\s@]*@"), r"\1"),  # user:pw@ in any URL
    (re.compile(r"(https?://[^\s?#]*)\?[^\s#]*"), r"\1?…"),  # signed-URL query strings
]


def protocol(url: str) -> str:
    """The lower-case scheme of ``url`` ('' for a plain path)."""
    head, sep, _ = url.partition("://")
    return head.lower() if sep and re.fullmatch(r"[A-Za-z][A-Za-z0-9+.-]*", head) else ""


def family(url: str) -> str:
    """The package that reads ``url`` (``s3fs`` for s3:// and s3a://): URLs of one family
    share credentials and endpoint options."""
    proto = protocol(url)
    return (PROTOCOLS.get(proto) or _TEST_PROTOCOLS.get(proto) or (proto, ""))[0]


def scope(url: str) -> tuple[str, str]:
    """(family, bucket) of an object URL: what storage options given for one URL may be
    reused for. The bucket is the account / container for az://, the repository for hf://."""
    parts = urllib.parse.urlsplit(strip_userinfo(url))
    if protocol(url) == "hf":
        words = (parts.netloc + parts.path).split("/")
        kind = words[0] if words[0] in ("datasets", "spaces") else ""
        repo = "/".join(words[: 3 if kind else 2]).partition("@")[0]
        return family(url), repo
    return family(url), parts.netloc.lower()


def is_object_url(s: str) -> bool:
    """True for an object-storage URL we read through fsspec (s3, gs/gcs, az/abfs, hf, memory);
    False for http(s), file:// and local paths."""
    return isinstance(s, str) and (protocol(s) in PROTOCOLS or protocol(s) in _TEST_PROTOCOLS)


def shown(url: str) -> str:
    """``url`` as a message quotes it: no credentials, no query string, one bounded line."""
    return one_line(redact(strip_userinfo(url)), 300)


def strip_userinfo(url: str) -> str:
    """``url`` without a ``user:secret@`` before its bucket / account."""
    parts = urllib.parse.urlsplit(url)
    if "@" not in parts.netloc or protocol(url) == "hf":  # hf://org/repo@revision: no userinfo
        return url
    return urllib.parse.urlunsplit(parts._replace(netloc=parts.netloc.rpartition("@")[2]))


def check_url(url: str) -> str:
    """An object URL as an index or a caller may name it: a known protocol, a bucket,
    a key, no credentials, whitespace or control characters. ValueError otherwise."""
    proto = protocol(url)
    if proto not in PROTOCOLS:
        raise ValueError(f"{shown(url)} is not an object-storage URL ({', '.join(sorted(PROTOCOLS))})")
    if strip_userinfo(url) != url:
        raise ValueError(f"{shown(url)} must not carry credentials: they come from the environment or storage_options")
    if re.search(r"[\s\x00-\x1f\x7f\ud800-\udfff]", url):
        raise ValueError(f"URL {shown(url)} contains whitespace, control characters or a lone surrogate")
    parts = urllib.parse.urlsplit(url)
    if not parts.netloc or not parts.path.strip("/"):
        raise ValueError(f"URL {shown(url)} must name a bucket (or repository) and a path in it")
    if parts.query or parts.fragment:
        raise ValueError(f"URL {shown(url)} must not have a query string or fragment")
    return url


def require(proto: str) -> None:
    """MissingExtraError unless the package behind ``proto`` can be imported."""
    package, extra = PROTOCOLS.get(proto) or _TEST_PROTOCOLS.get(proto) or ("", "")
    if not package:
        raise ZooError(f"unsupported URL scheme {one_line(repr(proto), 40)}")
    try:
        found = importlib.util.find_spec(package) is not None
    except (ImportError, ValueError):  # sys.modules[package] = None, a broken install
        found = False
    if not found:
        raise MissingExtraError(f"reading {proto}:// needs {package}: pip install 'ckptzoo-widgets[{extra}]'")


def filesystem(url: str, storage_options: dict[str, Any] | None = None) -> tuple[fsspec.AbstractFileSystem, str]:
    """The fsspec file system for ``url`` and the path inside it.

    ``storage_options`` go to the file system (``key``, ``secret``, ``endpoint_url``,
    ``anon``, ``token``, ``account_name`` ...); without them each package reads the
    environment and its own config files. For S3, ``AWS_ENDPOINT_URL`` (or
    ``AWS_ENDPOINT_URL_S3``) names the endpoint; for the Hub, ``HF_ENDPOINT``.
    """
    proto = protocol(url)
    if strip_userinfo(url) != url:
        raise ZooError(f"{shown(url)}: credentials in the URL are not accepted; use the environment or storage_options")
    require(proto)
    import fsspec

    options = dict(storage_options or {})
    if proto in ("s3", "s3a"):
        endpoint = os.environ.get("AWS_ENDPOINT_URL_S3") or os.environ.get("AWS_ENDPOINT_URL")
        client_kwargs = dict(options.get("client_kwargs") or {})
        if endpoint and "endpoint_url" not in options and "endpoint_url" not in client_kwargs:
            options["endpoint_url"] = endpoint
    if proto == "hf" and "endpoint" not in options:
        # read now: huggingface_hub reads HF_ENDPOINT once, when it is first imported
        endpoint = os.environ.get("HF_ENDPOINT", "").strip().rstrip("/")
        if endpoint:
            options["endpoint"] = endpoint
    try:
        fs, path = fsspec.core.url_to_fs(url, **options)
    except ImportError:
        require(proto)  # a package present but failing to import: say which extra
        raise
    except Exception as e:
        raise ZooError(f"cannot use {shown(url)}: {error_message(e, storage_options)}") from None
    return fs, path


def redact(text: str, storage_options: dict[str, Any] | None = None) -> str:
    """``text`` with every credential taken out: secret env values, secret storage
    options, key=value pairs naming a secret, access key ids, tokens, ``user:pw@``,
    query strings of URLs."""
    # Environment values from 8 characters (emulators' "test" / "testing" would mangle
    # ordinary words; real keys are 20-40), options given to this call from 4.
    secrets = [v for v in (os.environ.get(name, "") for name in _SECRET_ENV) if len(v) >= 8]
    for name, value in (storage_options or {}).items():
        if isinstance(value, str) and len(value) >= 4 and _SECRET_OPTION.search(name):
            secrets.append(value)
    for secret in sorted(secrets, key=len, reverse=True):
        text = text.replace(secret, "…")
    for pattern, repl in _REDACTIONS:
        text = pattern.sub(repl, text)
    return text


# Error codes that mean the credentials were refused (S3, Azure, GCS wording).
CREDENTIAL_CODES = frozenset(
    {
        "InvalidAccessKeyId",
        "SignatureDoesNotMatch",
        "InvalidToken",
        "ExpiredToken",
        "AccessDenied",
        "AuthenticationFailed",
        "AuthorizationFailure",
        "AuthorizationPermissionMismatch",
        "InvalidAuthenticationInfo",
    }
)


def error_message(exc: BaseException, storage_options: dict[str, Any] | None = None) -> str:
    """One plain-text line saying what went wrong in an fsspec backend, with no credentials.

    The botocore / azure / google error code when there is one (``NoSuchKey``,
    ``InvalidAccessKeyId``, ``SignatureDoesNotMatch`` ...), else the exception's text.
    """
    code = error_code(exc)
    text = str(exc) or type(exc).__name__
    if isinstance(exc, FileNotFoundError) or code in ("404", "410"):
        reason = "not found"
    elif code in CREDENTIAL_CODES:
        reason = f"credentials refused ({code})"
    elif isinstance(exc, PermissionError) or code in ("401", "403", "Forbidden"):
        reason = "the credentials (environment or storage_options) were refused or lack permission"
    else:
        reason = f"{type(exc).__name__}: {text}" if code is None else f"{code}: {text}"
    return one_line(redact(reason, storage_options), 300)


def error_code(exc: BaseException) -> str | None:
    """The service's error code carried by ``exc`` or its cause (botocore ClientError ...)."""
    seen: set[int] = set()
    e: BaseException | None = exc
    while e is not None and id(e) not in seen:
        seen.add(id(e))
        response = getattr(e, "response", None)
        if isinstance(response, dict):
            code = (response.get("Error") or {}).get("Code")
            if code:
                return str(code)
        status = getattr(response, "status_code", None)  # an HTTP client's response (huggingface_hub ...)
        if isinstance(status, int) and 400 <= status < 600:
            return str(status)
        code = getattr(e, "error_code", None)  # azure: a str enum (its value is the service's code)
        code = getattr(code, "value", code)
        if isinstance(code, str) and code:
            return code
        e = e.__cause__ or e.__context__
    return None


def is_transient(exc: BaseException) -> bool:
    """A failure a retry may fix: a connection error, a timeout, a 5xx or throttling answer."""
    code = error_code(exc) or ""
    if code in ("InternalError", "ServiceUnavailable", "SlowDown", "RequestTimeout", "Throttling", "500", "502", "503"):
        return True
    if code.isdigit():  # any other HTTP status an HTTP client raised for: 429 and 5xx only
        return code in ("429", "504")
    if isinstance(exc, (FileNotFoundError, PermissionError, IsADirectoryError, NotADirectoryError, ValueError)):
        return False
    name = type(exc).__name__
    return isinstance(exc, (ConnectionError, TimeoutError, OSError)) or "Timeout" in name or "Connection" in name


__all__ = [
    "CREDENTIAL_CODES",
    "INDEX_PROTOCOLS",
    "PROTOCOLS",
    "MissingExtraError",
    "check_url",
    "error_code",
    "error_message",
    "family",
    "filesystem",
    "is_object_url",
    "is_transient",
    "protocol",
    "redact",
    "require",
    "scope",
    "shown",
    "strip_userinfo",
]
