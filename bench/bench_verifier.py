"""Benchmark the verifier's entailment scorer on the dev set; prints (and writes) a markdown section.

    .venv/bin/python bench/bench_verifier.py [--dev-dir ../shared/eval] [--out bench/results/verifier.md]

Reports, side by side from one run: balanced accuracy per dev source and for the held-out book's
exam claims (`books/`, never trained on), leave-one-source-out (the cross-encoder never trained on
any of them; the combiner and its threshold are refitted without the scored source),
precision/recall of "supported" at the operating threshold, and throughput on short and on
module-length evidence.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")

import django  # noqa: E402

django.setup()

import numpy as np  # noqa: E402
import torch  # noqa: E402

from verification.entailment import calibration, evidence  # noqa: E402
from verification.entailment.combiner import COMBINER_FILE, Combiner  # noqa: E402
from verification.entailment.cross_encoder import WEIGHTS_DIR  # noqa: E402
from verification.entailment.datasets import load_dir  # noqa: E402
from verification.entailment.features import FEATURE_NAMES  # noqa: E402
from verification.entailment.metrics import mean_balanced_accuracy, per_source, precision_recall  # noqa: E402
from verification.entailment.scorer import ClaimInput, build_scorer  # noqa: E402
from verification.training import evaluation  # noqa: E402
from verification.training.data import MixConfig  # noqa: E402


def _table(rows, title: str) -> list[str]:
    lines = [
        f"**{title}**",
        "",
        "| source | claims | balanced accuracy | precision | recall |",
        "| --- | ---: | ---: | ---: | ---: |",
    ]
    for r in rows:
        lines.append(f"| {r.source} | {r.n} | {r.balanced_accuracy:.3f} | {r.precision:.3f} | {r.recall:.3f} |")
    dev_rows = [r for r in rows if not r.source.startswith(evaluation.HELDOUT_PREFIX)]
    lines.append(f"| **mean over dev sources** | | **{mean_balanced_accuracy(dev_rows):.3f}** | | |")
    return [*lines, ""]


def _throughput(scorer, claims, *, repeats: int, cold: bool) -> float:
    """Median claims/s over `repeats` runs; `cold` clears the passage and embedding caches first."""
    rates = []
    inputs = [ClaimInput(text=c.claim, evidence=(c.passage,)) for c in claims]
    for _ in range(repeats):
        if cold:
            evidence._cache.clear()
            embedding_cache = getattr(scorer.embedder, "_cache", None)
            if embedding_cache is not None:
                embedding_cache.clear()
        started = time.perf_counter()
        scorer.score_claims(inputs)
        rates.append(len(inputs) / (time.perf_counter() - started))
    return statistics.median(rates)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--dev-dir", type=Path, default=ROOT.parent / "shared" / "eval")
    parser.add_argument("--out", type=Path, default=ROOT / "bench/results/verifier.md")
    parser.add_argument("--throughput-claims", type=int, default=120)
    parser.add_argument("--weights", type=Path, default=WEIGHTS_DIR)
    parser.add_argument("--books-dir", type=Path, default=ROOT.parent / "shared" / "train" / "books")
    parser.add_argument(
        "--features-cache",
        type=Path,
        default=ROOT / "var/verifier/dev_features.npz",
        help="reuse features computed by an earlier run with the same weights (they take minutes); "
        "the held-out book's go beside it",
    )
    args = parser.parse_args()
    torch.set_num_threads(2)
    claims = [c for c in load_dir(args.dev_dir) if c.label is not None]
    load_before = os.getloadavg()[0]
    started = time.perf_counter()
    combiner = Combiner.load(args.weights) if (args.weights / COMBINER_FILE).exists() else None
    n = len(FEATURE_NAMES)
    placeholder = Combiner(
        weights=(1.0,) + (0.0,) * (n - 1), bias=0.0, mean=(0.0,) * n, scale=(1.0,) * n, threshold=0.5, version="none"
    )
    scorer = build_scorer(args.weights, combiner=combiner or placeholder)
    load_seconds = time.perf_counter() - started

    model_sha = calibration.weights_sha(args.weights)
    dev_data, dev_seconds, cached = evaluation.cached_features(
        scorer, claims, cache=args.features_cache, model_sha=model_sha
    )
    holdout = MixConfig().holdout_books
    book_claims = evaluation.heldout_book_claims(args.books_dir, holdout) if args.books_dir.is_dir() else []
    data = dev_data
    if book_claims:
        book_data, _, _ = evaluation.cached_features(
            scorer, book_claims, cache=args.features_cache.parent / "heldout_book_features.npz", model_sha=model_sha
        )
        data = evaluation.concat(dev_data, book_data)
    if combiner is None:
        print(f"features cached in {args.features_cache}; no combiner.json in {args.weights} yet")
        return
    loso = calibration.leave_one_source_out(data)
    shipped = scorer.combiner
    probabilities = shipped.probability(data.features)
    predicted = (probabilities >= shipped.threshold).astype(int).tolist()
    labels = data.labels.astype(int).tolist()
    in_sample = per_source(data.sources, labels, predicted)
    pooled_loso_pred = np.zeros(len(labels), dtype=int)
    for source, threshold in loso.thresholds.items():
        mask = np.array([s == source for s in data.sources])
        pooled_loso_pred[mask] = loso.probabilities[mask] >= threshold
    is_dev = np.array([not s.startswith(evaluation.HELDOUT_PREFIX) for s in data.sources])
    dev_labels = [y for y, d in zip(labels, is_dev, strict=True) if d]
    loso_precision, loso_recall = precision_recall(dev_labels, pooled_loso_pred[is_dev].tolist())
    shipped_precision, shipped_recall = precision_recall(dev_labels, np.array(predicted)[is_dev].tolist())

    short = [c for c in claims if len(c.passage.split()) <= 150][: args.throughput_claims]
    long = [c for c in claims if len(c.passage.split()) >= 2000][: args.throughput_claims]
    short_rate = _throughput(scorer, short, repeats=3, cold=False)
    long_cold = _throughput(scorer, long, repeats=3, cold=True)
    long_warm = _throughput(scorer, long, repeats=3, cold=False)
    load_after = os.getloadavg()[0]

    lines = [
        "## Verifier: entailment scoring (`verification/entailment/`)",
        "",
        f"Run {datetime.now(UTC):%Y-%m-%d %H:%M} UTC on {platform.processor() or platform.machine()}, "
        f"{os.cpu_count()} CPU cores, torch {torch.__version__} ({torch.get_num_threads()} threads); "
        f"load average {load_before:.1f} before / {load_after:.1f} after (cores shared with other jobs). "
        f"Checker `{scorer.checker_version}`; operating threshold {shipped.threshold:.3f}.",
        "",
        f"Dev set: {len(claims)} claims, {len(set(dev_data.sources))} sources, features in {dev_seconds:.0f} s "
        f"({len(claims) / dev_seconds:.1f} claims/s{', from the cache of an earlier run' if cached else ''}; "
        f"model load {load_seconds:.1f} s).",
        f"Held-out book claims (`books/`, never trained on; in the combiner's fit as a source of their "
        f"own): {len(book_claims)} from {', '.join(holdout)}.",
        "",
    ]
    lines += _table(
        loso.at_operating,
        "Leave-one-source-out, fitted operating threshold before the guard (combiner + threshold fitted on the other sources; "
        "the cross-encoder never saw any dev source)",
    )
    lines += _table(loso.at_half, "Leave-one-source-out, threshold 0.5 (balanced-accuracy operating point)")
    lines += _table(loso.model_only, "Cross-encoder alone (logit > 0), no fitting on any dev source")
    lines += _table(in_sample, "Shipped combiner on the dev set (in-sample: it was fitted on these claims)")
    lines += [
        '**Precision of "supported"** (pooled over all dev claims):',
        "",
        "| setting | precision | recall |",
        "| --- | ---: | ---: |",
        f"| dev, leave-one-source-out thresholds | {loso_precision:.3f} | {loso_recall:.3f} |",
        f"| dev, shipped combiner (in-sample) | {shipped_precision:.3f} | {shipped_recall:.3f} |",
        *[
            f"| {r.source}, leave-one-source-out threshold | {r.precision:.3f} | {r.recall:.3f} |"
            for r in loso.at_operating
            if r.source == "biology-2e" or r.source.startswith(evaluation.HELDOUT_PREFIX)
        ],
        "",
        "**Throughput** (median of 3 runs, claims/s, whole `score_claims` path incl. sentence selection):",
        "",
        "| evidence | claims | claims/s |",
        "| --- | ---: | ---: |",
        f"| short (≤150 words, no selection needed) | {len(short)} | {short_rate:.1f} |",
        f"| module-length (≥2,000 words), cold caches | {len(long)} | {long_cold:.1f} |",
        f"| module-length (≥2,000 words), warm caches | {len(long)} | {long_warm:.1f} |",
        "",
    ]
    text = "\n".join(lines)
    print(text)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(text)


if __name__ == "__main__":
    main()
