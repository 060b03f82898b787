"""Exam-style claims ("Question: ... Answer: ...", fill-in-the-blank) turned into statements.

A review-question claim is judged by whether its answer answers the stem, so two things follow:
the cross-encoder reads a declarative statement (the form every other training pair has), and the
evidence is chosen by the *stem* (the sentences that answer the question), not by the answer's
words: a distractor would otherwise pull in the sentences that mention the distractor and look
supported. The rules are deliberately simple and run identically at training and scoring time,
so where a rule cannot rephrase a question the model still sees the same fallback form it was
trained on.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_QA = re.compile(r"^\s*Question:\s*(?P<stem>.+?)\s*Answer:\s*(?P<answer>.+?)\s*$", re.DOTALL)
_BLANK = re.compile(r"_{2,}|\.{4,}|…{2,}")
_AUX = r"(?:is|are|was|were|can|could|does|do|did|has|have|had|will|would|should|may|might|must)"
# Only the copula is safe to move: "Which nerve does not control X?" has its subject elsewhere.
_COPULA = r"(?:is|are|was|were)"
# "What is X?" / "Who was X?" -> "X is A."
_WH_COPULA = re.compile(rf"^(?:what|who)\s+(?P<aux>{_COPULA})\s+(?P<rest>.+)$", re.IGNORECASE)
# "Which of the following ... is X?" / "Which (noun phrase) is X?" -> "A is X."
_WHICH = re.compile(
    rf"^(?:which|what)(?:\s+of\s+(?:the\s+following|these|those|the))?(?P<np>(?:\s+\S+){{0,6}}?)"
    rf"\s+(?P<aux>{_COPULA})\s+(?P<rest>.+)$",
    re.IGNORECASE,
)
# "The F plasmid is involved in which of the following processes?" -> "... involved in A."
_INNER_WH = re.compile(r"\s(?:which|what)\s+(?:of\s+the\s+following\s+)?(?:\w+\s+of\s+)?\w+", re.IGNORECASE)


@dataclass(frozen=True, kw_only=True)
class ClaimForm:
    statement: str
    """What the cross-encoder reads: the claim itself, or the QA claim rephrased as a statement."""
    focus: str
    """What evidence is selected by: the question stem for a QA claim, else the claim."""
    answer: str | None
    """The answer of a QA claim; None for a plain claim."""

    @property
    def is_question(self) -> bool:
        return self.answer is not None


def parse_claim(text: str) -> ClaimForm:
    """Split a "Question: ... Answer: ..." claim into stem and answer; other claims pass through."""
    match = _QA.match(text)
    if match is None:
        return ClaimForm(statement=text.strip(), focus=text.strip(), answer=None)
    stem = " ".join(match.group("stem").split())
    answer = " ".join(match.group("answer").split()).rstrip(".")
    return ClaimForm(statement=to_statement(stem, answer), focus=stem, answer=answer)


def to_statement(stem: str, answer: str) -> str:
    """A declarative sentence from a question stem and an answer, by rule."""
    if _BLANK.search(stem):
        # Fill-in-the-blank: the answer goes where the blank is.
        return _sentence(_BLANK.sub(answer, stem, count=1).rstrip("?"))
    if not stem.rstrip().endswith("?"):
        # An unfinished sentence ("The insulin produced by ... is"): the answer completes it.
        return _sentence(f"{stem.rstrip(' :')} {answer}")
    # Multi-sentence stems (a scenario, then the question): only the last sentence is rephrased.
    head, _, question = stem.rstrip("?").rpartition(". ")
    prefix = f"{head}. " if head else ""
    question = question.strip()
    which = _WHICH.match(question)
    if which is not None and which.group("np").strip():
        # "Which structure is found in ..." -> "A is the structure found in ...": keeping the noun
        # phrase keeps the question's category in the statement.
        noun = which.group("np").strip()
        return _sentence(f"{prefix}{_cap(answer)} {which.group('aux')} the {noun} {which.group('rest')}")
    copula = _WH_COPULA.match(question)
    if copula is not None:
        return _sentence(f"{prefix}{_cap(copula.group('rest'))} {copula.group('aux')} {answer}")
    if which is not None:
        return _sentence(f"{prefix}{_cap(answer)} {which.group('aux')} {which.group('rest')}")
    inner = _INNER_WH.search(question)
    if inner is not None and len(question[: inner.start()].split()) >= 2:
        return _sentence(f"{prefix}{question[: inner.start()]} {answer}{question[inner.end() :]}")
    # No rule applies: the question and its answer side by side, the form the model is trained on.
    return f"{prefix}{question}? {_sentence(_cap(answer))}"


def _cap(text: str) -> str:
    return text[:1].upper() + text[1:] if text else text


def _sentence(text: str) -> str:
    text = " ".join(text.split()).rstrip(" .")
    return _cap(text) + "."
