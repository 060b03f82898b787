"""Composing an answer that answers the question: the answer plan and the rules every released
sentence meets.

**The plan** (``question_shape`` + ``plan_answer``). On the embedded model the answer is composed
from the syllabus: the question's kind decides which syllabus sentences, of the retrieved passages,
answer it and in which order, and those sentences are drafted (and verified, like any sentence)
before the model's own:

* definition ("What is osmosis?"): the sentence that defines the subject, a further sentence about
  it, an example of it;
* comparison ("What is the difference between classical and operant conditioning?"): a sentence
  on each side (both, always both when the passages have them), then one that sets them side by
  side;
* process ("How does DNA replicate?", "What are the stages of mitosis?"): what the process is, then
  its steps in the order the book gives them;
* cause and effect ("Why...?", "What causes...?"): sentences that state a cause or a result;
* example ("Give an example of..."): what the subject is, then sentences that give examples;
* naming, a definition asked the other way round ("Which term refers to...?", "... is called
  ____"): the sentence that names what the question describes ("... are called sister taxa");
* anything else: the sentences that match the question best.

Rules, not a model: a 135M model cannot plan an answer, and rules can be read and tested.

**The rules** (``stands_apart``, ``composition_omission``). A sentence can be supported by the
syllabus and cited and still be no use where it lands: "The previous section of this chapter
focused on..." points at a page the student does not have open, "learning: change in behavior..."
is a glossary line, not a sentence, and a sentence shown twice (or nearly: the same content words)
says nothing new. The plan never chooses such a sentence; at release a supported sentence that
breaks a rule is kept with its verdict (the audit trail is whole) but not shown. The first two
rules are the ones revision candidates are held to (``verification.revision.stands_alone``), so a
revision, a planned sentence and a drafted sentence meet the same bar.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Literal

from curriculum.text import STOPWORDS, bm25_idf, bm25_weight, content_terms, split_sentences, words
from verification.revision import is_fragment, leans_on_lost_context

from .graph.sentence_stream import repeats_earlier

Omission = Literal["fragment", "lost_context", "repeat", "off_plan"]
"""Why a supported sentence was kept back: not a sentence, leaning on context it lost, a repeat,
or (in a planned answer) a revision of the model's sentence, a syllabus sentence chosen for the
draft's words rather than for the question."""

QuestionKind = Literal["definition", "naming", "comparison", "process", "cause", "example", "general"]

# --- near-duplicates ---------------------------------------------------------------------------------

# A sentence repeats an earlier one when most of its content words are the earlier one's:
# "Organisms learn to associate a behavior and its consequence in operant conditioning." after
# "In operant conditioning, organisms learn to associate a behavior and its consequence."
DUPLICATE_OVERLAP = 0.8


def near_duplicate(sentence: str, earlier: Sequence[str]) -> bool:
    """Whether ``sentence`` says nothing that one of ``earlier`` did not: most of its words, or
    most of its content words (stemmed: "moves" and "moved" are one), are already there. A longer
    sentence that adds to an earlier one is not a repeat."""
    if repeats_earlier(sentence, list(earlier)):
        return True
    own = set(content_terms(sentence))
    if not own:
        return True
    return any(len(own & set(content_terms(previous))) / len(own) >= DUPLICATE_OVERLAP for previous in earlier)


def composition_omission(text: str, *, shown: Sequence[str]) -> Omission | None:
    """Why a supported sentence must not be released after ``shown`` (the sentences already
    released, in order), or None when it may be."""
    if is_fragment(text):
        return "fragment"
    if leans_on_lost_context(text) or narrates(text):
        return "lost_context"
    if near_duplicate(text, shown):
        return "repeat"
    return None


# --- the question ------------------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class QuestionShape:
    """What kind of answer a question asks for, and what it is about."""

    kind: QuestionKind
    subjects: tuple[str, ...]
    """What the answer is about, as the question words it: two sides for a comparison, one
    subject otherwise ("" when the question names none apart from its kind)."""

    @property
    def subject(self) -> str:
        return self.subjects[0] if self.subjects else ""


_END = r"\s*[?.!]*\s*$"
_COMPARISON = [
    re.compile(p, re.IGNORECASE)
    for p in (
        r"\b(?:differences?|distinguish(?:es)?|distinction|similarit(?:y|ies)|contrast)\s+between\s+(?P<a>.+?)\s+and\s+(?P<b>.+?)"
        + _END,
        r"^(?:compare|contrast|distinguish)(?:\s+between)?\s+(?P<a>.+?)\s+(?:and|with|from|to)\s+(?P<b>.+?)" + _END,
        r"\bhow\s+(?:does|do|is|are|did)\s+(?P<a>.+?)\s+differ\s+from\s+(?P<b>.+?)" + _END,
        r"\bhow\s+(?:is|are)\s+(?P<a>.+?)\s+different\s+from\s+(?P<b>.+?)" + _END,
        r"\bhow\s+(?:do|are|is)\s+(?P<a>.+?)\s+and\s+(?P<b>.+?)\s+(?:differ|different|similar|alike|compare)" + _END,
        r"\bwhat\s+do\s+(?P<a>.+?)\s+and\s+(?P<b>.+?)\s+have\s+in\s+common" + _END,
        r"^(?:what\s+(?:is|are)\s+)?(?P<a>.+?)\s+(?:vs\.?|versus)\s+(?P<b>.+?)" + _END,
    )
]
_EXAMPLE = re.compile(
    r"\b(?:give|name|list|what\s+(?:is|are))\s+(?:an?\s+|some\s+|one\s+|two\s+|three\s+)?(?:examples?|instances?)\s+of\s+(?P<s>.+?)"
    + _END
    + r"|\b(?:examples?|instances?)\s+of\s+(?P<t>.+?)"
    + _END
    + r"|\b(?:give|show|name)\s+(?:me\s+)?(?:an?|another|some|one)\s+(?:more\s+)?examples?\b",
    re.IGNORECASE,
)
_PROCESS = re.compile(
    r"^(?:how\s+(?:does|do|is|are|did|can)\b.*?\b(?:work|happen|occur|form|formed|made|produced|synthesi[sz]ed|"
    r"take\s+place|develop|replicate|proceed|carried\s+out|transported|divide|move)\b"
    r"|(?:what|which)\s+(?:are|is)\s+the\s+(?:steps|stages|phases|sequence|order|process|events)\b"
    r"|(?:describe|explain|outline)\s+(?:the\s+)?(?:process|steps|stages|phases|sequence)\b"
    r"|what\s+happens\s+(?:during|in)\b|in\s+what\s+order\b|explain\s+how\b)",
    re.IGNORECASE,
)
_CAUSE = re.compile(
    r"^why\b|\bhow\s+come\b|\bwhat\s+(?:causes|caused|cause|leads?\s+to|results?\s+in|triggers?|drives?)\b"
    r"|\bwhat\s+(?:is|are|was|were)\s+the\s+(?:causes?|effects?|results?|consequences?|reasons?)\b"
    r"|\bwhat\s+happens\s+(?:when|if)\b|\bhow\s+(?:does|do|did)\b.*\b(?:affect|influence|change)\b"
    r"|\b(?:effects?|consequences?|causes?)\s+of\b",
    re.IGNORECASE,
)
_DEFINITION = re.compile(
    r"^(?:what|who)\s+(?:is|are|was|were)\s+(?P<s>.+?)"
    + _END
    + r"|^define\s+(?P<t>.+?)"
    + _END
    + r"|^what\s+(?:does|do)\s+(?:the\s+(?:term|word)\s+)?(?P<u>.+?)\s+(?:mean|do|refer\s+to)"
    + _END
    + r"|\b(?:meaning|definition)\s+of\s+(?:the\s+(?:term|word)\s+)?(?P<v>.+?)"
    + _END
    + r"|^what\s+is\s+meant\s+by\s+(?P<w>.+?)"
    + _END,
    re.IGNORECASE,
)
# A definition asked the other way round: the description given, the term wanted ("Which term
# refers to lineages that diverged from the same place?", "... is called ________").
_NAMING_QUESTION = re.compile(
    r"\b(?:which|what)\s+(?:term|word|name)\b|\bwhat\s+is\s+the\s+(?:term|name)\s+for\b"
    r"|\b(?:is|are)\s+(?:called|known\s+as|termed|referred\s+to\s+as)\s*(?:what|_{2,})?\s*[?.]*\s*$",
    re.IGNORECASE,
)
# "What is the function of X" is about X: the words naming the kind of answer go.
_LEADING = re.compile(
    r"^(?:(?:an?|the|some|one)\s+)?(?:(?:main|primary|basic|key)\s+)?"
    r"(?:(?:function|role|purpose|job|meaning|definition|structure|term|concept|idea|process|steps?|stages?|"
    r"phases?|sequence|causes?|effects?|results?|consequences?)\s+(?:of|for|in)\s+)?(?:(?:an?|the)\s+)?",
    re.IGNORECASE,
)


def _clean_subject(text: str) -> str:
    text = re.sub(r"[?.!,;:]+$", "", text.strip())
    return _LEADING.sub("", text).strip()


def question_shape(question: str) -> QuestionShape:
    """The kind of answer ``question`` asks for and its subject(s); rules on the wording.

    A follow-up joined to the question it follows ("What is acceleration? Give an example.") asks
    for the kind of answer of its last sentence about the subject of the earlier one when the last
    names none of its own."""
    parts = split_sentences(" ".join(question.split()))
    last = _shape_of(parts[-1]) if parts else QuestionShape(kind="general", subjects=("",))
    if len(parts) > 1 and not any(content_terms(s) for s in last.subjects):
        earlier = _shape_of(" ".join(parts[:-1]))
        return QuestionShape(kind=earlier.kind if last.kind == "general" else last.kind, subjects=earlier.subjects)
    return last


def _shape_of(asked: str) -> QuestionShape:
    for pattern in _COMPARISON:
        match = pattern.search(asked)
        if match:
            a, b = _clean_subject(match.group("a")), _clean_subject(match.group("b"))
            # "classical and operant conditioning": both sides share the head noun.
            if a and b and len(a.split()) == 1 and len(b.split()) > 1:
                a = f"{a} {' '.join(b.split()[1:])}"
            if a and b and content_terms(a) and content_terms(b):
                return QuestionShape(kind="comparison", subjects=(a, b))
    match = _EXAMPLE.search(asked)
    if match:
        return QuestionShape(kind="example", subjects=(_clean_subject(match.group("s") or match.group("t") or ""),))
    if _PROCESS.search(asked):
        return QuestionShape(kind="process", subjects=(_topic_of(asked),))
    if _CAUSE.search(asked):
        return QuestionShape(kind="cause", subjects=(_topic_of(asked),))
    if _NAMING_QUESTION.search(asked):
        return QuestionShape(kind="naming", subjects=(_topic_of(asked),))
    match = _DEFINITION.search(asked)
    if match:
        named = next(g for g in match.groups() if g)
        return QuestionShape(kind="definition", subjects=(_clean_subject(named),))
    return QuestionShape(kind="general", subjects=(_topic_of(asked),))


_QUESTION_WORDS = frozenset(
    """why how come what which when where who does do did happen happens occur occurs work works cause causes
    caused effect effects result results step steps stage stages phase phases process describe explain
    outline sequence order reason reasons consequence consequences lead leads affect affects influence
    statement statements true false correct incorrect best describes term following likely accurate
    refers refer called known name word""".split()
)


def _topic_of(question: str) -> str:
    """The question's content words without those naming the kind of answer it asks for."""
    return " ".join(w for w in words(question) if w not in _QUESTION_WORDS and w not in STOPWORDS)


# --- the candidates ----------------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class SourcePassage:
    """A retrieved passage the plan may quote: its prompt number and text."""

    number: int
    text: str


@dataclass(frozen=True, kw_only=True)
class PlannedSentence:
    """A syllabus sentence chosen for the answer."""

    text: str
    passage: int
    """The number of the passage it is quoted from (its citation marker)."""
    role: str
    """Its place in the plan: "definition", "side 1", "contrast", "step", "cause", "example"..."""


# Syllabus sentences this short are labels; this long, paragraphs the splitter could not cut.
MIN_SENTENCE_WORDS = 5
MAX_SENTENCE_WORDS = 45
# Cross-references into a book the student may not have open: dropped from a quoted sentence.
_FIGURE_REFERENCE = re.compile(
    r"\s*\((?:see\s+)?(?:Figure|Table|Fig\.)[^)]*\)"
    # the panels of a figure: "sketched the first tree in 1837 (a)", "(b and c)", "(a–d)"
    r"|(?-i:\s*\([a-h](?:\s*(?:,|and|-|–)\s*[a-h])*\)(?=[\s.,;:]))"
    r"|\s*\((?:left|right|top|bottom|inset|center|middle)\)(?=[\s.,;:])",
    re.IGNORECASE,
)
_DEFINING_VERB = frozenset("is are was were refers refer means mean describes describe consists".split())
_NAMING = re.compile(
    r"\b(?:called|known\s+as|termed|referred\s+to\s+as|defined\s+as|is\s+the\s+name\s+for|refers?\s+to)\b", re.I
)
_EXAMPLE_CUE = re.compile(
    r"\b(?:for\s+example|for\s+instance|such\s+as|e\.g\.|an\s+example|examples?\s+(?:of|include|are)|include|includes|including)\b",
    re.IGNORECASE,
)
_CAUSAL_CUE = re.compile(
    r"\b(?:because|causes?|caused|causing|results?\s+(?:in|from)|resulting|leads?\s+to|led\s+to|due\s+to|"
    r"therefore|consequently|so\s+that|triggers?|produces?|allows?|enables?|prevents?|increases?|decreases?|"
    r"when|if|effect|response)\b",
    re.IGNORECASE,
)
_SEQUENCE_CUE = re.compile(
    r"\b(?:first|second|third|then|next|finally|after|before|during|begins?|ends?|followed|subsequently|"
    r"stages?|steps?|phases?|process|occurs?|forms?|produces?|until|once|later|eventually)\b",
    re.IGNORECASE,
)
_CONTRAST_CUE = re.compile(
    r"\b(?:whereas|while|unlike|in\s+contrast|differs?|different|difference|both|compared|rather\s+than|but|however)\b",
    re.IGNORECASE,
)


@dataclass(frozen=True, kw_only=True)
class _Candidate:
    text: str
    passage: int
    order: int
    """Position across the passages in retrieval order (passage rank, then sentence)."""
    terms: frozenset[str]
    relevance: float


# The book talking about itself: "Now we turn to the second type of...", "In this section you
# will learn...", "Let us look at...". True in the book, no use in an answer.
_NARRATION = re.compile(
    r"^(?:now\s+|next\s+|first\s+|finally\s+)?(?:we|let'?s|let\s+us|you)\s+(?:will\s+|can\s+|now\s+|have\s+|shall\s+)?"
    r"(?:turn|look|consider|examine|discuss|explore|return|begin|start|see|saw|seen|learn|learned|study|focus|review)\b"
    r"|\b(?:in|this)\s+(?:this\s+)?(?:section|chapter|module|unit)\b"
    r"|\bthe\s+(?:first|second|third|fourth|next|other|last)\s+(?:type|kind|form|example|step)\s+of\b"
    # "In the equation below", "... as follows the following:": what is below is not in the answer
    r"|\b(?:equations?|reactions?|examples?|lists?|steps?|formulas?)\s+(?:below|above)\b|\bthe\s+following\s*[:.]"
    # a figure link the importer dropped: "the amoeba, shown in, ..."
    r"|\b(?:shown|seen|illustrated|depicted|see)\s+in\s*[,.;)]"
    r"|^(?:finally|lastly)\b",
    re.IGNORECASE,
)


def narrates(sentence: str) -> bool:
    """Whether the sentence is the book talking about its own layout or the reader's progress."""
    return bool(_NARRATION.search(sentence))


def quotable(sentence: str) -> str | None:
    """The sentence as it may be shown on its own, or None when it may not: a glossary line or
    heading, a sentence leaning on lost context, a question, a label or a paragraph."""
    cleaned = _FIGURE_REFERENCE.sub("", sentence).strip()
    n_words = len(cleaned.split())
    if not MIN_SENTENCE_WORDS <= n_words <= MAX_SENTENCE_WORDS or cleaned.endswith("?"):
        return None
    if is_fragment(cleaned) or leans_on_lost_context(cleaned) or narrates(cleaned):
        return None
    return cleaned


def _candidates(question: str, shape: QuestionShape, passages: Sequence[SourcePassage]) -> list[_Candidate]:
    found: list[tuple[str, int, frozenset[str]]] = []
    seen: set[str] = set()
    for passage in passages:
        for sentence in split_sentences(passage.text):
            cleaned = quotable(sentence)
            if cleaned is None or cleaned in seen:
                continue
            seen.add(cleaned)
            found.append((cleaned, passage.number, frozenset(content_terms(cleaned))))
    query = set(content_terms(question)) | {t for s in shape.subjects for t in content_terms(s)}
    if not found or not query:
        return []
    # BM25 of the question over the candidate sentences (each sentence a document).
    n = len(found)
    document_frequency = {t: sum(1 for _, _, terms in found if t in terms) for t in query}
    average_length = sum(len(terms) for _, _, terms in found) / n
    ranked: list[_Candidate] = []
    for order, (text, number, terms) in enumerate(found):
        counts = content_terms(text)
        score = 0.0
        for term in query & terms:
            score += float(
                bm25_weight(
                    float(counts.count(term)),
                    idf=bm25_idf(n, float(document_frequency[term])),
                    length=float(len(counts)),
                    average_length=average_length,
                )
            )
        # A sentence without the question's words stays a candidate (ranked last): a process's
        # steps rarely repeat the process's name.
        ranked.append(_Candidate(text=text, passage=number, order=order, terms=terms, relevance=score))
    best = max(c.relevance for c in ranked) or 1.0
    # On a 0..1 scale, with a small preference for the passages retrieval ranked first.
    return sorted(
        (
            _Candidate(
                text=c.text,
                passage=c.passage,
                order=c.order,
                terms=c.terms,
                relevance=c.relevance / best - 0.02 * (c.passage - 1),
            )
            for c in ranked
        ),
        key=lambda c: (-c.relevance, c.order),
    )


def _subject_terms(subject: str) -> frozenset[str]:
    return frozenset(content_terms(subject))


def _mentions(candidate: _Candidate, subject: frozenset[str]) -> bool:
    return bool(subject) and subject <= candidate.terms


def _defines(candidate: _Candidate, subject: frozenset[str]) -> bool:
    """The sentence says what the subject is: "Osmosis is the movement of water...", "... is
    called osmosis", "Operant conditioning refers to..."."""
    if not _mentions(candidate, subject):
        return False
    tokens = words(candidate.text)
    for i, token in enumerate(tokens[:14]):
        if token in _DEFINING_VERB:
            # The subject, and nothing else, before the verb: "Both classical and operant
            # conditioning are..." defines neither.
            return set(content_terms(" ".join(tokens[:i]))) == subject
    naming = _NAMING.search(candidate.text)
    return naming is not None and subject <= set(content_terms(candidate.text[naming.end() :]))


# --- the plan ----------------------------------------------------------------------------------------

PLAN_SENTENCES: dict[QuestionKind, int] = {
    "definition": 3,
    "naming": 3,
    "comparison": 3,
    "process": 4,
    "cause": 3,
    "example": 3,
    "general": 3,
}
"""At most this many planned sentences per kind (and never more than the learner's budget)."""
MIN_PLAN_SENTENCES = 2
"""Fewer than this from the kind's own slots, and the best-matching sentences fill the plan."""
MIN_RELEVANCE = 0.3
"""A filling sentence matches the question at least this well (BM25, the best sentence being 1)."""


class _Plan:
    def __init__(self, candidates: list[_Candidate], limit: int) -> None:
        self.candidates = candidates
        self.limit = limit
        self.chosen: list[tuple[_Candidate, str]] = []

    def full(self) -> bool:
        return len(self.chosen) >= self.limit

    def take(self, role: str, test: Callable[[_Candidate], bool], *, count: int = 1) -> list[_Candidate]:
        """The best ``count`` unused candidates passing ``test``, recorded under ``role``."""
        taken: list[_Candidate] = []
        for candidate in self.candidates:
            if self.full() or len(taken) >= count:
                break
            if any(candidate is c for c, _ in self.chosen):
                continue
            if not test(candidate):
                continue
            if near_duplicate(candidate.text, [c.text for c, _ in self.chosen]):
                continue
            self.chosen.append((candidate, role))
            taken.append(candidate)
        return taken


def plan_answer(
    *, question: str, passages: Sequence[SourcePassage], budget: int, shape: QuestionShape | None = None
) -> list[PlannedSentence]:
    """The syllabus sentences that answer ``question``, in answer order, at most ``budget``."""
    shape = shape or question_shape(question)
    candidates = _candidates(question, shape, passages)
    plan = _Plan(candidates, min(budget, PLAN_SENTENCES[shape.kind]))
    subject = _subject_terms(shape.subject)
    if shape.kind == "comparison":
        first, second = (_subject_terms(s) for s in shape.subjects)
        _take_side(plan, "side 1", first, second)
        _take_side(plan, "side 2", second, first)

        def contrasts(c: _Candidate) -> bool:
            both = _mentions(c, first - second) and _mentions(c, second - first)
            return both or bool(_CONTRAST_CUE.search(c.text) and c.terms & (first | second))

        plan.take("contrast", contrasts)
        plan.take("detail", lambda c: bool(c.terms & (first | second)))
    elif shape.kind == "process":
        # Steps are told in the passages about the process, often without naming it again.
        about = {c.passage for c in candidates if _related(c, subject)}
        plan.take("definition", lambda c: _defines(c, subject))
        plan.take("step", lambda c: bool(_SEQUENCE_CUE.search(c.text)) and c.passage in about, count=plan.limit)
        plan.take("step", lambda c: _related(c, subject), count=plan.limit)
    elif shape.kind == "cause":
        plan.take("cause", lambda c: bool(_CAUSAL_CUE.search(c.text)) and _related(c, subject), count=2)
        plan.take("detail", lambda c: _related(c, subject), count=plan.limit)
    elif shape.kind == "example":
        plan.take("definition", lambda c: _defines(c, subject))
        plan.take("example", lambda c: bool(_EXAMPLE_CUE.search(c.text)) and _related(c, subject), count=2)
        plan.take("detail", lambda c: _mentions(c, subject), count=plan.limit)
    elif shape.kind == "naming":
        # The sentence that gives the description its name: "... are called sister taxa".
        plan.take("definition", lambda c: bool(_NAMING.search(c.text)) and c.relevance >= MIN_RELEVANCE)
    elif shape.kind == "definition":
        if not plan.take("definition", lambda c: _defines(c, subject)):
            plan.take("definition", lambda c: _mentions(c, subject))
        # Further sentences name the subject itself: one that shares a word with it is often about
        # a neighbouring concept ("the amygdala" in an answer about the hippocampus).
        plan.take("detail", lambda c: _mentions(c, subject))
        plan.take("example", lambda c: bool(_EXAMPLE_CUE.search(c.text)) and _mentions(c, subject))
        plan.take("detail", lambda c: _mentions(c, subject), count=plan.limit)
    else:
        plan.take("definition", lambda c: _defines(c, subject) and c.relevance >= 0.5)
    if len(plan.chosen) < MIN_PLAN_SENTENCES:
        # The kind's own slots found too little: the sentences that match the question best.
        plan.take("answer", lambda c: c.relevance >= MIN_RELEVANCE, count=plan.limit)
    return _ordered(shape.kind, plan.chosen)


def _take_side(plan: _Plan, role: str, side: frozenset[str], other: frozenset[str]) -> None:
    """One side of a comparison: the sentence that defines it, else one about it alone, else any
    about it."""
    if plan.take(role, lambda c: _defines(c, side)):
        return
    if plan.take(role, lambda c: _mentions(c, side) and not _mentions(c, other)):
        return
    plan.take(role, lambda c: _mentions(c, side))


def _related(candidate: _Candidate, subject: frozenset[str]) -> bool:
    """Shares at least half the subject's words (when the question names no subject: any of the
    question's)."""
    if not subject:
        return candidate.relevance > 0
    return 2 * len(candidate.terms & subject) >= len(subject)


_ROLE_ORDER = {"definition": 0, "side 1": 1, "side 2": 2, "contrast": 3, "cause": 4, "step": 5, "answer": 5}


def _ordered(kind: QuestionKind, chosen: list[tuple[_Candidate, str]]) -> list[PlannedSentence]:
    """Answer order: what the subject is first, a comparison's sides before their contrast, a
    process's steps in the book's order; further detail, then examples, last."""

    def place(item: tuple[_Candidate, str]) -> tuple[int, int]:
        candidate, role = item
        if kind == "process" and role != "definition":
            return (5, candidate.order)
        return (_ROLE_ORDER.get(role, 8 if role == "detail" else 9), 0)

    return [
        PlannedSentence(text=candidate.text, passage=candidate.passage, role=role)
        for candidate, role in sorted(chosen, key=place)
    ]
