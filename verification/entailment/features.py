"""The per-claim feature vector the calibrated combiner turns into P(supported)."""

from __future__ import annotations

import numpy as np

from curriculum.text import content_terms
from verification.checks import CheckReport

FEATURE_NAMES = (
    "model_logit",
    "number_mismatch",
    "date_mismatch",
    "entity_mismatch",
    "negation_mismatch",
    "antonym_mismatch",
    "unsupported_in_passage",
    "unsupported_in_window",
    "is_question",
    "answer_in_windows",
)


def claim_features(
    *,
    claim: str,
    model_logit: float,
    report: CheckReport,
    passage_vocabulary: frozenset[str],
    window_text: str,
    answer: str | None = None,
    windows: tuple[str, ...] = (),
) -> np.ndarray:
    """`answer` is a review-question claim's answer (None for a plain claim) and `windows` the
    evidence windows chosen by its stem: whether the answer's words appear where the syllabus
    answers the question (0.41 of keyed answers' words in the first window vs 0.24 of distractors'
    on biology-2e) is a signal the cross-encoder alone reads poorly. `is_question` lets the
    combiner weigh it for questions only (both are 0 for plain claims)."""
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
            float(answer is not None),
            _answer_coverage(answer, windows),
        ],
        dtype=np.float64,
    )


def _answer_coverage(answer: str | None, windows: tuple[str, ...]) -> float:
    """Largest share of the answer's content words found in one evidence window (0 if no answer)."""
    terms = set(content_terms(answer or ""))
    if not terms or not windows:
        return 0.0
    return max(len(terms & set(content_terms(window))) / len(terms) for window in windows)
