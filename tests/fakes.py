"""Test doubles for control-flow tests: a scripted chat model and a lexical entailment scorer.

Integration tests use the real SmolLM2 model and the trained verifier instead.
"""

import asyncio
import re
from collections.abc import AsyncGenerator, Sequence
from dataclasses import dataclass, field

from llm.errors import LLMUnavailableError
from llm.types import ChatMessage, StreamStats, TokenStream
from verification.checks import CheckReport
from verification.entailment.scorer import ClaimInput, ClaimScore, EvidenceSentence, LayerDetails

_WORD = re.compile(r"[a-z0-9]+")
_STOP = {"the", "a", "an", "is", "are", "of", "and", "to", "in", "it", "at", "its", "by", "with", "on"}


@dataclass(kw_only=True)
class ScriptedChatClient:
    """Streams ``answer`` word by word; answers rewrite prompts with ``revision`` and structured
    (selection) prompts with ``{"sentence": selection}``."""

    answer: str
    revision: str = ""
    selection: int = 1
    token_delay_s: float = 0.0
    fail_with: LLMUnavailableError | None = None
    model_name: str = "scripted-fake"
    prompts: list[list[ChatMessage]] = field(default_factory=list)

    def stream(
        self, messages: Sequence[ChatMessage], *, max_tokens: int, temperature: float = 0.2, stop=None, seed=None
    ) -> TokenStream:
        self.prompts.append(list(messages))

        async def events() -> AsyncGenerator[str | StreamStats, None]:
            if self.fail_with is not None:
                raise self.fail_with
            words = self.answer.split(" ")
            for i, word in enumerate(words):
                await asyncio.sleep(self.token_delay_s)
                yield word if i == 0 else " " + word
            yield StreamStats(finish_reason="stop", delta_count=len(words))

        return TokenStream(events())

    async def complete(
        self, messages: Sequence[ChatMessage], *, max_tokens: int, temperature: float = 0.2, stop=None, seed=None
    ) -> str:
        self.prompts.append(list(messages))
        if self.fail_with is not None:
            raise self.fail_with
        return self.revision

    async def complete_json(self, messages, *, schema, max_tokens, temperature=0.0, seed=None):
        self.prompts.append(list(messages))
        if self.fail_with is not None:
            raise self.fail_with
        return schema.model_validate({"sentence": self.selection})


def _content_words(text: str) -> set[str]:
    return {w for w in _WORD.findall(text.lower()) if w not in _STOP}


@dataclass(kw_only=True)
class LexicalScorer:
    """Supported when every content word of the claim occurs in one evidence sentence."""

    delays_s: dict[str, float] = field(default_factory=dict)
    """Extra scoring time per claim text, to test out-of-order completion."""
    checker_version: str = "lexical-fake"

    def score_claims(self, claims: Sequence[ClaimInput]) -> list[ClaimScore]:
        import time

        out = []
        for claim in claims:
            time.sleep(self.delays_s.get(claim.text, 0.0))
            words = _content_words(claim.text)
            best: EvidenceSentence | None = None
            best_overlap = -1.0
            for p, passage in enumerate(claim.evidence):
                for s, sentence in enumerate(re.split(r"(?<=[.!?])\s+", passage)):
                    overlap = len(words & _content_words(sentence)) / max(1, len(words))
                    if overlap > best_overlap:
                        best, best_overlap = EvidenceSentence(passage=p, sentence=s, text=sentence), overlap
            probability = 0.99 if best_overlap == 1.0 else 0.05
            report = CheckReport(
                number_mismatches=tuple(
                    n for n in re.findall(r"\d+", claim.text) if n not in re.findall(r"\d+", " ".join(claim.evidence))
                ),
                date_mismatches=(),
                entity_mismatches=(),
                negation_mismatch=False,
                antonym_mismatches=(),
            )
            out.append(
                ClaimScore(
                    probability=probability,
                    supported=probability >= 0.5,
                    threshold=0.5,
                    evidence=(best,) if best else (),
                    best_evidence=best,
                    layers=LayerDetails(
                        model_logit=0.0, model_probability=probability, checks=report, local_probability=probability
                    ),
                    checker_version=self.checker_version,
                )
            )
        return out
