"""State of the answer graph: one student question on its way to a drafted, sentence-split answer."""

from dataclasses import dataclass, field
from typing import Literal

from learning.levels import TopicEvidence
from learning.selectors import Mistake


@dataclass(frozen=True, kw_only=True)
class Turn:
    """One earlier exchange of the conversation."""

    question: str
    """What the student asked."""
    answer: str
    """What the student was shown (released sentences only)."""


@dataclass(frozen=True, kw_only=True)
class LearnerContext:
    """What the answer adapts to."""

    level: str = "intermediate"
    """"beginner", "intermediate" or "advanced": sets depth, vocabulary and examples. Loaded as the
    student chose it; once retrieval knows the topic asked about, the student's mastery of that topic
    replaces it where practice has shown it (``learning.levels.level_for_topic``)."""
    topic_evidence: tuple[TopicEvidence, ...] = ()
    """The student's mastery estimate of each topic of this curriculum that practice has graded."""
    weak_topics: tuple[str, ...] = ()
    """Titles of topics the student has low mastery of: explained step by step when they come up."""
    recent_mistakes: tuple[Mistake, ...] = ()
    """Practice questions the student last answered wrong, newest first: the answer clears up the
    ones on its passages' topics."""


@dataclass(frozen=True, kw_only=True)
class Passage:
    """A retrieved syllabus passage as the prompt numbers it."""

    number: int
    """The [n] the model cites it by (1-based)."""
    chunk_id: int
    """Chunk primary key."""
    text: str
    """The passage text, after removing instruction-like lines."""
    topic: str
    """Topic title."""
    topic_path: str
    """"Unit › Topic"."""
    module: str
    """Source document id (OpenStax module id)."""
    similarity: float
    """Cosine similarity of question and passage."""


@dataclass(frozen=True, kw_only=True)
class DraftSentence:
    """A complete sentence of the draft, handed to the verifier as soon as it is generated."""

    index: int
    """Position in the answer, from 0."""
    text: str
    """The sentence without its [n] markers."""
    markers: tuple[int, ...] = ()
    """The passage numbers the model cited in it (for a planned sentence: the passage it quotes)."""
    source: Literal["model", "plan"] = "model"
    """Who wrote it: the model, or the answer plan quoting the syllabus (``tutor/composition.py``)."""


@dataclass(kw_only=True)
class AnswerState:
    """The answer graph's state."""

    question: str
    """The student's question as typed."""
    curriculum_id: int
    """The curriculum to answer from; retrieval never leaves it."""
    curriculum_title: str = ""
    """Shown in the prompt and in the off-syllabus reply."""
    student_id: int | None = None
    """For the learner context; None for anonymous CLI use."""
    history: list[Turn] = field(default_factory=list)
    """Earlier turns of this conversation, oldest first."""
    hint_first: bool = False
    """Offer a guiding question and a clue instead of the answer (``hint``); the full answer is a
    later ask without it."""
    learner: LearnerContext = field(default_factory=LearnerContext)
    """Filled by load_context."""
    standalone_question: str = ""
    """The question made self-contained using the history (the retrieval query)."""
    passages: list[Passage] = field(default_factory=list)
    """Retrieved passages, numbered as in the prompt."""
    on_syllabus: bool = True
    """False when nothing in the syllabus is close enough to the question."""
    nearest_topics: list[str] = field(default_factory=list)
    """Topic titles offered when the question is off the syllabus."""
    sentences: list[DraftSentence] = field(default_factory=list)
    """The drafted answer, sentence by sentence: the planned syllabus sentences first, then the
    model's."""
    notice: str = ""
    """A system reply that is not a claim about the subject (the off-syllabus message)."""
    model_name: str = ""
    """Which LLM wrote the draft."""
    timings: dict[str, float] = field(default_factory=dict)
    """Seconds spent per node, and first-token / first-sentence times."""


# --- what the graph tells its caller -----------------------------------------------------------------
# The graph reports through these typed events only (LangGraph's custom stream): its caller never
# reads node names or state keys, so nodes and state can change without the service noticing.


@dataclass(frozen=True, kw_only=True)
class StageTimed:
    """A measured duration of the answer, in seconds from the stage's start."""

    stage: str
    """"load_context", "retrieve", "plan", "hint", "first_token", "first_sentence" or "draft"."""
    seconds: float
    """How long it took."""


@dataclass(frozen=True, kw_only=True)
class QuestionCondensed:
    """The question made self-contained with the conversation: what retrieval searched for."""

    standalone_question: str
    """The retrieval query."""


@dataclass(frozen=True, kw_only=True)
class PassagesRetrieved:
    """The syllabus passages the answer will be drafted from (and checked against)."""

    passages: tuple[Passage, ...]
    """Numbered as in the prompt."""


@dataclass(frozen=True, kw_only=True)
class OffSyllabus:
    """Nothing in the syllabus is close enough to the question: this reply instead of an answer."""

    notice: str
    """The reply, naming the nearest topics."""
    topics: tuple[str, ...]
    """"Unit › Topic" of the retrieved passages, best first, each once: to steer the student."""


@dataclass(frozen=True, kw_only=True)
class SentenceDrafted:
    """A complete sentence of the draft, emitted the moment it is generated."""

    sentence: DraftSentence
    """The sentence, its position and the passages it cited."""


@dataclass(frozen=True, kw_only=True)
class DraftFinished:
    """The model finished (or was stopped at the sentence budget)."""

    model_name: str
    """Which LLM wrote the draft."""


@dataclass(frozen=True, kw_only=True)
class HintOffered:
    """Hint-first: a guiding question, and a clue from the syllabus, instead of the answer."""

    notice: str
    """The guiding question, in the tutor's own words (names a section, claims nothing)."""
    clue: DraftSentence | None
    """The syllabus sentence the clue is made of, as it stands: what is verified and cited. None
    when the answer plan found no sentence to make one of (the guiding question comes alone)."""
    blanked: str = ""
    """The clue as the student sees it: ``clue`` with the answer's key term blanked."""


AnswerGraphEvent = (
    StageTimed | QuestionCondensed | PassagesRetrieved | OffSyllabus | SentenceDrafted | DraftFinished | HintOffered
)
