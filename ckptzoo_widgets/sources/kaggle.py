"""Kaggle Models (TensorFlow Hub's home since 2024) as a live source: `"kaggle:"`.

Needs the optional extra (`pip install 'ckptzoo-widgets[kaggle]'`: kagglehub,
which brings Kaggle's own SDK). Source strings:

- `"kaggle:"` - the models Kaggle lists first (its "hotness" order);
- `"kaggle:search=gemma&owner=google&framework=tensorflow2&sort=downloads"` -
  fixed filters (`sort`: hotness, downloads, votes, notebooks, published,
  created, updated);
- `"kaggle:google/mobilenet-v2"` - one model, read whole;
- `"kaggle:https://www.kaggle.com/models/google/mobilenet-v2/tensorFlow2/100-224-classification/2"`
  and a TensorFlow Hub handle, `"https://tfhub.dev/google/imagenet/mobilenet_v2_100_224/classification/5"`
  (alone or after `kaggle:`): the Kaggle model it resolves to (tfhub.dev answers
  with a redirect to the Kaggle model page), that version as the default checkpoint.

The API is Kaggle's public one as its clients call it (`kagglesdk`): `POST
<endpoint>/v1/models.ModelApiService/<Method>` with a JSON body in the
clients' field names (`ListModels`, `GetModel`, `ListModelInstanceVersions`).
The endpoint is the clients': `KAGGLE_API_ENVIRONMENT` (kagglesdk's table:
production `https://api.kaggle.com`), or `KAGGLE_API_ENDPOINT` (the variable
kagglehub read before 1.0) when set. Credentials are read by kagglehub's own
function, as its clients read them (`KAGGLE_API_TOKEN`, `KAGGLE_USERNAME` +
`KAGGLE_KEY`, `kaggle.json` in `KAGGLE_CONFIG_DIR` or `~/.kaggle`), sent only
to that endpoint, never shown, cached or written into code.

Each model: `owner/model`, its title, subtitle and description (markdown, a
card like any other: rendered through `safety.render_markdown`), tags, votes,
and one checkpoint per version of each instance (framework + variation):
`tensorFlow2.100-224-classification.v2`, pinned by the kagglehub handle
`owner/model/framework/variation/version` (`revision`); licence from the
instances. Load code: `kagglehub.model_download(handle)`, and for TensorFlow
instances `tensorflow_hub.KerasLayer(<Kaggle URL>)`.
"""

from __future__ import annotations

import os
import re
import threading
from collections import OrderedDict
from functools import partial
from typing import Any
from urllib.parse import parse_qsl

import requests

from .. import config, safety
from ..errors import ZooError
from ..schema import ModelEntry, Problem, Problems, validate_models
from ..text import one_line, truncate
from ._budget import ListingBudget, ListingBudgetSpent, paged
from .base import LivePage, LiveQuery, LoadedSource
from .kaggle_client import TIMEOUT_S, KaggleClient, endpoint
from .kaggle_entry import TASKS, framework_name, handle_of, instances_of, model_data, same_framework

WEB = "https://www.kaggle.com"  # where model handles resolve (tensorflow_hub URLs)
TFHUB = "https://tfhub.dev"
TFHUB_ENV = "CKPTZOO_TFHUB_ENDPOINT"  # another tfhub.dev (a mirror, a test server)
PAGE = 20
MAX_VERSIONS = 100
VERSION_PAGES = 10  # pages of one instance's versions
SORTS: dict[str, tuple[str, str]] = {
    "hotness": ("LIST_MODELS_ORDER_BY_HOTNESS", "Hotness"),
    "downloads": ("LIST_MODELS_ORDER_BY_DOWNLOAD_COUNT", "Most downloads"),
    "votes": ("LIST_MODELS_ORDER_BY_VOTE_COUNT", "Most votes"),
    "notebooks": ("LIST_MODELS_ORDER_BY_NOTEBOOK_COUNT", "Most notebooks"),
    "published": ("LIST_MODELS_ORDER_BY_PUBLISH_TIME", "Recently published"),
    "created": ("LIST_MODELS_ORDER_BY_CREATE_TIME", "Recently created"),
    "updated": ("LIST_MODELS_ORDER_BY_UPDATE_TIME", "Recently updated"),
}
KEYS = {"search", "owner", "framework", "sort"}


# --- source strings ---------------------------------------------------------------------------

_MODEL_URL = re.compile(r"^https?://(?:www\.)?kaggle\.com/models/(.+?)/?$")
_TFHUB_URL = re.compile(r"^(?:https?://)?(?:www\.)?tfhub\.dev/(.+?)/?$")


def is_kaggle_source(source: str) -> bool:
    return source.startswith("kaggle:") or bool(_TFHUB_URL.match(source.strip()))


def resolve_tfhub(path: str) -> str:
    """A tfhub.dev handle's path -> the Kaggle model URL tfhub.dev redirects it to (one request, not followed)."""
    base = os.environ.get(TFHUB_ENV, "").strip().rstrip("/") or TFHUB
    url = f"{base}/{path.lstrip('/')}"
    if config.offline():
        raise ZooError(f"{url}: offline (CKPTZOO_OFFLINE); a tfhub.dev handle is resolved by asking tfhub.dev")
    try:
        response = requests.get(url, timeout=TIMEOUT_S, allow_redirects=False, stream=True)
        response.close()
    except requests.RequestException as error:
        raise ZooError(f"{url}: cannot reach tfhub.dev ({type(error).__name__})") from None
    target = response.headers.get("Location", "")
    if response.status_code not in (301, 302, 303, 307, 308) or not _MODEL_URL.match(target):
        raise ZooError(
            f"{url}: tfhub.dev did not point to a Kaggle model (HTTP {response.status_code}"
            + (f", to {one_line(target, 120)}" if target else "")
            + ")"
        )
    return target


def parse_source(source: str) -> dict[str, str]:
    """`kaggle:...` (or a tfhub.dev handle) -> options: `model` (+ `pin`) for one model, else list filters."""
    rest = source.strip()
    rest = rest[len("kaggle:") :].strip() if rest.startswith("kaggle:") else rest
    tfhub = _TFHUB_URL.match(rest)
    if tfhub:
        rest = resolve_tfhub(tfhub.group(1))
    url = _MODEL_URL.match(rest)
    if url:
        parts = url.group(1).split("/")
        if len(parts) not in (2, 4, 5):
            raise ZooError(f"{source!r}: a Kaggle model URL names owner/model[/framework/variation[/version]]")
        options = {"model": "/".join(parts[:2])}
        if len(parts) >= 4:
            options["pin"] = "/".join(parts)
        return _checked(source, options)
    if rest and "=" not in rest:
        parts = rest.split("/")
        if len(parts) not in (2, 4, 5):
            raise ZooError(f"{source!r}: expected owner/model (or a handle owner/model/framework/variation[/version])")
        options = {"model": "/".join(parts[:2])}
        if len(parts) >= 4:
            options["pin"] = rest
        return _checked(source, options)
    options = dict(parse_qsl(rest, keep_blank_values=True))
    unknown = sorted(set(options) - KEYS)
    if unknown:
        raise ZooError(f"{source!r}: unknown option(s) {', '.join(unknown)}; known: {', '.join(sorted(KEYS))}")
    if options.get("sort", "hotness").lstrip("-") not in SORTS:
        raise ZooError(f"{source!r}: cannot sort by {options['sort']!r}; Kaggle sorts by {', '.join(SORTS)}")
    return options


def _checked(source: str, options: dict[str, str]) -> dict[str, str]:
    try:
        safety.check_model_id(options["model"])
    except ValueError as error:
        raise ZooError(f"{source!r}: {error}") from None
    return options


class KaggleLive:
    """`kaggle:` with fixed filters, as a live source: one `ListModels` page a query, one model when opened."""

    def __init__(self, source: str, options: dict[str, str], client: KaggleClient | None = None):
        self.source = source
        self.label = "kaggle"
        self.options = options
        self.client = client or KaggleClient()
        self.title = f"Kaggle Models ({source})"
        self.problems: list[Problem] = []
        self.origin = f"Kaggle Models ({source})"
        self._open: OrderedDict[str, ModelEntry] = OrderedDict()
        self._lock = threading.Lock()

    # --- menus ---------------------------------------------------------------------------
    def sort_options(self) -> list[dict[str, str]]:
        return [{"key": k, "label": label, "direction": "desc", "group": ""} for k, (_, label) in SORTS.items()]

    def can_sort(self, sort: str) -> bool:
        key = sort.lstrip("-")
        return not key or (key in SORTS and sort.startswith("-"))

    def sort_error(self, sort: str) -> str:
        keys = ", ".join(f"-{k}" for k in SORTS)
        return f"Kaggle cannot sort by {sort[:80]!r} (that would need all of Kaggle Models); it sorts by {keys}"

    def range_options(self) -> dict[str, list[dict[str, str]]]:
        return {}

    def filter_options(self) -> dict[str, list[str]]:
        frameworks = ["tensorflow2", "tensorflow1", "tflite", "pytorch", "jax", "flax", "keras", "transformers"]
        return {"task": sorted(set(TASKS.values())), "library": ["kagglehub", *frameworks], "license": []}

    # --- pages ---------------------------------------------------------------------------
    def page(self, query: LiveQuery, cursor: str | None) -> LivePage:
        framework = self.options.get("framework", "")
        library = query.library.strip()
        if library and library != "kagglehub":
            if framework and not same_framework(framework, library):
                return LivePage([], None, 0)
            framework = library
        search = " ".join(s for s in (self.options.get("search", ""), query.text.strip()) if s)
        sort_key = (query.sort or "").lstrip("-") or self.options.get("sort", "hotness").lstrip("-")
        body: dict[str, Any] = {"pageSize": PAGE, "sortBy": SORTS.get(sort_key, SORTS["hotness"])[0]}
        if search:
            body["search"] = search[:200]
        if self.options.get("owner"):
            body["owner"] = self.options["owner"]
        if cursor:
            body["pageToken"] = cursor
        answer = self.client.call("ListModels", body, ListingBudget(per="page"))  # what one page may cost
        listed = answer.get("models")
        items: list[Any] = listed if isinstance(listed, list) else []
        problems = Problems()
        candidates = []
        for position, item in enumerate(items):
            if not isinstance(item, dict):
                problems.add(Problem(self.origin, f"models[{position}]", "", "not an object; skipped"))
                continue
            if framework and not any(
                same_framework(framework_name(i.get("framework")), framework) for i in instances_of(item)
            ):
                continue
            label = item.get("ref") if isinstance(item.get("ref"), str) else f"models[{position}]"
            candidates.append(
                (self.origin, truncate(label, 100), partial(model_data, item, None, self.origin, problems))
            )
        models = [m.with_origin(self.source, WEB + "/models/") for m in validate_models(candidates, problems)]
        if query.task:
            models = [m for m in models if m.task == query.task]
        if query.license:
            models = [m for m in models if m.license == query.license]
        token = answer.get("nextPageToken")
        nxt = token if isinstance(token, str) and token and token != cursor else None
        total = answer.get("totalResults")
        exact = not (framework or query.task or query.license)
        return LivePage(models, nxt, total if exact and isinstance(total, int) else None, problems.as_list())

    # --- one model -----------------------------------------------------------------------
    def owns(self, model_id: str) -> bool:
        try:
            safety.check_model_id(model_id)
        except ValueError:
            return False
        owner = self.options.get("owner")
        return "/" in model_id and (not owner or model_id.split("/", 1)[0] == owner)

    def model(self, model_id: str) -> ModelEntry:
        """The whole model: every version of every instance as checkpoints (`GetModel`, `ListModelInstanceVersions`)."""
        with self._lock:
            if model_id in self._open:
                self._open.move_to_end(model_id)
                return self._open[model_id]
        owner, _, slug = model_id.partition("/")
        budget = ListingBudget(
            pages=VERSION_PAGES, per="model opened"
        )  # what opening one model may cost; pages per version listing
        item = self.client.call("GetModel", {"ownerSlug": owner, "modelSlug": slug}, budget)
        versions: dict[tuple[str, str], list[int]] = {}
        problems = Problems()
        for instance in instances_of(item):
            framework, variation = framework_name(instance.get("framework")), instance.get("slug")
            if not framework or not isinstance(variation, str):
                continue
            try:
                versions[(framework, variation)] = self._versions(owner, slug, instance, variation, budget, problems)
            except ListingBudgetSpent as error:
                problems.add(Problem(self.origin, model_id, "versions", str(error)))
                break
        built = validate_models(
            [(self.origin, model_id, partial(model_data, item, versions, self.origin, problems))], problems
        )
        self.problems.extend(problems.as_list())
        if not built:
            why = "; ".join(str(p) for p in problems.as_list()[:3]) or "not a usable model"
            raise ZooError(f"kaggle: {model_id}: {why}")
        entry = built[0].with_origin(self.source, WEB + "/models/")
        with self._lock:
            self._open[model_id] = entry
            while len(self._open) > 64:
                self._open.popitem(last=False)
        return entry

    def _versions(
        self,
        owner: str,
        slug: str,
        instance: dict[str, Any],
        variation: str,
        budget: ListingBudget,
        problems: Problems,
    ) -> list[int]:
        """The version numbers of one instance: a `_budget.paged` listing (`VERSION_PAGES` pages, a token
        seen before or an empty page naming a next one ends it), charged to the model's budget."""

        def fetch(token: str | None) -> tuple[list[int], str | None]:
            body = {
                "ownerSlug": owner,
                "modelSlug": slug,
                "instanceSlug": variation,
                "framework": instance.get("framework"),
                "pageSize": MAX_VERSIONS,
            }
            if token:
                body["pageToken"] = token
            answer = self.client.call("ListModelInstanceVersions", body, budget)
            found = answer.get("versionList")
            listed: dict[str, Any] = found if isinstance(found, dict) else {}
            numbers = []
            for version in listed.get("versions") or []:
                number = version.get("versionNumber") if isinstance(version, dict) else None
                if isinstance(number, int) and not isinstance(number, bool) and number > 0:
                    numbers.append(number)
            nxt = answer.get("nextPageToken")
            return numbers, nxt if isinstance(nxt, str) and nxt else None

        def ended(line: str) -> None:
            problems.add(Problem(self.origin, f"{owner}/{slug}", f"versions of {variation}", line))

        numbers = list(paged(budget, fetch, ended, limit=MAX_VERSIONS, charge=False))
        latest = instance.get("versionNumber")
        if not numbers and isinstance(latest, int):
            numbers = [latest]
        return sorted(set(numbers))[-MAX_VERSIONS:]


def read_kaggle(source: str) -> LoadedSource:
    """`kaggle:owner/model` or a handle / URL / tfhub.dev handle: that model, read whole; else live."""
    options = parse_source(source)
    live = KaggleLive(source, options, KaggleClient())
    if "model" in options:
        entry = live.model(options["model"])
        pin = options.get("pin", "").lower().split("/")
        if len(pin) >= 4:  # owner/model/framework/variation[/version]: that version, else the variation's latest
            prefix = "/".join(pin[:4]) + "/"
            matching = [c for c in entry.checkpoints if (c.revision or "").lower().startswith(prefix)]
            exact = [c for c in matching if len(pin) == 5 and (c.revision or "").lower() == "/".join(pin)]
            chosen = (exact or matching[-1:])[:1]
            if chosen:
                pinned = entry.model_copy(update={"default_checkpoint": chosen[0].name})
                entry = pinned.with_origin(entry.source, entry.base)
        return LoadedSource(source, "kaggle", [entry], list(live.problems), live.title)
    return LoadedSource(source, "kaggle", [], [], live.title, live=live)


__all__ = ["KaggleClient", "KaggleLive", "endpoint", "framework_name", "handle_of", "parse_source", "read_kaggle"]
