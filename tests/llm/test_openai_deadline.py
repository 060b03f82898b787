"""The openai backend's whole-request deadline, against a fake server that trickles its answer.

The read timeout bounds each silence; a server that sends a little every few tenths of a second
never trips it. The deadline (OpenAIBackendConfig.deadline_s) bounds the request as a whole.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from llm.errors import LLMConfigurationError, LLMUnavailableError
from llm.openai_backend import OpenAIBackendConfig, OpenAIChatClient
from llm.types import ChatMessage
from tests.llm.fake_openai_server import (
    FakeOpenAIServer,
    Handler,
    RecordedRequest,
    Reply,
    chunk_payload,
    completion_payload,
)

Serve = Callable[[Handler], Awaitable[FakeOpenAIServer]]
QUESTION = [ChatMessage("system", "Answer briefly."), ChatMessage("user", "What is osmosis?")]
TRICKLE_EVERY_S = 0.2  # well inside the read timeout below: it never trips
# connect 0.5 s + read 0.5 s + 4 tokens at 2 tokens/s: the whole request may take 3 s. (A first
# request on a busy machine spends up to ~1 s building the HTTP client before anything is sent.)
MAX_TOKENS = 4
DEADLINE_S = 3.0
SLACK_S = 1.0  # the error is raised at the deadline; this much is left for a busy 2-core machine


def client_for(base_url: str, **overrides: Any) -> OpenAIChatClient:
    settings: dict[str, Any] = {
        "base_url": base_url,
        "model": "fake-model",
        "connect_timeout_s": 0.5,
        "read_timeout_s": 0.5,
        "max_retries": 1,
        "min_tokens_per_s": 2.0,
    }
    settings.update(overrides)
    return OpenAIChatClient(OpenAIBackendConfig(**settings))


def test_the_deadline_is_connect_then_read_timeout_then_every_token_at_the_slowest_rate() -> None:
    # given the default patience
    config = OpenAIBackendConfig(base_url="http://llm:8000/v1", model="m")

    # when the deadline of a 220-token answer (TUTOR_MAX_ANSWER_TOKENS) and a one-token call is asked
    # then it is 3 s + 30 s + tokens at 2 tokens/s
    assert config.deadline_s(220) == 143.0
    assert config.deadline_s(1) == 33.5
    assert client_for("http://llm:8000/v1").config.deadline_s(MAX_TOKENS) == DEADLINE_S


def test_a_rate_that_is_not_positive_is_a_configuration_error() -> None:
    # given / when / then a zero rate (an infinite deadline) is refused when the client is built
    with pytest.raises(LLMConfigurationError, match="min_tokens_per_s must be positive, got 0"):
        OpenAIBackendConfig(base_url="http://llm:8000/v1", model="m", min_tokens_per_s=0)


async def test_a_stream_trickling_inside_the_read_timeout_fails_as_timeout_at_the_deadline(serve: Serve) -> None:
    # given a server that streams a word every 0.2 s for ever (each wait well inside the read timeout)
    async def handler(request: RecordedRequest, reply: Reply) -> None:
        await reply.sse_start()
        with contextlib.suppress(ConnectionError):  # the client hangs up at its deadline
            while True:
                await reply.sse_event(chunk_payload("word "))
                await asyncio.sleep(TRICKLE_EVERY_S)

    server = await serve(handler)
    received: list[str] = []

    # when the answer is streamed
    started = time.monotonic()
    with pytest.raises(LLMUnavailableError) as caught:
        async for delta in client_for(server.base_url).stream(QUESTION, max_tokens=MAX_TOKENS):
            received.append(delta)
    elapsed = time.monotonic() - started

    # then the words sent before the deadline arrived, and at the deadline the request failed as a
    # timeout (what the student sees: "taking too long", retryable), once, without a retry
    assert set(received) == {"word "}
    assert len(received) >= 3
    assert caught.value.reason == "timeout"
    assert caught.value.detail == (
        "the request took longer than its whole-request deadline of 3 s (4 tokens; a server answering, but too slowly)"
    )
    assert DEADLINE_S <= elapsed < DEADLINE_S + SLACK_S
    assert len(server.requests) == 1


async def test_a_completion_body_trickling_inside_the_read_timeout_fails_as_timeout(serve: Serve) -> None:
    # given a server that sends a completion's headers, then its body a byte every 0.2 s
    async def handler(request: RecordedRequest, reply: Reply) -> None:
        body = json.dumps(completion_payload("Water moves across a membrane.")).encode()
        head = f"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
        reply.writer.write(head.encode())
        with contextlib.suppress(ConnectionError):  # the client hangs up at its deadline
            for byte in body:
                reply.writer.write(bytes([byte]))
                await reply.writer.drain()
                await asyncio.sleep(TRICKLE_EVERY_S)

    server = await serve(handler)

    # when a complete (non-streamed) answer is requested
    started = time.monotonic()
    with pytest.raises(LLMUnavailableError) as caught:
        await client_for(server.base_url).complete(QUESTION, max_tokens=MAX_TOKENS)
    elapsed = time.monotonic() - started

    # then it fails as a timeout at the deadline, not when the body would have ended (minutes later)
    assert caught.value.reason == "timeout"
    assert DEADLINE_S <= elapsed < DEADLINE_S + SLACK_S
    assert len(server.requests) == 1


async def test_a_steady_answer_longer_than_the_read_timeout_but_inside_the_deadline_is_whole(serve: Serve) -> None:
    # given a server that streams 4 words 0.3 s apart (1.2 s in all, more than the 0.5 s read timeout)
    async def handler(request: RecordedRequest, reply: Reply) -> None:
        await reply.sse_start()
        for word in ("Osmosis", " is", " water", " diffusing."):
            await reply.sse_event(chunk_payload(word))
            await asyncio.sleep(0.3)
        await reply.sse_event(chunk_payload(None, finish_reason="stop"))
        await reply.sse_event("[DONE]")

    server = await serve(handler)
    client = client_for(server.base_url, min_tokens_per_s=1.0)  # deadline 0.5 + 0.5 + 4 / 1 = 5 s

    # when the answer is streamed
    async with client.stream(QUESTION, max_tokens=MAX_TOKENS) as tokens:
        deltas = [delta async for delta in tokens]

    # then it is whole: neither the read timeout nor the deadline cut a server that keeps its pace
    assert deltas == ["Osmosis", " is", " water", " diffusing."]
    assert tokens.stats is not None
    assert tokens.stats.finish_reason == "stop"
