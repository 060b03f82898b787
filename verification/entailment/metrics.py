"""Balanced accuracy per source and precision/recall of "supported"."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True, kw_only=True)
class SourceResult:
    source: str
    n: int
    balanced_accuracy: float
    precision: float
    recall: float


def balanced_accuracy(labels: Sequence[int], predicted: Sequence[int]) -> float:
    positives = [p for y, p in zip(labels, predicted, strict=True) if y == 1]
    negatives = [p for y, p in zip(labels, predicted, strict=True) if y == 0]
    recalls = []
    if positives:
        recalls.append(sum(positives) / len(positives))
    if negatives:
        recalls.append(sum(1 - p for p in negatives) / len(negatives))
    return sum(recalls) / len(recalls) if recalls else float("nan")


def precision_recall(labels: Sequence[int], predicted: Sequence[int]) -> tuple[float, float]:
    true_pos = sum(1 for y, p in zip(labels, predicted, strict=True) if y == 1 and p == 1)
    pred_pos = sum(predicted)
    actual_pos = sum(labels)
    return (true_pos / pred_pos if pred_pos else float("nan"), true_pos / actual_pos if actual_pos else float("nan"))


def per_source(sources: Sequence[str], labels: Sequence[int], predicted: Sequence[int]) -> list[SourceResult]:
    results = []
    for source in sorted(set(sources)):
        idx = [i for i, s in enumerate(sources) if s == source]
        y = [labels[i] for i in idx]
        p = [predicted[i] for i in idx]
        precision, recall = precision_recall(y, p)
        results.append(
            SourceResult(
                source=source, n=len(idx), balanced_accuracy=balanced_accuracy(y, p), precision=precision, recall=recall
            )
        )
    return results


def mean_balanced_accuracy(results: Sequence[SourceResult]) -> float:
    return sum(r.balanced_accuracy for r in results) / len(results)


def roc_auc(labels: Sequence[int], scores: Sequence[float]) -> float:
    """Area under the ROC curve (Mann-Whitney U, ties counted half); nan without both labels."""
    order = sorted(range(len(scores)), key=lambda i: scores[i])
    ranks = [0.0] * len(scores)
    i = 0
    while i < len(order):
        j = i
        while j + 1 < len(order) and scores[order[j + 1]] == scores[order[i]]:
            j += 1
        for k in range(i, j + 1):
            ranks[order[k]] = (i + j) / 2 + 1
        i = j + 1
    positives = sum(1 for y in labels if y == 1)
    negatives = len(labels) - positives
    if not positives or not negatives:
        return float("nan")
    rank_sum = sum(r for r, y in zip(ranks, labels, strict=True) if y == 1)
    return (rank_sum - positives * (positives + 1) / 2) / (positives * negatives)
