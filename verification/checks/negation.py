"""A claim and the evidence sentence it paraphrases must agree on negation and polarity."""

from __future__ import annotations

from verification.entailment.text import content_terms, words

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
    claim_terms = set(content_terms(claim))
    best, best_overlap = None, 0
    for sentence in sentences:
        overlap = len(claim_terms & set(content_terms(sentence)))
        if overlap > best_overlap:
            best, best_overlap = sentence, overlap
    return best


def negation_mismatch(claim: str, sentence: str) -> bool:
    """True when exactly one of claim and its closest evidence sentence is negated."""
    return (negation_count(claim) % 2) != (negation_count(sentence) % 2)


def antonym_mismatches(claim: str, sentence: str) -> list[str]:
    """Claim words whose antonym, not the word itself, is in the closest evidence sentence."""
    sentence_words = set(words(sentence))
    return [
        w for w in dict.fromkeys(words(claim)) if w in _FLIP and w not in sentence_words and _FLIP[w] in sentence_words
    ]
