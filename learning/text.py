"""Practice's own text helpers: how much of a key an answer uses, blanking words, matching a term.

Built on the one text module (``curriculum.text``): its sentence boundaries and its practice terms
(the stopwords and stems practice compares answers with keys on). Pure functions, no models:
free-text grading, hints and generated questions share them.
"""

import re

from curriculum.text import (
    PRACTICE_STOPWORDS,
    practice_stem,
    practice_terms,
    practice_word_spans,
    split_sentences,
    strip_credits,
)

BLANK = "_____"


def passage_sentences(text: str) -> list[str]:
    """The sentences of a syllabus passage that practice may quote (in a hint or a cloze): the one
    sentence rule, figure credit lines left out."""
    return split_sentences(strip_credits(text))


def key_coverage(*, answer: str, key: str, stem_text: str = "") -> float:
    """Share of the key's own content words (those the question's stem does not already give away)
    that the answer uses; 1.0 when the key adds none to the stem."""
    key_words = practice_terms(key) - practice_terms(stem_text)
    if not key_words:
        key_words = practice_terms(key)
    if not key_words:
        return 1.0
    return len(key_words & practice_terms(answer)) / len(key_words)


def blank_words(sentence: str, words: set[str]) -> str:
    """The sentence with every word whose practice stem is in ``words`` replaced by a blank (a run of
    such words, or of such words and stop words between them, becomes one blank)."""
    spans: list[list[int]] = []
    for start, end in practice_word_spans(sentence):
        token = sentence[start:end]
        if token.lower() in PRACTICE_STOPWORDS or practice_stem(token) not in words:
            continue
        if spans and sentence[spans[-1][1] : start].strip() == "":
            spans[-1][1] = end
        else:
            spans.append([start, end])
    out, last = [], 0
    for start, end in spans:
        out.append(sentence[last:start])
        out.append(BLANK)
        last = end
    out.append(sentence[last:])
    return "".join(out)


def term_pattern(term: str) -> re.Pattern[str]:
    """Whole-word, case-insensitive match of a term (its plural too)."""
    return re.compile(r"(?<![A-Za-z-])" + re.escape(term) + r"(?:s|es)?(?![A-Za-z-])", re.IGNORECASE)
