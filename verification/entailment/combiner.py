"""Calibrated combination of the layers: a logistic regression over `features.FEATURE_NAMES`.

Fitted by `train_verifier` on labelled claims from several sources, each source weighted equally
and each class weighted equally within a source, so the probability is calibrated for a balanced
prior and no single domain dominates. The operating threshold is chosen for precision, not for
accuracy: a wrong "verified" badge costs more than a withheld sentence.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from verification.entailment.features import FEATURE_NAMES

COMBINER_FILE = "combiner.json"
# The shipped checker's measured precision and recall (bench/bench_verify_eval.py), shown to teachers.
OPERATING_POINT_FILE = "operating_point.json"


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-np.clip(x, -40, 40)))


@dataclass(frozen=True, kw_only=True)
class Combiner:
    weights: tuple[float, ...]
    bias: float
    mean: tuple[float, ...]
    scale: tuple[float, ...]
    threshold: float
    """Operating threshold on the probability: at or above it a claim counts as supported."""
    version: str

    def probability(self, features: np.ndarray) -> np.ndarray:
        """P(supported) for a (n, len(FEATURE_NAMES)) feature matrix."""
        z = (np.atleast_2d(features) - np.array(self.mean)) / np.array(self.scale)
        return _sigmoid(z @ np.array(self.weights) + self.bias)

    def save(self, directory: Path) -> None:
        payload = {"features": list(FEATURE_NAMES), **asdict(self)}
        (directory / COMBINER_FILE).write_text(json.dumps(payload, indent=2) + "\n")

    @classmethod
    def load(cls, directory: Path) -> Combiner:
        payload = json.loads((directory / COMBINER_FILE).read_text())
        if tuple(payload.pop("features")) != FEATURE_NAMES:
            raise RuntimeError("combiner.json was fitted on other features; rerun train_verifier")
        return cls(
            weights=tuple(payload["weights"]),
            bias=float(payload["bias"]),
            mean=tuple(payload["mean"]),
            scale=tuple(payload["scale"]),
            threshold=float(payload["threshold"]),
            version=str(payload["version"]),
        )


def balanced_weights(labels: np.ndarray, groups: list[str]) -> np.ndarray:
    """Sample weights giving every (group, class) cell the same total weight."""
    weights = np.zeros(len(labels))
    cells = {(g, int(y)) for g, y in zip(groups, labels, strict=True)}
    for group, label in cells:
        mask = np.array([g == group for g in groups]) & (labels == label)
        weights[mask] = 1.0 / mask.sum()
    return weights * len(labels) / weights.sum()


def fit_logistic(
    features: np.ndarray, labels: np.ndarray, sample_weight: np.ndarray, *, l2: float = 1.0
) -> tuple[np.ndarray, float, np.ndarray, np.ndarray]:
    """Weighted L2 logistic regression by Newton's method; returns (w, b, mean, scale)."""
    mean = features.mean(axis=0)
    scale = features.std(axis=0)
    scale[scale < 1e-9] = 1.0
    x = np.hstack([(features - mean) / scale, np.ones((len(features), 1))])
    theta = np.zeros(x.shape[1])
    penalty = np.full(x.shape[1], l2)
    penalty[-1] = 0.0  # the bias is not shrunk
    for _ in range(50):
        p = _sigmoid(x @ theta)
        gradient = x.T @ (sample_weight * (p - labels)) + penalty * theta
        hessian = (x * (sample_weight * p * (1 - p))[:, None]).T @ x + np.diag(penalty + 1e-9)
        step = np.linalg.solve(hessian, gradient)
        theta -= step
        if np.abs(step).max() < 1e-8:
            break
    return theta[:-1], float(theta[-1]), mean, scale


def precision_threshold(
    probabilities: np.ndarray,
    labels: np.ndarray,
    groups: list[str],
    *,
    target_precision: float,
    unreached: float,
) -> float:
    """Lowest threshold whose source-balanced precision of "supported" reaches the target.

    Precision is computed with every source weighted equally, so a large easy source cannot buy
    the target for a small hard one. Where no threshold reaches it, ``unreached``: a probability
    the combiner did not reach on the fitting data, so that it never says "supported" on its own
    (falling back to its highest observed probability instead labelled the single top-scoring
    claim supported, whatever its precision; on the dev set that claim was false).
    """
    weights = balanced_weights(labels, groups)
    for threshold in np.unique(np.round(probabilities, 4)):
        predicted = probabilities >= threshold
        if not predicted.any():
            break
        precision = (weights * predicted * labels).sum() / (weights * predicted).sum()
        if precision >= target_precision:
            return float(threshold)
    if unreached <= probabilities.max():
        raise ValueError(f"unreached={unreached} is not above every fitted probability ({probabilities.max():.4f})")
    return unreached
