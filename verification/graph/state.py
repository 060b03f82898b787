"""State of the verifier graph: one answer sentence on its way to a verdict."""

from dataclasses import dataclass, field
from typing import Literal

Verdict = Literal["supported", "unsupported", "contradicted"]


@dataclass(frozen=True, kw_only=True)
class EvidencePassage:
    """A syllabus chunk a sentence may be checked against."""

    chunk_id: int
    """Chunk primary key (also its vector-store id)."""
    text: str
    """The chunk text."""
    topic: str
    """Topic title, for the citation."""
    module: str
    """Source document id, for the citation."""


@dataclass(frozen=True, kw_only=True)
class ClaimRecord:
    """The audit record of one checked claim (persisted as a VerificationRecord)."""

    claim_index: int
    """Position of the claim within the sentence."""
    attempt: int
    """0 for the sentence as generated, 1 after its revision."""
    claim: str
    """The checked text."""
    verdict: Verdict
    """This claim's verdict."""
    score: float
    """Calibrated probability that the evidence supports the claim."""
    evidence_chunk_ids: tuple[int, ...]
    """Chunks the evidence sentences were selected from."""
    checker_version: str
    """Versions of the model, combiner and checks that scored it."""
    reasons: tuple[str, ...]
    """Failed deterministic checks, human-readable."""
    latency_ms: float
    """Time to gather evidence and score this claim."""


@dataclass(kw_only=True)
class VerifyState:
    """The verifier graph's state."""

    index: int
    """The sentence's position in the answer."""
    sentence: str
    """The text being checked: as generated, then as revised."""
    original: str
    """The sentence as generated."""
    curriculum_id: int
    """Per-claim retrieval stays inside this curriculum."""
    answer_evidence: list[EvidencePassage] = field(default_factory=list)
    """The passages the answer was generated from."""
    allow_revision: bool = True
    """False when auditing given text (batch verification): check it, never rewrite it."""
    attempt: int = 0
    """0 until a revision was made, then 1."""
    claims: list[str] = field(default_factory=list)
    """Checkable claims the sentence was split into."""
    evidence: list[EvidencePassage] = field(default_factory=list)
    """Answer passages plus per-claim retrieval, de-duplicated."""
    verdict: Verdict | None = None
    """The sentence's verdict: supported only if every claim is."""
    score: float = 0.0
    """The weakest claim's probability of support."""
    citations: list[EvidencePassage] = field(default_factory=list)
    """The evidence that supports the sentence (best sentence's chunk per claim)."""
    best_evidence_text: list[str] = field(default_factory=list)
    """The evidence sentences the revision may use: from the answer's own passages (retrieved for the
    question), best first."""
    records: list[ClaimRecord] = field(default_factory=list)
    """Every claim check, every attempt."""
    injected: list[str] = field(default_factory=list)
    """Lines that address the model, stripped from the retrieved evidence (curriculum.injection)."""
    revision_error: str = ""
    """Why a revision could not be made (LLM down), if so."""
