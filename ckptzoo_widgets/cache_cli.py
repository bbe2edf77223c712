"""`ckptzoo cache ls | verify | prune`: look after the download cache.

`add_parser(subparsers)` adds the `cache` subcommand to the main CLI. Each
subcommand returns an exit code: 0 fine, 1 `verify` found damaged files,
2 a user error (bad option).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import pathlib
import sys
import time
from collections.abc import Iterator
from typing import Any

from .fetch import _SHA_RE, _blob_path, _hash_file, _read_json, cache_root
from .humanize import human_bytes, terminal_safe

EXIT_OK, EXIT_DAMAGED, EXIT_INPUT = 0, 1, 2
_DAY = 86400.0


# ------------------------------------------------------------------ reading the cache


@dataclasses.dataclass
class BlobInfo:
    sha256: str
    path: pathlib.Path
    size: int
    last_used: float  # mtime: set at download and on every cache hit
    views: list[str] = dataclasses.field(default_factory=list)
    urls: list[str] = dataclasses.field(default_factory=list)


def _root(args: argparse.Namespace) -> pathlib.Path:
    return pathlib.Path(args.cache_dir).expanduser() if getattr(args, "cache_dir", None) else cache_root()


def _blobs(root: pathlib.Path) -> Iterator[pathlib.Path]:
    base = root / "blobs" / "sha256"
    if not base.is_dir():
        return
    for sub in sorted(base.iterdir()):
        if sub.is_dir():
            for p in sorted(sub.iterdir()):
                if p.is_file() and not p.is_symlink():
                    yield p


def _views(root: pathlib.Path) -> Iterator[pathlib.Path]:
    base = root / "views"
    if not base.is_dir():
        return
    for dirpath, dirnames, filenames in os.walk(base):
        dirnames.sort()
        for name in sorted(filenames):
            yield pathlib.Path(dirpath, name)


def _view_target(link: pathlib.Path) -> pathlib.Path | None:
    """The blob a view points at (symlink or hard link), or None when dangling."""
    try:
        if link.is_symlink():
            target = link.resolve()
            return target if target.is_file() else None
        return link if link.is_file() else None
    except OSError:
        return None


def scan(root: pathlib.Path) -> dict[str, BlobInfo]:
    """Every blob with its size, last use, views and source URLs."""
    blobs: dict[str, BlobInfo] = {}
    by_inode: dict[tuple[int, int], str] = {}
    for p in _blobs(root):
        st = p.stat()
        blobs[p.name] = BlobInfo(p.name, p, st.st_size, st.st_mtime)
        by_inode[(st.st_dev, st.st_ino)] = p.name
    for link in _views(root):
        target = _view_target(link)
        if target is None:
            continue
        try:
            st = target.stat()
        except OSError:
            continue
        name = by_inode.get((st.st_dev, st.st_ino))
        if name:
            blobs[name].views.append(link.relative_to(root / "views").as_posix())
    urls = root / "urls"
    if urls.is_dir():
        for rec_path in sorted(urls.glob("*.json")):
            rec = _read_json(rec_path) or {}
            sha = rec.get("sha256")
            if isinstance(sha, str) and sha in blobs and isinstance(rec.get("url"), str):
                blobs[sha].urls.append(rec["url"])
    return blobs


def _partials(root: pathlib.Path) -> list[pathlib.Path]:
    tmp = root / "tmp"
    return sorted(p for p in tmp.iterdir() if p.is_file()) if tmp.is_dir() else []


def _age(t: float) -> str:
    days = (time.time() - t) / _DAY
    return f"{days:.0f}d" if days >= 1 else f"{days * 24:.0f}h"


# ------------------------------------------------------------------------ subcommands


def cmd_ls(args: argparse.Namespace) -> int:
    root = _root(args)
    blobs = scan(root)
    partials = _partials(root)
    if args.json:
        out = {
            "root": str(root),
            "files": [{**dataclasses.asdict(b), "path": str(b.path)} for b in blobs.values()],
            "partial": [str(p) for p in partials if p.suffix == ".part"],
            "total_bytes": sum(b.size for b in blobs.values()),
        }
        print(json.dumps(out, indent=2))
        return EXIT_OK
    print(f"cache: {root}")
    if not blobs:
        print("(no files)")
    for b in sorted(blobs.values(), key=lambda b: -b.last_used):
        names = b.views or b.urls or ["(no view)"]
        print(f"{b.sha256[:12]}  {human_bytes(b.size):>10}  used {_age(b.last_used):>4} ago  {terminal_safe(names[0])}")
        for extra in names[1:]:
            print(f"{'':12}  {'':>10}  {'':>13}  {terminal_safe(extra)}")
    for p in partials:
        if p.suffix == ".part":
            print(f"partial download: {p.name} ({human_bytes(p.stat().st_size)}, {_age(p.stat().st_mtime)} old)")
    print(f"{len(blobs)} file(s), {human_bytes(sum(b.size for b in blobs.values()))}")
    return EXIT_OK


def _remove_blob(root: pathlib.Path, info: BlobInfo) -> None:
    for v in info.views:
        try:
            os.unlink(root / "views" / v)
        except OSError:
            pass
    urls = root / "urls"
    if urls.is_dir():
        for rec_path in urls.glob("*.json"):
            if (_read_json(rec_path) or {}).get("sha256") == info.sha256:
                rec_path.unlink(missing_ok=True)
    info.path.unlink(missing_ok=True)


def cmd_verify(args: argparse.Namespace) -> int:
    root = _root(args)
    blobs = scan(root)
    bad = 0
    for b in blobs.values():
        got = _hash_file(b.path)
        if got == b.sha256:
            if args.verbose:
                print(f"ok       {b.sha256[:12]}  {terminal_safe((b.views or b.urls or [''])[0])}")
            continue
        bad += 1
        where = (b.views or b.urls or [str(b.path)])[0]
        action = "removed" if args.delete else "run `ckptzoo cache verify --delete` to remove it"
        print(terminal_safe(f"DAMAGED  {b.path}: expected sha256 {b.sha256}, got {got} ({where}); {action}"))
        if args.delete:
            _remove_blob(root, b)
    for link in _views(root):
        if _view_target(link) is None:
            print(f"dangling view {terminal_safe(link)} (`ckptzoo cache prune` removes it)")
    print(f"verified {len(blobs)} file(s): {len(blobs) - bad} ok, {bad} damaged")
    return EXIT_DAMAGED if bad and not args.delete else EXIT_OK


def _locked(root: pathlib.Path, key: str) -> bool:
    """Is a download of this key running in another process right now?"""
    from filelock import FileLock, Timeout

    lock_path = root / "locks" / f"{key}.lock"
    if not lock_path.exists():
        return False
    lock = FileLock(str(lock_path))
    try:
        lock.acquire(timeout=0)
    except Timeout:
        return True
    except OSError:
        return False
    lock.release()
    return False


def cmd_prune(args: argparse.Namespace) -> int:
    if args.older_than is not None and args.older_than < 0:
        print("ckptzoo: --older-than takes a number of days >= 0", file=sys.stderr)
        return EXIT_INPUT
    root = _root(args)
    now = time.time()
    verb = "would remove" if args.dry_run else "removed"
    freed = 0
    removed = 0

    def drop(path: pathlib.Path, why: str, size: int = 0) -> None:
        nonlocal freed, removed
        print(f"{verb} {terminal_safe(path)} ({why})")
        freed += size
        removed += 1
        if not args.dry_run:
            try:
                path.unlink()
            except FileNotFoundError:
                pass

    blobs = scan(root)
    if args.all or args.older_than is not None:
        cutoff = now - (args.older_than or 0) * _DAY
        for b in blobs.values():
            if args.all or b.last_used < cutoff:
                if _locked(root, b.sha256):
                    continue
                print(
                    f"{verb} {b.sha256[:12]} {human_bytes(b.size)} {terminal_safe((b.views or b.urls or [''])[0])} "
                    f"(last used {_age(b.last_used)} ago)"
                )
                freed += b.size
                removed += 1
                if not args.dry_run:
                    _remove_blob(root, b)
    # partial downloads nobody is running (a day old, or any with --all)
    partial_age = 0 if args.all else (args.partial_days * _DAY)
    for p in _partials(root):
        key = p.name.split(".", 1)[0]
        if now - p.stat().st_mtime >= partial_age and not _locked(root, key):
            drop(p, "unfinished download", p.stat().st_size)
    # lock files of downloads that ended long ago (never one that is held)
    locks = root / "locks"
    if locks.is_dir():
        for lock_file in sorted(locks.glob("*.lock")):
            key = lock_file.name[: -len(".lock")]
            if (args.all or now - lock_file.stat().st_mtime >= _DAY) and not _locked(root, key):
                drop(lock_file, "lock of a finished download")
    # half-written records or links of a process killed mid-write (an hour old)
    for sub in ("urls", "local", "views", "tmp", "blobs"):
        base = root / sub
        if base.is_dir():
            for p in sorted(base.rglob(".*.tmp")):
                if now - p.lstat().st_mtime >= 3600:
                    drop(p, "left by an interrupted write", p.lstat().st_size)
    # views whose file is gone, URL records of removed files, memos of vanished local files
    for link in _views(root):
        if _view_target(link) is None:
            drop(link, "dangling view")
    urls = root / "urls"
    if urls.is_dir():
        for rec_path in sorted(urls.glob("*.json")):
            sha = (_read_json(rec_path) or {}).get("sha256")
            if not isinstance(sha, str) or not _SHA_RE.fullmatch(sha) or not _blob_path(root, sha).exists():
                drop(rec_path, "record of a file no longer cached")
    local = root / "local"
    if local.is_dir():
        for memo in sorted(local.glob("*.json")):
            rec = _read_json(memo) or {}
            if not isinstance(rec.get("path"), str) or not os.path.exists(rec["path"]):
                drop(memo, "memo of a local file that is gone")
    if not args.dry_run:
        _remove_empty_dirs(root / "views")
        _remove_empty_dirs(root / "blobs")
    print(f"{verb} {removed} item(s), {human_bytes(freed)}")
    return EXIT_OK


def _remove_empty_dirs(base: pathlib.Path) -> None:
    if not base.is_dir():
        return
    for dirpath, _dirnames, _filenames in os.walk(base, topdown=False):
        if dirpath != str(base) and not os.listdir(dirpath):
            try:
                os.rmdir(dirpath)
            except OSError:
                pass


# -------------------------------------------------------------------------- the parser


def add_parser(subparsers: Any) -> None:
    """Add `cache ls | verify | prune` to the main CLI's subparsers."""
    cache = subparsers.add_parser(
        "cache",
        help="list, verify or prune the download cache",
        description=f"The download cache (default {cache_root()}; set CKPTZOO_CACHE to move it).",
    )
    cache.add_argument(
        "--cache-dir", metavar="DIR", help="the cache folder (default: CKPTZOO_CACHE or the platform cache)"
    )
    sub = cache.add_subparsers(dest="cache_command", metavar="{ls,verify,prune}")
    sub.required = True

    ls = sub.add_parser("ls", help="list cached files (size, last use, views, URLs)")
    ls.add_argument("--json", action="store_true", help="machine-readable output")
    ls.set_defaults(func=cmd_ls)

    verify = sub.add_parser("verify", help="re-hash every cached file; exit 1 if any is damaged")
    verify.add_argument("--delete", action="store_true", help="remove damaged files (they download again)")
    verify.add_argument("-v", "--verbose", action="store_true", help="also list the good files")
    verify.set_defaults(func=cmd_verify)

    prune = sub.add_parser(
        "prune",
        help="remove unfinished downloads, dangling links and (with options) old files",
        description="Without options: remove unfinished downloads older than a day, dangling "
        "views and stale records. --older-than DAYS also removes files not used for DAYS days.",
    )
    prune.add_argument("--older-than", type=float, metavar="DAYS", help="remove files not used for DAYS days")
    prune.add_argument("--all", action="store_true", help="empty the cache")
    prune.add_argument(
        "--partial-days",
        type=float,
        default=1.0,
        metavar="DAYS",
        help="age after which an unfinished download is removed (default 1)",
    )
    prune.add_argument("-n", "--dry-run", action="store_true", help="show what would be removed")
    prune.set_defaults(func=cmd_prune)


def main(argv: list[str] | None = None) -> int:
    """Stand-alone entry (`python -m ckptzoo_widgets.cache_cli ls`)."""
    parser = argparse.ArgumentParser(prog="ckptzoo")
    add_parser(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(["cache", *(sys.argv[1:] if argv is None else argv)])
    return int(args.func(args))


if __name__ == "__main__":
    sys.exit(main())
