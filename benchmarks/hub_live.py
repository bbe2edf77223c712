"""The live Hub from the kernel: query-to-page time, requests per session, memory after 50 queries.

Starts the fake Hub of the tests (tests/fixtures/generated_hub.py: 200,000
generated models on 127.0.0.1) with an answer delay (150 ms by default, the real
Hub's order of magnitude), points `HF_ENDPOINT` at it and measures, each beside
its goal:

* query-to-page: `zoo.search(word)` of a live `hf:` zoo for `--queries` words
  never asked before (so each is one request to the Hub), p50 and p95; "ours" is
  that time minus a plain `requests.get` of the same list URL (the delay, the
  fake Hub's own search and the round trip), i.e. what the package adds: building
  the URL, the cache record, decoding, validating 50 entries, the page's rows;
* requests per scripted session (open, search, filter text-generation, the menus,
  open two models, load code for two checkpoints): in a fresh cache, again within
  the freshness window, and offline;
* kernel memory (RSS) after 50 queries, from just before the zoo opened.

Not a test: nothing is asserted. Usage::

    python benchmarks/hub_live.py [--delay 0.15] [--queries 40]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

WORDS = ("vision", "tiny", "bert", "mixer", "llama", "whisper", "clip", "resnet", "gpt", "t5", "roberta", "vit")


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def session(cz: object) -> None:
    zoo = cz.open_zoo("hf:")  # type: ignore[attr-defined]
    zoo.search("")
    zoo.filter_options()
    zoo.sort_options()
    zoo.search("pythia")
    zoo.search("pythia", task="text-generation")
    for model in ("EleutherAI/pythia-70m", "allenai/OLMo-1B-hf"):
        zoo.model(model)
    zoo.load_code("EleutherAI/pythia-70m@step3000")
    zoo.load_code("allenai/OLMo-1B-hf@step1000-tokens4B")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--delay", type=float, default=0.15, help="the fake Hub's answer delay (s)")
    parser.add_argument("--queries", type=int, default=40, help="distinct queries timed")
    args = parser.parse_args()

    import requests
    from fixtures.generated_hub import GeneratedHub

    hub = GeneratedHub().__enter__()
    os.environ["HF_ENDPOINT"] = hub.url
    os.environ["HF_HUB_DISABLE_IMPLICIT_TOKEN"] = "1"
    scratch = Path(tempfile.mkdtemp(prefix="ckptzoo-hub-bench-"))
    os.environ["CKPTZOO_CACHE"] = str(scratch / "cache")
    import ckptzoo_widgets as cz
    from ckptzoo_widgets.sources import hub_client
    from ckptzoo_widgets.sources.base import LiveQuery

    # requests per scripted session
    hub.reset_counts()
    session(cz)
    fresh = len(hub.requests())
    hub.reset_counts()
    session(cz)  # a new zoo on the same cache within the freshness window (tests/: a second process)
    again = len(hub.requests())
    os.environ["CKPTZOO_OFFLINE"] = "1"
    hub.reset_counts()
    session(cz)
    offline = len(hub.requests())
    del os.environ["CKPTZOO_OFFLINE"]

    # query-to-page
    hub.delay = args.delay
    os.environ["CKPTZOO_CACHE"] = str(scratch / "cache-timing")
    before = rss_mb()
    zoo = cz.open_zoo("hf:")
    client = hub_client.HubClient()
    plain = requests.Session()
    words = [f"{WORDS[i % len(WORDS)]}-{WORDS[(i * 5) % len(WORDS)]}-{i}" for i in range(args.queries)]
    totals, ours = [], []
    for word in words:
        live: Any = zoo._live[0].live
        url = client.url("/api/models", live._params(LiveQuery(text=word)))
        start = time.perf_counter()
        assert plain.get(url, timeout=30).content
        raw = time.perf_counter() - start
        start = time.perf_counter()
        zoo.search(word, limit=24)
        took = time.perf_counter() - start
        totals.append(took * 1000)
        ours.append(max(took - raw, 0) * 1000)
    for i in range(max(0, 50 - len(words))):
        zoo.search(f"more-{i}", limit=24)
    after = rss_mb()
    hub.__exit__()

    def p(values: list[float], q: int) -> float:
        return statistics.quantiles(values, n=100)[q - 1] if len(values) > 1 else values[0]

    print(f"fake Hub: {len(hub.ids):,} models, answer delay {args.delay * 1000:.0f} ms, {len(words)} new queries")
    print(f"{'measure':44s}{'value':>22s}   goal")
    print(f"{'query-to-page p50 / p95':44s}{p(totals, 50):>10.0f} / {p(totals, 95):>4.0f} ms   -")
    mine = f"{p(ours, 50):>10.0f} / {p(ours, 95):>4.0f} ms"
    print(f"{'  of it ours (minus a plain GET) p50 / p95':44s}{mine}   p50 <= 100 ms")
    print(f"{'requests, scripted session (fresh cache)':44s}{fresh:>22d}   <= 12")
    print(f"{'requests, again (new zoo, same cache)':44s}{again:>22d}   <= 2")
    print(f"{'requests, same session offline':44s}{offline:>22d}   0")
    print(f"{'kernel memory after 50 queries (RSS growth)':44s}{after - before:>19.1f} MB   <= 50 MB")


if __name__ == "__main__":
    main()
