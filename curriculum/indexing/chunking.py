"""Splitting a document's text into retrievable passages along sentence boundaries.

A chunk is a run of whole sentences of at most ``MAX_CHUNK_WORDS`` words; consecutive chunks share
``OVERLAP_SENTENCES`` sentences so that a fact stated across a chunk border is whole in one of them.
Chunks may span paragraphs (blank lines) but never end on a heading: a short paragraph opens the
chunk after it instead. Every span is exact: ``text[span.char_start:span.char_end] == span.text``, so
a citation can point back into the document.
"""

import re
from collections.abc import Iterator
from dataclasses import dataclass

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

# Words ending with a period that do not end a sentence.
_ABBREVIATIONS = frozenset(
    {
        "e.g",
        "i.e",
        "etc",
        "vs",
        "cf",
        "al",
        "fig",
        "figs",
        "eq",
        "eqs",
        "no",
        "nos",
        "approx",
        "ca",
        "dr",
        "mr",
        "mrs",
        "ms",
        "prof",
        "st",
        "jr",
        "sr",
        "vol",
        "pp",
        "p",
        "ch",
        "sec",
        "dept",
        "univ",
        "inc",
        "ltd",
        "co",
        "corp",
        "u.s",
        "u.k",
        "sp",
        "spp",
        "var",
        "ssp",
    }
)
_PARAGRAPH_BREAK = re.compile(r"\n[ \t]*\n\s*")
# A sentence ends at . ! or ? (optionally followed by closing quotes or brackets) and whitespace,
# when the next text starts like a sentence; a single line break also ends one (list items and
# headings are laid out one per line).
_SENTENCE_END = re.compile(r"""[.!?]["'”’)\]]*\s+(?=["'“‘(\[]?[A-Z0-9])|\n""")
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
    for para_start, para_end in _paragraphs(text):
        paragraph = list(_sentences(text, para_start, para_end))
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
        for para_start, para_end in _paragraphs(text)
        for start, end in _sentences(text, para_start, para_end)
    ]


def _paragraphs(text: str) -> Iterator[tuple[int, int]]:
    start = 0
    for match in _PARAGRAPH_BREAK.finditer(text):
        yield from _trimmed(text, start, match.start())
        start = match.end()
    yield from _trimmed(text, start, len(text))


def _sentences(text: str, start: int, end: int) -> Iterator[tuple[int, int]]:
    sentence_start = start
    for match in _SENTENCE_END.finditer(text, start, end):
        if match.group() != "\n" and _ends_with_abbreviation(text, sentence_start, match.start()):
            continue
        # The terminal punctuation and closing quotes belong to the sentence, the whitespace not.
        yield from _trimmed(text, sentence_start, match.start() + len(match.group().rstrip()))
        sentence_start = match.end()
    yield from _trimmed(text, sentence_start, end)


def _ends_with_abbreviation(text: str, start: int, period_at: int) -> bool:
    if text[period_at] != ".":
        return False
    last_word = text[start:period_at].rsplit(None, 1)[-1:] or [""]
    word = last_word[0].lstrip("(\"'“‘[").lower()
    # A single capital letter is an initial ("A. Hawkins"), not the end of a sentence.
    return word in _ABBREVIATIONS or (len(word) == 1 and word.isalpha())


def _trimmed(text: str, start: int, end: int) -> Iterator[tuple[int, int]]:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    if start < end:
        yield start, end


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
