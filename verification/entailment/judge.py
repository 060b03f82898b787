"""Optional LLM judge: a MiniCheck-style Yes/No grounding question over the OpenAI-compatible API.

Off by default (`VERIFIER_LLM_JUDGE`). Any failure (timeout, refusal, unparsable answer) yields a
result with `error` set and no probability; the scorer then falls back to the local layers, so a
flaky judge server can withhold nothing it would not have withheld anyway.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import openai

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
        self._client = openai.OpenAI(base_url=base_url, api_key=api_key, timeout=timeout_s, max_retries=1)

    def judge(self, *, claim: str, evidence: str) -> JudgeResult:
        try:
            response = self._client.chat.completions.create(
                model=self.model,
                messages=[{"role": "user", "content": PROMPT.format(document=evidence, claim=claim)}],
                max_tokens=1,
                temperature=0.0,
                logprobs=True,
                top_logprobs=5,
            )
        except openai.OpenAIError as exc:
            return JudgeResult(probability=None, error=f"{type(exc).__name__}: {exc}")
        choice = response.choices[0]
        probability = _yes_probability(choice)
        if probability is None:
            return JudgeResult(probability=None, error=f"unparsable judge answer: {choice.message.content!r}")
        return JudgeResult(probability=probability)


def _yes_probability(choice: object) -> float | None:
    logprobs = getattr(choice, "logprobs", None)
    content = getattr(logprobs, "content", None) if logprobs is not None else None
    if content:
        yes = no = 0.0
        for candidate in content[0].top_logprobs or []:
            token = candidate.token.strip().lower()
            if token == "yes":
                yes += math.exp(candidate.logprob)
            elif token == "no":
                no += math.exp(candidate.logprob)
        if yes + no > 0:
            return yes / (yes + no)
    text = (getattr(getattr(choice, "message", None), "content", None) or "").strip().lower()
    if text.startswith("yes"):
        return 1.0
    if text.startswith("no"):
        return 0.0
    return None
