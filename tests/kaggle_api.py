"""A fake Kaggle Models API on 127.0.0.1, in the shapes Kaggle's own clients send and read.

The shapes come from the clients' code: `kagglesdk` (which `kagglehub` 1.x and
`kaggle` 2.x call) posts JSON to `<endpoint>/api/v1/models.ModelApiService/<Method>`
off production (`/v1/...` on api.kaggle.com), field names in camelCase, enums by
name (`MODEL_FRAMEWORK_TENSOR_FLOW_2`, `LIST_MODELS_ORDER_BY_VOTE_COUNT`), errors
as `{"code": 401, "message": ...}`; credentials as HTTP Basic (username, key) or
a bearer token. Modelled: ListModels (search, owner, sort, pageSize/pageToken,
totalResults), GetModel, GetModelInstance, ListModelInstanceVersions,
ListModelInstanceVersionFiles and DownloadModelInstanceVersion (one file of a
version by `path`, or the version as a zip). tfhub.dev's redirect to a Kaggle
model page is `TFHUB_ROUTES` (a 301 with `Location`).

Not modelled: gated models and consent, private models, per-file MD5 headers
(`x-goog-hash`), archives for versions of more than 25 files, model upload and
any write, notebooks and download counts, rate limits (429), the web pages.
"""

from __future__ import annotations

import base64
import io
import json
import zipfile
from dataclasses import dataclass, field
from typing import Any

from httpserver import Reply, Request

USER, KEY = "ada", "k-3f9a1c"  # the credentials the fake accepts (a test's own, never real)
PREFIX = "/api/v1/models.ModelApiService/"
ORDER = {
    "LIST_MODELS_ORDER_BY_VOTE_COUNT": lambda m: -m.votes,
    "LIST_MODELS_ORDER_BY_PUBLISH_TIME": lambda m: m.published,
}


@dataclass
class Instance:
    framework: str  # the wire enum name
    slug: str
    versions: dict[int, dict[str, bytes]]  # version -> file name -> content
    license: str = "Apache 2.0"
    overview: str = ""
    usage: str = ""

    def wire(self) -> dict[str, Any]:
        latest = max(self.versions)
        return {
            "id": abs(hash((self.framework, self.slug))) % 10**6,
            "slug": self.slug,
            "framework": self.framework,
            "fineTunable": False,
            "overview": self.overview,
            "usage": self.usage,
            "versionNumber": latest,
            "licenseName": self.license,
            "trainingData": [],
            "url": "",
            "downloadUrl": "",
            "totalUncompressedBytes": sum(len(b) for b in self.versions[latest].values()),
        }


@dataclass
class Model:
    owner: str
    slug: str
    title: str
    instances: list[Instance]
    subtitle: str = ""
    description: str = ""
    tags: list[str] = field(default_factory=list)
    votes: int = 0
    published: str = "2024-01-01T00:00:00Z"

    def wire(self) -> dict[str, Any]:
        return {
            "id": abs(hash((self.owner, self.slug))) % 10**6,
            "ref": f"{self.owner}/{self.slug}",
            "title": self.title,
            "subtitle": self.subtitle,
            "author": self.owner,
            "slug": self.slug,
            "isPrivate": False,
            "description": self.description,
            "instances": [i.wire() for i in self.instances],
            "tags": [{"ref": t.lower().replace(" ", "-"), "name": t} for t in self.tags],
            "publishTime": self.published,
            "provenanceSources": "",
            "url": f"/models/{self.owner}/{self.slug}",
            "modelVersionLinks": [],
            "voteCount": self.votes,
            "updateTime": self.published,
        }


def _error(status: int, message: str) -> Reply:
    return Reply(status, {"code": status, "message": message}, {"Content-Type": "application/json"})


def _json(value: Any) -> Reply:
    return Reply(200, value, {"Content-Type": "application/json"})


class FakeKaggle:
    """The route handler: `server.route("/api/v1/", fake)`; `fake.calls` is what the clients asked."""

    def __init__(self, models: list[Model], *, page_versions: int = 100) -> None:
        self.models = {(m.owner, m.slug): m for m in models}
        self.page_versions = page_versions
        self.calls: list[tuple[str, dict[str, Any], str]] = []  # (method, body, how it was authenticated)

    def _who(self, request: Request) -> str | None:
        header = request.headers.get("Authorization") or ""
        if header.startswith("Basic "):
            user, _, key = base64.b64decode(header[6:]).decode("utf-8", "replace").partition(":")
            return "basic" if (user, key) == (USER, KEY) else None
        if header.startswith("Bearer "):
            return "bearer" if header[7:] == f"token-{KEY}" else None
        return None

    def __call__(self, request: Request) -> Reply:
        if request.method != "POST" or not request.path.startswith(PREFIX):
            return _error(404, "Not found")
        method = request.path[len(PREFIX) :]
        try:
            body = json.loads(request.body or b"{}")
        except ValueError:
            return _error(400, "Malformed JSON")
        who = self._who(request)
        self.calls.append((method, body, who or "none"))
        if who is None:
            return _error(401, "Unauthenticated")
        handler = getattr(self, f"_{method}", None)
        return handler(body) if handler else _error(404, f"Unknown method {method}")

    def _model(self, body: dict[str, Any]) -> Model | None:
        return self.models.get((body.get("ownerSlug", ""), body.get("modelSlug", "")))

    def _instance(self, body: dict[str, Any]) -> Instance | None:
        model = self._model(body)
        for instance in model.instances if model else []:
            if instance.framework == body.get("framework") and instance.slug == body.get("instanceSlug"):
                return instance
        return None

    def _ListModels(self, body: dict[str, Any]) -> Reply:
        words = str(body.get("search") or "").lower().split()
        found = [
            m
            for m in self.models.values()
            if (not body.get("owner") or m.owner == body["owner"])
            and all(w in f"{m.owner}/{m.slug} {m.title} {m.subtitle}".lower() for w in words)
        ]
        found.sort(key=ORDER.get(body.get("sortBy", ""), lambda m: (m.owner, m.slug)))
        size = int(body.get("pageSize") or 20)
        start = int(body.get("pageToken") or 0)
        page = found[start : start + size]
        nxt = str(start + size) if start + size < len(found) else ""
        return _json({"models": [m.wire() for m in page], "nextPageToken": nxt, "totalResults": len(found)})

    def _GetModel(self, body: dict[str, Any]) -> Reply:
        model = self._model(body)
        return _json(model.wire()) if model else _error(404, "Model not found")

    def _GetModelInstance(self, body: dict[str, Any]) -> Reply:
        instance = self._instance(body)
        return _json(instance.wire()) if instance else _error(404, "Instance not found")

    def _ListModelInstanceVersions(self, body: dict[str, Any]) -> Reply:
        instance = self._instance(body)
        if instance is None:
            return _error(404, "Instance not found")
        numbers = sorted(instance.versions)
        size = min(int(body.get("pageSize") or 100), self.page_versions)
        start = int(body.get("pageToken") or 0)
        versions = [
            {"versionNumber": n, "variationSlug": instance.slug, "framework": instance.framework}
            for n in numbers[start : start + size]
        ]
        nxt = str(start + size) if start + size < len(numbers) else ""
        return _json({"versionList": {"versions": versions}, "nextPageToken": nxt})

    def _files(self, body: dict[str, Any]) -> dict[str, bytes] | None:
        instance = self._instance(body)
        return instance.versions.get(int(body.get("versionNumber") or 0)) if instance else None

    def _ListModelInstanceVersionFiles(self, body: dict[str, Any]) -> Reply:
        files = self._files(body)
        if files is None:
            return _error(404, "Version not found")
        return _json({"files": [{"name": n, "size": len(b)} for n, b in files.items()], "nextPageToken": ""})

    def _DownloadModelInstanceVersion(self, body: dict[str, Any]) -> Reply:
        files = self._files(body)
        if files is None:
            return _error(404, "Version not found")
        path = body.get("path")
        if path:
            if path not in files:
                return _error(404, "File not found")
            return Reply(200, files[path], {"Content-Type": "application/octet-stream"})
        archive = io.BytesIO()
        with zipfile.ZipFile(archive, "w") as bundle:
            for name, data in files.items():
                bundle.writestr(name, data)
        return Reply(200, archive.getvalue(), {"Content-Type": "application/zip"})


def tfhub_redirects(routes: dict[str, str]) -> Any:
    """A tfhub.dev stand-in: each handle path answers 301 to its Kaggle model page."""

    def handler(request: Request) -> Reply:
        target = routes.get(request.path)
        if target is None:
            return Reply(404, b"not a tfhub.dev handle")
        return Reply(301, b"", {"Location": target})

    return handler
