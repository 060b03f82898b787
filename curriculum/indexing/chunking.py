"""Splitting a document's text into retrievable passages along sentence boundaries.

A chunk is a run of whole sentences of at most ``MAX_CHUNK_WORDS`` words; consecutive chunks of a
paragraph share ``OVERLAP_SENTENCES`` sentences so that a fact stated across a chunk border is whole in
one of them. Chunks do not cross a paragraph break (a blank line): paragraphs are the units the
syllabus text is written in, and a passage mixing the end of one with the start of the next is
rarely what a question is about. The one exception is a short paragraph (a heading), which opens
the chunk after it. Every span is exact: ``text[span.char_start:span.char_end] ==
span.text``, so a citation can point back into the document.
"""

import re
from collections.abc import Iterator
from dataclasses import dataclass

# A chunk is at most a paragraph, and at most 150 words (~200 MiniLM tokens, inside its 256-token
# window). Measured on Biology 2e review questions, 150-word chunks find a question's section more
# often than 80-word ones (more context per vector) at the same embedding cost; most paragraphs fit
# whole, so the overlap below rarely costs anything.
MAX_CHUNK_WORDS = 150
# One shared sentence: enough to keep a definition with its follow-up, without embedding most of
# the text twice.
OVERLAP_SENTENCES = 1
# A chunk shorter than this is merged into its neighbour when the paragraph allows: a lone heading
# or caption fragment ranks well on its keywords but says nothing.
MIN_CHUNK_WORDS = 12
# Most words of short paragraphs carried into the next chunk; past it they close a chunk themselves.
MAX_CARRIED_WORDS = MAX_CHUNK_WORDS // 2

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
    chunks: list[TextSpan] = []
    paragraphs = list(_paragraphs(text))
    # Start of a run of short paragraphs (headings, labels) carried into the next paragraph's first
    # chunk: alone they would be chunks that match on keywords and say nothing.
    carried_from: int | None = None
    carried_words = 0
    for index, (para_start, para_end) in enumerate(paragraphs):
        sentences = list(_sentences(text, para_start, para_end))
        word_counts = [_word_count(text[s:e]) for s, e in sentences]
        if sum(word_counts) < MIN_CHUNK_WORDS and index + 1 < len(paragraphs):
            carried_from = para_start if carried_from is None else carried_from
            carried_words += sum(word_counts)
            if carried_words >= MAX_CARRIED_WORDS:
                # A long run of short paragraphs (a list, a glossary) is a chunk of its own.
                chunks.append(TextSpan(text=text[carried_from:para_end], char_start=carried_from, char_end=para_end))
                carried_from, carried_words = None, 0
            continue
        for first, last in _group_sentences(word_counts):
            start, end = sentences[first][0], sentences[last][1]
            if carried_from is not None:
                start, carried_from, carried_words = carried_from, None, 0
            chunks.append(TextSpan(text=text[start:end], char_start=start, char_end=end))
    return chunks


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


def _group_sentences(word_counts: list[int]) -> list[tuple[int, int]]:
    """Inclusive (first, last) sentence indices of each chunk of one paragraph."""
    groups: list[tuple[int, int]] = []
    first = 0
    count = len(word_counts)
    while first < count:
        last, words = first, word_counts[first]
        while last + 1 < count and words + word_counts[last + 1] <= MAX_CHUNK_WORDS:
            last += 1
            words += word_counts[last]
        if last + 1 < count and sum(word_counts[last + 1 :]) < MIN_CHUNK_WORDS:
            # A short tail would become a chunk of its own: close this chunk at the paragraph end.
            last = count - 1
        groups.append((first, last))
        if last == count - 1:
            break
        # Step back by the overlap, but always move forward by at least one sentence.
        first = max(last + 1 - OVERLAP_SENTENCES, first + 1)
    return groups
