"""Real-browser test harness: JupyterLab / Notebook 7 servers and Chromium.

Fixtures (see docs/frontend.md for examples):

``lab_server`` / ``notebook_server`` (session scope)
    A running ``jupyter lab`` / ``jupyter notebook`` on 127.0.0.1 with a
    temporary root directory. Returns a :class:`JupyterServer`.
``jupyter_server`` (function scope)
    A factory ``jupyter_server(kind="lab", disabled_extensions=(), extra_args=())``
    for a server of its own, e.g. one with the labextension disabled. Servers
    it starts are stopped at the end of the test.
``browser`` (session scope)
    Playwright's Chromium (Debian's ``/usr/bin/chromium``).
``page`` (function scope)
    A fresh page in a fresh browser context; a screenshot lands in
    ``tests/artifacts/`` when the test fails.

Helpers on :class:`JupyterServer`: ``write_notebook``, ``open_notebook``,
and module functions ``notebook_cells``, ``run_cell``, ``wait_for_kernel_idle``.

Browser tests carry ``@pytest.mark.browser``. They are skipped, with the
reason, only when ``/usr/bin/chromium`` is missing and ``CI`` is not set;
under ``CI=true`` a missing browser is an error, not a skip.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence

import pytest

from .harness import (
    ARTIFACTS,
    CHROMIUM,
    CHROMIUM_ARGS,
    PAGE_TIMEOUT_MS,
    JupyterServer,
    start_jupyter_server,
)


def _under_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if os.path.exists(CHROMIUM) or _under_ci():
        return
    skip = pytest.mark.skip(
        reason=f"{CHROMIUM} not found (install it: apt-get install -y chromium); "
        "under CI=true this is a failure instead"
    )
    for item in items:
        if item.get_closest_marker("browser") is not None:
            item.add_marker(skip)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]):
    outcome = yield
    report = outcome.get_result()
    if report.when == "call" and report.failed:
        page = item.funcargs.get("page") if hasattr(item, "funcargs") else None
        if page is not None:
            try:
                ARTIFACTS.mkdir(parents=True, exist_ok=True)
                name = "".join(c if c.isalnum() or c in "-_." else "_" for c in item.nodeid)
                page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)
            except Exception:  # noqa: BLE001 - best effort only
                pass


@pytest.fixture(scope="session")
def lab_server():
    server = start_jupyter_server("lab")
    yield server
    server.stop()


@pytest.fixture(scope="session")
def notebook_server():
    server = start_jupyter_server("notebook")
    yield server
    server.stop()


@pytest.fixture(params=["lab", "notebook"])
def any_server(request):
    """Runs the test once against JupyterLab and once against Notebook 7."""
    return request.getfixturevalue(f"{request.param}_server")


@pytest.fixture
def jupyter_server():
    """Factory: ``jupyter_server(kind="lab", disabled_extensions=(), extra_args=())``."""
    started: list[JupyterServer] = []

    def factory(
        kind: str = "lab", disabled_extensions: Iterable[str] = (), extra_args: Sequence[str] = ()
    ) -> JupyterServer:
        server = start_jupyter_server(kind, disabled_extensions, extra_args)
        started.append(server)
        return server

    yield factory
    for server in started:
        server.stop()


# ---------------------------------------------------------------------------
# Browser
# ---------------------------------------------------------------------------


# Package scope, not session: Playwright's sync API keeps an asyncio loop running in
# the main thread while it is open, and the tests after tests/browser/ (the widget's
# search queue among them) must run without one, as a script does.
@pytest.fixture(scope="package")
def _playwright():
    if not os.path.exists(CHROMIUM):
        pytest.fail(f"{CHROMIUM} is missing: apt-get install -y chromium", pytrace=False)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        yield pw


@pytest.fixture(scope="package")
def browser(_playwright):
    # Playwright gives the launched browser a fresh temporary profile.
    browser = _playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
    yield browser
    browser.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.set_default_timeout(PAGE_TIMEOUT_MS)
    errors: list[str] = []
    # Uncaught errors in the page, each with its stack: `page.page_errors`
    # (all of them) and `own_page_errors(page)` (without known upstream noise).
    page.on("pageerror", lambda exc: errors.append(f"{exc}\n{exc.stack or ''}"))
    page.page_errors = errors  # type: ignore[attr-defined]
    yield page
    context.close()


@pytest.fixture
def recorder(http_server):
    """The test HTTP server with nothing on it (tests/httpserver.py): it answers 404 and records
    every request. A hostile payload's URL points here, and the test asserts that nothing reached
    it (`recorder.requests() == []`)."""
    return http_server
