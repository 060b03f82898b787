"""A stand-in for the verifier graph in the learner-model tests: verdicts looked up by sentence."""

from verification.graph.state import ClaimRecord, EvidencePassage
from verification.pipeline import SentenceVerdict


class FakeVerifier:
    """``verdicts`` maps a sentence to its verdict; any other sentence is unsupported. A supported one
    cites the first evidence passage it was given. Every call is recorded."""

    def __init__(self, verdicts: dict[str, str] | None = None, *, reasons: tuple[str, ...] = ()) -> None:
        self.verdicts = verdicts or {}
        self.reasons = reasons
        self.calls: list[dict] = []

    async def __call__(
        self,
        *,
        index: int,
        sentence: str,
        curriculum_id: int,
        answer_evidence: list[EvidencePassage],
        allow_revision: bool = True,
    ) -> SentenceVerdict:
        self.calls.append(
            {
                "sentence": sentence,
                "curriculum_id": curriculum_id,
                "evidence": [p.chunk_id for p in answer_evidence],
                "allow_revision": allow_revision,
            }
        )
        verdict = self.verdicts.get(sentence, "unsupported")
        score = {"supported": 0.99, "unsupported": 0.2, "contradicted": 0.01}[verdict]
        citations = tuple(answer_evidence[:1]) if verdict == "supported" else ()
        record = ClaimRecord(
            claim_index=0,
            attempt=0,
            claim=sentence,
            verdict=verdict,  # type: ignore[arg-type]
            score=score,
            evidence_chunk_ids=tuple(p.chunk_id for p in answer_evidence),
            checker_version="fake-1",
            reasons=self.reasons if verdict == "contradicted" else (),
            latency_ms=1.0,
        )
        return SentenceVerdict(
            index=index,
            text=sentence,
            original=sentence,
            verdict=verdict,  # type: ignore[arg-type]
            score=score,
            citations=citations,
            records=(record,),
        )
