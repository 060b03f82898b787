"""How fast llama_cpp.server answered through our openai backend: time to first token, decode tokens/s
and the prompt tokens it reused from its cache. Measured by the integration tests and printed at the
end of the run (tests/llm/conftest.py), never asserted: CI's machines are shared and slow.

llama_cpp.server reports no usage in a stream and no cached tokens in its answers; what it reuses it
logs ("Llama.generate: 311 prefix-match hit, remaining 8 prompt tokens to eval"), so the count is
read from its log, between the request's start and its end (the tests send one request at a time).
"""

from __future__ import annotations

import re
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from llm.openai_backend import OpenAIChatClient
from llm.types import ChatMessage

_PREFIX_HIT = re.compile(rb"Llama\.generate: (\d+) prefix-match hit, remaining (\d+) prompt tokens to eval")


@dataclass(frozen=True, slots=True, kw_only=True)
class StreamSpeed:
    """One streamed answer, timed on our side of the connection."""

    label: str
    text: str
    first_token_s: float
    """From the request to the first text delta: prompt evaluation plus one token."""
    decode_s: float
    """From the first delta to the end of the stream."""
    tokens: int
    """The server's completion_tokens when it reported usage, else the streamed deltas (one token each)."""
    tokens_from: str
    """"usage" or "deltas"."""
    cached_prompt_tokens: int | None
    """Prompt tokens the server reused from its cache, from its log; None when it logged no hit."""
    evaluated_prompt_tokens: int | None
    """The prompt tokens it still had to evaluate after that hit."""

    @property
    def decode_tokens_per_s(self) -> float | None:
        """Tokens after the first, per second: the generation speed without prompt evaluation."""
        if self.tokens < 2 or self.decode_s <= 0:
            return None
        return (self.tokens - 1) / self.decode_s


async def timed_stream(
    client: OpenAIChatClient, messages: Sequence[ChatMessage], *, label: str, max_tokens: int, server_log: Path
) -> StreamSpeed:
    """Stream one greedy answer, timing it and reading the server's prefix-cache hit from its log."""
    log_offset = _log_size(server_log)
    deltas: list[str] = []
    started = time.perf_counter()
    first: float | None = None
    tokens = client.stream(messages, max_tokens=max_tokens, temperature=0.0)
    async for delta in tokens:
        if first is None:
            first = time.perf_counter()
        deltas.append(delta)
    end = time.perf_counter()
    hit = _PREFIX_HIT.search(_log_since(server_log, log_offset))
    usage = tokens.stats.completion_tokens if tokens.stats is not None else None
    return StreamSpeed(
        label=label,
        text="".join(deltas),
        first_token_s=(first or end) - started,
        decode_s=end - (first or end),
        tokens=usage if usage is not None else len(deltas),
        tokens_from="usage" if usage is not None else "deltas",
        cached_prompt_tokens=int(hit[1]) if hit else None,
        evaluated_prompt_tokens=int(hit[2]) if hit else None,
    )


def _log_size(path: Path) -> int:
    return path.stat().st_size


def _log_since(path: Path, offset: int) -> bytes:
    with path.open("rb") as log:
        log.seek(offset)
        return log.read()


def report_lines(speeds: Sequence[StreamSpeed]) -> list[str]:
    """A small table for the end of the test run."""
    lines = [f"{'request':<34} {'first token':>11} {'decode tok/s':>12} {'tokens':>13}  prompt tokens from cache"]
    for s in speeds:
        rate = s.decode_tokens_per_s
        cached = (
            "none logged"
            if s.cached_prompt_tokens is None or s.evaluated_prompt_tokens is None
            else f"{s.cached_prompt_tokens} of {s.cached_prompt_tokens + s.evaluated_prompt_tokens}"
        )
        lines.append(
            f"{s.label:<34} {s.first_token_s:>9.2f} s {'-' if rate is None else f'{rate:.1f}':>12} "
            f"{f'{s.tokens} ({s.tokens_from})':>13}  {cached}"
        )
    return lines
