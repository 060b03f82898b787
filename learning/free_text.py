"""Free-text answers checked against the syllabus by the real verifier, and what that check decides.

Each sentence of the answer goes through the verifier graph (``verification.pipeline.verify_sentence``,
the entry point the answer path and batch verification use) with the question's section as the
evidence, never revised. The answer is **verified** (graded right without asking) only when every
sentence is supported and the answer uses enough of the key's own words to be an answer to this
question rather than any true sentence of the book. Anything else is left to the student, who sees
the key and the evidence: the verifier's shipped operating point confirms about 1 % of true claims,
so its "not supported" says little, and its "contradicted" comes from checks (a number, a name, a
negation not in the evidence) that a right answer in other words can trip.
"""

import asyncio
from collections.abc import Callable, Coroutine, Sequence
from dataclasses import dataclass
from typing import Any

from curriculum.text import split_sentences
from verification.graph.state import EvidencePassage
from verification.pipeline import SentenceVerdict, verify_sentence

from .text import key_coverage

# The answer must use at least this share of the key's own words (the stem's aside) to be verified.
MIN_KEY_COVERAGE = 0.5
MAX_ANSWER_CHARS = 1000
MAX_ANSWER_SENTENCES = 5
# Sentences checked at once: scoring is CPU-bound and shares the cores with the server.
MAX_CONCURRENT_CHECKS = 3

Verifier = Callable[..., Coroutine[Any, Any, SentenceVerdict]]


@dataclass(frozen=True, kw_only=True)
class TextCheck:
    outcome: str
    """``verified``, ``unconfirmed`` or ``contradicted`` (``TextAnswer.Outcome``)."""
    score: float
    """The weakest sentence's probability of support (0 for an answer with no sentence)."""
    key_coverage: float
    supporting_chunk_ids: tuple[int, ...]
    """Chunks cited as support, when verified; the evidence checked against, otherwise."""
    reasons: tuple[str, ...]
    verdicts: tuple[SentenceVerdict, ...]


def answer_sentences(text: str) -> list[str]:
    return split_sentences(text)[:MAX_ANSWER_SENTENCES]


def decide(
    *,
    verdicts: Sequence[SentenceVerdict],
    answer: str,
    key: str,
    stem: str,
    evidence: Sequence[EvidencePassage],
) -> TextCheck:
    """The outcome of a checked answer (pure: the tests give it verdicts)."""
    coverage = key_coverage(answer=answer, key=key, stem_text=stem)
    reasons = tuple(reason for v in verdicts for record in v.records for reason in record.reasons)
    score = min((v.score for v in verdicts), default=0.0)
    if verdicts and all(v.verdict == "supported" for v in verdicts) and coverage >= MIN_KEY_COVERAGE:
        cited = tuple(dict.fromkeys(c.chunk_id for v in verdicts for c in v.citations))
        return TextCheck(
            outcome="verified",
            score=score,
            key_coverage=coverage,
            supporting_chunk_ids=cited,
            reasons=reasons,
            verdicts=tuple(verdicts),
        )
    outcome = "contradicted" if any(v.verdict == "contradicted" for v in verdicts) else "unconfirmed"
    return TextCheck(
        outcome=outcome,
        score=score,
        key_coverage=coverage,
        supporting_chunk_ids=tuple(p.chunk_id for p in evidence),
        reasons=reasons,
        verdicts=tuple(verdicts),
    )


def check_answer(
    *,
    answer: str,
    key: str,
    stem: str,
    curriculum_id: int,
    evidence: Sequence[EvidencePassage],
    verifier: Verifier = verify_sentence,
) -> TextCheck:
    """Verify each sentence of the answer against the evidence (and the verifier's own per-claim
    retrieval in the curriculum), concurrently; then decide. Blocking: call it outside a transaction."""
    parts = answer_sentences(answer)
    verdicts = asyncio.run(_verify_all(parts, curriculum_id=curriculum_id, evidence=list(evidence), verifier=verifier))
    return decide(verdicts=verdicts, answer=answer, key=key, stem=stem, evidence=evidence)


async def _verify_all(
    parts: list[str], *, curriculum_id: int, evidence: list[EvidencePassage], verifier: Verifier
) -> list[SentenceVerdict]:
    limit = asyncio.Semaphore(MAX_CONCURRENT_CHECKS)

    async def one(index: int, sentence: str) -> SentenceVerdict:
        async with limit:
            return await verifier(
                index=index,
                sentence=sentence,
                curriculum_id=curriculum_id,
                answer_evidence=evidence,
                allow_revision=False,
            )

    return list(await asyncio.gather(*(one(i, s) for i, s in enumerate(parts))))
