"""What the tutor service emits while answering; the websocket and REST layers only format these.

Only ``SentenceReleased`` carries sentence text shown as verified (and ``HintReleased`` a verified
sentence with a word blanked). A sentence that failed
verification arrives as ``SentenceFlagged``: with the curriculum's "mark" policy its text is
included to be shown marked "not in your syllabus"; with "withhold" it is not.
"""

from dataclasses import dataclass, field
from typing import Literal


@dataclass(frozen=True, kw_only=True)
class Citation:
    """Where a sentence comes from, named as the student's book names it."""

    chunk_id: int
    """The passage (``GET /api/v1/passages/<chunk_id>/`` gives its text and attribution)."""
    topic: str
    """The section's title, e.g. "Operant Conditioning"."""
    module: str
    """Source document id (the OpenStax module id, e.g. "m66374"): for tools, not for students."""
    marker: int | None = None
    """The [n] passage number the answer used, when it came from a marker."""
    label: str = ""
    """What to show: "6.3 Operant Conditioning" (``Topic.label``); the bare title when unnumbered."""
    section: str = ""
    """The section number, e.g. "6.3"; blank for a chapter introduction or an uploaded document."""
    unit: str = ""
    """The chapter's title, e.g. "Learning"."""


@dataclass(frozen=True, kw_only=True)
class Accepted:
    type: Literal["accepted"] = "accepted"
    message_id: int
    conversation_id: int
    client_msg_id: str


@dataclass(frozen=True, kw_only=True)
class SentenceReleased:
    type: Literal["sentence"] = "sentence"
    index: int
    text: str
    verdict: Literal["supported"] | None
    """None only when verification is switched off (never for a student-facing deployment)."""
    citations: list[Citation] = field(default_factory=list)


@dataclass(frozen=True, kw_only=True)
class HintReleased:
    """Hint-first: a verified syllabus sentence shown with the answer's key term blanked, as a clue."""

    type: Literal["hint"] = "hint"
    index: int
    text: str
    """The sentence with its key term as "_____"; the verifier checked the sentence whole."""
    citations: list[Citation] = field(default_factory=list)


@dataclass(frozen=True, kw_only=True)
class SentenceFlagged:
    type: Literal["flagged"] = "flagged"
    index: int
    reason: Literal["unsupported", "contradicted"]
    text: str | None
    """The sentence, shown marked "not in your syllabus" (policy "mark"); None when withheld."""


@dataclass(frozen=True, kw_only=True)
class Notice:
    """A reply from the tutor itself, not a claim about the subject: "not in your syllabus"
    (``off_syllabus``), or hint-first's guiding question before a clue (``hint_first``; ask again
    with ``full_answer`` for the answer)."""

    type: Literal["notice"] = "notice"
    kind: Literal["off_syllabus", "hint_first"]
    text: str
    topics: list[str] = field(default_factory=list)
    """The nearest syllabus topics ("Unit › Topic"), to steer the student."""


@dataclass(frozen=True, kw_only=True)
class Done:
    type: Literal["done"] = "done"
    message_id: int
    status: str
    timings: dict[str, float] = field(default_factory=dict)


@dataclass(frozen=True, kw_only=True)
class Failed:
    type: Literal["error"] = "error"
    code: str
    """Machine-readable: "llm_unavailable", "llm_timeout", "cancelled", "internal", ..."""
    message: str
    """Human-readable, safe to show to the student."""
    message_id: int | None = None
    retryable: bool = True


AnswerEvent = Accepted | SentenceReleased | HintReleased | SentenceFlagged | Notice | Done | Failed


class TutorInputError(Exception):
    """A request the tutor refuses before doing any work (nothing is saved)."""

    def __init__(self, *, code: str, message: str) -> None:
        self.code = code
        self.message = message
        super().__init__(message)
