"""Deterministic consistency checks between a claim and its evidence.

Each check looks for one way a fluent but wrong sentence differs from its source: a changed
number or date, a name the source never mentions, a flipped negation or polarity. They are cheap,
explainable (each mismatch is reported as the offending text) and feed the entailment combiner as
features; none of them alone proves support.
"""

from __future__ import annotations

from dataclasses import dataclass

from verification.checks.entities import entity_mismatches
from verification.checks.negation import antonym_mismatches, best_matching_sentence, negation_mismatch
from verification.checks.numbers import date_mismatches, number_mismatches


@dataclass(frozen=True, kw_only=True)
class CheckReport:
    number_mismatches: tuple[str, ...]
    """Numbers/quantities of the claim absent from the whole evidence."""
    date_mismatches: tuple[str, ...]
    """Month/weekday names of the claim absent from the whole evidence."""
    entity_mismatches: tuple[str, ...]
    """Named entities of the claim sharing no token with the whole evidence."""
    negation_mismatch: bool
    """The claim and its closest evidence sentence disagree on negation."""
    antonym_mismatches: tuple[str, ...]
    """Claim words whose antonym appears in the closest evidence sentence instead."""

    @property
    def passed(self) -> bool:
        return not (
            self.number_mismatches
            or self.date_mismatches
            or self.entity_mismatches
            or self.negation_mismatch
            or self.antonym_mismatches
        )

    def reasons(self) -> list[str]:
        """Human-readable reasons for each failed check."""
        reasons = [f"number not in evidence: {n}" for n in self.number_mismatches]
        reasons += [f"date not in evidence: {d}" for d in self.date_mismatches]
        reasons += [f"name not in evidence: {e}" for e in self.entity_mismatches]
        if self.negation_mismatch:
            reasons.append("negation differs from the closest evidence sentence")
        reasons += [f"opposite of evidence: {w}" for w in self.antonym_mismatches]
        return reasons


def run_checks(claim: str, *, evidence: str, evidence_sentences: list[str]) -> CheckReport:
    """Run every check; `evidence` is the whole passage, `evidence_sentences` the selected ones."""
    closest = best_matching_sentence(claim, evidence_sentences) or ""
    return CheckReport(
        number_mismatches=tuple(number_mismatches(claim, evidence)),
        date_mismatches=tuple(date_mismatches(claim, evidence)),
        entity_mismatches=tuple(entity_mismatches(claim, evidence)),
        negation_mismatch=bool(closest) and negation_mismatch(claim, closest),
        antonym_mismatches=tuple(antonym_mismatches(claim, closest)) if closest else (),
    )
