"""Named entities (capitalised names, acronyms) stated in a claim must occur in the evidence."""

from __future__ import annotations

import re
from functools import lru_cache

from curriculum.text import STOPWORDS, words

_CAPITALISED_RUN = re.compile(r"\b([A-Z][\w’'&.-]*(?:\s+(?:of|the|de|van|von|and)?\s*[A-Z][\w’'&.-]*)*)")
# Capitalised words that are not names: sentence openers, the QA-format prefixes, pronouns,
# calendar words (handled by the date check) and English words capitalised in titles.
_NOT_NAMES = STOPWORDS | frozenset(
    """i yes no not however also although because while since but so therefore thus in on at
    this that these those it its he she they we you there here first second third finally
    question answer according sales agent client speaker user interface marketing project manager
    mr mrs ms dr january february march april may june july august september october november
    december monday tuesday wednesday thursday friday saturday sunday""".split()
)


def extract_entities(text: str) -> list[str]:
    """Capitalised runs that are not sentence-initial common words; each as written."""
    entities = []
    for match in _CAPITALISED_RUN.finditer(text):
        span = match.group(1).strip(" .-'’")
        tokens = [t for t in words(span) if t not in _NOT_NAMES]
        if not tokens:
            continue
        at_sentence_start = match.start() == 0 or re.search(r"[.!?:\n]\s*$", text[: match.start()])
        if at_sentence_start and len(tokens) == 1 and not span.isupper() and span.count(" ") == 0:
            # A single capitalised word opening a sentence is usually an ordinary word.
            continue
        entities.append(span)
    return entities


@lru_cache(maxsize=256)
def _tokens(text: str) -> frozenset[str]:
    # Evidence passages are module-length and shared by many claims: tokenise each once.
    return frozenset(words(text))


def entity_mismatches(claim: str, evidence: str) -> list[str]:
    """Entities of the claim none of whose name tokens occur in the evidence."""
    evidence_tokens = _tokens(evidence)
    missing = []
    for entity in extract_entities(claim):
        tokens = [t for t in words(entity) if t not in _NOT_NAMES]
        # A partial name ("Johnson" for "Mr. Johnson", "Obama" for "Barack Obama") is a match;
        # a name sharing no token with the evidence is not.
        if not any(t in evidence_tokens for t in tokens):
            missing.append(entity)
    return missing
