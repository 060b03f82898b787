"""Optional LLM judge: a MiniCheck-style Yes/No grounding question over the OpenAI-compatible API.

Off by default (`VERIFIER_LLM_JUDGE`). It talks to the server through `llm`'s OpenAI client (its
timeouts, retry policy and error types). Any failure (timeout, refusal, no log-probabilities) yields
a result with `error` set and no probability; the scorer then falls back to the local layers, so a
flaky judge server can withhold nothing it would not have withheld anyway.
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import Sequence
from dataclasses import dataclass

from llm.errors import LLMError
from llm.openai_backend import OpenAIBackendConfig, OpenAIChatClient
from llm.types import ChatMessage, TokenLogprob

# The prompt Bespoke-MiniCheck-7B was trained with (bespokelabs/Bespoke-MiniCheck-7B model card).
PROMPT = (
    "Determine whether the provided claim is consistent with the corresponding document. "
    "Consistency in this context implies that all information presented in the claim is "
    "substantiated by the document. If not, it should be considered inconsistent.\n"
    "Document: {document}\nClaim: {claim}\n"
    'Please assess the claim\'s consistency with the document by responding with either "Yes" or "No".\n'
    "Answer:"
)


@dataclass(frozen=True, kw_only=True)
class JudgeResult:
    probability: float | None
    """P(supported) from the judge; None when it could not answer."""
    error: str | None = None


class LlmJudge:
    def __init__(self, *, base_url: str, model: str, timeout_s: float = 10.0, api_key: str = "EMPTY") -> None:
        if not base_url:
            raise ValueError("VERIFIER_JUDGE_BASE_URL must be set when VERIFIER_LLM_JUDGE is on")
        self.model = model
        # One retry: a judge call sits on the answer's critical path, a long retry loop would not.
        self._client = OpenAIChatClient(
            OpenAIBackendConfig(
                base_url=base_url,
                model=model,
                api_key=api_key,
                connect_timeout_s=min(3.0, timeout_s),
                read_timeout_s=timeout_s,
                max_retries=1,
            )
        )

    def judge(self, *, claim: str, evidence: str) -> JudgeResult:
        """Blocking: the scorer runs in a worker thread (`ascore_claims`), never on an event loop."""
        messages = [ChatMessage(role="user", content=PROMPT.format(document=evidence, claim=claim))]
        try:
            candidates = asyncio.run(self._client.first_token_logprobs(messages, top=5))
        except LLMError as exc:
            return JudgeResult(probability=None, error=f"{type(exc).__name__}: {exc}")
        probability = yes_probability(candidates)
        if probability is None:
            tokens = [c.token for c in candidates]
            return JudgeResult(probability=None, error=f"unparsable judge answer: no Yes/No among {tokens!r}")
        return JudgeResult(probability=probability)


def yes_probability(candidates: Sequence[TokenLogprob]) -> float | None:
    """P(Yes) normalised over the Yes and No candidates; None when neither is among them."""
    yes = sum(math.exp(c.logprob) for c in candidates if c.token.strip().lower() == "yes")
    no = sum(math.exp(c.logprob) for c in candidates if c.token.strip().lower() == "no")
    return yes / (yes + no) if yes + no > 0 else None
