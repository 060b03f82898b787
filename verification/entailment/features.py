"""The per-claim feature vector the calibrated combiner turns into P(supported)."""

from __future__ import annotations

import numpy as np

from verification.checks import CheckReport
from verification.entailment.text import content_terms

FEATURE_NAMES = (
    "model_logit",
    "number_mismatch",
    "date_mismatch",
    "entity_mismatch",
    "negation_mismatch",
    "antonym_mismatch",
    "unsupported_in_passage",
    "unsupported_in_window",
)


def claim_features(
    *,
    claim: str,
    model_logit: float,
    report: CheckReport,
    passage_vocabulary: frozenset[str],
    window_text: str,
) -> np.ndarray:
    terms = set(content_terms(claim))
    window_vocabulary = set(content_terms(window_text))
    total = max(1, len(terms))
    return np.array(
        [
            model_logit,
            float(bool(report.number_mismatches)),
            float(bool(report.date_mismatches)),
            float(bool(report.entity_mismatches)),
            float(report.negation_mismatch),
            float(bool(report.antonym_mismatches)),
            len(terms - passage_vocabulary) / total,
            len(terms - window_vocabulary) / total,
        ],
        dtype=np.float64,
    )
