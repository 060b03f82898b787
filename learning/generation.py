"""Questions made from the syllabus where the book has none: clozes on key-term sentences.

Pure: the service gives it the book's passages in book order and verifies each candidate before
storing it. Key terms are the book's glossary entries ("term: meaning" lines, as the OpenStax importer
writes a module's glossary, and as a Markdown glossary reads) and the subjects of definitions
("Osmosis is the diffusion of ..."). A question blanks a key term in a sentence of the section;
its distractors are other key terms of the book, those of the nearest chapters first, never one the
sentence itself uses or that contains (or is contained in) the key.
"""

import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass

from curriculum.text import PRACTICE_STOPWORDS

from .text import BLANK, passage_sentences, term_pattern

OPTIONS = 4
MIN_SENTENCE_CHARS = 40
MAX_SENTENCE_CHARS = 300
MAX_TERM_WORDS = 4
# A book with this many glossary entries has a glossary: its terms are the key terms.
MIN_GLOSSARY = 20

_GLOSSARY_LINE = re.compile(r"^\**(?P<term>[A-Za-z][\w' -]{1,60}?)\**\s*:\s+(?P<meaning>\S.{10,})$")
_DEFINITION = re.compile(
    r"^(?:An? |The )?(?P<term>[A-Z]?[a-z][a-z-]+(?: [a-z][a-z-]+){0,2}) (?:is|are|refers to) (?:the |an? )?\w"
)
_FIGURE_CAPTION = re.compile(r"^\(|\([a-d]\)")
# Sentence subjects that are not terms.
_NOT_TERMS = frozenset(
    "it this that these those there here they he she we you which what who one each some many most all "
    "another other such both either neither".split()
)


@dataclass(frozen=True, kw_only=True)
class BookPassage:
    chunk_id: int
    topic_id: int
    unit_position: int
    text: str


@dataclass(frozen=True, kw_only=True)
class KeyTerm:
    term: str
    unit_position: int


@dataclass(frozen=True, kw_only=True)
class Cloze:
    topic_id: int
    chunk_id: int
    sentence: str
    """The passage sentence, as the verifier checks it."""
    term: str
    stem: str
    choices: tuple[str, ...]
    answer_index: int
    filled: tuple[str, ...]
    """The sentence with each choice in the blank, in choice order: the key's must be supported by the
    passage, no other may be."""

    @property
    def source_id(self) -> str:
        digest = hashlib.sha1(f"{self.sentence}|{self.term}".encode()).hexdigest()[:16]
        return f"generated-cloze-{digest}"


def key_terms(passages: Sequence[BookPassage]) -> list[KeyTerm]:
    """The book's key terms, each once (first place it is defined), in book order: its glossary when it
    has one (a definition-shaped sentence, "Although creativity is ...", is too loose a signal beside
    it), else the subjects of its definitions."""
    glossary: dict[str, KeyTerm] = {}
    defined: dict[str, KeyTerm] = {}
    for passage in passages:
        for line in passage.text.splitlines():
            entry = _GLOSSARY_LINE.match(line.strip())
            if entry:
                _add(glossary, entry.group("term"), passage.unit_position)
        for sentence in passage_sentences(passage.text):
            definition = _DEFINITION.match(sentence)
            if definition:
                _add(defined, definition.group("term"), passage.unit_position)
    if len(glossary) >= MIN_GLOSSARY:
        return list(glossary.values())
    return list({**defined, **glossary}.values())


def _add(found: dict[str, KeyTerm], term: str, unit_position: int) -> None:
    term = " ".join(term.split()).strip(" -")
    words = term.lower().split()
    if (
        not words
        or len(words) > MAX_TERM_WORDS
        or words[0] in _NOT_TERMS
        or all(w in PRACTICE_STOPWORDS for w in words)
    ):
        return
    if len(term) < 3:
        return
    found.setdefault(term.lower(), KeyTerm(term=term.lower(), unit_position=unit_position))


def clozes(
    *, passages: Sequence[BookPassage], terms: Sequence[KeyTerm], topic_ids: set[int], per_topic: int
) -> list[Cloze]:
    """Up to ``per_topic`` cloze candidates for each topic in ``topic_ids``, one per key term, in book
    order. A sentence using the term once, of a readable length, is blanked there."""
    out: list[Cloze] = []
    made: dict[int, int] = {}
    used: set[tuple[int, str]] = set()
    # Longer terms first: "cell membrane" is the key of a sentence about cell membranes, not "cell".
    by_length = sorted(terms, key=lambda t: (-len(t.term), t.term))
    patterns = {t.term: term_pattern(t.term) for t in terms}  # a book has a thousand terms or more
    for passage in passages:
        if passage.topic_id not in topic_ids:
            continue
        for sentence in passage_sentences(passage.text):
            if made.get(passage.topic_id, 0) >= per_topic:
                break
            if not MIN_SENTENCE_CHARS <= len(sentence) <= MAX_SENTENCE_CHARS or ":" in sentence[:40]:
                continue
            if _FIGURE_CAPTION.search(sentence):
                continue  # "(a) ... (b) ...": a figure's caption, unreadable without the figure
            lowered = sentence.lower()
            used_here = [t for t in terms if t.term in lowered and patterns[t.term].search(lowered)]
            for term in by_length:
                if term.term not in lowered or any(term.term in t.term and term.term != t.term for t in used_here):
                    continue  # absent, or part of a longer term there ("plasma" in "plasma membrane")
                matches = list(patterns[term.term].finditer(sentence))
                if len(matches) != 1 or (passage.topic_id, term.term) in used:
                    continue
                distractors = _distractors(term, terms, {t.term for t in used_here}, passage.unit_position, sentence)
                if len(distractors) < OPTIONS - 1:
                    continue
                cloze = _cloze(passage, sentence, matches[0], term.term, distractors)
                out.append(cloze)
                used.add((passage.topic_id, term.term))
                made[passage.topic_id] = made.get(passage.topic_id, 0) + 1
                break
    return out


def _distractors(
    key: KeyTerm, terms: Sequence[KeyTerm], in_sentence: set[str], unit_position: int, sentence: str
) -> list[str]:
    candidates = [
        t
        for t in terms
        if t.term != key.term and t.term not in key.term and key.term not in t.term and t.term not in in_sentence
    ]

    # Nearest chapter first; within a chapter an order drawn from the sentence's hash, so questions of
    # one chapter do not all share the alphabet's first terms (reproducible all the same).
    def order(t: KeyTerm) -> tuple[int, str]:
        return (abs(t.unit_position - unit_position), hashlib.sha1(f"{sentence}|{t.term}".encode()).hexdigest())

    candidates.sort(key=order)
    return [t.term for t in candidates[: OPTIONS - 1]]


def _cloze(passage: BookPassage, sentence: str, match: re.Match[str], term: str, distractors: list[str]) -> Cloze:
    # The key's place among the options comes from the sentence's hash: spread, yet reproducible.
    position = int(hashlib.sha1(sentence.encode()).hexdigest(), 16) % OPTIONS
    choices = list(distractors)
    choices.insert(position, term)
    start, end = match.span()
    stem = f"Fill in the blank: {sentence[:start]}{BLANK}{sentence[end:]}"
    capital = start == 0
    filled = tuple(
        f"{sentence[:start]}{choice[:1].upper() + choice[1:] if capital else choice}{sentence[end:]}"
        for choice in choices
    )
    return Cloze(
        topic_id=passage.topic_id,
        chunk_id=passage.chunk_id,
        sentence=sentence,
        term=term,
        stem=stem,
        choices=tuple(choices),
        answer_index=position,
        filled=filled,
    )
