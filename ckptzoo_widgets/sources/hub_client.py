"""The Hugging Face Hub's API as a good citizen: cached answers, the Hub's rate limits, one-line failures.

Every request the `hf:` source makes goes through `HubClient.get` (this module: the HTTP side and
the rate limits; hub_answers.py keeps and finds the answers, in this user's cache and the shared one):

- **Cached with its validators.** An answer is kept in the cache (`cache.hub_answer_paths`:
  body and record, keyed by the URL, which never holds a credential). Within
  `fresh_seconds` (`CKPTZOO_HUB_FRESH`, default 600 s) it is reused without asking;
  after that it is revalidated with `If-None-Match` (a `304` costs no body). Another
  kernel of the same user reads the same records.
- **Shared by the machine's users** (`CKPTZOO_SHARED_CACHE`, docs/classroom.md): an answer to
  an anonymous request is also written to the shared folder (`cache.write_shared`), and read
  from there by the others' kernels while fresh (by its file's ctime); one kernel asks while
  the others wait on its lock (`cache.shared_lock`, at most `SHARED_WAIT_S`). What is read
  there is untrusted: regular files only, sha256, URL and kind checked, parsed and validated
  like a live answer, never copied into the user's own cache. A request sent with a token
  neither reads nor writes it (its answer may hold what only that token sees).
- **Offline** (`CKPTZOO_OFFLINE=1`, `HF_HUB_OFFLINE=1`, or the Hub unreachable): what
  was seen before is served; anything else is one line, `offline: ... was not seen before`.
- **Rate limits.** The `RateLimit` / `RateLimit-Policy` headers (parsed by
  huggingface_hub's own parser) are read on every answer: when none are left, the
  next request waits for the window to reset if that is at most `max_wait` seconds
  (`CKPTZOO_HUB_MAX_WAIT`, default 5 s), else it is not sent and the caller gets one
  line, `the Hub asks to wait 12 s` (or the answer seen before). A `429` is handled
  the same way from its `Retry-After`: one wait within the cap, one retry, never a loop.
- **Failures are one line.** A `5xx` (the answer seen before if there is one), no answer
  within `timeout` (`the Hub did not answer in 5 s`), no connection (`offline: ...`),
  never raw urllib3 text or a traceback.
- **Budgets.** Each request is charged to a `_budget.ListingBudget`: the one the caller
  gives (a page of a query, a model opened, an index build's listing; see sources/_budget.py)
  or one of its own. Its body is read through `_http.read_bounded`: cut at its cap while it
  streams (`limit`; a page of a query `MAX_PAGE_BYTES`), within `DEADLINE_S` and what is
  left of the budget's time; one line naming what was asked when a budget breaks.
- **The token** (`HF_TOKEN` or huggingface_hub's saved login, through
  `huggingface_hub.utils.get_token`) is sent to the Hub's own endpoint only; it
  is never part of a URL, a record, a message or load code.
"""

from __future__ import annotations

import functools
import math
import os
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit

import requests

from .. import cache, config
from ..decode import ParseError, load_json
from ..errors import ZooError
from ..text import one_line, truncate
from . import hub_answers as answers
from ._budget import ListingBudget, ListingBudgetSpent
from ._http import get_bounded
from .hub_answers import SHARED_WAIT_S, Answer

TIMEOUT_S = 5.0  # connect and read: a Hub that accepts the connection and stays silent costs this
DEADLINE_S = 60.0  # one whole answer
FRESH_S = 600.0  # answers reused without asking within this window
MAX_WAIT_S = 5.0  # the longest wait the Hub may ask for before we say so instead of waiting
MAX_TEXT = 1 << 20  # a README or a result file
MAX_PAGE_BYTES = 8 << 20  # a page of a query (50 or 100 cards: a few hundred KiB)


class HubUnavailable(ZooError):
    """The Hub cannot answer now and nothing was seen before: offline, rate-limited, silent, failing.

    `kind` is "offline", "rate-limit", "timeout" or "server"; the message is one line.
    """

    def __init__(self, message: str, kind: str, wait: float | None = None):
        super().__init__(message)
        self.kind = kind
        self.wait = wait


class HubNotFound(ZooError):
    """The Hub answered 404 (no such repo, revision or file)."""


def _hub_utils() -> Any:
    try:
        import huggingface_hub.utils as hub_utils
    except ImportError:
        raise ZooError("the Hugging Face Hub source needs huggingface_hub: pip install 'ckptzoo-widgets[hf]'") from None
    return hub_utils


def endpoint() -> str:
    """`HF_ENDPOINT` when set (read now, not at import), else huggingface_hub's default."""
    value = os.environ.get("HF_ENDPOINT", "").strip()
    if not value:
        from huggingface_hub import constants

        value = constants.ENDPOINT
    return value.rstrip("/")


def offline() -> bool:
    return config.offline() or config.env_flag("HF_HUB_OFFLINE")


def _error_text(body: bytes) -> str:
    """The Hub's own error message (`{"error": "..."}`), quoted as one short line."""
    try:
        message = load_json(body, limit=1 << 16).get("error")
    except (ParseError, AttributeError):
        return ""
    return f" ({one_line(truncate(message, 200))})" if isinstance(message, str) else ""


@functools.cache
def _version() -> str:
    """The installed distribution's version, from its metadata (the package root imports the whole public API)."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("ckptzoo-widgets")
    except PackageNotFoundError:  # a source tree on sys.path, not installed
        return "0"


def _headers(hub: Any) -> dict[str, str]:
    """Our user agent and the user's token (HF_TOKEN or huggingface_hub's saved login), unless
    HF_HUB_DISABLE_IMPLICIT_TOKEN. Not `build_hf_headers`: its user agent asks the Hub for a
    registry of agent harnesses once a day, a request the user did not ask for."""
    headers = {"User-Agent": f"ckptzoo-widgets/{_version()}"}
    if not config.env_flag("HF_HUB_DISABLE_IMPLICIT_TOKEN"):
        try:
            token = hub.get_token()
        except Exception:  # noqa: BLE001 - a broken login file: ask anonymously
            token = None
        if token:
            headers["Authorization"] = f"Bearer {token}"
    return headers


class _Limits:
    """What the Hub said about its rate limit, per endpoint, shared by every client in this process."""

    lock = threading.Lock()
    blocked_until: dict[str, float] = {}

    @classmethod
    def wait_for(cls, base: str) -> float:
        with cls.lock:
            return max(0.0, cls.blocked_until.get(base, 0.0) - time.monotonic())

    @classmethod
    def block(cls, base: str, seconds: float) -> None:
        with cls.lock:
            cls.blocked_until[base] = max(cls.blocked_until.get(base, 0.0), time.monotonic() + seconds)


def wait_text(seconds: float) -> str:
    return f"the Hub asks to wait {max(1, math.ceil(seconds))} s"


class HubClient:
    """GET the Hub's API with the cache, limits and budgets above. One per source; thread-safe enough for
    the widget's worker (each request is independent; the limit state is shared under a lock)."""

    def __init__(
        self,
        base: str | None = None,
        *,
        fresh: float | None = None,
        max_wait: float | None = None,
        timeout: float | None = None,
        on_wait: Callable[[float], None] | None = None,
    ):
        hub = _hub_utils()
        self.hub = hub
        self.base = (base or endpoint()).rstrip("/")
        self.fresh = config.env_number("CKPTZOO_HUB_FRESH", FRESH_S) if fresh is None else fresh
        self.max_wait = config.env_number("CKPTZOO_HUB_MAX_WAIT", MAX_WAIT_S) if max_wait is None else max_wait
        self.timeout = config.env_number("CKPTZOO_HUB_TIMEOUT", TIMEOUT_S) if timeout is None else timeout
        self.on_wait = on_wait  # told before each wait (the index build prints it)
        self._headers = _headers(hub)
        self._session = requests.Session()
        self.sent = 0  # requests sent by this client (benchmarks read it)

    # --- URLs -------------------------------------------------------------------------
    def url(self, path: str, params: Sequence[tuple[str, str]] = ()) -> str:
        query = urlencode(list(params))
        return f"{self.base}{path}" + (f"?{query}" if query else "")

    def owns(self, url: str) -> bool:
        """A URL on the Hub's own endpoint (a next link elsewhere is not followed: the token stays home)."""
        mine, theirs = urlsplit(self.base), urlsplit(url)
        return (theirs.scheme, theirs.netloc) == (mine.scheme, mine.netloc) and theirs.path.startswith(mine.path + "/")

    # --- the answers kept (hub_answers.py) --------------------------------------------------
    def _shared_root(self) -> Path | None:
        """The shared answer cache, for anonymous requests only: a request with a token may be
        answered with what only that token sees (private or gated repos), so it is neither
        written there nor answered from there."""
        if "Authorization" in self._headers:
            return None
        return config.shared_cache()

    def _shared_fresh(self, root: Path, url: str, kind: str, window: float, cap: int | None) -> Answer | None:
        return answers.shared_fresh(
            root, url, kind, window, cap, lambda record, body: self._answer(url, record, body, "shared")
        )

    def _answer(self, url: str, record: dict[str, Any], body: bytes, how: str, note: str = "") -> Answer:
        try:
            data = load_json(body) if record.get("kind", "json") == "json" else body.decode("utf-8", "replace")
        except ParseError as error:
            raise ZooError(f"{self._where(url)}: the answer is {error}") from None
        nxt = record.get("next")
        total = record.get("total")
        return Answer(
            data,
            nxt if isinstance(nxt, str) and self.owns(nxt) else None,
            total if isinstance(total, int) else None,
            how,
            note,
        )

    def _where(self, url: str) -> str:
        parts = urlsplit(url)
        return one_line(truncate(parts.path + (f"?{parts.query}" if parts.query else ""), 200))

    # --- one GET --------------------------------------------------------------------------
    def get(
        self,
        url: str,
        *,
        what: str,
        text: bool = False,
        fresh: float | None = None,
        budget: ListingBudget | None = None,
        limit: int | None = None,
    ) -> Answer:
        """The answer at `url` (JSON, or text with `text=True`), from the cache when fresh.

        `what` names it in messages ("the search 'pythia'", "EleutherAI/pythia-70m").
        `budget`: what this request is charged to (a page, a model opened, a build's listing;
        a budget of its own when None); `limit`: the body's cap (`MAX_TEXT` for text, else the
        JSON budget). Raises HubUnavailable (one line) when the Hub cannot answer and nothing
        was seen before, HubNotFound on a 404, ZooError on an answer that breaks the budgets
        (`ListingBudgetSpent` when the budget ran out).
        """
        budget = ListingBudget(per="request") if budget is None else budget
        cap = limit if limit is not None else (MAX_TEXT if text else None)
        if not self.owns(url):
            raise ZooError(f"{one_line(truncate(url, 200))}: not on the Hub's endpoint {self.base}; not asked")
        window = self.fresh if fresh is None else fresh
        seen = answers.cached(url)
        if seen is not None and time.time() - float(seen[0].get("fetched") or 0) < window:
            return self._answer(url, *seen, "fresh")
        kind = "text" if text else "json"
        shared = self._shared_root()
        if shared is not None:
            hit = self._shared_fresh(shared, url, kind, window, cap)
            if hit is not None:
                return hit
        if offline():
            if seen is not None:
                return self._answer(url, *seen, "cached", "offline: showing what was seen before")
            raise HubUnavailable(f"offline: {what} was not seen before", "offline")
        if shared is None:
            return self._ask(url, what, kind, seen, cap, budget, None)
        with cache.shared_lock(shared, cache.url_key(url)[:40], SHARED_WAIT_S) as held:
            if held:  # another user may have asked while this one waited
                hit = self._shared_fresh(shared, url, kind, window, cap)
                if hit is not None:
                    return hit
            return self._ask(url, what, kind, seen, cap, budget, shared)

    def _ask(
        self,
        url: str,
        what: str,
        kind: str,
        seen: answers.Seen | None,
        cap: int | None,
        budget: ListingBudget,
        shared: Path | None,
    ) -> Answer:
        """Send the request (one retry after a wait the Hub asked for); the answer kept in this user's
        cache and, asked anonymously, in the machine's shared one."""
        for attempt in (0, 1):  # one retry at most, after a wait the Hub asked for
            early = self._wait_turn(url, seen, budget)
            if early is not None:
                return early
            sent = self._send(url, what, seen, cap, budget)
            if isinstance(sent, Answer):
                return sent
            response, body = sent
            self._note_limits(response)
            if response.status_code == 429:
                retry = response.headers.get("Retry-After", "").strip()
                wait = float(retry) if retry.isdigit() else max(_Limits.wait_for(self.base), 1.0)
                _Limits.block(self.base, wait)
                if attempt == 0 and wait <= self.max_wait:
                    continue
                if seen is not None:
                    return self._answer(url, *seen, "cached", wait_text(wait))
                raise HubUnavailable(wait_text(wait), "rate-limit", wait)
            return self._received(url, what, kind, seen, shared, response, body)
        raise AssertionError("unreachable")  # pragma: no cover - the loop returns or raises

    def _wait_turn(self, url: str, seen: answers.Seen | None, budget: ListingBudget) -> Answer | None:
        """Wait out a rate limit the Hub announced, within `max_wait`; beyond it, the answer seen
        before (returned) or HubUnavailable. None: go ahead."""
        wait = _Limits.wait_for(self.base)
        if wait <= 0:
            return None
        if wait > self.max_wait:
            if seen is not None:
                return self._answer(url, *seen, "cached", wait_text(wait))
            raise HubUnavailable(wait_text(wait), "rate-limit", wait)
        if self.on_wait is not None:
            self.on_wait(wait)
        time.sleep(min(wait, budget.remaining()))
        return None

    def _send(
        self, url: str, what: str, seen: answers.Seen | None, cap: int | None, budget: ListingBudget
    ) -> tuple[requests.Response, bytes] | Answer:
        """One GET (revalidating what was seen): the response and its bounded body, or, when the Hub
        is silent or unreachable, the answer seen before (HubUnavailable without one)."""
        headers = dict(self._headers)
        if seen is not None and seen[0].get("etag"):
            headers["If-None-Match"] = str(seen[0]["etag"])
        try:
            budget.request()
            self.sent += 1
            return get_bounded(
                url,
                limit=cap,
                timeout=self.timeout,
                deadline=DEADLINE_S,
                headers=headers,
                session=self._session,
                budget=budget,
            )
        except ListingBudgetSpent as error:  # the same error, naming what was asked
            raise ListingBudgetSpent(error.budget, f"{what}: {error}") from None
        except ZooError as error:  # too large, too slow, a bomb: one line naming what was asked
            raise ZooError(f"{what}: {str(error).removeprefix(f'{url}: ')}") from None
        except requests.Timeout:
            return self._failed(url, seen, f"the Hub did not answer in {self.timeout:g} s", "timeout")
        except requests.RequestException:
            host = urlsplit(self.base).netloc
            return self._failed(url, seen, f"offline: the Hub ({host}) cannot be reached", "offline")

    def _received(
        self,
        url: str,
        what: str,
        kind: str,
        seen: answers.Seen | None,
        shared: Path | None,
        response: requests.Response,
        body: bytes,
    ) -> Answer:
        """An answer other than a 429: kept (and shared) when it is one, else one line."""
        status = response.status_code
        if status == 304 and seen is not None:
            answers.store(url, b"", None, dict(seen[0]))
            if shared is not None and answers.shareable(response):
                answers.share(shared, url, seen[0], seen[1])
            return self._answer(url, *seen, "not-modified")
        if status == 404:
            raise HubNotFound(f"{what}: not found on the Hub{_error_text(body)}")
        if status >= 500:
            return self._failed(url, seen, f"the Hub answered HTTP {status}{_error_text(body)}", "server")
        if status != 200:
            raise ZooError(f"{what}: the Hub answered HTTP {status}{_error_text(body)}")
        record = answers.store(url, body, response, {}, kind)
        answer = self._answer(url, record, body, "downloaded")
        if shared is not None and answers.shareable(response):
            answers.share(shared, url, record, body)  # parsed above: only an answer that reads is shared
        return answer

    def _failed(self, url: str, seen: answers.Seen | None, message: str, kind: str) -> Answer:
        if seen is not None:
            return self._answer(url, *seen, "cached", f"{message}: showing what was seen before")
        raise HubUnavailable(message, kind)

    def _note_limits(self, response: requests.Response) -> None:
        """The Hub's RateLimit headers: none left means wait for the window's reset before the next request."""
        try:
            info = self.hub.parse_ratelimit_headers(response.headers)
        except Exception:  # noqa: BLE001 - an odd header is no reason to fail the answer
            info = None
        if info is not None and info.remaining <= 0 and info.reset_in_seconds > 0:
            _Limits.block(self.base, float(info.reset_in_seconds))

    def get_json(self, path: str, params: Sequence[tuple[str, str]] = (), *, what: str) -> Answer:
        return self.get(self.url(path, params), what=what)
