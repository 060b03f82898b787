"""Verifying an answer while it is generated, and releasing sentences in order.

Each sentence starts its own verifier-graph run the moment it arrives, so checks overlap with
generation and with each other; results are yielded strictly in sentence order, each as soon as
it and every sentence before it are decided.
"""

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass

from curriculum.injection import echoes_injection

from .graph.graph import verifier_graph
from .graph.state import ClaimRecord, EvidencePassage, Verdict, VerifyState

# Checks running at once. Scoring is CPU-bound and shares the cores with generation; a few in
# flight hide per-claim retrieval latency without starving the LLM.
MAX_CONCURRENT_CHECKS = 3


@dataclass(frozen=True, kw_only=True)
class SentenceVerdict:
    index: int
    """Position in the answer."""
    text: str
    """The sentence to show: the revision when one was made, else as generated."""
    original: str
    """The sentence as generated."""
    verdict: Verdict
    """Supported only if every claim of ``text`` is entailed by the evidence."""
    score: float
    """The weakest claim's probability of support."""
    citations: tuple[EvidencePassage, ...]
    """The evidence that supports it (empty unless supported)."""
    records: tuple[ClaimRecord, ...]
    """Every claim check made, for the audit trail."""
    echoes_injection: bool = False
    """The sentence repeats a syllabus line that addresses the model (stripped from the evidence):
    never shown unless supported by the rest, whatever the unsupported-sentence policy."""

    @property
    def revised(self) -> bool:
        return self.text != self.original


async def verify_sentence(
    *,
    index: int,
    sentence: str,
    curriculum_id: int,
    answer_evidence: list[EvidencePassage],
    allow_revision: bool = True,
) -> SentenceVerdict:
    state = VerifyState(
        allow_revision=allow_revision,
        index=index,
        sentence=sentence,
        original=sentence,
        curriculum_id=curriculum_id,
        answer_evidence=answer_evidence,
    )
    final = await verifier_graph.ainvoke(state)
    return SentenceVerdict(
        index=index,
        text=final["sentence"],
        original=sentence,
        verdict=final["verdict"],
        score=final["score"],
        citations=tuple(final["citations"]),
        records=tuple(final["records"]),
        echoes_injection=echoes_injection(final["sentence"], final["injected"]),
    )


class OrderedVerifier:
    """Submit sentences as they are generated; iterate ``results()`` for verdicts in order."""

    def __init__(
        self,
        *,
        curriculum_id: int,
        answer_evidence: list[EvidencePassage],
        max_concurrency: int = MAX_CONCURRENT_CHECKS,
    ) -> None:
        self._curriculum_id = curriculum_id
        self._evidence = answer_evidence
        self._limit = asyncio.Semaphore(max_concurrency)
        self._tasks: list[asyncio.Task[SentenceVerdict]] = []
        self._changed = asyncio.Event()
        self._closed = False

    def submit(self, *, index: int, sentence: str, allow_revision: bool = True) -> None:
        """Check ``sentence``; ``allow_revision=False``: a failed one is not replaced (its verdict stands)."""
        if self._closed:
            raise RuntimeError("verifier is closed")
        self._tasks.append(asyncio.create_task(self._check(index, sentence, allow_revision)))
        self._changed.set()

    def close(self) -> None:
        """No more sentences will come."""
        self._closed = True
        self._changed.set()

    def cancel(self) -> None:
        for task in self._tasks:
            task.cancel()
        self.close()

    async def results(self) -> AsyncIterator[SentenceVerdict]:
        released = 0
        while True:
            if released < len(self._tasks):
                yield await self._tasks[released]
                released += 1
                continue
            if self._closed:
                return
            self._changed.clear()
            await self._changed.wait()

    async def _check(self, index: int, sentence: str, allow_revision: bool) -> SentenceVerdict:
        async with self._limit:
            return await verify_sentence(
                index=index,
                sentence=sentence,
                curriculum_id=self._curriculum_id,
                answer_evidence=self._evidence,
                allow_revision=allow_revision,
            )
