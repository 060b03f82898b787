"""Sentence splitting and lexical normalisation shared by evidence selection, checks and training.

Pure Python on purpose: it runs on every claim and on every sentence of module-length passages, so
it must cost microseconds, and it must give the same answer at training and at scoring time.
"""

from __future__ import annotations

import re
from functools import lru_cache

# Abbreviations whose trailing period does not end a sentence (lower-cased, without the period).
_ABBREVIATIONS = frozenset(
    "e.g i.e etc vs al fig figs dr mr mrs ms prof st jr sr inc ltd co corp no approx ca cf "
    "jan feb mar apr jun jul aug sep sept oct nov dec u.s u.k".split()
)
_SENTENCE_END = re.compile(r"([.!?][\"'”’)\]]*)\s+(?=[\"'“‘(\[]?[A-Z0-9])")
_WORD = re.compile(r"[A-Za-z0-9]+(?:[’'][a-z]+)?")
# A "sentence" longer than this many words is cut into pieces: transcripts and lists often lack
# punctuation, and one huge sentence would crowd every other sentence out of the evidence window.
MAX_SENTENCE_WORDS = 60

STOPWORDS = frozenset(
    """a an the and or but if then than that this these those there here of in on at to for from by
    with without about as into onto over under between through during before after above below up
    down out off again further once is are was were be been being am do does did doing have has had
    having can could should would may might must will shall it its it's itself they them their theirs
    we us our you your he him his she her i me my mine which who whom whose what when where why how
    all any both each few more most other some such only own same so too very s t just also one
    question answer""".split()
)


def split_sentences(text: str) -> list[str]:
    """Split text into sentences; newlines always end a sentence, long run-ons are chunked."""
    sentences: list[str] = []
    for block in re.split(r"\s*\n+\s*", text):
        block = block.strip()
        if not block:
            continue
        start = 0
        for match in _SENTENCE_END.finditer(block):
            candidate = block[start : match.end(1)]
            last_word = candidate.rsplit(None, 1)[-1].rstrip(".!?\"'”’)]").lower()
            if last_word in _ABBREVIATIONS or (len(last_word) == 1 and last_word.isalpha()):
                continue
            sentences.append(candidate.strip())
            start = match.end()
        tail = block[start:].strip()
        if tail:
            sentences.append(tail)
    return [piece for sentence in sentences for piece in _chunk_long(sentence)]


def _chunk_long(sentence: str) -> list[str]:
    words = sentence.split()
    if len(words) <= MAX_SENTENCE_WORDS:
        return [sentence]
    step = MAX_SENTENCE_WORDS // 2 + MAX_SENTENCE_WORDS // 4
    return [" ".join(words[i : i + step]) for i in range(0, len(words), step)]


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


def content_terms(text: str) -> list[str]:
    """Stemmed content words (stopwords removed), in order, duplicates kept."""
    return [stem(w) for w in words(text) if w not in STOPWORDS]
