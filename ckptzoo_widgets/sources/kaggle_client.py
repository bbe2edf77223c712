"""Kaggle's model API as its clients call it (``kagglesdk``): the endpoint, the credentials
kagglehub reads, and one bounded call (``KaggleClient.call``); the live source is ``kaggle.py``."""

from __future__ import annotations

import os
from typing import Any
from urllib.parse import urlsplit

import requests

from .. import config
from ..decode import ParseError, load_json
from ..errors import ZooError
from ..text import one_line
from ._budget import ListingBudget, ListingBudgetSpent
from ._http import read_bounded

SERVICE = "models.ModelApiService"
MAX_ANSWER = 16 << 20
TIMEOUT_S = 30.0
DEADLINE_S = 120.0  # one whole answer, however slowly it drips


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
