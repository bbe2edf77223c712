"""Download settings: each from its argument, else the environment, else a default.

``CKPTZOO_TIMEOUT`` total seconds per file (default: one hour, or 1 MiB/s of the size)
``CKPTZOO_READ_TIMEOUT`` seconds without a byte (30) · ``CKPTZOO_RETRIES`` failures in a
row without progress (5) · ``CKPTZOO_BACKOFF`` first delay in seconds (1) ·
``CKPTZOO_MIN_SPEED`` bytes/s (16 KiB) over ``CKPTZOO_SPEED_WINDOW`` seconds (30) ·
``CKPTZOO_MAX_ATTEMPTS`` requests per file (20) · ``CKPTZOO_MAX_BYTES`` cap for a file
with no size in the index (64 GiB). Cache root, offline and quiet come from ``config``.
"""

from __future__ import annotations

import dataclasses
import pathlib

from .. import config
from ..errors import FetchError, ZooError


@dataclasses.dataclass
class Settings:
    root: pathlib.Path
    offline: bool
    quiet: bool
    deadline: float | None  # total seconds per file (None: derived from size)
    connect_timeout: float = 10.0
    read_timeout: float = 30.0
    retries: int = 5
    backoff: float = 1.0
    backoff_max: float = 30.0
    min_speed: float = 16 * 1024  # bytes/s, averaged over speed_window
    speed_window: float = 30.0
    max_attempts: int = 20  # requests per file, whether or not they made progress
    max_bytes: int = 64 << 30  # cap for a file whose size the index does not give

    @classmethod
    def from_env(cls, *, quiet: bool | None, offline: bool | None, timeout: float | None) -> Settings:
        try:
            return cls(
                root=config.cache_root(),
                offline=config.offline() if offline is None else bool(offline),
                quiet=config.quiet() if quiet is None else bool(quiet),
                deadline=(config.env_number("CKPTZOO_TIMEOUT", 0) or None) if timeout is None else timeout,
                read_timeout=config.env_number("CKPTZOO_READ_TIMEOUT", 30.0),
                retries=int(config.env_number("CKPTZOO_RETRIES", 5)),
                backoff=config.env_number("CKPTZOO_BACKOFF", 1.0),
                min_speed=config.env_number("CKPTZOO_MIN_SPEED", 16 * 1024),
                speed_window=config.env_number("CKPTZOO_SPEED_WINDOW", 30.0),
                max_attempts=int(config.env_number("CKPTZOO_MAX_ATTEMPTS", 20)),
                max_bytes=int(config.env_number("CKPTZOO_MAX_BYTES", 64 << 30)),
            )
        except FetchError:
            raise
        except ZooError as error:  # a setting that is not a number: a download cannot start
            raise FetchError(str(error)) from None
