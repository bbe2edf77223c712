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
  key, secret or token (:func:`redact`, through ``credentials.presentable``).
- A URL names a bucket, container or repository, never the account, endpoint, host or
  options the credentials are used with (:func:`check_destination`, the one rule).
"""

from __future__ import annotations

import importlib.util
import os
import re
import urllib.parse
from typing import TYPE_CHECKING, Any

from .credentials import presentable
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
    """``url`` as a message quotes it: no credentials (``credentials.presentable``), no query
    string or fragment, one bounded line."""
    return one_line(redact(re.split(r"[?#]", url, maxsplit=1)[0]), 300)


def strip_userinfo(url: str) -> str:
    """``url`` without a ``user:secret@`` before its bucket / account."""
    parts = urllib.parse.urlsplit(url)
    if "@" not in parts.netloc or protocol(url) == "hf":  # hf://org/repo@revision: no userinfo
        return url
    return urllib.parse.urlunsplit(parts._replace(netloc=parts.netloc.rpartition("@")[2]))


class CredentialRouteError(ZooError, ValueError):
    """An object URL that would choose where the user's credentials are sent (an account,
    endpoint, host, port, user or file-system options in the URL). A ValueError too, so the
    index validator reports it as one bad entry."""


# What may stand between "://" and the first "/": a bucket, a container or a repository's
# namespace, never a host, account, port, user or endpoint. Azure container names have no
# dots, so no <account>.blob/.dfs.core.windows.net (adlfs would take the account from it).
_NAME = {
    "s3fs": re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,254}"),
    "gcsfs": re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,221}"),
    "adlfs": re.compile(r"\$?[A-Za-z0-9][A-Za-z0-9-]{0,62}"),
    "huggingface_hub": re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,95}"),
}
_WHERE = "the account, endpoint and host come only from your environment or storage_options"


def check_destination(url: str) -> str:
    """The one rule for where credentials may go: ``url`` unchanged when it names only a
    bucket, container or repository, :class:`CredentialRouteError` (one line) when any part
    of it could choose the account, endpoint, host, project or options the user's
    credentials are used with.

    Every object URL passes here before it reaches fsspec or load code: index entries
    (:func:`check_url`), source strings (``credentials.accept``), ``cz.fetch``, every
    file system (:func:`filesystem`) and generated code (``codegen``). Refused: user
    info (``user@``, ``container@account``), a port or an ARN (``:``), an Azure account
    host (``acct.blob.core.windows.net``), percent signs, query strings and fragments
    (fsspec reads options such as ``versionId`` and generations from them), chained URLs
    (``::``: a second file system with options of its own), whitespace in the bucket part,
    controls and backslashes anywhere.
    """
    proto = protocol(url)
    name = _NAME.get(family(url))
    if name is None and proto not in _TEST_PROTOCOLS:
        raise CredentialRouteError(f"{shown(url)} is not an object-storage URL ({', '.join(sorted(PROTOCOLS))})")
    rest = url[len(proto) + 3 :]
    authority = rest.split("/", 1)[0]
    # Spaces and quotes are legal in an object's key (tested: a hostile key reaches the cache as
    # plain text); in the bucket part they never are, nor controls or a backslash anywhere.
    if re.search(r"[\x00-\x1f\x7f\ud800-\udfff\\]", url) or re.search(r"\s", authority):
        raise CredentialRouteError(f"{shown(url)}: refused: whitespace, a backslash or control characters")
    if "::" in rest:
        reason = "a chained URL ('::') would open another file system with options of its own"
    elif "@" in authority:
        reason = "credentials or user info ('user:secret@', 'container@account') would choose the account"
    elif "?" in rest or "#" in rest:
        reason = "a query string or fragment would set file-system options"
    elif ":" in authority:
        reason = "a port or an ARN (':') would choose the endpoint or account"
    elif name is not None and not name.fullmatch(authority):
        if family(url) == "adlfs" and "." in authority:
            reason = f"{one_line(authority, 80)!r} names a storage account or host, not a container"
        else:
            reason = f"{one_line(authority, 80)!r} is not a bucket, container or repository name"
    else:
        return url
    raise CredentialRouteError(f"{shown(url)}: refused: {reason}; {_WHERE}")


def check_url(url: str) -> str:
    """An object URL as an index or a caller may name it: a known protocol, a bucket,
    a key, nothing that chooses where credentials go (:func:`check_destination`).
    ValueError otherwise."""
    proto = protocol(url)
    if proto not in PROTOCOLS:
        raise ValueError(f"{shown(url)} is not an object-storage URL ({', '.join(sorted(PROTOCOLS))})")
    check_destination(url)
    if re.search(r"\s", url):  # the index's rule for a file's URL, stricter than fetch's
        raise ValueError(f"URL {shown(url)} contains whitespace")
    parts = urllib.parse.urlsplit(url)
    if not parts.netloc or not parts.path.strip("/"):
        raise ValueError(f"URL {shown(url)} must name a bucket (or repository) and a path in it")
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
    check_destination(url)
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
    """``text`` with every credential taken out: the values of secret environment
    variables and of secret storage options, then everything ``credentials.presentable``
    takes out (``user:pw@``, secret parameters, access key ids, tokens)."""
    # Environment values from 8 characters (emulators' "test" / "testing" would mangle
    # ordinary words; real keys are 20-40), options given to this call from 4.
    secrets = [v for v in (os.environ.get(name, "") for name in _SECRET_ENV) if len(v) >= 8]
    for name, value in (storage_options or {}).items():
        if isinstance(value, str) and len(value) >= 4 and _SECRET_OPTION.search(name):
            secrets.append(value)
    for secret in sorted(secrets, key=len, reverse=True):
        text = text.replace(secret, "…")
    return presentable(text)


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
    "CredentialRouteError",
    "PROTOCOLS",
    "MissingExtraError",
    "check_destination",
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
