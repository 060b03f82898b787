"""The openai backend against a fake OpenAI-compatible server on loopback."""

from __future__ import annotations

import asyncio
import gc
import json
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from pydantic import BaseModel

from llm.errors import LLMRequestError, LLMUnavailableError
from llm.llama_server import free_port
from llm.openai_backend import OpenAIBackendConfig, OpenAIChatClient
from llm.types import ChatMessage, StreamStats
from tests.llm.fake_openai_server import (
    FakeOpenAIServer,
    Handler,
    RecordedRequest,
    Reply,
    chunk_payload,
    completion_payload,
    usage_chunk_payload,
)

Serve = Callable[[Handler], Awaitable[FakeOpenAIServer]]
QUESTION = [ChatMessage("system", "Answer briefly."), ChatMessage("user", "What is osmosis?")]


class Verdict(BaseModel):
    supported: bool
    sentence_index: int


def client_for(base_url: str, **overrides: Any) -> OpenAIChatClient:
    settings: dict[str, Any] = {
        "base_url": base_url,
        "model": "fake-model",
        "connect_timeout_s": 1.0,
        "read_timeout_s": 0.5,
        "max_retries": 1,
    }
    settings.update(overrides)
    return OpenAIChatClient(OpenAIBackendConfig(**settings))


async def test_stream_yields_deltas_in_order_then_stats(serve: Serve) -> None:
    # given a server that streams three deltas, a finish reason and a usage chunk
    async def handler(request: RecordedRequest, reply: Reply) -> None:
        await reply.sse_start()
        for piece in ("Osmosis", " is", " diffusion."):
            await reply.sse_event(chunk_payload(piece))
        await reply.sse_event(chunk_payload(None, finish_reason="stop"))
        await reply.sse_event(usage_chunk_payload(prompt_tokens=12, completion_tokens=3))
        await reply.sse_event("[DONE]")

    server = await serve(handler)
    client = client_for(server.base_url)

    # when the answer is streamed
    async with client.stream(QUESTION, max_tokens=32, temperature=0.0, stop=["\n\n"], seed=7) as tokens:
        deltas = [delta async for delta in tokens]

    # then the deltas arrive in order, the stats carry the server's usage, and the request said so
    assert deltas == ["Osmosis", " is", " diffusion."]
    assert tokens.stats == StreamStats(finish_reason="stop", delta_count=3, completion_tokens=3, prompt_tokens=12)
    assert len(server.requests) == 1
    request = server.requests[0]
    assert request.path == "/v1/chat/completions"
    assert request.body["model"] == "fake-model"
    assert request.body["messages"] == [
        {"role": "system", "content": "Answer briefly."},
        {"role": "user", "content": "What is osmosis?"},
    ]
    assert request.body["stream"] is True
    assert request.body["stream_options"] == {"include_usage": True}
    assert request.body["max_tokens"] == 32
    assert request.body["temperature"] == 0.0
    assert request.body["stop"] == ["\n\n"]
    assert request.body["seed"] == 7


async def test_complete_returns_the_message_content_without_streaming(serve: Serve) -> None:
    # given a server answering with one chat.completion
    async def handler(request: RecordedRequest, reply: Reply) -> None:
        await reply.json(200, completion_payload("Water moves across a membrane."))

    server = await serve(handler)

    # when a complete answer is requested
    text = await client_for(server.base_url).complete(QUESTION, max_tokens=16)

    # then it is the message content, fetched with stream=false and no stop/seed keys
    assert text == "Water moves across a membrane."
    assert server.requests[0].body["stream"] is False
    assert "stop" not in server.requests[0].body
    assert "seed" not in server.requests[0].body


async def test_connection_refused_raises_unreachable_without_hanging() -> None:
    # given a port nobody listens on
    client = client_for(f"http://127.0.0.1:{free_port()}/v1", max_retries=1)

    # when a completion is requested
    started = time.monotonic()
    with pytest.raises(LLMUnavailableError) as caught:
        await client.complete(QUESTION, max_tokens=8)

    # then one typed error says the server is unreachable, after one short retry pause, not minutes
    assert caught.value.reason == "unreachable"
    assert caught.value.student_message.startswith("The tutor's language model cannot be reached")
    assert time.monotonic() - started < 5.0


async def test_server_slower_than_read_timeout_raises_timeout_and_is_not_retried(serve: Serve) -> None:
    # given a server that accepts the request but answers after a minute
    async def handler(request: RecordedRequest, reply: Reply) -> None:
        await asyncio.sleep(60)

    server = await serve(handler)
    client = client_for(server.base_url, read_timeout_s=0.5, max_retries=2)

    # when a streamed answer is requested
    started = time.monotonic()
    with pytest.raises(LLMUnavailableError) as caught:
        async for _ in client.stream(QUESTION, max_tokens=8):
            pass

    # then it fails with "timeout" after about the read timeout, with a single attempt
    assert caught.value.reason == "timeout"
    assert time.monotonic() - started < 5.0
    assert len(server.requests) == 1


async def test_stall_between_streamed_chunks_raises_timeout_after_the_first_delta(serve: Serve) -> None:
    # given a server that streams one delta and then goes silent with the connection open
    async def handler(request: RecordedRequest, reply: Reply) -> None:
        await reply.sse_start()
        await reply.sse_event(chunk_payload("Osmosis"))
        await asyncio.sleep(60)

    server = await serve(handler)
    received: list[str] = []

    # when the stream is consumed
    with pytest.raises(LLMUnavailableError) as caught:
        async for delta in client_for(server.base_url, read_timeout_s=0.5).stream(QUESTION, max_tokens=8):
            received.append(delta)

    # then the first delta arrived and the silence became a timeout
    assert received == ["Osmosis"]
    assert caught.value.reason == "timeout"


async def test_server_error_is_retried_then_raised_as_server_error(serve: Serve) -> None:
    # given a server that always fails with HTTP 500
    async def handler(request: RecordedRequest, reply: Reply) -> None:
        await reply.json(500, {"error": {"message": "CUDA out of memory", "type": "server_error"}})

    server = await serve(handler)

    # when a completion is requested with one retry allowed
    with pytest.raises(LLMUnavailableError) as caught:
        await client_for(server.base_url, max_retries=1).complete(QUESTION, max_tokens=8)

    # then it was tried twice and fails as server_error
    assert caught.value.reason == "server_error"
    assert "HTTP 500" in caught.value.detail
    assert len(server.requests) == 2


async def test_transient_503_is_retried_and_the_retry_succeeds(serve: Serve) -> None:
    # given a server that is overloaded once, then answers
    async def handler(request: RecordedRequest, reply: Reply) -> None:
        if len(server.requests) == 1:
            await reply.json(503, {"error": {"message": "overloaded"}})
        else:
            await reply.json(200, completion_payload("Recovered."))

    server = await serve(handler)

    # when a completion is requested with one retry allowed
    text = await client_for(server.base_url, max_retries=1).complete(QUESTION, max_tokens=8)

    # then the second attempt's answer comes back
    assert text == "Recovered."
    assert len(server.requests) == 2


async def test_rejected_request_raises_request_error_without_retry(serve: Serve) -> None:
    # given a server that refuses the prompt as too long (HTTP 400)
    async def handler(request: RecordedRequest, reply: Reply) -> None:
        await reply.json(400, {"error": {"message": "maximum context length is 2048 tokens"}})

    server = await serve(handler)

    # when a completion is requested
    with pytest.raises(LLMRequestError) as caught:
        await client_for(server.base_url, max_retries=3).complete(QUESTION, max_tokens=8)

    # then the caller learns the request itself is wrong, after a single attempt
    assert "HTTP 400" in str(caught.value)
    assert len(server.requests) == 1


async def test_stream_ending_without_finish_reason_is_a_bad_response(serve: Serve) -> None:
    # given a server that closes the stream after one delta, with no finish reason
    async def handler(request: RecordedRequest, reply: Reply) -> None:
        await reply.sse_start()
        await reply.sse_event(chunk_payload("Osmo"))

    server = await serve(handler)
    received: list[str] = []

    # when the stream is consumed
    with pytest.raises(LLMUnavailableError) as caught:
        async for delta in client_for(server.base_url).stream(QUESTION, max_tokens=8):
            received.append(delta)

    # then the truncation is reported, not passed off as a complete answer
    assert received == ["Osmo"]
    assert caught.value.reason == "bad_response"


@pytest.mark.parametrize(
    ("mode", "expected_format"),
    [
        (
            "json_schema",
            {
                "type": "json_schema",
                "json_schema": {"name": "Verdict", "schema": Verdict.model_json_schema(), "strict": True},
            },
        ),
        ("json_object", {"type": "json_object", "schema": Verdict.model_json_schema()}),
    ],
)
async def test_complete_json_sends_the_configured_response_format_and_parses_the_answer(
    serve: Serve, mode: str, expected_format: dict[str, Any]
) -> None:
    # given a server answering with JSON that fits the schema
    async def handler(request: RecordedRequest, reply: Reply) -> None:
        await reply.json(200, completion_payload('{"supported": true, "sentence_index": 2}'))

    server = await serve(handler)

    # when structured output is requested in this mode
    verdict = await client_for(server.base_url, structured_output=mode).complete_json(
        QUESTION, schema=Verdict, max_tokens=32
    )

    # then the payload carries that mode's response_format and the answer is parsed
    assert server.requests[0].body["response_format"] == expected_format
    assert verdict == Verdict(supported=True, sentence_index=2)


async def test_complete_json_with_output_not_matching_the_schema_is_a_bad_response(serve: Serve) -> None:
    # given a server whose JSON misses a required field
    async def handler(request: RecordedRequest, reply: Reply) -> None:
        await reply.json(200, completion_payload('{"supported": true}'))

    server = await serve(handler)

    # when structured output is requested
    with pytest.raises(LLMUnavailableError) as caught:
        await client_for(server.base_url).complete_json(QUESTION, schema=Verdict, max_tokens=32)

    # then it is reported as an unreadable answer naming the schema
    assert caught.value.reason == "bad_response"
    assert "Verdict" in caught.value.detail


async def test_closing_a_stream_early_closes_the_connection(serve: Serve) -> None:
    # given a server that would stream for a long time, and notes when the client hangs up
    hung_up = asyncio.Event()

    async def handler(request: RecordedRequest, reply: Reply) -> None:
        await reply.sse_start()
        try:
            for _ in range(600):
                await reply.sse_event(chunk_payload("word "))
                await asyncio.sleep(0.05)
        except ConnectionError:
            hung_up.set()

    server = await serve(handler)

    # when the consumer reads two deltas and closes the stream
    async with client_for(server.base_url).stream(QUESTION, max_tokens=600) as tokens:
        first_two = [await tokens.__anext__(), await tokens.__anext__()]

    # then the server sees the connection go away
    await asyncio.wait_for(hung_up.wait(), timeout=5.0)
    assert first_two == ["word ", "word "]
    assert tokens.stats is None


@pytest.mark.parametrize(
    ("messages", "max_tokens", "message"),
    [
        ([], 8, "at least one ChatMessage"),
        (QUESTION, 0, "max_tokens must be a positive int"),
        ([{"role": "user", "content": "hi"}], 8, "must be ChatMessage instances"),
    ],
)
async def test_bad_arguments_raise_value_error_before_any_request(
    serve: Serve, messages: Any, max_tokens: int, message: str
) -> None:
    # given a server that records requests
    async def handler(request: RecordedRequest, reply: Reply) -> None:
        await reply.json(200, completion_payload("unused"))

    server = await serve(handler)

    # when a completion is requested with bad arguments
    with pytest.raises(ValueError, match=message):
        await client_for(server.base_url).complete(messages, max_tokens=max_tokens)

    # then nothing was sent
    assert server.requests == []


async def _keep_alive_server(body: bytes) -> asyncio.Server:
    """An HTTP/1.1 server that answers every request with ``body`` and keeps the connection open
    (the fake server closes each one; llama_cpp.server and vLLM keep them, so pools hold them)."""

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while head := await reader.readuntil(b"\r\n\r\n"):
            length = next(
                int(line.split(b":", 1)[1])
                for line in head.split(b"\r\n")
                if line.lower().startswith(b"content-length:")
            )
            await reader.readexactly(length)
            writer.write(
                b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                + f"Content-Length: {len(body)}\r\n\r\n".encode()
                + body
            )
            await writer.drain()

    return await asyncio.start_server(serve, "127.0.0.1", 0)


def test_a_pool_whose_event_loop_ended_is_dropped_without_an_error_in_a_later_loop(
    caplog: pytest.LogCaptureFixture,
) -> None:
    # given a client that answered in one event loop (a Celery task's, a test's), which then ended
    # with the kept-alive connection still in the client's pool
    async def answer_in_a_loop_of_its_own() -> OpenAIChatClient:
        server = await _keep_alive_server(json.dumps(completion_payload("Yes.")).encode())
        port = server.sockets[0].getsockname()[1]
        client = client_for(f"http://127.0.0.1:{port}/v1")
        assert await client.complete(QUESTION, max_tokens=4) == "Yes."
        return client

    client = asyncio.run(answer_in_a_loop_of_its_own())
    caplog.clear()  # the ended loop's own cancellation of the server task is not under test

    # when the client is garbage-collected while another loop (the live server's) runs
    async def drop_it_in_another_loop() -> None:
        nonlocal client
        del client
        gc.collect()
        await asyncio.sleep(0.05)  # a close scheduled on this loop would run here

    with caplog.at_level(logging.ERROR, logger="asyncio"):
        asyncio.run(drop_it_in_another_loop())
        gc.collect()

    # then nothing was logged: no close was scheduled on a loop the pool does not belong to
    assert [record.getMessage() for record in caplog.records if record.name == "asyncio"] == []
