"""A claim and the evidence sentence it paraphrases must agree on negation and polarity."""

from __future__ import annotations

import re

from curriculum.text import content_terms, words

NEGATION_CUES = frozenset(
    """not no never none nobody nothing neither nor cannot without fail fails failed lack lacks
    lacking absent unable""".split()
)
# Each pair flips a statement's meaning while keeping it lexically close to the evidence.
ANTONYMS = {
    "increase": "decrease",
    "increases": "decreases",
    "increased": "decreased",
    "higher": "lower",
    "more": "less",
    "larger": "smaller",
    "large": "small",
    "high": "low",
    "before": "after",
    "inside": "outside",
    "positive": "negative",
    "always": "never",
    "gain": "loss",
    "gains": "loses",
    "maximum": "minimum",
    "most": "least",
    "above": "below",
    "internal": "external",
    "active": "passive",
    "early": "late",
    "earlier": "later",
    "true": "false",
    "accept": "reject",
    "accepted": "rejected",
    "agree": "disagree",
    "agreed": "disagreed",
    "win": "lose",
    "won": "lost",
    "rise": "fall",
    "rises": "falls",
    "strong": "weak",
    "stronger": "weaker",
    "fast": "slow",
    "faster": "slower",
}
_FLIP = {**ANTONYMS, **{v: k for k, v in ANTONYMS.items()}}


def negation_count(text: str) -> int:
    return sum(1 for w in words(text) if w in NEGATION_CUES or w.endswith("n't"))


def best_matching_sentence(claim: str, sentences: list[str]) -> str | None:
    """The evidence sentence sharing the most content terms with the claim."""
    claim_terms = _terms(claim)
    best, best_overlap = None, 0
    for sentence in sentences:
        overlap = len(claim_terms & set(content_terms(sentence)))
        if overlap > best_overlap:
            best, best_overlap = sentence, overlap
    return best


def negation_mismatch(claim: str, sentence: str) -> bool:
    """True when the claim and its closest evidence sentence disagree on negation.

    Negation is read per clause, not per sentence: "Chloroplasts are found in plant cells and in
    algae, but not in animal cells." negates only its last clause, so "Plant cells contain
    chloroplasts" agrees with it while "Animal cells contain chloroplasts" does not. An affirmative
    claim mismatches when it uses a word the sentence mentions only inside negated clauses (it
    asserts what the sentence denies); a negated claim mismatches when no negated clause of the
    sentence is about any of its words.
    """
    clauses = _clauses(sentence)
    claim_terms = _terms(claim)
    if negation_count(claim) % 2:
        return not any(negated and terms & claim_terms for negated, terms in clauses)
    affirmed = {term for negated, terms in clauses if not negated for term in terms}
    denied = {term for negated, terms in clauses if negated for term in terms} - affirmed
    return bool(denied & claim_terms)


# Where a negation's scope ends: clause punctuation and the contrastive conjunctions that start a
# new clause ("..., but not in animal cells", "... whereas Y does not").
_CLAUSE_BREAK = re.compile(r"[,;:()]|\b(?:but|whereas|while|although|though|however|yet)\b", re.IGNORECASE)


def _clauses(sentence: str) -> list[tuple[bool, set[str]]]:
    """(negated, content terms) per clause of a sentence."""
    parts = [part for part in _CLAUSE_BREAK.split(sentence) if part and part.strip()]
    return [(negation_count(part) % 2 == 1, _terms(part)) for part in parts]


def _terms(text: str) -> set[str]:
    """Content terms without the negation cues themselves (they say nothing about the topic)."""
    return {term for term in content_terms(text) if term not in NEGATION_CUES}


def antonym_mismatches(claim: str, sentence: str) -> list[str]:
    """Claim words whose antonym, not the word itself, is in the closest evidence sentence."""
    sentence_words = set(words(sentence))
    return [
        w for w in dict.fromkeys(words(claim)) if w in _FLIP and w not in sentence_words and _FLIP[w] in sentence_words
    ]
