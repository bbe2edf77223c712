"""Settings from the environment, read in one place.

``CKPTZOO_CACHE``    the cache folder (default: the platform's user cache dir)
``CKPTZOO_OFFLINE``  never touch the network; serve the cache (1/true/yes/on)
``CKPTZOO_QUIET``    no progress bars
``CKPTZOO_PACK``     a course pack, read before the cache and never written (docs/classroom.md)
``CKPTZOO_SHARED_CACHE``  a folder of live answers shared by the users of one machine (docs/classroom.md)
Download tuning (``CKPTZOO_TIMEOUT``, ``CKPTZOO_RETRIES``, ...) is read by
``fetch.settings`` through :func:`env_number`; docs/downloads.md lists them all.
"""

from __future__ import annotations

import os
import pathlib

from .errors import ZooError

_TRUE = {"1", "true", "yes", "on"}


def env_flag(name: str) -> bool:
    """A yes/no environment variable: 1, true, yes, on (any case) mean yes."""
    return os.environ.get(name, "").strip().lower() in _TRUE


def env_number(name: str, default: float) -> float:
    """A numeric environment variable; a value that is not a number is a clear error."""
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        return float(raw)
    except ValueError:
        raise ZooError(f"{name}={raw[:40]!r} is not a number") from None


def cache_root() -> pathlib.Path:
    """The cache folder: ``$CKPTZOO_CACHE`` or the platform's user cache dir."""
    env = os.environ.get("CKPTZOO_CACHE", "").strip()
    if env:
        return pathlib.Path(env).expanduser()
    import platformdirs

    return pathlib.Path(platformdirs.user_cache_dir("ckptzoo", appauthor=False))


def pack_root() -> pathlib.Path | None:
    """``CKPTZOO_PACK``: the course pack a teacher staged (``ckptzoo pack build``), or None."""
    env = os.environ.get("CKPTZOO_PACK", "").strip()
    return pathlib.Path(env).expanduser() if env else None


def shared_cache() -> pathlib.Path | None:
    """``CKPTZOO_SHARED_CACHE``: the machine's shared answer cache (``cache.SHARED_DIR_MODE``), or None.

    Only a folder that exists counts: the teacher or the administrator makes it (its group, its
    mode); a kernel never creates it."""
    env = os.environ.get("CKPTZOO_SHARED_CACHE", "").strip()
    if not env:
        return None
    path = pathlib.Path(env).expanduser()
    return path if path.is_dir() else None


def offline() -> bool:
    """``CKPTZOO_OFFLINE``: serve only what is cached."""
    return env_flag("CKPTZOO_OFFLINE")


def quiet() -> bool:
    """``CKPTZOO_QUIET``: no progress bars."""
    return env_flag("CKPTZOO_QUIET")


__all__ = ["cache_root", "env_flag", "env_number", "offline", "pack_root", "quiet"]
