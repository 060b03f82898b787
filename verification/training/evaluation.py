"""The labelled claims the combiner is fitted on and reported with, shared by train_verifier and the bench.

Two kinds of claims the cross-encoder never trained on: the dev sources (`../shared/eval`) and
the held-out books' exam claims (`MixConfig.holdout_books`, e.g. us-history). Both go into the
combiner's fit, each book as its own source: leave-one-source-out then scores biology-2e with a
combiner that still saw review questions from another book, and scores the held-out book with a
combiner that never saw it (the leave-a-book-out number). Features take minutes, so they are
cached per set, keyed by the weights' hash.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from verification.entailment import calibration
from verification.entailment.calibration import FeatureSet
from verification.entailment.datasets import LabelledClaim, load_dir
from verification.entailment.metrics import SourceResult, mean_balanced_accuracy
from verification.entailment.scorer import EntailmentScorer
from verification.training.data import MixConfig, book_claim_pairs

HELDOUT_PREFIX = "heldout-book:"


@dataclass(frozen=True, kw_only=True)
class FittingData:
    dev: FeatureSet
    heldout_books: FeatureSet | None
    """None when no books folder was given."""

    @property
    def combined(self) -> FeatureSet:
        return self.dev if self.heldout_books is None else concat(self.dev, self.heldout_books)


def concat(first: FeatureSet, second: FeatureSet) -> FeatureSet:
    return FeatureSet(
        features=np.vstack([first.features, second.features]),
        labels=np.concatenate([first.labels, second.labels]),
        sources=[*first.sources, *second.sources],
        ids=[*first.ids, *second.ids],
    )


def heldout_book_claims(books_dir: Path, holdout_books: tuple[str, ...]) -> list[LabelledClaim]:
    _, held = book_claim_pairs(books_dir, MixConfig(holdout_books=holdout_books), random.Random(0))
    return [
        LabelledClaim(id=f"{p.source}:{i}", claim=p.claim, passage=p.passage, label=p.label, source=p.source)
        for i, p in enumerate(held)
    ]


def cached_features(
    scorer: EntailmentScorer, claims: list[LabelledClaim], *, cache: Path, model_sha: str
) -> tuple[FeatureSet, float, bool]:
    """(features, seconds to compute them, whether they came from the cache)."""
    import time

    hit = calibration.load_features(cache, model_sha=model_sha, ids=[c.id for c in claims])
    if hit is not None:
        return hit[0], hit[1], True
    started = time.monotonic()
    features = calibration.compute_features(scorer, claims)
    seconds = time.monotonic() - started
    calibration.save_features(cache, features, model_sha=model_sha, seconds=seconds)
    return features, seconds, False


def fitting_data(
    scorer: EntailmentScorer,
    *,
    weights_dir: Path,
    dev_dir: Path,
    books_dir: Path | None,
    holdout_books: tuple[str, ...],
    cache_dir: Path,
) -> FittingData:
    model_sha = calibration.weights_sha(weights_dir)
    dev_claims = [c for c in load_dir(dev_dir) if c.label is not None]
    dev, _, _ = cached_features(scorer, dev_claims, cache=cache_dir / "dev_features.npz", model_sha=model_sha)
    held: FeatureSet | None = None
    if books_dir is not None and (books_dir / "claims.jsonl").exists() and holdout_books:
        claims = heldout_book_claims(books_dir, holdout_books)
        held, _, _ = cached_features(scorer, claims, cache=cache_dir / "heldout_book_features.npz", model_sha=model_sha)
    return FittingData(dev=dev, heldout_books=held)


def dev_mean(results: list[SourceResult]) -> float:
    """Mean balanced accuracy over the dev sources only (the issue's target), books excluded."""
    return mean_balanced_accuracy([r for r in results if not r.source.startswith(HELDOUT_PREFIX)])
