"""Extractive support: the claim restates one evidence sentence.

A claim whose content words all occur, in the same order, inside a single evidence sentence says
what the syllabus says. Order matters: "heat flows from colder to
hotter" uses the words of "heat flows from hotter to colder" but not in their order. Together with
the consistency checks (numbers, negation, names) this is the one signal that separates supported
from unsupported tutor sentences with high precision; the revision step steers failed sentences
towards it by asking for the evidence's own words.
"""

from __future__ import annotations

from curriculum.text import content_terms

# Fewer content words than this ("It is a cell.") match almost any passage: never extractive.
MIN_CONTENT_TERMS = 3


def _in_order(terms: list[str], sentence_terms: list[str]) -> bool:
    remaining = iter(sentence_terms)
    return all(term in remaining for term in terms)


def extractive_support(claim: str, evidence_sentences: list[str]) -> bool:
    terms = content_terms(claim)
    if len(terms) < MIN_CONTENT_TERMS:
        return False
    # One sentence, not a sentence and the next: across two sentences, enumerations ("sand is 0.1 to
    # 2 mm ... clay is ...") line up a wrong pairing in order. On the dev set the two-sentence
    # rule had precision 0.83 (42 claims), the one-sentence rule 1.00 (24 claims).
    return any(_in_order(terms, content_terms(sentence)) for sentence in evidence_sentences)
