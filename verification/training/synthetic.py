"""Synthetic (claim, passage, label) pairs from syllabus CNXML.

A sentence of a module is supported by that module; so is a clause-trimmed copy of it. Altered
copies are not: a changed number, a key term swapped for another term of the book (the way a
wrong multiple-choice answer differs from the keyed one), a flipped negation or antonym, or a
lexically similar sentence taken from another module. Every alteration is checked to have
actually changed the sentence; all randomness comes from the caller's seeded `random.Random`.
"""

from __future__ import annotations

import random
import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path

from verification.checks.negation import ANTONYMS
from verification.checks.numbers import extract_numbers
from verification.entailment.text import content_terms, split_sentences

_NS = "{http://cnx.rice.edu/cnxml}"
_SKIP = {f"{_NS}exercise", f"{_NS}metadata", f"{_NS}glossary", f"{_NS}media"}
_AUXILIARIES = re.compile(r"\b(is|are|was|were|can|will|does|do|did|has|have|should|could|must)\b")
_NEGATED = re.compile(r"\b(is|are|was|were|can|will|does|do|did|has|have|should|could|must) not\b|\bcannot\b")
_FLIP = {**ANTONYMS, **{v: k for k, v in ANTONYMS.items()}}


@dataclass(frozen=True, kw_only=True)
class Module:
    module_id: str
    text: str
    terms: tuple[str, ...]
    """Key terms (<term> elements) of the module, as written."""
    glossary: tuple[tuple[str, str], ...] = ()
    """(term, meaning) of the module's glossary; its text is not part of `text`."""


@dataclass(frozen=True, kw_only=True)
class Pair:
    claim: str
    passage: str
    label: int
    source: str
    kind: str
    """How the pair was made (copy, trimmed, number, term, negation, other_module, ...)."""


def parse_module(path: Path) -> Module:
    """Paragraph text of one CNXML module, exercises/figures/glossary removed."""
    root = ET.parse(path).getroot()
    paragraphs: list[str] = []
    terms: list[str] = []

    def walk(element: ET.Element) -> None:
        if element.tag in _SKIP:
            return
        if element.tag == f"{_NS}para":
            text = " ".join("".join(element.itertext()).split())
            if text:
                paragraphs.append(text)
            terms.extend(" ".join("".join(t.itertext()).split()) for t in element.iter(f"{_NS}term"))
            return
        for child in element:
            walk(child)

    content = root.find(f"{_NS}content")
    if content is not None:
        walk(content)
    glossary: list[tuple[str, str]] = []
    for definition in root.iter(f"{_NS}definition"):
        term, meaning = definition.find(f"{_NS}term"), definition.find(f"{_NS}meaning")
        if term is not None and meaning is not None:
            pair = (" ".join("".join(term.itertext()).split()), " ".join("".join(meaning.itertext()).split()))
            if 2 < len(pair[0]) < 40 and len(pair[1].split()) >= 4:
                glossary.append(pair)
    return Module(
        module_id=path.parent.name,
        text="\n".join(paragraphs),
        terms=tuple(dict.fromkeys(t for t in terms if 2 < len(t) < 40)),
        glossary=tuple(glossary),
    )


def load_modules(modules_dir: Path) -> list[Module]:
    paths = sorted(modules_dir.glob("*/index.cnxml"))
    if not paths:
        raise FileNotFoundError(f"no */index.cnxml under {modules_dir}")
    modules = [parse_module(p) for p in paths]
    return [m for m in modules if len(m.text.split()) >= 100]


def _change_number(sentence: str, rng: random.Random) -> str | None:
    mentions = [m for m in extract_numbers(sentence, include_words=False) if m[0].strip()[0].isdigit()]
    if not mentions:
        return None
    surface, value = rng.choice(mentions)
    digits = surface.strip().split()[0]
    factor = rng.choice([2, 3, 10, 0.5])
    new_value = value * factor if value != 0 else 1
    new_digits = f"{new_value:.10g}" if "." in digits else f"{round(new_value):d}"
    if "," in digits:
        new_digits = f"{int(float(new_digits)):,}"
    if new_digits == digits:
        new_digits = str(int(float(value)) + rng.randint(1, 9))
    return sentence.replace(digits, new_digits, 1)


def _terms_in(sentence: str, term_index: dict[str, str]) -> list[str]:
    """Book terms (1-3 word n-grams of the sentence) present in the sentence, as written there."""
    tokens = re.findall(r"[A-Za-z][\w-]*", sentence)
    found = []
    for n in (3, 2, 1):
        for i in range(len(tokens) - n + 1):
            gram = " ".join(tokens[i : i + n])
            if gram.lower() in term_index and len(gram) > 3:
                found.append(gram)
    return found


def _swap_term(
    sentence: str, module: Module, term_index: dict[str, str], all_terms: list[str], rng: random.Random
) -> tuple[str, str, str] | None:
    """(altered sentence, old term, new term) or None when the sentence has no book term."""
    present = _terms_in(sentence, term_index)
    if not present:
        return None
    old = rng.choice(present)
    # Half the time a term of the same module: it is in the passage, so only reading the sentence
    # (not spotting an unknown word) tells the pair apart, like a good distractor.
    pool = list(module.terms) if rng.random() < 0.5 else all_terms
    pool = [t for t in pool if t.lower() != old.lower() and t.lower() not in sentence.lower()]
    if not pool:
        return None
    new = rng.choice(pool)
    return re.sub(r"\b" + re.escape(old) + r"\b", new, sentence, count=1), old, new


def _flip_polarity(sentence: str, rng: random.Random) -> str | None:
    if _NEGATED.search(sentence):
        return _NEGATED.sub(lambda m: m.group(1) or "can", sentence, count=1)
    flippable = [w for w in re.findall(r"\b[a-z]+\b", sentence) if w in _FLIP]
    if flippable and rng.random() < 0.5:
        word = rng.choice(flippable)
        return re.sub(r"\b" + word + r"\b", _FLIP[word], sentence, count=1)
    if _AUXILIARIES.search(sentence):
        return _AUXILIARIES.sub(lambda m: m.group(1) + " not", sentence, count=1)
    return None


def _trim_clause(sentence: str) -> str | None:
    """The sentence cut before a trailing clause: still entailed by the full sentence."""
    cut = max(sentence.rfind(", which"), sentence.rfind(", and"), sentence.rfind(", such as"), sentence.rfind("; "))
    if cut < 0 or len(sentence[:cut].split()) < 7:
        return None
    return sentence[:cut].rstrip(" ,;") + "."


def _qa_pair(sentence: str, old: str, new: str, *, supported: bool) -> str:
    """A cloze review question: the sentence with a term blanked, and the keyed or a wrong answer."""
    blanked = re.sub(r"\b" + re.escape(old) + r"\b", "____", sentence, count=1).rstrip(".")
    return f"Question: Which term completes the statement: {blanked}? Answer: {old if supported else new}"


def synthetic_pairs(modules: list[Module], *, per_module: int, rng: random.Random) -> list[Pair]:
    """About `per_module` pairs from each module, ~45% supported."""
    all_terms = sorted({t for m in modules for t in m.terms})
    term_index = {t.lower(): t for t in all_terms}
    module_sentences = [
        [s for s in split_sentences(m.text) if 8 <= len(s.split()) <= 45 and not s.endswith("?")] for m in modules
    ]
    pairs: list[Pair] = []

    def other_module_sentence(mi: int, vocabulary: set[str]) -> str | None:
        """A sentence of another module sharing the most words with this one (of 12 tried)."""
        best, best_overlap = None, -1
        for _ in range(12):
            oi = rng.randrange(len(modules))
            if oi == mi or not module_sentences[oi]:
                continue
            candidate = rng.choice(module_sentences[oi])
            overlap = len(set(content_terms(candidate)) & vocabulary)
            if overlap > best_overlap:
                best, best_overlap = candidate, overlap
        return None if best is None or best in modules[mi].text else best

    for mi, module in enumerate(modules):
        sentences = module_sentences[mi]
        if not sentences:
            continue
        vocabulary = set(content_terms(module.text))

        def add(claim: str, label: int, kind: str, passage: str = module.text) -> None:
            pairs.append(Pair(claim=claim, passage=passage, label=label, source="syllabus", kind=kind))

        for _ in range(per_module):
            sentence = rng.choice(sentences)
            roll = rng.random()
            if roll < 0.15:
                add(sentence, 1, "copy")
                continue
            if roll < 0.32:
                trimmed = _trim_clause(sentence)
                add(trimmed or sentence, 1, "trimmed" if trimmed else "copy")
                continue
            if roll < 0.46:
                swap = _swap_term(sentence, module, term_index, all_terms, rng)
                if swap is not None:
                    supported = rng.random() < 0.5
                    add(_qa_pair(sentence, swap[1], swap[2], supported=supported), int(supported), "qa")
                    continue
            # Negatives: try the alterations in a random order, another module's sentence last.
            attempts = ["term", "term", "number", "negation"]
            rng.shuffle(attempts)
            claim, kind = None, "other_module"
            for attempt in dict.fromkeys(attempts):
                if attempt == "term":
                    swap = _swap_term(sentence, module, term_index, all_terms, rng)
                    claim = swap[0] if swap else None
                elif attempt == "number":
                    claim = _change_number(sentence, rng)
                else:
                    claim = _flip_polarity(sentence, rng)
                if claim is not None and claim != sentence:
                    kind = attempt
                    break
                claim = None
            if claim is None or rng.random() < 0.2:
                claim, kind = other_module_sentence(mi, vocabulary), "other_module"
            if claim is not None:
                add(claim, 0, kind)
    return pairs


def _definition_claim(term: str, meaning: str, rng: random.Random) -> str:
    """A glossary entry as a claim, in one of the forms a student or a review question states it."""
    # A glossary meaning may run on after a semicolon ("...; also called ..."): the first part reads as a claim.
    meaning = meaning.split(";")[0].rstrip(". ")
    form = rng.randrange(3)
    if form == 0:
        return f"The term {term} refers to {meaning}."
    if form == 1:
        return f"{meaning[0].upper()}{meaning[1:]} is known as {term}."
    return f"Question: Which term describes {meaning}? Answer: {term}"


def glossary_pairs(modules: list[Module], *, per_module: int, rng: random.Random) -> list[Pair]:
    """Definition pairs from each module's glossary, against the module's prose (glossary removed).

    The supported claim restates the book's definition in other words than the prose that defines
    the term; the unsupported one binds the same definition to another term of the same module, so
    every word of it is in the passage. Together they teach what word overlap cannot: which term the
    definition belongs to (the one-word swap a paraphrase must be told from)."""
    pairs: list[Pair] = []
    for module in modules:
        lowered = module.text.lower()
        entries = [(t, m) for t, m in module.glossary if t.lower() in lowered]
        if len(entries) < 2:
            continue
        for term, meaning in rng.sample(entries, min(per_module, len(entries))):
            supported = rng.random() < 0.5
            others = [t for t, _ in entries if t.lower() != term.lower()]
            if not supported:
                if not others:
                    continue
                term = rng.choice(others)
            claim = _definition_claim(term, meaning, rng)
            pairs.append(
                Pair(claim=claim, passage=module.text, label=int(supported), source="syllabus", kind="glossary")
            )
    return pairs
