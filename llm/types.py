"""Typed values exchanged with an LLM client: messages, generation options, streams."""

from __future__ import annotations

from collections.abc import AsyncGenerator, Sequence
from dataclasses import dataclass
from types import TracebackType
from typing import Literal, Self

Role = Literal["system", "user", "assistant"]
_ROLES: frozenset[str] = frozenset(("system", "user", "assistant"))


@dataclass(frozen=True, slots=True)
class ChatMessage:
    """One turn of a chat conversation."""

    role: Role
    """Who speaks: "system" (instructions), "user" (the student) or "assistant" (the model)."""
    content: str
    """The text of the turn."""

    def __post_init__(self) -> None:
        if self.role not in _ROLES:
            raise ValueError(f"ChatMessage.role must be one of {sorted(_ROLES)}, got {self.role!r}")
        if not isinstance(self.content, str):
            raise ValueError(f"ChatMessage.content must be a str, got {type(self.content).__name__}")


@dataclass(frozen=True, slots=True, kw_only=True)
class GenerationOptions:
    """How to sample one completion; validated so that bad values fail before any model call."""

    max_tokens: int
    """Upper bound on generated tokens; generation stops with finish_reason "length" there."""
    temperature: float = 0.2
    """Sampling temperature; 0 is greedy (deterministic)."""
    stop: tuple[str, ...] = ()
    """Strings that end generation; they are not included in the output."""
    seed: int | None = None
    """Sampling seed, for reproducible runs at temperature > 0; None lets the backend choose."""

    def __post_init__(self) -> None:
        if not isinstance(self.max_tokens, int) or self.max_tokens < 1:
            raise ValueError(f"max_tokens must be a positive int, got {self.max_tokens!r}")
        if not 0.0 <= self.temperature <= 2.0:
            raise ValueError(f"temperature must be within [0, 2], got {self.temperature!r}")
        if any(not s for s in self.stop):
            raise ValueError("stop strings must be non-empty")


def validate_messages(messages: Sequence[ChatMessage]) -> list[ChatMessage]:
    """Return messages as a list, refusing an empty conversation or a non-ChatMessage item."""
    checked = list(messages)
    if not checked:
        raise ValueError("messages must contain at least one ChatMessage")
    for item in checked:
        if not isinstance(item, ChatMessage):
            raise ValueError(f"messages must be ChatMessage instances, got {type(item).__name__}")
    return checked


FinishReason = Literal["stop", "length", "cancelled", "other"]


@dataclass(frozen=True, slots=True, kw_only=True)
class TokenLogprob:
    """One candidate token and its log-probability, as an OpenAI-compatible server reports it."""

    token: str
    logprob: float


@dataclass(frozen=True, slots=True, kw_only=True)
class StreamStats:
    """What is known about a finished stream."""

    finish_reason: FinishReason
    """"stop" (model ended or hit a stop string), "length" (max_tokens), "cancelled" (consumer
    stopped early) or "other" (a server-specific reason)."""
    delta_count: int
    """Non-empty text deltas received. Each carries at least one token, so this is a lower bound
    of the generated tokens (llama.cpp and vLLM send one token per delta in practice)."""
    completion_tokens: int | None = None
    """Generated tokens as counted by the server, when it reports usage (vLLM does); else None."""
    prompt_tokens: int | None = None
    """Prompt tokens as counted by the server, when it reports usage; else None."""


def finish_reason_from(raw: str | None) -> FinishReason:
    """Map a backend's finish reason onto ours."""
    if raw == "stop":
        return "stop"
    if raw == "length":
        return "length"
    return "other"


StreamEvent = str | StreamStats
"""What a backend's generator yields: text deltas, then at most one StreamStats at the end."""


class TokenStream:
    """An async iterator of text deltas from one completion.

    Iterate it (``async for delta in stream``); after the last delta ``stats`` is set. Use it as an
    async context manager, or call ``aclose()``, to stop generation early: the backend is told to
    stop at once (the embedded model within one token, a server by closing the connection).
    """

    def __init__(self, events: AsyncGenerator[StreamEvent, None]) -> None:
        self._events = events
        self.stats: StreamStats | None = None
        """Set once the stream has ended normally; None while running or after an early close."""

    def __aiter__(self) -> Self:
        return self

    async def __anext__(self) -> str:
        while True:
            event = await self._events.__anext__()
            if isinstance(event, StreamStats):
                self.stats = event
                continue
            return event

    async def aclose(self) -> None:
        """Stop generation and release the connection or model; safe to call twice."""
        await self._events.aclose()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def text(self) -> str:
        """Consume the rest of the stream and return it joined."""
        return "".join([delta async for delta in self])
