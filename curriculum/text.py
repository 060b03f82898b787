"""The one text module: sentence boundaries, abbreviations, words, stopwords, stemming and BM25.

Used by chunking and the lexical index (``curriculum.indexing``), by the verifier
(``verification.entailment``, ``verification.checks``, ``verification.revision``), by the tutor
(the sentence stream and answer composition) and by practice (``learning.text``: hints, clozes,
free-text grading). It lives in ``curriculum`` because that is the
bottom of the allowed import direction (``tutor`` → ``verification`` → ``curriculum``); it imports
nothing from Django, so training scripts and benchmarks use it without settings.

Pure Python (and numpy only where the caller passes arrays): it runs on every claim, every
retrieved passage and every streamed sentence, so it must cost microseconds, and it must give the
same answer at training and at scoring time.

Three vocabularies, on purpose, all defined here:

* **Claim terms** (``content_terms``: ``STOPWORDS`` removed, the crude ``stem``) are what the
  verifier compares claims and evidence on. The entailment combiner and the verifier weights were
  fitted on these features; changing them is a retraining, not a refactor.
* **Index terms** (``index_terms``: ``INDEX_STOPWORDS`` removed, Snowball stemming) are what the
  BM25 indexes over passages and sections store; retrieval's hit rates were measured with them.
* **Practice terms** (``practice_terms``: ``PRACTICE_STOPWORDS`` removed, ``practice_stem``) are what
  practice compares a student's answer with a key on, and what hints and clozes blank: fillers of
  definitions ("called", "known as") are not words of an answer, and "diffuses" must meet
  "diffusion". Free-text grading's key coverage and the clozes in BENCHMARKS.md were measured with
  them (claim terms would count "because" as a word of the key).

Unifying them is a measured change for later (verifier refit, retrieval and grading benchmarks),
not something to slip in here.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from functools import lru_cache
from typing import TypeVar

import numpy as np
import snowballstemmer

# --- sentence boundaries ----------------------------------------------------------------------------

ABBREVIATIONS = frozenset(
    """e.g i.e etc vs cf al fig figs eq eqs no nos approx ca dr mr mrs ms prof st jr sr vol pp p ch sec
    dept univ inc ltd co corp u.s u.k sp spp var ssp jan feb mar apr jun jul aug sep sept oct nov dec""".split()
)
"""Words whose trailing period does not end a sentence (lower-cased, without the final period)."""

# A sentence ends at . ! or ? (optionally followed by closing quotes or brackets) and whitespace,
# when the next text starts like a sentence; a line break always ends one (list items,
# headings and glossary lines are laid out one per line), even after an abbreviation.
_SENTENCE_END = re.compile(r"""[.!?]["'”’)\]]*[^\S\n]+(?=["'“‘(\[]?[A-Z0-9])|\n""")
_PARAGRAPH_BREAK = re.compile(r"\n[ \t]*\n\s*")
_OPENING = "(\"'“‘["
_CLOSERS = ('"', "'", "”", "’", ")", "]")

MAX_SENTENCE_WORDS = 60
"""``split_sentences`` cuts a "sentence" longer than this many words into pieces: transcripts and
lists often lack punctuation, and one huge sentence would crowd every other sentence out of the
verifier's evidence window."""


def is_abbreviation(word: str) -> bool:
    """Whether a period right after ``word`` (the text before it, up to the previous space) is not
    the end of a sentence: a known abbreviation, or a single letter (an initial: "A. Hawkins").
    After a closing bracket or quote ("nitrogen (N).") it always is."""
    if word.endswith(_CLOSERS):
        return False
    bare = word.lstrip(_OPENING).lower()
    return bare in ABBREVIATIONS or (len(bare) == 1 and bare.isalpha())


def paragraph_spans(text: str) -> Iterator[tuple[int, int]]:
    """(start, end) of each paragraph (separated by blank lines), whitespace trimmed."""
    start = 0
    for match in _PARAGRAPH_BREAK.finditer(text):
        yield from _trimmed(text, start, match.start())
        start = match.end()
    yield from _trimmed(text, start, len(text))


def sentence_spans(text: str, start: int = 0, end: int | None = None) -> Iterator[tuple[int, int]]:
    """(start, end) of each sentence of ``text[start:end]``, whitespace trimmed: the one sentence
    boundary rule (terminal punctuation before a capital or digit, unless after an abbreviation or
    an initial; any line break)."""
    end = len(text) if end is None else end
    sentence_start = start
    for match in _SENTENCE_END.finditer(text, start, end):
        if (
            match.group() != "\n"
            and text[match.start()] == "."
            and _ends_with_abbreviation(text, sentence_start, match)
        ):
            continue
        # The terminal punctuation and closing quotes belong to the sentence, the whitespace not.
        yield from _trimmed(text, sentence_start, match.start() + len(match.group().rstrip()))
        sentence_start = match.end()
    yield from _trimmed(text, sentence_start, end)


def _ends_with_abbreviation(text: str, start: int, match: re.Match[str]) -> bool:
    last_word = text[start : match.start()].rsplit(None, 1)[-1:] or [""]
    return is_abbreviation(last_word[0])


def _trimmed(text: str, start: int, end: int) -> Iterator[tuple[int, int]]:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    if start < end:
        yield start, end


def split_sentences(text: str) -> list[str]:
    """The sentences of ``text`` as strings; newlines always end a sentence, and a run-on longer
    than ``MAX_SENTENCE_WORDS`` words is cut into overlapping-free pieces."""
    return [piece for start, end in sentence_spans(text) for piece in _chunk_long(text[start:end])]


# A figure's credit line, "(credit: modification of work by NASA)", "(credit a: ...; credit b: ...)",
# one level of brackets inside allowed: OpenStax captions end with one.
_CREDIT = re.compile(r"\s*\((?:photo )?credits?\b[^()]*(?:\([^()]*\)[^()]*)*\)")


def strip_credits(text: str) -> str:
    """``text`` without figure credit lines: an attribution, not a sentence of the subject. The
    sentence rule keeps "(credit: ...)" with the caption before it (an opening bracket before a
    lower-case word does not start a sentence), where a quoted sentence would carry it."""
    return _CREDIT.sub("", text)


def _chunk_long(sentence: str) -> list[str]:
    pieces = sentence.split()
    if len(pieces) <= MAX_SENTENCE_WORDS:
        return [sentence]
    step = MAX_SENTENCE_WORDS // 2 + MAX_SENTENCE_WORDS // 4
    return [" ".join(pieces[i : i + step]) for i in range(0, len(pieces), step)]


# --- words, stopwords, stems ------------------------------------------------------------------------

_WORD = re.compile(r"[A-Za-z0-9]+(?:[’'][a-z]+)?")

STOPWORDS = frozenset(
    """a an the and or but if then than that this these those there here of in on at to for from by
    with without about as into onto over under between through during before after above below up
    down out off again further once is are was were be been being am do does did doing have has had
    having can could should would may might must will shall it its it's itself they them their theirs
    we us our you your he him his she her i me my mine which who whom whose what when where why how
    all any both each few more most other some such only own same so too very s t just also one
    question answer""".split()
)
"""Function words without a topic, for claim terms (``content_terms``). Negations are kept: "not"
changes what a claim says."""


def words(text: str) -> list[str]:
    """Lower-cased word tokens, apostrophes normalised."""
    return [w.lower().replace("’", "'") for w in _WORD.findall(text)]


@lru_cache(maxsize=200_000)
def stem(word: str) -> str:
    """A crude suffix stripper: enough to match plural/verb forms, cheap enough for every token."""
    if len(word) <= 3 or word.isdigit():
        return word
    for suffix, keep in (("ies", "y"), ("sses", "ss"), ("ing", ""), ("ed", ""), ("es", ""), ("s", "")):
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            if suffix == "s" and word.endswith(("ss", "us", "is")):
                return word
            return word[: -len(suffix)] + keep
    return word


def content_terms(text: str, *, keep_letters: bool = False) -> list[str]:
    """Claim terms: stemmed content words (stopwords removed), in order, duplicates kept.

    ``keep_letters`` also keeps a single capital letter other than "A" and "I" (the "T" of "T
    cells", the "B" of "vitamin B"), which the stopwords drop: the extractive rule must not read
    "produced by T cells" in "produced by B cells"."""
    if not keep_letters:
        return [stem(w) for w in words(text) if w not in STOPWORDS]
    return [
        w.lower() if len(w) == 1 and w.isupper() and w not in "AI" else stem(w.lower().replace("’", "'"))
        for w in _WORD.findall(text)
        if w.lower().replace("’", "'") not in STOPWORDS or (len(w) == 1 and w.isupper() and w not in "AI")
    ]


_INDEX_TOKEN = re.compile(r"[^\W_]+")
INDEX_STOPWORDS = frozenset(
    """a about above after again against all also am an and any are as at be because been before being
    below between both but by can could did do does doing down during each few for from further had has
    have having he her here hers herself him himself his how i if in into is it its itself just me more
    most my myself no nor not now of off on once only or other our ours ourselves out over own same she
    should so some such than that the their theirs them themselves then there these they this those
    through to too under until up very was we were what when where which while who whom why will with
    would you your yours yourself yourselves""".split()
)
"""Function words for the retrieval indexes (``index_terms``): keeping them would make every chunk
match every question."""
_snowball = snowballstemmer.stemmer("english")
_snowball_lock = threading.Lock()


@lru_cache(maxsize=200_000)
def index_stem(word: str) -> str:
    """Snowball (Porter 2) stem of a lower-cased word."""
    # The Snowball stemmer object keeps state between calls and is not thread-safe.
    with _snowball_lock:
        return str(_snowball.stemWord(word))


def index_terms(text: str) -> list[str]:
    """Index terms of ``text``: lower-cased, ``INDEX_STOPWORDS`` dropped, Snowball-stemmed."""
    return [index_stem(word) for word in _INDEX_TOKEN.findall(text.lower()) if word not in INDEX_STOPWORDS]


# --- practice terms ---------------------------------------------------------------------------------

_PRACTICE_WORD = re.compile(r"[A-Za-z][A-Za-z'-]*|\d+(?:\.\d+)?")
PRACTICE_STOPWORDS = frozenset(
    """a about above after again against all also am an and any are aren't as at be because been before
    being below between both but by can cannot could did do does doing down during each either few for
    from further had has have having he her here hers him his how however i if in into is isn't it its
    itself just may might more most much must my neither no nor not of off on once only or other our
    out over own same she should so some such than that the their them then there these they this those
    through thus to too under until up upon very was we were what when where which while who whom whose
    why will with within without would yet you your one two called known usually often many several""".split()
)
"""Function words and the fillers of definitions, for practice terms (``practice_terms``)."""


def practice_word_spans(text: str) -> Iterator[tuple[int, int]]:
    """(start, end) of each word of ``text`` as practice reads it: a hyphenated word is one, a
    decimal number is one."""
    for match in _PRACTICE_WORD.finditer(text):
        yield match.start(), match.end()


def practice_stem(word: str) -> str:
    """A crude suffix stripper: "membranes" and "membrane", "diffuses" and "diffusion" meet."""
    word = word.lower().strip("'-")
    for suffix in ("ational", "ation", "ition", "ing", "ies", "ied", "ion", "es", "ed", "ly", "s", "e"):
        if len(word) - len(suffix) >= 4 and word.endswith(suffix):
            return word[: -len(suffix)]
    return word


def practice_terms(text: str) -> set[str]:
    """Practice terms of ``text``: stems of the words that carry meaning (no ``PRACTICE_STOPWORDS``,
    no one- or two-letter words)."""
    found = (w.lower() for w in _PRACTICE_WORD.findall(text))
    return {practice_stem(w) for w in found if w not in PRACTICE_STOPWORDS and (len(w) > 2 or w.isdigit())}


# --- BM25 -------------------------------------------------------------------------------------------

BM25_K1 = 1.2
"""Okapi BM25 term-frequency saturation: a term counts little more after a few occurrences."""
BM25_B = 0.75
"""Okapi BM25 length normalisation: strong but not total."""

Number = TypeVar("Number", float, np.ndarray)


def bm25_idf(n_docs: int, document_frequency: Number) -> Number:
    """The "+1" idf variant (as in Lucene): never negative, so a very common term adds a little
    instead of penalising the texts that contain it. Scalars or numpy arrays."""
    return np.log1p((n_docs - document_frequency + 0.5) / (document_frequency + 0.5))


def bm25_weight(tf: Number, *, idf: Number, length: Number, average_length: float) -> Number:
    """A term's BM25 contribution to one text: ``tf`` occurrences in a text of ``length`` terms,
    where texts average ``average_length`` terms (at least 1). Scalars or numpy arrays."""
    norm = BM25_K1 * (1 - BM25_B + BM25_B * length / max(average_length, 1.0))
    return idf * tf * (BM25_K1 + 1) / (tf + norm)
