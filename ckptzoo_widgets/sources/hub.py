"""The Hugging Face Hub as a zoo (needs the optional extra: pip install 'ckptzoo-widgets[hf]').

Source strings:

- `"hf:"` - the whole Hub, live: each query is asked where it lives (sources/hub_live.py);
- `"hf:author=EleutherAI"`, `"hf:search=pythia"`, combined with `&`: fixed filters of a live
  source; other keys: `filter=<tag>`, `task=<pipeline_tag>`, `library=<library_name>`,
  `license=<licence>`, `num_params=min:1B,max:7B`,
  `sort=downloads|likes|trending|created|updated` (the default order), `limit=N` (the most
  models `ckptzoo index build` writes), `details=no` (a snapshot without cards and branches);
- `"hf:EleutherAI/pythia-70m"` - one repo, read whole (card, branches, files).

Each repo is a model: card data (licence, datasets, tags, base model), metrics
from `model-index`, downloads and likes, parameter count from its safetensors
metadata. Its branches (`/refs`) are its checkpoints - Pythia's `step0` ...
`step143000`, OLMo's `stepN-tokensMB` - ordered by step, `main` last and the
default, each pinning `revision=`. The endpoint is `HF_ENDPOINT` (read when the
source opens). A Hub answer with unexpected or missing fields is reported and
skipped; the other repos still open.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import parse_qsl, quote

from pydantic import ValidationError

from .. import safety
from ..errors import ZooError
from ..schema import WEIGHT_SUFFIXES, FileEntry, Problem
from ._parse import step_of
from .base import LoadedSource
from .hub_client import HubClient, endpoint
from .hub_live import SORT_ALIASES, SORTS, HubLive
from .modelcard import card_from_metadata, read_card

MAX_LIMIT = 1_000_000
KEYS = {
    "author",
    "search",
    "sort",
    "limit",
    "filter",
    "task",
    "pipeline_tag",
    "library",
    "license",
    "num_params",
    "refs",
    "details",
}
TOKENS = re.compile(r"tokens(\d+(?:\.\d+)?)([KMBT]?)", re.I)
SCALE = {"": 1, "K": 1e3, "M": 1e6, "B": 1e9, "T": 1e12}
_SHA1 = re.compile(r"[0-9a-f]{40}")


def parse_source(source: str) -> dict[str, str]:
    """`hf:key=value&key=value` or `hf:owner/name` -> options (ZooError on an unknown key)."""
    rest = source.partition(":")[2].strip()
    if rest and "=" not in rest:
        try:
            return {"repo": safety.check_model_id(rest)}
        except ValueError as error:
            raise ZooError(f"{source!r}: {error}") from None
    options = dict(parse_qsl(rest.replace(",", "&"), keep_blank_values=True))
    unknown = sorted(set(options) - KEYS)
    if unknown:
        raise ZooError(f"{source!r}: unknown option(s) {', '.join(unknown)}; known: {', '.join(sorted(KEYS))}")
    if "sort" in options:
        key = options["sort"].lstrip("-")
        key = SORT_ALIASES.get(key, key)
        if key not in SORTS:
            raise ZooError(f"{source!r}: cannot sort by {options['sort']!r}; the Hub sorts by {', '.join(SORTS)}")
        options["sort"] = "-" + key
    if "limit" in options:
        try:
            limit = int(options["limit"])
        except ValueError:
            raise ZooError(f"{source!r}: limit must be a number") from None
        if not 0 < limit <= MAX_LIMIT:
            raise ZooError(f"{source!r}: limit must be between 1 and {MAX_LIMIT}")
    return options


def _str(value: Any, limit: int = 200) -> str | None:
    return value[:limit] if isinstance(value, str) and value.strip() else None


def _prefixed(tags: list[str], prefix: str) -> list[str]:
    return [t[len(prefix) :] for t in tags if t.startswith(prefix) and len(t) > len(prefix)]


def tokens_of(name: str) -> float | None:
    match = TOKENS.search(name)
    return float(match.group(1)) * SCALE[match.group(2).upper()] if match else None


def checkpoints_from_refs(refs: Any, repo: str, origin: str) -> tuple[list[dict[str, Any]], list[Problem]]:
    """Branches -> checkpoints ordered by step, `main` last; names that break the rules reported."""
    problems: list[Problem] = []
    branches = refs.get("branches") if isinstance(refs, dict) else None
    if not isinstance(branches, list):
        return [], [Problem(origin, repo, "branches", "refs answer has no 'branches' list; only main is listed")]
    checkpoints = []
    for branch in branches:
        name = branch.get("name") if isinstance(branch, dict) else None
        if not isinstance(name, str):
            problems.append(Problem(origin, repo, "branches", "a branch without a name; skipped"))
            continue
        try:
            safety.check_checkpoint_name(name)
            safety.check_revision(name)
        except ValueError as error:
            problems.append(Problem(origin, repo, "branches", f"{error}; skipped"))
            continue
        commit = branch.get("targetCommit")
        notes = f"commit {commit}" if isinstance(commit, str) and _SHA1.fullmatch(commit) else None
        entry: dict[str, Any] = {"name": name, "revision": name, "step": step_of(name), "notes": notes}
        tokens = tokens_of(name)
        if tokens is not None:
            entry["metrics"] = {"tokens": tokens}
        checkpoints.append({k: v for k, v in entry.items() if v is not None})
    checkpoints.sort(key=lambda c: (c["name"] == "main", c.get("step") is None, c.get("step") or 0, c["name"]))
    return checkpoints, problems


def _files(
    item: dict[str, Any], repo: str, revision: str, base: str, problems: list[Problem], origin: str
) -> list[dict[str, Any]]:
    """Top-level weight files of a repo, as URLs pinned to `revision` (sha256/size from LFS when given).

    A file name that breaks the file-name rules (a lone surrogate, a control character) is
    that file's problem: reported and left out, the repo and the source still open.
    """
    files = []
    siblings = item.get("siblings")
    for sibling in siblings if isinstance(siblings, list) else []:
        name = sibling.get("rfilename") if isinstance(sibling, dict) else None
        if not isinstance(name, str) or "/" in name or not name.lower().endswith(WEIGHT_SUFFIXES):
            continue
        try:
            safety.check_relative_path(name)
            name.encode("utf-8")  # a lone surrogate cannot be a URL
        except ValueError as error:
            problems.append(Problem(origin, repo, "siblings", f"{error}; file left out"))
            continue
        entry: dict[str, Any] = {"url": f"{base}/{repo}/resolve/{quote(revision)}/{quote(name)}"}
        lfs = sibling.get("lfs")
        if isinstance(lfs, dict):
            entry["sha256"], entry["size"] = lfs.get("sha256"), lfs.get("size")
        elif isinstance(sibling.get("size"), int):
            entry["size"] = sibling["size"]
        try:
            files.append(
                FileEntry.model_validate({k: v for k, v in entry.items() if v is not None}).model_dump(
                    exclude_none=True
                )
            )
        except ValidationError:
            continue
    return files


def model_data(
    item: Any, origin: str, base: str, refs_checkpoints: list[dict[str, Any]] | None, readme: str | None = None
) -> tuple[dict[str, Any] | None, list[Problem]]:
    """A Hub model answer (list item or model_info) -> a ModelEntry dict, tolerant of odd fields."""
    if not isinstance(item, dict):
        return None, [Problem(origin, "?", "", f"a model answer that is a {type(item).__name__}; skipped")]
    repo = item.get("id") or item.get("modelId")
    if not isinstance(repo, str):
        return None, [Problem(origin, "?", "id", "a model answer without an 'id'; skipped")]
    try:
        safety.check_model_id(repo)
    except ValueError as error:
        return None, [Problem(origin, repo[:100], "id", f"{error}; skipped")]
    problems: list[Problem] = []
    tags = [t for t in item.get("tags") or [] if isinstance(t, str)] if isinstance(item.get("tags"), list) else []
    card_data: dict[str, Any] = item["cardData"] if isinstance(item.get("cardData"), dict) else {}
    model_index = item.get("model-index") or card_data.get("model-index")
    card = card_from_metadata(card_data, model_index=model_index)
    problems += [Problem(origin, repo, "cardData", message) for message in card.problems]
    description = ""
    if readme:
        full = read_card(readme)
        description = full.body
        if not card_data:
            card = full
    data: dict[str, Any] = {
        "id": repo,
        "repo": repo,
        "task": _str(item.get("pipeline_tag")),
        "library": _str(item.get("library_name")),
        "tags": [t for t in tags if ":" not in t][:64],
        "license": next(iter(_prefixed(tags, "license:")), None),
        "datasets": _prefixed(tags, "dataset:")[:64],
        "base_model": next((b.rpartition(":")[2] for b in _prefixed(tags, "base_model:")), None),
        "created": _str(item.get("createdAt"), 40),
        "updated": _str(item.get("lastModified"), 40),
    }
    data.update({k: v for k, v in card.fields.items() if v})
    for key in ("license", "base_model", "task", "library"):
        if data.get(key) is not None and not isinstance(data[key], str):
            data[key] = None
    safetensors = item.get("safetensors")
    if isinstance(safetensors, dict) and isinstance(safetensors.get("total"), int) and safetensors["total"] >= 0:
        data["num_params"] = safetensors["total"]
    metrics = dict(card.metrics)
    for key in ("downloads", "likes"):
        value = item.get(key)
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            metrics[key] = float(value)
    data["metrics"] = metrics
    data["headline_metric"] = card.headline_metric or ("downloads" if "downloads" in metrics else None)
    checkpoints = _checkpoints(item, repo, base, data.get("library"), refs_checkpoints, problems, origin)
    data["checkpoints"] = checkpoints
    data["description"] = description or (
        f"# {repo}\n\nHugging Face Hub repository `{repo}`"
        + (f" by {item['author']}" if isinstance(item.get("author"), str) else "")
        + (f"; {len(checkpoints)} branches as training-stage checkpoints" if len(checkpoints) > 1 else "")
        + ".\n"
    )
    return {k: v for k, v in data.items() if v not in (None, [], "")} | {"checkpoints": checkpoints}, problems


def _checkpoints(
    item: dict[str, Any],
    repo: str,
    base: str,
    library: Any,
    refs_checkpoints: list[dict[str, Any]] | None,
    problems: list[Problem],
    origin: str,
) -> list[dict[str, Any]]:
    """The repo's branches as checkpoints, `main` always among them (its commit noted; its files
    listed only where no library loads the repo by name, pinned to the commit when known)."""
    sha = item.get("sha") if isinstance(item.get("sha"), str) and _SHA1.fullmatch(item["sha"]) else None
    checkpoints = [dict(c) for c in (refs_checkpoints or [])]
    if not any(c["name"] == "main" for c in checkpoints):
        checkpoints.append({"name": "main", "revision": "main"})
    main = next(c for c in checkpoints if c["name"] == "main")
    if sha:
        main["notes"] = f"commit {sha}"
    if library != "transformers":
        # Files only where no library loads the repo by name; pinned to the commit when known.
        main["files"] = _files(item, repo, sha or "main", base, problems, origin)
    return checkpoints


def read_hub(source: str) -> LoadedSource:
    """`hf:owner/name`: that repo, read whole; any other `hf:` source: live (`LoadedSource.live`)."""
    options = parse_source(source)
    live = HubLive(source, options, HubClient())
    if "repo" in options:
        model = live.model(options["repo"])
        return LoadedSource(source, "hf", [model], list(live.problems), live.title)
    return LoadedSource(source, "hf", [], [], live.title, live=live)


__all__ = ["checkpoints_from_refs", "endpoint", "model_data", "parse_source", "read_hub"]
