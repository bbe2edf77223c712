"""The live Hub in the browser: keystroke to cards in Chromium, requests per session, kernel memory.

Starts the fake Hub of the tests (tests/fixtures/generated_hub.py: 200,000 generated models on
127.0.0.1) with an answer delay (150 ms by default, the real Hub's order of magnitude) and
JupyterLab (tests/browser/harness.py), runs `cz.browse("hf:")` with `HF_ENDPOINT` pointing at
the fake Hub, and measures, each beside its goal:

* keystroke to cards: `--words` queries never asked before, each typed one key every
  `--key-ms` (100 ms), from the last key to the frame after the grid shows that query's cards
  (the ids `zoo.search` gives), p50 and p95. Inside it: the kernel's pause before a search of a
  live source (`widget.contract.SEARCH_PAUSE_MS`, so a word typed a key at a time is one
  request), the Hub's answer (its delay, its own search, the round trip: timed here by a plain
  GET of the same list URL), and ours: the page, the comm, the kernel's search, decoding and
  validating 50 entries, the cards, the render. "Ours" is the figure minus the pause and the
  Hub's answer.
* requests per scripted session in the browser (open `hf:`, type "pythia" a key at a time,
  filter text-generation, open two models, pick and insert a checkpoint of each), in a fresh
  cache and again in a second kernel on the same cache (within the freshness window).
* kernel memory (RSS) after the queries: its growth from the first page shown, and from
  before `import ckptzoo_widgets` (the modules a live zoo loads included).

Not a test: nothing is asserted. Usage::

    python benchmarks/hub_browser.py [--delay 0.15] [--words 50] [--key-ms 100]
"""

from __future__ import annotations

import argparse
import itertools
import os
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from widget_latency import TYPE_WORD_JS, percentiles  # noqa: E402

from tests.browser.harness import CHROMIUM, CHROMIUM_ARGS, run_cell, start_jupyter_server  # noqa: E402

WORDS = ("vision", "tiny", "bert", "mixer", "llama", "whisper", "clip", "resnet", "gpt", "t5", "roberta", "vit")
RSS = "int(next(l for l in open('/proc/self/status') if l.startswith('VmRSS:')).split()[1]) / 1024"


def setup(url: str, cache: str) -> str:
    return (
        "import os, sys, tempfile\n"
        f"os.environ['HF_ENDPOINT'] = {url!r}\n"
        f"os.environ['CKPTZOO_CACHE'] = {cache!r}\n"
        "os.environ['HF_HOME'] = tempfile.mkdtemp()\n"
        "os.environ['HF_HUB_DISABLE_IMPLICIT_TOKEN'] = '1'\n"
        f"rss0 = {RSS}\n"
        "import ckptzoo_widgets as cz\n"
        "browser = cz.browse('hf:')\n"
        "browser"
    )


def queries(n: int) -> list[str]:
    """`n` queries the fake Hub matches 24+ times and no earlier query asked: 'vision-tiny', ..."""
    pairs = [f"{a}-{b}" for a, b in itertools.product(WORDS, WORDS)]
    return pairs[:n]


def expected_and_hub_ms(words: list[str]) -> tuple[dict[str, list[str]], dict[str, float]]:
    """The cards each query should show (asked in this process, its own cache), and how long a plain
    GET of the same list URL takes: the Hub's part of the figure (delay, its search, the round trip)."""
    import requests

    import ckptzoo_widgets as cz
    from ckptzoo_widgets.sources.base import LiveQuery
    from ckptzoo_widgets.sources.hub_live import HubLive

    os.environ["CKPTZOO_CACHE"] = tempfile.mkdtemp(prefix="cz-bench-expected-")
    zoo = cz.open_zoo("hf:")
    live = HubLive("hf:", {})
    expected, hub_ms = {}, {}
    for word in ["", *words]:
        expected[word] = [str(i) for i in zoo.search(word, limit=24)["id"]]
        url = live.client.url("/api/models", live._params(LiveQuery(text=word)) or [])
        t0 = time.perf_counter()
        requests.get(url, timeout=30).raise_for_status()
        hub_ms[word] = (time.perf_counter() - t0) * 1000
    return expected, hub_ms


def wait_ref(page: Any, ref: str) -> None:
    page.wait_for_function(
        "(ref) => { const c = document.querySelector('[data-testid=\"cz-code\"]');"
        " const r = document.querySelector('[data-testid=\"cz-ref\"]');"
        " return c && c.dataset.state === 'ready' && r && r.textContent === ref; }",
        arg=ref,
    )


def scripted_session(server: Any, browser: Any, url: str, cache: str) -> None:
    """Open hf:, type "pythia" a key at a time, filter text-generation, open two models, insert a checkpoint of each."""
    page = browser.new_page(viewport={"width": 1280, "height": 800})
    nb = server.write_notebook(f"bench-session-{uuid.uuid4().hex[:8]}", [setup(url, cache)])
    server.open_notebook(page, nb)
    run_cell(page, 0)
    page.wait_for_selector('[data-testid="cz-card"]')
    page.locator('[data-testid="cz-search"]').press_sequentially("pythia", delay=100)
    page.wait_for_selector('[data-testid="cz-card"][data-model-id="EleutherAI/pythia-70m"]')
    page.locator('[data-testid="cz-filter-task"]').select_option("text-generation")
    page.wait_for_function("() => !document.querySelector('[data-testid=\"cz-loading\"]')")
    for repo, step in (("EleutherAI/pythia-70m", "step3000"), ("EleutherAI/pythia-160m", "step1000")):
        page.locator(f'[data-testid="cz-card"][data-model-id="{repo}"]').click()
        page.locator(f'[data-testid="cz-checkpoint"][data-checkpoint="{step}"]').click()
        wait_ref(page, f"{repo}@{step}")
        page.locator('[data-testid="cz-insert"]').click()
        page.locator('[data-testid="cz-close"]').click()
        page.wait_for_selector('[data-testid="cz-card"]')
    page.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--delay", type=float, default=0.15, help="the fake Hub's answer delay (s)")
    parser.add_argument("--words", type=int, default=50)
    parser.add_argument("--key-ms", type=int, default=100, help="time between two keys of a word")
    args = parser.parse_args()
    from fixtures.generated_hub import GeneratedHub
    from playwright.sync_api import sync_playwright

    from ckptzoo_widgets.widget.contract import SEARCH_PAUSE_MS

    words = queries(args.words)
    pause = SEARCH_PAUSE_MS["live"]
    with GeneratedHub() as hub, sync_playwright() as pw:
        os.environ["HF_ENDPOINT"] = hub.url
        os.environ["HF_HUB_DISABLE_IMPLICIT_TOKEN"] = "1"
        hub.delay = args.delay
        expected, hub_ms = expected_and_hub_ms(words)
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        server = start_jupyter_server("lab")
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 800})
            cache = tempfile.mkdtemp(prefix="cz-bench-kernel-")
            opened = f"rss1 = {RSS}"  # once the first page is shown
            report = f"print({RSS} - rss1, {RSS} - rss0, browser._searches.runs, browser._searches.requests)"
            cells = [setup(hub.url, cache), opened, report]
            nb = server.write_notebook(f"bench-hub-{uuid.uuid4().hex[:8]}", cells)
            server.open_notebook(page, nb)
            run_cell(page, 0)
            page.wait_for_function(
                "(n) => document.querySelectorAll('[data-testid=\"cz-card\"]').length === n", arg=len(expected[""])
            )
            run_cell(page, 1)
            hub.reset_counts()
            load = os.getloadavg()[0]
            times = []
            for word in words:
                times.append(page.evaluate(TYPE_WORD_JS, [word, expected[word], args.key_ms]))
            lists = [p for p, _ in hub.api_requests() if p.startswith("/api/models?")]
            outputs = run_cell(page, 2).get("outputs") or []
            memory, since_open, runs, asked = "".join(str(o.get("text", "")) for o in outputs).split()
            page.close()

            hub.reset_counts()
            session_cache = tempfile.mkdtemp(prefix="cz-bench-session-")
            scripted_session(server, browser, hub.url, session_cache)
            first = len(hub.requests())
            hub.reset_counts()
            scripted_session(server, browser, hub.url, session_cache)  # a second kernel, same cache
            second = len(hub.requests())
        finally:
            server.stop()
            browser.close()

    ours = [t - pause - hub_ms[w] for t, w in zip(times, words, strict=True)]
    answer = statistics.median(hub_ms[w] for w in words)
    print(f"fake Hub: 200,000 models, answer delay {args.delay * 1000:.0f} ms; JupyterLab, Chromium; load {load:.2f}")
    print(f"{len(words)} queries never asked before, one key every {args.key_ms} ms; each: one list request")
    print(f"{'keystroke to cards (last key to rendered cards)':52s}{percentiles(times)}")
    print(f"{'  of it: the pause before a live search':52s}{pause} ms (the kernel's; one request per settled query)")
    print(f"{'  of it: the Hub answering (plain GET of the URL)':52s}p50 {answer:.0f} ms")
    print(f"{'  ours (the figure minus the pause and the Hub)':52s}{percentiles(ours)}   goal p50 <= 100 ms")
    print(f"{'list requests while typing':52s}{len(lists)} for {len(words)} words ({args.words} expected)")
    print(f"{'kernel searches run / search requests received':52s}{runs} / {asked}")
    print(f"{'kernel memory: RSS growth over the queries':52s}{float(memory):.1f} MB   goal <= 50 MB")
    print(f"{'  since before the import (modules, the open)':52s}{float(since_open):.1f} MB")
    print(f"{'requests per scripted session (fresh cache)':52s}{first}   goal <= 12")
    print(f"{'  again in a second kernel (same cache, fresh)':52s}{second}   goal <= 2")


if __name__ == "__main__":
    main()
