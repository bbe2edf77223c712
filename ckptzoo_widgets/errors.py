"""The exceptions users see (one line each, never a traceback wall) and the CLI's exit codes.

One hierarchy: every failure the product reports is a ``ZooError``; the
download failures are ``FetchError`` subclasses, so ``except ZooError``
catches them too.
"""

#: exit codes of every ``ckptzoo`` command
EXIT_OK = 0
EXIT_DAMAGED = 1  # `ckptzoo cache verify` found damaged files
EXIT_INPUT = 2  # a problem with the input: source, ref, index, option, download
EXIT_INTERRUPTED = 130  # Ctrl-C


class ZooError(Exception):
    """A zoo, source, reference or sort key that cannot be used, with the reason."""


class MissingExtraError(ZooError):
    """A URL needs an optional package that is not installed; the message names the extra."""


class FetchError(ZooError):
    """Any failure to produce a verified local file. The message is one line."""


class IntegrityError(FetchError):
    """The bytes do not match the expected sha256 or size."""


class OfflineError(FetchError):
    """Offline (by request or because the network failed) and the file is not cached."""


class NetworkError(OfflineError):
    """The server could not be reached (after retries) and the file is not cached."""


class DownloadTimeoutError(NetworkError):
    """The total deadline passed, or the server sent data too slowly."""


class HTTPStatusError(FetchError):
    """The server answered with an error status that retrying will not fix."""

    def __init__(self, message: str, status: int):
        super().__init__(message)
        self.status = status


class DiskFullError(FetchError):
    """No space left to store the file."""


class SizeLimitError(FetchError):
    """Larger than the expected size or the byte cap, or decodes into far more than was sent."""


__all__ = [
    "EXIT_DAMAGED",
    "EXIT_INPUT",
    "EXIT_INTERRUPTED",
    "EXIT_OK",
    "DiskFullError",
    "DownloadTimeoutError",
    "FetchError",
    "HTTPStatusError",
    "IntegrityError",
    "MissingExtraError",
    "NetworkError",
    "OfflineError",
    "SizeLimitError",
    "ZooError",
]
