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
from typing import Any

from .. import cache
from ..cache.contents import CacheContents
from ..config import cache_root
from ..errors import EXIT_DAMAGED, EXIT_INPUT, EXIT_OK
from ..humanize import human_bytes, terminal_safe

_DAY = 86400.0


def _root(args: argparse.Namespace) -> pathlib.Path:
    return pathlib.Path(args.cache_dir).expanduser() if getattr(args, "cache_dir", None) else cache_root()


# ------------------------------------------------------------------------ subcommands


def _name(b: cache.BlobInfo) -> str:
    return terminal_safe((b.views or b.urls or ["(no view)"])[0])


def cmd_ls(args: argparse.Namespace) -> int:
    root = _root(args)
    found = cache.scan(root)
    blobs = found.blobs
    if args.json:
        out = {
            "root": str(root),
            "files": [{**dataclasses.asdict(b), "path": str(b.path)} for b in blobs.values()],
            "indexes": [
                {"url": i.url, "path": str(i.body), "size": i.size, "sha256": i.sha256, "fetched": i.fetched}
                for i in found.indexes
            ],
            "partial": [str(p) for p in found.partials if p.suffix == ".part"],
            "total_bytes": found.total_bytes,
        }
        print(json.dumps(out, indent=2))
        return EXIT_OK
    print(terminal_safe(f"cache: {root}"))
    if not blobs and not found.indexes:
        print("(no files)")
    for b in sorted(blobs.values(), key=lambda b: -b.last_used):
        print(f"{b.sha256[:12]}  {human_bytes(b.size):>10}  used {cache.age(b.last_used):>4} ago  {_name(b)}")
        for extra in (b.views or b.urls)[1:]:
            print(f"{'':12}  {'':>10}  {'':>13}  {terminal_safe(extra)}")
    for i in found.indexes:
        print(f"index         {human_bytes(i.size):>10}  read {cache.age(i.fetched):>4} ago  {terminal_safe(i.url)}")
    for p in found.partials:
        if p.suffix == ".part":
            print(f"partial download: {p.name} ({human_bytes(p.stat().st_size)}, {cache.age(p.stat().st_mtime)} old)")
    print(f"{len(blobs)} file(s), {len(found.indexes)} index(es), {human_bytes(found.total_bytes)}")
    return EXIT_OK


def cmd_verify(args: argparse.Namespace) -> int:
    """Hash every cached file and every cached index body again (size and mtime prove nothing)."""
    root = _root(args)
    found = cache.scan(root)
    bad = 0
    action = "removed" if args.delete else "run `ckptzoo cache verify --delete` to remove it"
    for b in found.blobs.values():
        got = cache.hash_file(b.path)
        if got == b.sha256:
            if args.verbose:
                print(f"ok       {b.sha256[:12]}  {_name(b)}")
            continue
        bad += 1
        print(terminal_safe(f"DAMAGED  {b.path}: expected sha256 {b.sha256}, got {got} ({_name(b)}); {action}"))
        if args.delete:
            cache.remove_blob(root, b)
    for i in found.indexes:
        if i.sha256 is None:  # recorded before indexes carried a hash: nothing to compare with
            continue
        got = cache.hash_file(i.body)
        if got == i.sha256:
            if args.verbose:
                print(terminal_safe(f"ok       index {i.url}"))
            continue
        bad += 1
        print(terminal_safe(f"DAMAGED  {i.body}: cached index of {i.url} changed on disk; {action}"))
        if args.delete:
            cache.remove_index(i)
    for link in found.dangling_views:
        print(f"dangling view {terminal_safe(link)} (`ckptzoo cache prune` removes it)")
    total = len(found.blobs) + len(found.indexes)
    print(f"verified {total} file(s): {total - bad} ok, {bad} damaged")
    return EXIT_DAMAGED if bad and not args.delete else EXIT_OK


def _locked(root: pathlib.Path, key: str) -> bool:
    """Is a download of this key running in another process right now?"""
    from filelock import FileLock, Timeout

    lock_path = cache.lock_path(root, key)
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


class _Pruning:
    """One `cache prune`: what it removes (or would, with --dry-run), said one line each, and counted."""

    def __init__(self, root: pathlib.Path, dry_run: bool):
        self.root, self.dry_run = root, dry_run
        self.verb = "would remove" if dry_run else "removed"
        self.freed = self.removed = 0

    def count(self, line: str, size: int) -> bool:
        """Say and count one item; True when it is to be removed now (not a dry run)."""
        print(line)
        self.freed += size
        self.removed += 1
        return not self.dry_run

    def drop(self, path: pathlib.Path, why: str, size: int = 0) -> None:
        if self.count(f"{self.verb} {terminal_safe(path)} ({why})", size):
            try:
                path.unlink()
            except FileNotFoundError:
                pass


def cmd_prune(args: argparse.Namespace) -> int:
    if args.older_than is not None and args.older_than < 0:
        print("ckptzoo: --older-than takes a number of days >= 0", file=sys.stderr)
        return EXIT_INPUT
    root = _root(args)
    now = time.time()
    pruning = _Pruning(root, args.dry_run)
    found = cache.scan(root)
    if args.all or args.older_than is not None:
        _prune_unused(pruning, found, args.all, now - (args.older_than or 0) * _DAY)
    _prune_leftovers(pruning, found, args.all, args.partial_days, now)
    if not args.dry_run:
        for sub in (*cache.SUBFOLDERS, "local"):
            _remove_empty_dirs(root / sub, keep_base=not args.all)
    print(f"{pruning.verb} {pruning.removed} item(s), {human_bytes(pruning.freed)}")
    return EXIT_OK


def _prune_unused(pruning: _Pruning, found: CacheContents, everything: bool, cutoff: float) -> None:
    """Blobs, indexes and records not used since `cutoff` (all of them with --all); a blob being downloaded stays."""
    root, verb = pruning.root, pruning.verb
    for b in found.blobs.values():
        if (everything or b.last_used < cutoff) and not _locked(root, b.sha256):
            line = f"{verb} {b.sha256[:12]} {human_bytes(b.size)} {_name(b)} (last used {cache.age(b.last_used)} ago)"
            if pruning.count(line, b.size):
                cache.remove_blob(root, b)
    for i in found.indexes:
        if everything or i.fetched < cutoff:
            line = terminal_safe(f"{verb} index {i.url} {human_bytes(i.size)} (read {cache.age(i.fetched)} ago)")
            if pruning.count(line, i.size):
                cache.remove_index(i)
    for sub, what in cache.RECORD_FOLDERS.items():
        records = root / sub
        for record in sorted(records.rglob("*.json")) if records.is_dir() else []:
            if everything or record.stat().st_mtime < cutoff:
                pruning.drop(record, what)


def _prune_leftovers(
    pruning: _Pruning, found: CacheContents, everything: bool, partial_days: float, now: float
) -> None:
    """What nothing uses any more: old partial downloads and locks, half-written files, dangling views and records."""
    root, drop = pruning.root, pruning.drop
    # partial downloads nobody is running (a day old, or any with --all)
    partial_age = 0 if everything else (partial_days * _DAY)
    for p in found.partials:
        key = p.name.split(".", 1)[0]
        if now - p.stat().st_mtime >= partial_age and not _locked(root, key):
            drop(p, "unfinished download", p.stat().st_size)
    # lock files of downloads that ended long ago (never one that is held)
    locks = cache.locks_folder(root)
    if locks.is_dir():
        for lock_file in sorted(locks.glob("*.lock")):
            key = lock_file.name[: -len(".lock")]
            if (everything or now - lock_file.stat().st_mtime >= _DAY) and not _locked(root, key):
                drop(lock_file, "lock of a finished download")
    # half-written records or links of a process killed mid-write (an hour old, any with --all)
    for sub in cache.SUBFOLDERS:
        base = root / sub
        if base.is_dir():
            for p in sorted(base.rglob(cache.TEMPORARY_GLOB)):
                if everything or now - p.lstat().st_mtime >= 3600:
                    drop(p, "left by an interrupted write", p.lstat().st_size)
    # views whose file is gone, URL records of removed files
    for link in cache.views(root):
        if cache.view_target(link) is None:
            drop(link, "dangling view")
    urls = cache.url_records(root)
    if urls.is_dir():
        for rec_path in sorted(urls.glob("*.json")):
            sha = (cache.read_json(rec_path) or {}).get("sha256")
            if not isinstance(sha, str) or not cache.SHA_RE.fullmatch(sha) or not cache.blob_path(root, sha).exists():
                drop(rec_path, "record of a file no longer cached")
    # what older versions kept: memos of local files (local/)
    for p in sorted((root / "local").glob("*.json")) if (root / "local").is_dir() else []:
        drop(p, "memo of an older version")


def _remove_empty_dirs(base: pathlib.Path, keep_base: bool = True) -> None:
    if not base.is_dir():
        return
    for dirpath, _dirnames, _filenames in os.walk(base, topdown=False):
        if (dirpath != str(base) or not keep_base) and not os.listdir(dirpath):
            try:
                os.rmdir(dirpath)
            except OSError:
                pass


# -------------------------------------------------------------------------- the parser


def add_parser(subparsers: Any) -> None:
    """Add `cache ls | verify | prune` to the main CLI's subparsers."""
    group = subparsers.add_parser(
        "cache",
        help="list, verify or prune the download cache",
        description=f"The download cache (default {cache_root()}; set CKPTZOO_CACHE to move it).",
    )
    group.add_argument(
        "--cache-dir", metavar="DIR", help="the cache folder (default: CKPTZOO_CACHE or the platform cache)"
    )
    sub = group.add_subparsers(dest="cache_command", metavar="{ls,verify,prune}")
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
    """Stand-alone entry (`python -m ckptzoo_widgets.cli.cache_commands ls`)."""
    parser = argparse.ArgumentParser(prog="ckptzoo")
    add_parser(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(["cache", *(sys.argv[1:] if argv is None else argv)])
    return int(args.func(args))


if __name__ == "__main__":
    sys.exit(main())
