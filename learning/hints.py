"""A hint before the answer: the syllabus sentence a question rests on, with the answer blanked out.

Pure: the practice service gives it the question and its section's passages. The sentence chosen is
the one of the section sharing most content words with the stem and the key together (the key's
words weigh double: the hint must be about the answer, not only the question); then every word of
the key the stem does not already give is blanked, so the hint points at the right passage without
saying the answer. When no sentence of the section is about the question, or the key adds no word
to the stem (so blanking could not hide it), the section is named instead.
"""

from collections.abc import Sequence
from dataclasses import dataclass

from .text import blank_words, content_words, sentences

MAX_HINT_CHARS = 400


@dataclass(frozen=True, kw_only=True)
class Passage:
    chunk_id: int
    text: str


@dataclass(frozen=True, kw_only=True)
class Hint:
    text: str
    """The passage sentence with the answer blanked, or a pointer to the section."""
    section: str
    """The section as the book numbers it, e.g. "5.2 Passive Transport"."""
    chunk_id: int | None
    """The cited passage (None when only the section is named)."""


def make_hint(*, stem: str, key: str, section: str, passages: Sequence[Passage]) -> Hint:
    stem_words = content_words(stem)
    key_words = content_words(key) - stem_words
    best: tuple[int, int, str] | None = None
    best_chunk: int | None = None
    for passage in passages:
        for sentence in sentences(passage.text):
            if len(sentence) > MAX_HINT_CHARS or ":" in sentence[:40]:
                continue  # overlong, or a glossary line ("term: meaning") that would name the answer
            words = content_words(sentence)
            score = len(words & stem_words) + 2 * len(words & key_words)
            if score and (best is None or score > best[0]):
                best = (score, -len(sentence), sentence)
                best_chunk = passage.chunk_id
    if best is None or not key_words:
        # Nothing in the section is about the question, or the key adds no word to the stem (blanking
        # could not hide it): name the section only.
        return Hint(text=f"Re-read {section}: the answer is there.", section=section, chunk_id=None)
    return Hint(text=blank_words(best[2], key_words), section=section, chunk_id=best_chunk)
