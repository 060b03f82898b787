"""An OpenAI-compatible server that answers garbage: the openai backend raises its own error."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import pytest

from llm.errors import LLMUnavailableError
from llm.openai_backend import OpenAIBackendConfig, OpenAIChatClient
from llm.types import ChatMessage
from tests.llm.fake_openai_server import FakeOpenAIServer, Handler, RecordedRequest, Reply, chunk_payload

Serve = Callable[[Handler], Awaitable[FakeOpenAIServer]]
QUESTION = [ChatMessage("user", "What is osmosis?")]


async def test_a_stream_of_events_that_are_not_json_is_a_bad_response(serve: Serve) -> None:
    # given a server (or a proxy in front of it) that streams an error page as events, after a delta
    async def handler(request: RecordedRequest, reply: Reply) -> None:
        await reply.sse_start()
        await reply.sse_event(chunk_payload("Osmosis"))
        await reply.sse_event("<html>502 Bad Gateway</html>")

    server = await serve(handler)
    client = OpenAIChatClient(OpenAIBackendConfig(base_url=server.base_url, model="fake-model", read_timeout_s=2.0))

    # when the answer is streamed
    deltas: list[str] = []
    with pytest.raises(LLMUnavailableError) as raised:
        async with client.stream(QUESTION, max_tokens=16) as tokens:
            async for delta in tokens:
                deltas.append(delta)

    # then the delta before it arrived, and the garbage is an unreadable answer, told as such
    assert deltas == ["Osmosis"]
    assert raised.value.reason == "bad_response"
    assert (
        raised.value.student_message == "The tutor's language model gave an answer it could not read. Please try again."
    )
    assert len(server.requests) == 1
