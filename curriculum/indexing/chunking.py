"""Splitting a document's text into retrievable passages along sentence boundaries.

A chunk is a run of whole sentences of at most ``MAX_CHUNK_WORDS`` words; consecutive chunks share
``OVERLAP_SENTENCES`` sentences so that a fact stated across a chunk border is whole in one of them.
Chunks may span paragraphs (blank lines) but never end on a heading: a short paragraph opens the
chunk after it instead. Every span is exact: ``text[span.char_start:span.char_end] == span.text``, so
a citation can point back into the document.
"""

import re
from dataclasses import dataclass

from curriculum.text import paragraph_spans, sentence_spans

# At most 150 words (~200 MiniLM tokens, inside its 256-token window). Measured on Biology 2e review
# questions, 150-word chunks find a question's section more often than 80-word ones (more context
# per vector), and chunks spanning paragraphs more often than chunks cut at every paragraph end.
MAX_CHUNK_WORDS = 150
# One shared sentence: enough to keep a definition with its follow-up, without embedding most of
# the text twice.
OVERLAP_SENTENCES = 1
# A paragraph shorter than this is a heading or label: it opens the next chunk rather than ending
# one, and a tail shorter than this joins the chunk before it rather than standing alone.
MIN_CHUNK_WORDS = 12

_WORD = re.compile(r"\S+")


@dataclass(frozen=True, kw_only=True)
class TextSpan:
    """A slice of a document's text."""

    text: str
    """Exactly ``document_text[char_start:char_end]``."""
    char_start: int
    """Offset of the first character in the document text."""
    char_end: int
    """Offset one past the last character in the document text."""


def split_into_chunks(text: str) -> list[TextSpan]:
    """Split ``text`` into overlapping runs of whole sentences, in document order."""
    sentences: list[tuple[int, int]] = []
    headings: list[bool] = []
    for para_start, para_end in paragraph_spans(text):
        paragraph = list(sentence_spans(text, para_start, para_end))
        is_heading = len(paragraph) == 1 and _word_count(text[para_start:para_end]) < MIN_CHUNK_WORDS
        sentences.extend(paragraph)
        headings.extend([is_heading] * len(paragraph))
    word_counts = [_word_count(text[start:end]) for start, end in sentences]
    return [
        TextSpan(
            text=text[sentences[first][0] : sentences[last][1]],
            char_start=sentences[first][0],
            char_end=sentences[last][1],
        )
        for first, last in _group_sentences(word_counts, headings)
    ]


def split_into_sentences(text: str) -> list[TextSpan]:
    """The sentences of ``text`` as exact spans (used for sentence-level claim checks too)."""
    return [
        TextSpan(text=text[start:end], char_start=start, char_end=end)
        for para_start, para_end in paragraph_spans(text)
        for start, end in sentence_spans(text, para_start, para_end)
    ]


def _word_count(text: str) -> int:
    return sum(1 for _ in _WORD.finditer(text))


def _group_sentences(word_counts: list[int], headings: list[bool]) -> list[tuple[int, int]]:
    """Inclusive (first, last) sentence indices of each chunk."""
    groups: list[tuple[int, int]] = []
    first = 0
    count = len(word_counts)
    while first < count:
        last, words = first, word_counts[first]
        while last + 1 < count and words + word_counts[last + 1] <= MAX_CHUNK_WORDS:
            last += 1
            words += word_counts[last]
        if last + 1 < count and sum(word_counts[last + 1 :]) < MIN_CHUNK_WORDS:
            # A short tail would become a chunk of its own: close this chunk at the text's end.
            last = count - 1
        if last + 1 < count and headings[last]:
            # Trailing headings open the next chunk instead (unless the chunk is nothing but
            # headings, as a long list of short items is).
            body = [index for index in range(first, last) if not headings[index]]
            if body:
                last = body[-1]
        groups.append((first, last))
        if last == count - 1:
            break
        if headings[last + 1]:
            # A heading starts a new subject: no overlap across it.
            first = last + 1
        else:
            # Step back by the overlap, but always move forward by at least one sentence.
            first = max(last + 1 - OVERLAP_SENTENCES, first + 1)
    return groups
