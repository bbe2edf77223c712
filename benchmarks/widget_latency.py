"""How quick the browser feels: keystroke-to-cards and Insert-to-visible-cell.

Starts ``jupyter lab`` and ``jupyter notebook`` on 127.0.0.1 (the test
harness, tests/browser/harness.py), opens a notebook with ``cz.browse()`` in
Chromium, and measures in the page, with ``performance.now()``:

* keystroke-to-cards: from the key that completes a query (typed one key at a
  time, as a user types) to the moment the grid shows the matching cards; this
  includes the widget's 50 ms typing pause, the round trip to the kernel and
  the search;
* Insert-to-visible-cell: from the click on *Insert code* to the moment the
  new cell is in the viewport with its editor focused.

Prints the median and the range per front end. Not a test: nothing is
asserted. Usage::

    python benchmarks/widget_latency.py [--rounds 5]

With ``--zoo PATH`` (the 1M-model Parquet zoo of benchmarks/scale.py, say) it
measures instead, in JupyterLab, typing on that zoo: 30 words typed one key
every ``--key-ms`` (100 ms), the time from the last key of each word to the
frame after the grid shows that word's cards (the same 24 ids ``zoo.search``
gives), p50 / p95 over the words. The widget's typing pause (50 ms), the
round trip, the kernel's search and the render are all inside it::

    python benchmarks/scale.py --sizes 1000000   # makes benchmarks/data/zoo-1000000.parquet once
    python benchmarks/widget_latency.py --zoo benchmarks/data/zoo-1000000.parquet
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.browser.harness import CHROMIUM, CHROMIUM_ARGS, run_cell, start_jupyter_server  # noqa: E402

SETUP = (
    "import os, tempfile\n"
    "os.environ.setdefault('CKPTZOO_CACHE', tempfile.mkdtemp(prefix='cz-bench-'))\n"
    "import ckptzoo_widgets as cz\n"
    "browser = cz.browse(selected='digits-mlp@epoch-1')\nbrowser"
)
QUERIES = ["mlp", "cnn", "logreg"]

# Resolves with the milliseconds from the last keystroke of `query` (typed into
# a box whose current query matches nothing) until the grid holds exactly `ids`.
CARDS_AFTER_KEY_JS = """([query, ids]) => new Promise((resolve) => {
    const search = document.querySelector('[data-testid="cz-search"]');
    const root = document.querySelector('[data-testid="cz-root"]');
    const t0 = performance.now();
    const done = () => {
        const got = Array.from(root.querySelectorAll('[data-testid="cz-card"]')).map(e => e.dataset.modelId);
        if (JSON.stringify(got) === JSON.stringify(ids) && !root.querySelector('[data-testid="cz-loading"]')) {
            resolve(performance.now() - t0);
            return true;
        }
        return false;
    };
    const observer = new MutationObserver(() => { if (done()) observer.disconnect(); });
    observer.observe(root, {childList: true, subtree: true, attributes: true});
    setTimeout(() => { observer.disconnect(); resolve(NaN); }, 20000);
    search.value = query;
    search.dispatchEvent(new Event('input', {bubbles: true}));
})"""

# Resolves with the milliseconds from the click until the new cell is visible and focused.
INSERT_JS = """(index) => new Promise((resolve) => {
    const nb = window.jupyterapp.shell.currentWidget.content;
    const t0 = performance.now();
    const check = () => {
        const cell = nb.widgets[index];
        if (cell && nb.activeCellIndex === index && cell.editor && cell.editor.hasFocus()) {
            const r = cell.node.getBoundingClientRect();
            if (r.top >= 0 && r.top < window.innerHeight - 20) { resolve(performance.now() - t0); return; }
        }
        requestAnimationFrame(check);
    };
    document.querySelector('[data-testid="cz-insert"]').click();
    requestAnimationFrame(check);
})"""


def measure(kind: str, rounds: int, browser) -> tuple[list[float], list[float]]:
    import ckptzoo_widgets as cz

    zoo = cz.open_zoo()
    server = start_jupyter_server(kind)
    try:
        page = browser.new_page(viewport={"width": 1280, "height": 800})
        nb = server.write_notebook(f"bench-{uuid.uuid4().hex[:8]}", [SETUP, *[f"x{i} = {i}" for i in range(5)]])
        server.open_notebook(page, nb)
        run_cell(page, 0)
        page.wait_for_selector('[data-testid="cz-code"][data-state="ready"]')
        keys: list[float] = []
        inserts: list[float] = []
        for i in range(rounds):
            # Insert first, while the detail is open.
            inserts.append(page.evaluate(INSERT_JS, 1 + i))
        page.locator('[data-testid="cz-close"]').click()
        for i in range(rounds):
            query = QUERIES[i % len(QUERIES)]
            ids = [str(x) for x in zoo.search(query, limit=24)["id"]]
            search = page.locator('[data-testid="cz-search"]')
            search.fill("zzz")  # a query that matches nothing, answered before the measured key
            page.wait_for_selector('[data-testid="cz-no-match"]')
            keys.append(page.evaluate(CARDS_AFTER_KEY_JS, [query, ids]))
        page.close()
        return keys, inserts
    finally:
        server.stop()


# Types `word` into the box one key every `keyMs`, then resolves with the milliseconds from the
# last key until the frame after the grid holds exactly `ids` (NaN after 60 s).
TYPE_WORD_JS = """([word, ids, keyMs]) => new Promise((resolve) => {
    const search = document.querySelector('[data-testid="cz-search"]');
    const root = document.querySelector('[data-testid="cz-root"]');
    let t0 = null;
    const done = () => {
        if (t0 === null) return false;
        const got = Array.from(root.querySelectorAll('[data-testid="cz-card"]')).map(e => e.dataset.modelId);
        return JSON.stringify(got) === JSON.stringify(ids) && !root.querySelector('[data-testid="cz-loading"]');
    };
    const finish = () => requestAnimationFrame(() => resolve(performance.now() - t0));
    const observer = new MutationObserver(() => { if (done()) { observer.disconnect(); finish(); } });
    observer.observe(root, {childList: true, subtree: true, attributes: true});
    setTimeout(() => { observer.disconnect(); resolve(NaN); }, 60000);
    search.focus();
    let typed = 0;
    const key = () => {
        typed += 1;
        search.value = word.slice(0, typed);
        search.dispatchEvent(new Event('input', {bubbles: true}));
        if (typed < word.length) { setTimeout(key, keyMs); return; }
        t0 = performance.now();
        if (done()) { observer.disconnect(); finish(); }
    };
    key();
})"""

# The 30 words: model families a user looks for, as in benchmarks/scale.py's zoo.
WORDS = (
    "bert roberta deberta distilbert gpt2 llama mistral qwen phi gemma t5 bart whisper wav2vec vit deit "
    "resnet convnext efficientnet mobilenet swin clip blip sam yolo detr segformer electra xlm falcon"
).split()


def measure_zoo(path: str, words: list[str], key_ms: int, browser) -> tuple[list[float], str]:
    """Keystroke-to-cards on the zoo at `path` in JupyterLab, one figure per word, and the kernel's search count."""
    import ckptzoo_widgets as cz

    zoo = cz.open_zoo(path)
    expected = {w: [str(x) for x in zoo.search(w, limit=24)["id"]] for w in [*words, "", "benchmark"]}
    del zoo
    server = start_jupyter_server("lab")
    try:
        page = browser.new_page(viewport={"width": 1280, "height": 800})
        setup = f"import ckptzoo_widgets as cz\nbrowser = cz.browse({path!r})\nbrowser"
        count = "print(browser._searches.runs, browser._searches.requests)"
        nb = server.write_notebook(f"bench-{uuid.uuid4().hex[:8]}", [setup, count])
        server.open_notebook(page, nb)
        run_cell(page, 0)
        page.wait_for_selector('[data-testid="cz-card"]', timeout=300_000)
        # the first card word waits for the word index (built once, in the background)
        page.evaluate(TYPE_WORD_JS, ["benchmark", expected["benchmark"], key_ms])
        times = []
        for word in words:
            page.evaluate(TYPE_WORD_JS, ["", expected[""], key_ms])  # an empty box: the first page
            times.append(page.evaluate(TYPE_WORD_JS, [word, expected[word], key_ms]))
        outputs = run_cell(page, 1).get("outputs") or []
        counted = "".join(str(o.get("text", "")) for o in outputs).split()
        page.close()
        searches = f"the kernel ran {counted[0]} searches for {counted[1]} requests" if len(counted) == 2 else ""
        return times, searches
    finally:
        server.stop()


def percentiles(values: list[float]) -> str:
    values = sorted(v for v in values if v == v)
    if not values:
        return "no answer"
    p95 = values[min(len(values) - 1, round(0.95 * (len(values) - 1)))]
    return (
        f"p50 {statistics.median(values):.0f} ms, p95 {p95:.0f} ms "
        f"(min {values[0]:.0f}, max {values[-1]:.0f}, n={len(values)})"
    )


def summary(values: list[float]) -> str:
    values = [v for v in values if v == v]  # NaN: no answer within 20 s
    if not values:
        return "no answer"
    return f"median {statistics.median(values):.0f} ms (min {min(values):.0f}, max {max(values):.0f}, n={len(values)})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--zoo", help="measure typing on this zoo (e.g. the 1M-model Parquet zoo) instead")
    parser.add_argument("--words", type=int, default=len(WORDS))
    parser.add_argument("--key-ms", type=int, default=100, help="time between two keys of a word")
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        if args.zoo:
            load = os.getloadavg()
            times, searches = measure_zoo(args.zoo, WORDS[: args.words], args.key_ms, browser)
            print(f"zoo {args.zoo}, one key every {args.key_ms} ms, load {load[0]:.2f} -> {os.getloadavg()[0]:.2f}")
            print(f"JupyterLab  last key to rendered cards  {percentiles(times)}   goal p50 <= 150 ms")
            print("  per word: " + ", ".join(f"{w} {t:.0f}" for w, t in zip(WORDS, times, strict=False)))
            print(f"  {searches}")
            browser.close()
            return
        for kind in ("lab", "notebook"):
            keys, inserts = measure(kind, args.rounds, browser)
            name = "JupyterLab" if kind == "lab" else "Notebook 7"
            print(f"{name:11s} keystroke-to-cards     {summary(keys)}")
            print(f"{name:11s} Insert-to-visible-cell {summary(inserts)}")
        browser.close()


if __name__ == "__main__":
    main()
