"""A hint before the answer: the syllabus sentence a question rests on, with the answer blanked out.

Two askers, one rule. Practice (``make_hint``) knows the question's key; the tutor's hint-first
answers (``answer_hint``) do not, and take the answer the tutor would give instead: its key term is
the word the answer's sentences use most that the question does not give.

Pure: the practice service gives it the question and its section's passages. The sentence chosen is
the one of the section sharing most content words with the stem and the key together (the key's
words weigh double: the hint must be about the answer, not only the question); then every word of
the key the stem does not already give is blanked, so the hint points at the right passage without
saying the answer. When no sentence of the section is about the question, or the key adds no word
to the stem (so blanking could not hide it), the section is named instead.
"""

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from curriculum.text import practice_terms

from .text import blank_words, passage_sentences

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
    stem_words = practice_terms(stem)
    key_words = practice_terms(key) - stem_words
    best = _best_sentence(stem_words=stem_words, key_words=key_words, passages=passages)
    if best is None or not key_words:
        # Nothing in the section is about the question, or the key adds no word to the stem (blanking
        # could not hide it): name the section only.
        return Hint(text=f"Re-read {section}: the answer is there.", section=section, chunk_id=None)
    sentence, chunk_id = best
    return Hint(text=blank_words(sentence, key_words), section=section, chunk_id=chunk_id)


@dataclass(frozen=True, kw_only=True)
class AnswerHint:
    """A clue for a question asked of the tutor, given before its full answer."""

    sentence: str
    """The syllabus sentence as it stands: what the verifier checks and the citation supports."""
    text: str
    """The same sentence with the answer's key term blanked: what the student is shown."""
    chunk_id: int
    """The passage it is quoted from."""


def answer_hint(*, question: str, answer: Sequence[Passage]) -> AnswerHint | None:
    """A clue for ``question`` from the sentences of the answer the tutor would give (``answer``, in
    answer order, each with its passage): the one sharing most words with the question and the
    answer's key term, with that term blanked. The key term is the content word the question does
    not give that most of the answer's sentences use (on a tie, the one used earliest): the concept the
    answer turns on, which the student is asked to recall. One term only, so the rest of the
    sentence still reads as a clue ("Speed is the magnitude of _____."). None when the answer adds
    no word to the question."""
    question_words = practice_terms(question)
    usage: Counter[str] = Counter()
    first_use: dict[str, int] = {}
    for position, passage in enumerate(answer):
        for word in practice_terms(passage.text) - question_words:
            usage[word] += 1
            first_use.setdefault(word, position)
    if not usage:
        return None
    key_term = min(usage, key=lambda word: (-usage[word], first_use[word], word))
    # Only a sentence with the term in it can hide it: any other would be the answer shown whole.
    using = [passage for passage in answer if key_term in practice_terms(passage.text)]
    best = _best_sentence(stem_words=question_words, key_words={key_term}, passages=using)
    if best is None:
        return None
    sentence, chunk_id = best
    return AnswerHint(sentence=sentence, text=blank_words(sentence, {key_term}), chunk_id=chunk_id)


def _best_sentence(*, stem_words: set[str], key_words: set[str], passages: Sequence[Passage]) -> tuple[str, int] | None:
    """The sentence of ``passages`` sharing most content words with the question and its key (the
    key's words weigh double: a hint must be about the answer, not only the question); the first on
    a tie. None when no sentence shares any."""
    best: tuple[int, str] | None = None
    best_chunk = 0
    for passage in passages:
        for sentence in passage_sentences(passage.text):
            if len(sentence) > MAX_HINT_CHARS or ":" in sentence[:40]:
                continue  # overlong, or a glossary line ("term: meaning") that would name the answer
            words = practice_terms(sentence)
            score = len(words & stem_words) + 2 * len(words & key_words)
            if score and (best is None or score > best[0]):
                best = (score, sentence)
                best_chunk = passage.chunk_id
    return None if best is None else (best[1], best_chunk)
