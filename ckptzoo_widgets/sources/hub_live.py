"""The Hugging Face Hub as a live source: one page of a query, one model when it is opened.

`HubLive.page(query, cursor)` is one `GET /api/models` (search, author, filter,
pipeline_tag, library, num_parameters, sort, limit, and `expand[]=` for the
fields a card shows); the next page is the answer's `Link: <...>; rel="next"`
cursor. `HubLive.model(repo)` asks for the repo's info (card data, files with
their LFS sha256, parameter count), its branches (`/refs`: the checkpoints),
its README (the card text) and its lm-evaluation-harness result files when it
has some. Every answer goes through `hub_client.HubClient` (cache, freshness,
rate limits, one-line failures), charged to a `_budget.ListingBudget`: one per
page, one per model opened (its info, branches, card and result files together),
so a session that stays open for hours is bounded per question it asks.
"""

from __future__ import annotations

import posixpath
import threading
from collections import OrderedDict
from typing import Any
from urllib.parse import quote

from .. import safety
from ..errors import ZooError
from ..schema import ENTRY_ERRORS, ModelEntry, Problem, Problems, validate_models
from ._budget import ListingBudget
from ._parse import step_of
from .base import LivePage, LiveQuery
from .hub_client import MAX_PAGE_BYTES, HubClient, HubNotFound, HubUnavailable

PAGE = 50  # models per Hub page
# What a card needs from a list answer (the Hub sends `id` with them).
EXPAND = (
    "author",
    "downloads",
    "likes",
    "pipeline_tag",
    "library_name",
    "tags",
    "createdAt",
    "lastModified",
    "safetensors",
)
# Our sort key -> (the Hub's sort, the menu's label). The Hub sorts descending only.
SORTS: dict[str, tuple[str, str]] = {
    "downloads": ("downloads", "Most downloads"),
    "likes": ("likes", "Most likes"),
    "trending": ("trendingScore", "Trending"),
    "created": ("createdAt", "Recently created"),
    "updated": ("lastModified", "Recently updated"),
}
# Names older source strings used (`hf:...&sort=created_at`).
SORT_ALIASES = {
    "trending_score": "trending",
    "trendingScore": "trending",
    "created_at": "created",
    "createdAt": "created",
    "last_modified": "updated",
    "lastModified": "updated",
}
# Parameter-count ranges the Hub's `num_parameters` takes (min/max with K, M, B, T).
PARAM_RANGES = (
    ("", "Any size"),
    ("max:100M", "< 100M"),
    ("min:100M,max:1B", "100M - 1B"),
    ("min:1B,max:7B", "1B - 7B"),
    ("min:7B,max:20B", "7B - 20B"),
    ("min:20B", "> 20B"),
)
# When the Hub's tag menu cannot be read (offline, never seen): the commonest values.
FALLBACK_FILTERS = {
    "task": [
        "text-generation",
        "text-classification",
        "fill-mask",
        "token-classification",
        "question-answering",
        "summarization",
        "translation",
        "text2text-generation",
        "feature-extraction",
        "sentence-similarity",
        "image-classification",
        "object-detection",
        "image-segmentation",
        "text-to-image",
        "automatic-speech-recognition",
        "audio-classification",
    ],
    "library": ["transformers", "timm", "sentence-transformers", "diffusers", "peft", "gguf", "onnx", "safetensors"],
    "license": ["apache-2.0", "mit", "openrail", "cc-by-4.0", "cc-by-nc-4.0", "llama3", "gemma", "other"],
}
MENU_FRESH_S = 86_400.0  # the Hub's tag menu changes slowly
MAX_RESULT_FILES = 8  # lm-eval result files read per model
RESULT_FOLDERS = {"evals", "eval", "eval_results", "results", "lm-eval", "lm_eval", "lm-eval-results"}
MAX_OPEN = 64  # opened models kept in memory per source


def normal_sort(sort: str) -> tuple[str, bool]:
    """(our key, descending) of a sort string; an unknown key is returned as is."""
    descending = sort.startswith("-")
    key = sort.lstrip("-")
    return SORT_ALIASES.get(key, key), descending


def _result_file(name: str) -> bool:
    """A file the repo's evaluation results may be in (lm-evaluation-harness's JSON output)."""
    if not name.lower().endswith(".json"):
        return False
    folder, base = posixpath.split(name.lower())
    return base.startswith("results") or bool(set(folder.split("/")) & RESULT_FOLDERS)


class HubLive:
    """`hf:` and `hf:author=...` (options are fixed filters) as a live source."""

    def __init__(self, source: str, options: dict[str, str], client: HubClient | None = None):
        from .hub import model_data  # the one Hub-answer -> entry mapping

        self._model_data = model_data
        self.source = source
        self.label = "hf"
        self.options = options
        self.client = client or HubClient()
        self.base = self.client.base
        self.title = f"Hugging Face Hub ({source})"
        self.problems: list[Problem] = []
        self.origin = f"{self.base} ({source})"
        self.page_size = PAGE
        self._open: OrderedDict[str, ModelEntry] = OrderedDict()
        self._lock = threading.Lock()

    # --- menus ---------------------------------------------------------------------------
    def sort_options(self) -> list[dict[str, str]]:
        first = [{"key": "", "label": "Relevance", "direction": "desc", "group": ""}]
        return first + [{"key": k, "label": label, "direction": "desc", "group": ""} for k, (_, label) in SORTS.items()]

    def can_sort(self, sort: str) -> bool:
        key, descending = normal_sort(sort)
        return not key or (key in SORTS and descending)

    def range_options(self) -> dict[str, list[dict[str, str]]]:
        return {"num_params": [{"value": v, "label": label} for v, label in PARAM_RANGES]}

    def filter_options(self) -> dict[str, list[str]]:
        """The Hub's tasks, libraries and licences (`/api/models-tags-by-type`, kept a day); the
        commonest ones when it cannot be read."""
        try:
            answer = self.client.get(
                self.client.url("/api/models-tags-by-type"), what="the Hub's tag menu", fresh=MENU_FRESH_S
            )
        except ZooError:
            return {k: list(v) for k, v in FALLBACK_FILTERS.items()}
        data = answer.data if isinstance(answer.data, dict) else {}
        out: dict[str, list[str]] = {}
        for name, kind, prefix in (
            ("task", "pipeline_tag", ""),
            ("library", "library", ""),
            ("license", "license", "license:"),
        ):
            values = []
            for tag in data.get(kind) or []:
                value = tag.get("id") if isinstance(tag, dict) else None
                if isinstance(value, str) and value.startswith(prefix) and 0 < len(value) - len(prefix) <= 100:
                    values.append(value[len(prefix) :])
            out[name] = sorted(dict.fromkeys(values), key=str.lower) or list(FALLBACK_FILTERS[name])
        return out

    # --- one page ------------------------------------------------------------------------
    def _params(self, query: LiveQuery) -> list[tuple[str, str]] | None:
        """The list request's parameters; None when the query contradicts a fixed filter (no match)."""
        fixed = self.options
        params: list[tuple[str, str]] = []
        text = query.text.strip()
        search = text or fixed.get("search", "")
        if search:
            params.append(("search", search))
        if fixed.get("author"):
            params.append(("author", fixed["author"]))
        tags = [fixed["filter"]] if fixed.get("filter") else []
        for name, given in (("license", query.license), ("task", query.task), ("library", query.library)):
            own = fixed.get(name) or (fixed.get("pipeline_tag", "") if name == "task" else "")
            if own and given and own != given:
                return None
            value = given or own
            if not value:
                continue
            if name == "license":
                tags.append(f"license:{value}")
            else:
                params.append(("pipeline_tag" if name == "task" else "library", value))
        params += [("filter", tag) for tag in tags]
        size = query.num_params or fixed.get("num_params", "")
        if size:
            params.append(("num_parameters", size))
        key, _ = normal_sort(query.sort or fixed.get("sort", ""))
        if key:
            if not self.can_sort("-" + key) or (query.sort and not self.can_sort(query.sort)):
                raise ZooError(self.sort_error(query.sort or key))
            params.append(("sort", SORTS[key][0]))
        params.append(("limit", str(self.page_size)))
        params += [("expand[]", field) for field in EXPAND]
        return params

    def sort_error(self, sort: str) -> str:
        keys = ", ".join(f"-{k}" for k in SORTS)
        return f"the Hub cannot sort by {sort[:80]!r} (that would need the whole Hub); it sorts by {keys}"

    def page(self, query: LiveQuery, cursor: str | None, budget: ListingBudget | None = None) -> LivePage:
        """One page of `query` (its first, or the one `cursor` names), one request charged to
        `budget` (an index build's listing) or to a budget of this page's own."""
        what = f"the Hub's search {query.text.strip()[:80]!r}" if query.text.strip() else "the Hub's listing"
        if cursor is not None:
            if not self.client.owns(cursor):
                return LivePage([], None, None)
            url = cursor
        else:
            params = self._params(query)
            if params is None:
                return LivePage([], None, 0)
            url = self.client.url("/api/models", params)
        answer = self.client.get(url, what=what, budget=budget or ListingBudget(per="page"), limit=MAX_PAGE_BYTES)
        if not isinstance(answer.data, list):
            raise ZooError(f"{what}: expected a JSON list of models, got {type(answer.data).__name__}")
        problems = Problems()
        fixed_search = self.options.get("search", "").lower() if query.text.strip() else ""
        candidates = []
        for position, item in enumerate(answer.data):
            repo = item.get("id") if isinstance(item, dict) else None
            if fixed_search and isinstance(repo, str) and fixed_search not in repo.lower():
                continue
            label = repo if isinstance(repo, str) else f"models[{position}]"
            candidates.append((self.origin, label, self._summary(item, problems)))
        models = [m.with_origin(self.source, self.base + "/") for m in validate_models(candidates, problems)]
        nxt = answer.next if answer.next != url else None  # a next link that points back ends the listing
        return LivePage(models, nxt, answer.total, problems.as_list(), answer.note)

    def _summary(self, item: Any, problems: Problems) -> Any:
        def build() -> dict[str, Any] | None:
            data, item_problems = self._model_data(item, self.origin, self.base, None)
            problems.extend(item_problems)
            return data

        return build

    # --- one model -----------------------------------------------------------------------
    def owns(self, model_id: str) -> bool:
        try:
            safety.check_model_id(model_id)
        except ValueError:
            return False
        author = self.options.get("author")
        return "/" in model_id and (not author or model_id.split("/", 1)[0] == author)

    def model(self, model_id: str) -> ModelEntry:
        """The whole entry of a repo: card, files, parameter count, branches as checkpoints, metrics."""
        with self._lock:
            if model_id in self._open:
                self._open.move_to_end(model_id)
                return self._open[model_id]
        entry = self._read_model(model_id, ListingBudget(per="model opened"))  # what opening one model may cost
        with self._lock:
            self._open[model_id] = entry
            while len(self._open) > MAX_OPEN:
                self._open.popitem(last=False)
        return entry

    def _read_model(self, repo: str, budget: ListingBudget) -> ModelEntry:
        from .hub import checkpoints_from_refs

        try:
            repo = safety.check_model_id(repo)
        except ValueError as error:
            raise ZooError(f"{repo[:100]!r}: {error}") from None
        path = quote(repo, safe="/")
        try:
            info = self.client.get(
                self.client.url(f"/api/models/{path}", [("blobs", "true")]), what=repo, budget=budget
            ).data
        except HubNotFound:
            raise ZooError(f"unknown model {repo!r} on the Hub ({self.base})") from None
        problems = Problems()
        try:
            refs = self.client.get(
                self.client.url(f"/api/models/{path}/refs"), what=f"the branches of {repo}", budget=budget
            )
            checkpoints, refs_problems = checkpoints_from_refs(refs.data, repo, self.origin)
            problems.extend(refs_problems)
        except (ZooError, *ENTRY_ERRORS) as error:
            checkpoints = []
            problems.add(Problem(self.origin, repo, "refs", f"{error}; only main is listed"))
        siblings = info.get("siblings") if isinstance(info, dict) else None
        names: list[str] = [
            s["rfilename"] for s in siblings or [] if isinstance(s, dict) and isinstance(s.get("rfilename"), str)
        ]
        sha = info.get("sha") if isinstance(info, dict) and isinstance(info.get("sha"), str) else None
        revision = sha if sha and len(sha) == 40 else "main"
        readme = None
        if "README.md" in names or not isinstance(siblings, list):  # (no file list: ask for it anyway)
            readme = self._text(f"/{path}/resolve/{revision}/README.md", f"the card of {repo}", problems, repo, budget)
        evals = self._evals(repo, path, revision, [n for n in names if _result_file(n)], problems, budget)
        data, item_problems = self._model_data(info, self.origin, self.base, checkpoints, readme)
        problems.extend(item_problems)
        if data is not None:
            _attach_metrics(data, evals)
            data["default_checkpoint"] = "main"
        models = validate_models([(self.origin, repo, data)], problems)
        self.problems = problems.as_list()[:100]
        if not models:
            reasons = "; ".join(str(p) for p in problems.as_list()[:3])
            raise ZooError(f"{repo}: the Hub's answer is not a usable model ({reasons})")
        return models[0].with_origin(self.source, self.base + "/")

    def _text(self, path: str, what: str, problems: Problems, repo: str, budget: ListingBudget) -> str | None:
        try:
            answer = self.client.get(self.client.url(path), what=what, text=True, budget=budget)
        except ZooError as error:
            problems.add(Problem(self.origin, repo, "card", str(error)))
            return None
        return answer.data if isinstance(answer.data, str) else None

    def _evals(
        self, repo: str, path: str, revision: str, files: list[str], problems: Problems, budget: ListingBudget
    ) -> list[tuple[str, dict[str, float], str | None]]:
        """(file, metrics, revision it evaluated) for each lm-eval result file (at most MAX_RESULT_FILES)."""
        from ..decode import ParseError, load_json
        from .runs.lmeval import eval_metrics, model_args

        if len(files) > MAX_RESULT_FILES:
            problems.add(
                Problem(self.origin, repo, "results", f"{len(files)} result files; the first {MAX_RESULT_FILES} read")
            )
        found = []
        for name in sorted(files)[:MAX_RESULT_FILES]:
            text = self._text(f"/{path}/resolve/{revision}/{quote(name)}", f"{repo}/{name}", problems, repo, budget)
            try:
                document = load_json(text or "")
            except ParseError:
                continue
            if not isinstance(document, dict) or not isinstance(document.get("results"), dict):
                continue
            metrics = eval_metrics(document["results"])
            evaluated = model_args(document.get("config")).get("revision")
            if metrics:
                found.append((name, metrics, evaluated))
        return found


def _attach_metrics(data: dict[str, Any], evals: list[tuple[str, dict[str, float], str | None]]) -> None:
    """Per-checkpoint metrics: model-index results on `main`; each result file on the branch it
    evaluated (its `revision=`, else the step its name says), else on `main`."""
    checkpoints = data["checkpoints"]
    by_name = {c["name"]: c for c in checkpoints}
    by_step = {c.get("step"): c for c in checkpoints if c.get("step") is not None}
    main = by_name["main"]
    if data.get("metrics"):
        main["metrics"] = {
            **{k: v for k, v in data["metrics"].items() if k not in ("downloads", "likes")},
            **main.get("metrics", {}),
        }
    for name, metrics, revision in evals:
        target = by_name.get(revision or "") or by_step.get(
            step_of(revision or "") or step_of(posixpath.basename(name))
        )
        target = target or main
        target["metrics"] = {**target.get("metrics", {}), **metrics}
    for checkpoint in checkpoints:
        if not checkpoint.get("metrics"):
            checkpoint.pop("metrics", None)


__all__ = ["EXPAND", "PAGE", "SORTS", "HubLive", "HubUnavailable", "normal_sort"]
