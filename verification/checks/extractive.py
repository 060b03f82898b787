"""Extractive support: the claim restates one evidence sentence (or two adjacent ones).

A claim whose content words all occur, in the same order, inside a single evidence sentence (or a
sentence and the next) says what the syllabus says. Order matters: "heat flows from colder to
hotter" uses the words of "heat flows from hotter to colder" but not in their order. Together with
the consistency checks (numbers, negation, names) this is the one signal that separates supported
from unsupported tutor sentences with high precision; the revision step steers failed sentences
towards it by asking for the evidence's own words.
"""

from __future__ import annotations

from itertools import pairwise

from verification.entailment.text import content_terms

# Fewer content words than this ("It is a cell.") match almost any passage: never extractive.
MIN_CONTENT_TERMS = 3


def _in_order(terms: list[str], sentence_terms: list[str]) -> bool:
    remaining = iter(sentence_terms)
    return all(term in remaining for term in terms)


def extractive_support(claim: str, evidence_sentences: list[str]) -> bool:
    terms = content_terms(claim)
    if len(terms) < MIN_CONTENT_TERMS:
        return False
    per_sentence = [content_terms(s) for s in evidence_sentences]
    spans = per_sentence + [a + b for a, b in pairwise(per_sentence)]
    return any(_in_order(terms, span) for span in spans)
