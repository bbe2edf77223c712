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
from urllib.parse import parse_qsl, urlsplit

import requests

from .. import config, safety
from ..decode import ParseError, load_json
from ..errors import ZooError
from ..schema import ModelEntry, Problem, Problems, validate_models
from ..text import one_line, truncate
from ._budget import ListingBudget, ListingBudgetSpent, paged
from ._http import read_bounded
from .base import LivePage, LiveQuery, LoadedSource

SERVICE = "models.ModelApiService"
WEB = "https://www.kaggle.com"  # where model handles resolve (tensorflow_hub URLs)
TFHUB = "https://tfhub.dev"
TFHUB_ENV = "CKPTZOO_TFHUB_ENDPOINT"  # another tfhub.dev (a mirror, a test server)
PAGE = 20
MAX_ANSWER = 16 << 20
MAX_INSTANCES = 50
MAX_VERSIONS = 100
TIMEOUT_S = 30.0
DEADLINE_S = 120.0  # one whole answer, however slowly it drips
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
# Kaggle's licence names -> the Hub's ids (the catalog filters on one spelling); others kept as they are.
LICENCES = {
    "apache 2.0": "apache-2.0",
    "mit": "mit",
    "cc by 4.0": "cc-by-4.0",
    "cc by-sa 4.0": "cc-by-sa-4.0",
    "cc by-nc 4.0": "cc-by-nc-4.0",
    "cc by-nc-sa 4.0": "cc-by-nc-sa-4.0",
    "cc0: public domain": "cc0-1.0",
    "bsd-3-clause": "bsd-3-clause",
    "gemma": "gemma",
    "llama 2": "llama2",
}
# Tag names Kaggle gives models -> the Hub's task names, where they are the same thing.
TASKS = {
    "image classification": "image-classification",
    "object detection": "object-detection",
    "image segmentation": "image-segmentation",
    "text generation": "text-generation",
    "text classification": "text-classification",
    "text embedding": "feature-extraction",
    "image feature vector": "image-feature-extraction",
    "speech recognition": "automatic-speech-recognition",
    "audio classification": "audio-classification",
    "question answering": "question-answering",
    "translation": "translation",
    "summarization": "summarization",
}
_SLUG = r"[A-Za-z0-9][A-Za-z0-9._-]*"
_HANDLE = re.compile(rf"^({_SLUG})/({_SLUG})/([A-Za-z0-9]+)/({_SLUG})/([0-9]{{1,9}})$")


# --- names the clients use -------------------------------------------------------------------


def framework_name(value: Any) -> str:
    """The wire enum `MODEL_FRAMEWORK_TENSOR_FLOW_2` -> the handle's `tensorFlow2` (kagglehub's spelling)."""
    text = str(value or "").removeprefix("MODEL_FRAMEWORK_")
    words = [w for w in text.lower().split("_") if w]
    return (words[0] + "".join(w.capitalize() for w in words[1:])) if words else ""


def framework_enum(name: str) -> str:
    """`tensorflow2` / `tensorFlow2` / `pytorch` -> the wire enum name (compared without case or '_')."""
    return "MODEL_FRAMEWORK_" + re.sub(r"(?<=[a-z])(?=[A-Z0-9])", "_", name).upper()


def _same_framework(a: str, b: str) -> bool:
    return a.replace("_", "").lower() == b.replace("_", "").lower()


def handle_of(revision: str | None) -> tuple[str, str, str, str, int] | None:
    """A kagglehub handle `owner/model/framework/variation/version` -> its parts, else None."""
    found = _HANDLE.match(revision or "")
    if not found:
        return None
    owner, model, framework, variation, version = found.groups()
    return owner, model, framework, variation, int(version)


def checkpoint_name(framework: str, variation: str, version: int) -> str:
    return f"{framework}.{variation}.v{version}"


# --- the client ------------------------------------------------------------------------------


def _kagglehub_config() -> Any:
    try:
        from kagglehub import config as kagglehub_config
    except ImportError:
        raise ZooError("the Kaggle source needs kagglehub: pip install 'ckptzoo-widgets[kaggle]'") from None
    return kagglehub_config


def endpoint() -> str:
    """The API's base (`.../v1`): `KAGGLE_API_ENDPOINT` when set, else kagglesdk's `KAGGLE_API_ENVIRONMENT` table."""
    explicit = os.environ.get("KAGGLE_API_ENDPOINT", "").strip().rstrip("/")
    if explicit:
        return f"{explicit}/api/v1"
    _kagglehub_config()
    from kagglesdk.kaggle_env import KaggleEnv, get_endpoint, get_env

    try:
        env = get_env()
    except Exception as error:  # noqa: BLE001 - kagglesdk raises a bare Exception for an unknown name
        raise ZooError(f"KAGGLE_API_ENVIRONMENT: {one_line(error, 120)}") from None
    base = get_endpoint(env).rstrip("/")
    return f"{base}/v1" if env == KaggleEnv.PROD else f"{base}/api/v1"


def _auth() -> Any:
    """What the clients would send: a bearer token, or the username and key (requests' Basic auth); None."""
    try:
        found = _kagglehub_config().get_kaggle_credentials()
    except (ValueError, OSError) as error:  # kaggle.json unreadable: say where, never what it holds
        raise ZooError(f"Kaggle credentials cannot be read ({one_line(str(error).split(':')[0], 120)})") from None
    if found is None:
        return None
    if getattr(found, "api_key", None):
        token = found.api_key

        def bearer(request: Any) -> Any:
            request.headers["Authorization"] = f"Bearer {token}"
            return request

        return bearer
    if found.username and found.key:
        return (found.username, found.key)
    return None


class KaggleClient:
    """One call of Kaggle's model API: bounded answer, one-line failures, credentials never in a message."""

    def __init__(self) -> None:
        self.base = endpoint()
        self.host = urlsplit(self.base).netloc

    def call(self, method: str, body: dict[str, Any], budget: ListingBudget | None = None) -> dict[str, Any]:
        """One call, charged to `budget` (a page, a model opened: `_budget.ListingBudget`) or a budget of its own."""
        if config.offline():
            raise ZooError(f"kaggle: offline (CKPTZOO_OFFLINE); {method} not asked")
        budget = ListingBudget(per="request") if budget is None else budget
        url = f"{self.base}/{SERVICE}/{method}"
        auth = _auth()
        headers = {"User-Agent": "ckptzoo-widgets", "Accept-Encoding": "gzip"}
        budget.request()
        try:
            response = requests.post(
                url, json=body, headers=headers, auth=auth, timeout=TIMEOUT_S, stream=True, allow_redirects=False
            )
            with response:
                data = read_bounded(
                    response, url, limit=MAX_ANSWER, deadline=min(DEADLINE_S, budget.remaining()), budget=budget
                )
        except ListingBudgetSpent:
            raise
        except ZooError as error:  # too large, too slow: one line naming the call, not the URL
            raise ZooError(f"kaggle: {method}: {str(error).removeprefix(f'{url}: ')}") from None
        except requests.RequestException as error:
            raise ZooError(f"kaggle: cannot reach {self.host} ({type(error).__name__})") from None
        answer: Any = None
        try:
            answer = load_json(data) if data.strip() else {}
        except ParseError as error:
            if response.status_code < 400:
                raise ZooError(f"kaggle: {method}: the answer is {error}") from None
        message = answer.get("message") if isinstance(answer, dict) else None
        code = answer.get("code") if isinstance(answer, dict) else None
        status = code if isinstance(code, int) and code >= 400 else response.status_code
        if status in (401, 403):
            if auth is None:
                raise ZooError(
                    f"kaggle: {method}: HTTP {status}: no Kaggle credentials (set KAGGLE_USERNAME and KAGGLE_KEY, "
                    "or put kaggle.json in ~/.kaggle)"
                )
            raise ZooError(f"kaggle: {method}: HTTP {status}: Kaggle refused the credentials")
        if status >= 300:
            said = f": {one_line(message, 200)}" if isinstance(message, str) and message else ""
            raise ZooError(f"kaggle: {method}: HTTP {status}{said}")
        if not isinstance(answer, dict):
            raise ZooError(f"kaggle: {method}: expected a JSON object, got {type(answer).__name__}")
        return answer


# --- answers -> entries -----------------------------------------------------------------------


def _text(value: Any, limit: int) -> str:
    return truncate(value, limit) if isinstance(value, str) else ""


def _licence(name: Any) -> str | None:
    if not isinstance(name, str) or not name.strip():
        return None
    return LICENCES.get(name.strip().lower(), truncate(name.strip(), 60))


def _tags(item: dict[str, Any]) -> list[str]:
    out = []
    for tag in item.get("tags") or []:
        name = tag.get("name") or tag.get("ref") if isinstance(tag, dict) else None
        if isinstance(name, str) and name.strip():
            out.append(truncate(name.strip(), 60))
    return list(dict.fromkeys(out))[:30]


def _instances(item: dict[str, Any]) -> list[dict[str, Any]]:
    return [i for i in (item.get("instances") or [])[:MAX_INSTANCES] if isinstance(i, dict)]


def _slug_pair(item: dict[str, Any]) -> tuple[str, str]:
    found = item.get("ref")
    ref = found if isinstance(found, str) else ""
    owner, _, slug = ref.partition("/")
    owner = owner or _text(item.get("author"), 100)
    slug = slug or _text(item.get("slug"), 100)
    return owner, slug


def model_data(
    item: dict[str, Any], versions: dict[tuple[str, str], list[int]] | None, origin: str, problems: Problems
) -> dict[str, Any] | None:
    """A Kaggle model (`ApiModel`) -> an entry; `versions`: every version of each (framework, variation),
    else the latest version of each instance only (a page of a listing)."""
    owner, slug = _slug_pair(item)
    model_id = f"{owner}/{slug}"
    safety.check_model_id(model_id)  # a ValueError: this model's problem
    checkpoints: list[dict[str, Any]] = []
    frameworks: list[str] = []
    licences: list[str] = []
    rows = []
    usage = []
    for instance in _instances(item):
        framework = framework_name(instance.get("framework"))
        variation = instance.get("slug")
        if not framework or not isinstance(variation, str):
            problems.add(Problem(origin, model_id, "instances", "an instance without framework or slug; left out"))
            continue
        try:
            safety.check_checkpoint_name(checkpoint_name(framework, variation, 1))
        except ValueError as error:
            problems.add(Problem(origin, model_id, "instances", f"{error}; instance left out"))
            continue
        latest = instance.get("versionNumber")
        known = (versions or {}).get((framework, variation)) or ([latest] if isinstance(latest, int) else [])
        licence = _licence(instance.get("licenseName"))
        frameworks.append(framework)
        if licence:
            licences.append(licence)
        for number in sorted(v for v in known if isinstance(v, int) and 0 < v < 10**9):
            checkpoints.append(
                {
                    "name": checkpoint_name(framework, variation, number),
                    "_version": number,
                    "revision": f"{owner}/{slug}/{framework}/{variation}/{number}",
                    "notes": f"Kaggle model {owner}/{slug}, {framework} variation {variation}, version {number}"
                    + (f"; licence {licence}" if licence else ""),
                }
            )
        rows.append(f"| {framework} | {variation} | {latest if isinstance(latest, int) else ''} | {licence or ''} |")
        overview, how = _text(instance.get("overview"), 20_000), _text(instance.get("usage"), 20_000)
        if overview or how:
            usage.append(f"### {framework} / {variation}\n\n{overview}\n\n{how}".strip())
    if not checkpoints:
        problems.add(Problem(origin, model_id, "instances", "no framework instance with a version; model left out"))
        return None
    title = _text(item.get("title"), 200) or slug
    subtitle = _text(item.get("subtitle"), 500)
    description = "\n\n".join(
        part
        for part in (
            f"# {title}",
            subtitle,
            _text(item.get("description"), 100_000),
            "## Variations\n\n| framework | variation | latest version | licence |\n| --- | --- | --- | --- |\n"
            + "\n".join(rows),
            *usage,
            f"Kaggle Models: `{model_id}`.",
        )
        if part
    )
    tags = _tags(item)
    task = next((TASKS[t.lower()] for t in tags if t.lower() in TASKS), None)
    votes = item.get("voteCount")
    metrics = {"votes": float(votes)} if isinstance(votes, int) and not isinstance(votes, bool) else {}
    first = checkpoints[0]["revision"].rsplit("/", 1)[0]  # the first instance: its latest version is the default
    numbers = [int(c.pop("_version")) for c in checkpoints]
    default = max(
        (n, c["name"]) for n, c in zip(numbers, checkpoints, strict=True) if c["revision"].startswith(first + "/")
    )[1]
    return {
        "id": model_id,
        "name": title,
        "task": task,
        "library": "kagglehub",
        "framework": frameworks[0].lower(),
        "license": licences[0] if licences else None,
        "tags": [*dict.fromkeys(f.lower() for f in frameworks), *tags][:40],
        "description": description,
        "metrics": metrics,
        "headline_metric": "votes" if metrics else None,
        "created": _text(item.get("publishTime"), 40) or None,
        "updated": _text(item.get("updateTime"), 40) or None,
        "default_checkpoint": default,
        "repo": model_id,
        "checkpoints": checkpoints,
    }


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
            if framework and not _same_framework(framework, library):
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
                _same_framework(framework_name(i.get("framework")), framework) for i in _instances(item)
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
        for instance in _instances(item):
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
