"""`ckptzoo pack build | verify | status`: a course pack for a class (docs/classroom.md)."""

from __future__ import annotations

import argparse
import json
import os

from ..errors import EXIT_DAMAGED, EXIT_INPUT, EXIT_OK, ZooError
from ..humanize import human_bytes
from ..text import terminal_safe


def _pack_arg(args: argparse.Namespace) -> str:
    pack = args.pack or os.environ.get("CKPTZOO_PACK", "").strip()
    if not pack:
        raise ZooError("which pack? give its folder, or set CKPTZOO_PACK")
    return str(pack)


def cmd_build(args: argparse.Namespace) -> int:
    from ..pack.build import build_pack, summary

    report = build_pack(args.course, args.out, cache_dir=args.cache_dir, endpoint=args.endpoint, quiet=args.quiet)
    print(terminal_safe(summary(report)))
    return EXIT_OK


def cmd_verify(args: argparse.Namespace) -> int:
    from ..pack.verify import verify_pack

    report = verify_pack(_pack_arg(args))
    for finding in report.findings:
        kind = "DAMAGED " if finding.damage else "leftover"
        print(terminal_safe(f"{kind} {finding.path}: {finding.problem}"))
    if report.damaged:
        print(
            terminal_safe(
                f"{len(report.damaged)} problem(s); fix: ckptzoo pack build {report.pack}/course.toml -o {report.pack}"
            )
        )
        return EXIT_DAMAGED
    print(terminal_safe(f"ok: {report.files} files, {human_bytes(report.bytes)} verified in {report.pack}"))
    return EXIT_OK


def cmd_status(args: argparse.Namespace) -> int:
    from ..pack.status import pack_status, status_text

    status = pack_status(_pack_arg(args), args.notebooks)
    if args.json:
        print(
            json.dumps(
                {
                    "pack": str(status.pack),
                    "title": status.manifest.get("title"),
                    "built": status.manifest.get("built"),
                    "bytes": status.total_bytes,
                    "entries": [
                        {k: e.get(k) for k in ("key", "kind", "label", "size", "provides")}
                        for e in status.manifest["entries"]
                    ],
                    "missing_files": status.missing_files,
                    "lacking": [
                        {"ref": u.shown, "notebook": u.notebook, "cell": u.cell, "call": u.call} for u in status.lacking
                    ],
                },
                indent=1,
            )
        )
    else:
        print(terminal_safe(status_text(status, human_bytes)))
    return EXIT_INPUT if status.missing_files else EXIT_OK


def add_parser(commands: argparse._SubParsersAction) -> None:
    pack = commands.add_parser("pack", help="a course pack: stage checkpoints once for a class (read-only, offline)")
    sub = pack.add_subparsers(dest="pack_command", required=True, metavar="ACTION")
    build = sub.add_parser("build", help="fetch, verify and lay out a course's checkpoints (again: only what changed)")
    build.add_argument("course", help="the course file (course.toml)")
    build.add_argument("-o", "--out", required=True, help="the pack folder (e.g. /srv/course-pack)")
    build.add_argument("--cache-dir", default=None, help="the teacher's download cache (default: CKPTZOO_CACHE)")
    build.add_argument("--endpoint", default=None, help="the Hugging Face Hub endpoint (default: HF_ENDPOINT)")
    build.add_argument("-q", "--quiet", action="store_true", default=None, help="no progress bars")
    build.set_defaults(func=cmd_build)
    verify = sub.add_parser("verify", help="hash every file of a pack again; exit 1 when one is damaged")
    verify.add_argument("pack", nargs="?", default=None, help="the pack folder (default: CKPTZOO_PACK)")
    verify.set_defaults(func=cmd_verify)
    status = sub.add_parser("status", help="what a pack holds, and what notebooks load that it lacks")
    status.add_argument("pack", nargs="?", default=None, help="the pack folder (default: CKPTZOO_PACK)")
    status.add_argument("--notebooks", default=None, help="a folder of notebooks (or one .ipynb) to check")
    status.add_argument("--json", action="store_true", help="machine-readable")
    status.set_defaults(func=cmd_status)


__all__ = ["add_parser"]
