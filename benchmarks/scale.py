"""How the catalog scales: synthetic zoos of 10k, 100k and 1M models, each figure beside its goal.

    python benchmarks/scale.py                       # 10k, 100k, 1M (the 1M zoo is ~1.7 GB of JSON)
    python benchmarks/scale.py --sizes 10000,100000  # smaller runs

Zoos are generated once into benchmarks/data/ (git-ignored) in the index's JSON
form, converted to Parquet with `ckptzoo index convert` (timed once, the time
kept beside the file), then every measure runs in a fresh interpreter:
open time and peak RSS (VmHWM, the process's own high-water mark), 200
distinct queries typed as a user types them (substring prefixes, two words, a
filter, a metric sort, later pages) with p50/p95, the same queries through
plain pandas (`str.contains` + `sort_values`, ids/names/tags only) in the same
run, the bytes of one page as the widget sends it, and the import time.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import textwrap
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "benchmarks" / "data"
GOALS = {
    "open_s": 3.0,
    "rss_gib": 1.5,
    "p50_ms": 50.0,
    "p95_ms": 150.0,
    "speedup": 3.0,
    "page_kb": 64.0,
    "json_open_s": 5.0,
    "import_s": 0.3,
}

# --- a realistic zoo -------------------------------------------------------------------

FAMILIES = (
    "bert roberta deberta distilbert gpt2 llama mistral qwen phi gemma t5 bart whisper wav2vec vit deit "
    "resnet convnext efficientnet mobilenet swin clip blip sam yolo detr segformer electra xlm falcon".split()
)
SIZES = "tiny small base medium large xl xxl 7b 13b 70b 1b 3b 125m 350m".split()
SUFFIXES = "finetuned squad imdb sst2 mnli ner lora qlora instruct chat gguf awq int8 distilled v2 v3 uncased".split()
TASKS = [
    f"task-{name}"
    for name in (
        "text-classification token-classification question-answering summarization translation text-generation "
        "fill-mask sentence-similarity feature-extraction image-classification object-detection image-segmentation "
        "depth-estimation text-to-image image-to-text automatic-speech-recognition audio-classification "
        "text-to-speech zero-shot-classification table-question-answering video-classification "
        "reinforcement-learning tabular-classification tabular-regression time-series-forecasting "
        "image-to-image visual-question-answering document-question-answering conversational robotics"
    ).split()
][:30]
LIBRARIES = (
    "transformers timm diffusers sentence-transformers peft pytorch keras tensorflow jax flax onnx gguf "
    "espnet speechbrain fastai sklearn stable-baselines3 ultralytics open_clip nemo"
).split()[:20]
LICENSES = (
    "apache-2.0 mit cc-by-4.0 cc-by-sa-4.0 cc-by-nc-4.0 bsd-3-clause gpl-3.0 llama2 llama3 openrail "
    "creativeml-openrail-m afl-3.0 artistic-2.0 other unknown".split()
)
TAGS = [f"{w}" for w in FAMILIES + SUFFIXES + ["english", "multilingual", "pytorch", "safetensors", "arxiv"]]
WORDS = (
    "model trained fine tuned dataset evaluation results accuracy benchmark language vision speech "
    "pretrained checkpoint training steps learning rate batch optimizer adam warmup tokenizer vocabulary "
    "english german french chinese images captions detection segmentation medical legal finance code "
    "reasoning instruction following chat safety limitations bias intended uses license citation"
).split()


def skewed(rng: random.Random, items: list[str]) -> str:
    """Zipf-like: the first items are far more frequent (as tasks and licences are on the Hub)."""
    weights = [1 / (i + 1) ** 1.1 for i in range(len(items))]
    return rng.choices(items, weights)[0]


def model(rng: random.Random, i: int) -> dict:
    family = skewed(rng, FAMILIES)
    name = f"{family}-{rng.choice(SIZES)}" + (f"-{rng.choice(SUFFIXES)}" if rng.random() < 0.7 else "") + f"-{i}"
    author = f"user{int(rng.paretovariate(1.2)) % 40000}"
    steps = min(30, 1 + int(rng.expovariate(1 / 3.2)))
    metrics = {}
    for metric, scale in (("accuracy", 1.0), ("f1", 1.0), ("loss", 4.0)):
        if rng.random() > 0.3:
            metrics[metric] = round(rng.random() * scale, 4)
    checkpoints = []
    for s in range(steps):
        step = (s + 1) * 1000
        checkpoints.append(
            {
                "name": f"step{step}",
                "step": step,
                "metrics": {k: round(v * (0.5 + 0.5 * (s + 1) / steps), 4) for k, v in metrics.items()},
                "files": [
                    {
                        "url": f"https://example.org/{author}/{name}/step{step}/model.safetensors",
                        "sha256": f"{rng.getrandbits(256):064x}",
                        "size": rng.randrange(1 << 20, 1 << 32),
                    }
                ],
            }
        )
    card = " ".join(rng.choice(WORDS) for _ in range(60))
    return {
        "id": f"{author}/{name}",
        "name": name.replace("-", " ").title(),
        "task": skewed(rng, TASKS),
        "library": skewed(rng, LIBRARIES),
        "license": skewed(rng, LICENSES),
        "tags": rng.sample(TAGS, rng.randrange(1, 6)),
        "datasets": [f"dataset-{rng.randrange(500)}"],
        "num_params": int(rng.lognormvariate(18, 2)) % (2**50),
        "created": f"20{rng.randrange(19, 26)}-{rng.randrange(1, 13):02d}-{rng.randrange(1, 29):02d}",
        "description": f"# {name}\n\n{card.capitalize()}.",
        "headline_metric": "accuracy" if "accuracy" in metrics else None,
        "checkpoints": checkpoints,
    }


def generate(size: int, path: Path) -> None:
    rng = random.Random(size)
    temporary = path.with_suffix(".tmp")
    with temporary.open("w") as out:
        out.write('{"ckptzoo_index": 1, "name": "synthetic", "models": [\n')
        for i in range(size):
            data = {k: v for k, v in model(rng, i).items() if v is not None}
            out.write(("," if i else "") + json.dumps(data, separators=(",", ":")) + "\n")
        out.write("]}\n")
    temporary.replace(path)


# --- queries as a user types them -------------------------------------------------------


def queries(count: int = 200, seed: int = 7) -> list[dict]:
    rng = random.Random(seed)
    seen, out = set(), []
    while len(out) < count:
        kind = rng.random()
        words = [rng.choice(FAMILIES + SUFFIXES + WORDS)]
        if kind < 0.45:  # typing one word, keystroke by keystroke
            batch = [{"query": words[0][:n]} for n in range(1, len(words[0]) + 1)]
        elif kind < 0.6:  # a second word typed after the first
            second = rng.choice(SIZES + SUFFIXES)
            batch = [{"query": f"{words[0]} {second[:n]}"} for n in range(1, len(second) + 1)]
        elif kind < 0.72:  # a filter, with or without a word
            batch = [{"query": rng.choice(["", words[0]]), "task": skewed(rng, TASKS)}]
        elif kind < 0.88:  # a metric sort
            batch = [{"query": rng.choice(["", words[0][:4]]), "sort": rng.choice(["-accuracy", "loss", "-f1"])}]
        else:  # later pages
            batch = [{"query": rng.choice(["", words[0]]), "offset": rng.choice([48, 240, 960])}]
        for q in batch:
            key = json.dumps(q, sort_keys=True)
            if key not in seen and len(out) < count:
                seen.add(key)
                out.append(q)
    return out


# --- fresh interpreters -----------------------------------------------------------------

HWM = "int([l for l in open('/proc/self/status') if l.startswith('VmHWM')][0].split()[1]) / 1024"


def child(code: str, env: dict[str, str] | None = None, timeout: float = 3600) -> dict:
    """Run `code` in a fresh interpreter; it prints one JSON line last."""
    full_env = {**os.environ, "PYTHONPATH": str(ROOT), **(env or {})}
    done = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True, env=full_env, timeout=timeout
    )
    if done.returncode != 0:
        raise RuntimeError(done.stderr[-3000:])
    return json.loads(done.stdout.strip().splitlines()[-1])


OURS = """
import json, time
t0 = time.perf_counter()
import ckptzoo_widgets as cz
zoo = cz.open_zoo(PATH)
open_s = time.perf_counter() - t0
open_mb = HWM_EXPR
t = time.perf_counter(); zoo.search("model"); first_text = time.perf_counter() - t
t = time.perf_counter(); zoo.search("res"); zoo.search("resnet"); text2 = (time.perf_counter() - t) / 2
queries = json.loads(QUERIES)
times = []
for q in queries:
    t = time.perf_counter()
    page = zoo.search(q.get("query", ""), task=q.get("task"), sort=q.get("sort"), limit=24, offset=q.get("offset", 0))
    times.append(time.perf_counter() - t)
from ckptzoo_widgets.widget import ZooBrowser
browser = ZooBrowser(zoo)
sizes, turns = [], []
for q in ("bert", "llama 7b", "", "resnet"):
    browser.query = q
    sizes.append(len(json.dumps(browser.cards).encode()))
    t = time.perf_counter(); browser.offset = 24; turns.append(time.perf_counter() - t); browser.offset = 0
print(json.dumps({"open_s": open_s, "open_mb": open_mb, "first_text_s": first_text, "times": times,
                  "page_bytes": max(sizes), "page_turn_s": sorted(turns)[len(turns) // 2], "peak_mb": HWM_EXPR,
                  "rows": len(zoo)}))
"""

PANDAS = """
import json, time
import pandas as pd
import pyarrow.parquet as pq
columns = ["id", "name", "task", "tags", "metric:accuracy", "metric:f1", "metric:loss", "num_params"]
frame = pq.read_table(PATH, columns=columns).to_pandas()
frame = frame.rename(columns=lambda c: c.removeprefix("metric:"))
frame["tags"] = frame["tags"].map(", ".join)
hay = (frame["id"] + "\\n" + frame["name"] + "\\n" + frame["tags"]).str.lower()
times = []
for q in json.loads(QUERIES):
    t = time.perf_counter()
    mask = pd.Series(True, index=frame.index)
    for word in q.get("query", "").lower().split():
        mask &= hay.str.contains(word, regex=False)
    if q.get("task"):
        mask &= frame["task"] == q["task"]
    hits = frame[mask]
    if q.get("sort"):
        key = q["sort"].lstrip("-")
        hits = hits.sort_values(key, ascending=not q["sort"].startswith("-"), na_position="last", kind="stable")
    offset = q.get("offset", 0)
    page = hits.iloc[offset:offset + 24]
    times.append(time.perf_counter() - t)
print(json.dumps({"times": times}))
"""

CONVERT = """
import json, time
from ckptzoo_widgets.writers.convert import convert
t = time.perf_counter()
done = convert(SOURCE, OUT, report=lambda p: None)
print(json.dumps({"convert_s": time.perf_counter() - t, "peak_mb": HWM_EXPR, "models": done.models}))
"""

OPEN_JSON = """
import json, time
t = time.perf_counter()
import ckptzoo_widgets as cz
zoo = cz.open_zoo(PATH)
print(json.dumps({"open_s": time.perf_counter() - t, "peak_mb": HWM_EXPR, "rows": len(zoo)}))
"""


def bind(code: str, **names: object) -> str:
    code = code.replace("HWM_EXPR", HWM)
    header = "".join(f"{k} = {v!r}\n" for k, v in names.items())
    return header + textwrap.dedent(code)


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def import_time() -> float:
    figures = []
    for _ in range(5):
        done = subprocess.run(
            [sys.executable, "-X", "importtime", "-c", "import ckptzoo_widgets"],
            capture_output=True,
            text=True,
            env={**os.environ, "PYTHONPATH": str(ROOT)},
        )
        last = [line for line in done.stderr.splitlines() if line.rstrip().endswith("| ckptzoo_widgets")][-1]
        figures.append(int(last.split("|")[1]) / 1e6)
    return statistics.median(figures)


def mark(value: float, goal: float, higher_is_better: bool = False) -> str:
    ok = value >= goal if higher_is_better else value <= goal
    return "ok" if ok else "MISSED"


def run(size: int, data: Path, count: int) -> None:
    data.mkdir(parents=True, exist_ok=True)
    source, parquet = data / f"zoo-{size}.json", data / f"zoo-{size}.parquet"
    convert_record = data / f"zoo-{size}.convert.json"
    if not source.exists():
        t = time.perf_counter()
        generate(size, source)
        print(f"  generated {source.name}: {source.stat().st_size / 1e6:.0f} MB in {time.perf_counter() - t:.0f} s")
    if not parquet.exists() or not convert_record.exists():
        record = child(bind(CONVERT, SOURCE=str(source), OUT=str(parquet)))
        convert_record.write_text(json.dumps(record))
    converted = json.loads(convert_record.read_text())
    wanted = queries(count)
    ours = child(bind(OURS, PATH=str(parquet), QUERIES=json.dumps(wanted)))
    pandas = child(bind(PANDAS, PATH=str(parquet), QUERIES=json.dumps(wanted)))
    p50, p95 = percentile(ours["times"], 0.5) * 1e3, percentile(ours["times"], 0.95) * 1e3
    ref50 = percentile(pandas["times"], 0.5) * 1e3
    speedup = ref50 / p50 if p50 else float("inf")
    rss = ours["peak_mb"] / 1024
    print(
        f"\n{size:,} models (JSON {source.stat().st_size / 1e6:,.0f} MB, "
        f"Parquet {parquet.stat().st_size / 1e6:,.0f} MB)"
    )
    print(
        f"  convert JSON -> Parquet   {converted['convert_s']:8.1f} s    peak {converted['peak_mb']:,.0f} MB (bounded)"
    )
    print(
        f"  open (Parquet, fresh)     {ours['open_s']:8.2f} s    goal <= {GOALS['open_s']} s   "
        f"{mark(ours['open_s'], GOALS['open_s'])}"
    )
    print(
        f"  peak RSS (open+queries)   {rss:8.2f} GiB  goal <= {GOALS['rss_gib']} GiB {mark(rss, GOALS['rss_gib'])}"
        f"   (after open: {ours['open_mb'] / 1024:.2f} GiB)"
    )
    print(f"  first card-word query     {ours['first_text_s'] * 1e3:8.0f} ms   (builds the word index once)")
    print(f"  query p50                 {p50:8.1f} ms   goal <= {GOALS['p50_ms']} ms  {mark(p50, GOALS['p50_ms'])}")
    print(f"  query p95                 {p95:8.1f} ms   goal <= {GOALS['p95_ms']} ms {mark(p95, GOALS['p95_ms'])}")
    print(
        f"  plain pandas p50          {ref50:8.1f} ms   ours is {speedup:.1f}x   goal >= {GOALS['speedup']}x "
        f"{mark(speedup, GOALS['speedup'], True)}"
    )
    print(
        f"  bytes per page (widget)   {ours['page_bytes'] / 1024:8.1f} KB   goal <= {GOALS['page_kb']} KB  "
        f"{mark(ours['page_bytes'] / 1024, GOALS['page_kb'])}   page turn {ours['page_turn_s'] * 1e3:.0f} ms"
    )
    if size <= 100_000:
        opened = child(bind(OPEN_JSON, PATH=str(source)), env={"CKPTZOO_MAX_JSON_MB": "4096"})
        goal = GOALS["json_open_s"]
        print(
            f"  open (JSON, fresh)        {opened['open_s']:8.2f} s    goal <= {goal} s (100k)  "
            f"{mark(opened['open_s'], goal)}   peak {opened['peak_mb']:,.0f} MB"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="10000,100000,1000000")
    parser.add_argument("--data", type=Path, default=DATA)
    parser.add_argument("--queries", type=int, default=200)
    args = parser.parse_args()
    load = os.getloadavg()
    print(
        f"machine: {os.cpu_count()} cores, load {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}; "
        f"python {sys.version.split()[0]}"
    )
    seconds = import_time()
    print(
        f"import ckptzoo_widgets: {seconds:.3f} s   goal <= {GOALS['import_s']} s  {mark(seconds, GOALS['import_s'])}"
    )
    for size in (int(s) for s in args.sizes.split(",")):
        run(size, args.data, args.queries)
    load = os.getloadavg()
    print(f"\nload at the end: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")


if __name__ == "__main__":
    main()
