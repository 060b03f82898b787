"""Both backends on the real SmolLM2-135M-Instruct GGUF: in-process, and behind llama_cpp.server
(the OpenAI protocol vLLM speaks in production)."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from pydantic import BaseModel

from llm.embedded_backend import EmbeddedBackendConfig, EmbeddedChatClient
from llm.errors import LLMRequestError, LLMUnavailableError
from llm.llama_server import LlamaServer, free_port
from llm.model_files import SMOLLM2_MODEL_NAME, smollm2_gguf_path
from llm.openai_backend import OpenAIBackendConfig, OpenAIChatClient
from llm.types import ChatMessage
from tests.llm.stream_speed import StreamSpeed, timed_stream
from tutor.graph.prompts import build_answer_messages
from tutor.graph.state import LearnerContext, Passage

pytestmark = pytest.mark.integration

# Asks for far more than the test's max_tokens allow, so that a respected limit ends the answer.
LONG_ANSWER = [ChatMessage("user", "Write a long, detailed essay about how plant cells make energy.")]


class Capital(BaseModel):
    country: str
    city: str


CAPITAL_QUESTION = [
    ChatMessage("system", "Reply with JSON only."),
    ChatMessage("user", "What is the capital of France? Give the country and the city."),
]

SYLLABUS = [
    Passage(number=n, chunk_id=n, text=text, topic=topic, topic_path=f"Cells › {topic}", module="m1", similarity=0.6)
    for n, (topic, text) in enumerate(
        [
            ("Osmosis", "Osmosis is the movement of water through a semipermeable membrane according to the "
             "concentration gradient of water across the membrane. Cells placed in a hypotonic solution take on "
             "water and may swell; in a hypertonic solution they lose water and shrink."),
            ("Diffusion", "Diffusion is a passive process of transport. A single substance tends to move from an "
             "area of high concentration to an area of low concentration until the concentration is equal across "
             "a space. Oxygen and carbon dioxide cross the plasma membrane this way."),
            ("Active transport", "Active transport mechanisms require the use of the cell's energy, usually in the "
             "form of adenosine triphosphate (ATP). The sodium-potassium pump moves three sodium ions out of the "
             "cell and two potassium ions in for each ATP it uses."),
        ],
        start=1,
    )
]  # fmt: skip


@pytest.fixture(scope="module")
def embedded() -> EmbeddedChatClient:
    return EmbeddedChatClient(
        EmbeddedBackendConfig(model_path=smollm2_gguf_path(), model_name=SMOLLM2_MODEL_NAME, context_tokens=2048)
    )


def served(server: LlamaServer, structured_output: str = "json_object") -> OpenAIChatClient:
    return OpenAIChatClient(
        OpenAIBackendConfig(
            base_url=server.base_url,
            model=server.model_name,
            read_timeout_s=60.0,
            structured_output=structured_output,  # type: ignore[arg-type]
        )
    )


async def test_embedded_streams_a_non_empty_answer_cut_at_max_tokens(embedded: EmbeddedChatClient) -> None:
    # given the real model and a question needing a long answer
    # when it is streamed with room for 8 tokens
    tokens = embedded.stream(LONG_ANSWER, max_tokens=8, temperature=0.0)
    deltas = [delta async for delta in tokens]

    # then text came, in at most 8 deltas, and the limit is what ended it
    assert "".join(deltas).strip() != ""
    assert tokens.stats is not None
    assert tokens.stats.finish_reason == "length"
    assert 1 <= tokens.stats.delta_count <= 8
    assert len(deltas) == tokens.stats.delta_count


async def test_embedded_model_is_usable_again_after_a_stream_is_abandoned(embedded: EmbeddedChatClient) -> None:
    # given a long answer abandoned after two deltas
    async with embedded.stream(LONG_ANSWER, max_tokens=200, temperature=0.0) as tokens:
        [await tokens.__anext__() for _ in range(2)]

    # when the next question is asked
    text = await embedded.complete(LONG_ANSWER, max_tokens=4, temperature=0.0)

    # then it is answered normally
    assert text.strip() != ""


async def test_embedded_complete_json_returns_the_schema(embedded: EmbeddedChatClient) -> None:
    # given a schema the grammar must follow
    # when structured output is requested
    capital = await embedded.complete_json(CAPITAL_QUESTION, schema=Capital, max_tokens=48)

    # then the model's answer parsed into the schema
    assert isinstance(capital, Capital)
    assert capital.city != ""


async def test_embedded_priority_request_pauses_a_streaming_answer_which_resumes_unchanged(
    embedded: EmbeddedChatClient,
) -> None:
    # given the greedy answer to a long question, generated without interruption
    uninterrupted = await embedded.complete(LONG_ANSWER, max_tokens=60, temperature=0.0)
    priority = EmbeddedChatClient(embedded.config, priority=True)
    assert priority._slot is embedded._slot

    # when a priority request arrives after the answer's third delta
    deltas: list[str] = []
    deltas_when_priority_finished: list[int] = []

    async def ask_priority() -> Capital:
        capital = await priority.complete_json(CAPITAL_QUESTION, schema=Capital, max_tokens=48)
        deltas_when_priority_finished.append(len(deltas))
        return capital

    priority_task: asyncio.Task[Capital] | None = None
    async with embedded.stream(LONG_ANSWER, max_tokens=60, temperature=0.0) as tokens:
        async for delta in tokens:
            deltas.append(delta)
            if len(deltas) == 3:
                priority_task = asyncio.create_task(ask_priority())
    assert priority_task is not None
    capital = await priority_task

    # then the priority request was answered while the answer was still streaming
    assert isinstance(capital, Capital)
    assert deltas_when_priority_finished[0] < len(deltas)
    # and the answer resumed where it stopped: the same greedy text as without the pause
    assert "".join(deltas) == uninterrupted
    assert tokens.stats is not None and tokens.stats.finish_reason == "length"


async def test_embedded_prompt_over_the_context_window_raises_request_error(embedded: EmbeddedChatClient) -> None:
    # given a prompt far longer than the 2048-token window
    huge = [ChatMessage("user", "cell membrane " * 3000)]

    # when it is sent, then the request is refused as too long
    with pytest.raises(LLMRequestError):
        await embedded.complete(huge, max_tokens=4)


async def test_server_streams_a_non_empty_answer_cut_at_max_tokens(llama_server: LlamaServer) -> None:
    # given llama_cpp.server on the same model
    # when an answer is streamed with room for 8 tokens
    tokens = served(llama_server).stream(LONG_ANSWER, max_tokens=8, temperature=0.0)
    deltas = [delta async for delta in tokens]

    # then text came in at most 8 deltas and the limit ended it
    assert "".join(deltas).strip() != ""
    assert tokens.stats is not None
    assert tokens.stats.finish_reason == "length"
    assert 1 <= tokens.stats.delta_count <= 8


async def test_server_complete_returns_text(llama_server: LlamaServer) -> None:
    # when a non-streamed answer is requested
    text = await served(llama_server).complete(LONG_ANSWER, max_tokens=8, temperature=0.0)

    # then text comes back
    assert text.strip() != ""


async def test_server_and_embedded_give_the_same_greedy_answer(
    llama_server: LlamaServer, embedded: EmbeddedChatClient
) -> None:
    # given the same model in-process and behind the server, sampled greedily
    # when both answer the same question
    from_server = await served(llama_server).complete(LONG_ANSWER, max_tokens=12, temperature=0.0)
    in_process = await embedded.complete(LONG_ANSWER, max_tokens=12, temperature=0.0)

    # then the answers are identical: the two backends are interchangeable
    assert from_server == in_process


async def test_server_complete_json_in_json_object_mode_returns_the_schema(llama_server: LlamaServer) -> None:
    # when structured output is requested the way llama.cpp accepts it
    capital = await served(llama_server, "json_object").complete_json(CAPITAL_QUESTION, schema=Capital, max_tokens=48)

    # then the answer parsed into the schema
    assert isinstance(capital, Capital)
    assert capital.city != ""


async def test_server_refuses_json_schema_mode_so_llama_cpp_needs_json_object(llama_server: LlamaServer) -> None:
    # given the openai backend set to vLLM's json_schema mode but pointed at llama_cpp.server
    client = served(llama_server, "json_schema")

    # when structured output is requested
    with pytest.raises(LLMUnavailableError) as caught:
        await client.complete_json(CAPITAL_QUESTION, schema=Capital, max_tokens=48)

    # then llama.cpp's validation failure (HTTP 500) surfaces as a typed server_error
    assert caught.value.reason == "server_error"
    assert "json_object" in caught.value.detail


async def test_server_answers_two_questions_on_one_syllabus_sharing_their_prompt_prefix(
    llama_server: LlamaServer, stream_speeds: list[StreamSpeed]
) -> None:
    # given two questions on the same passages, as the answer graph's prompt code builds them
    first, second = (
        build_answer_messages(course="Biology 2e", question=q, passages=SYLLABUS, learner=LearnerContext(), history=[])
        for q in ("What is osmosis?", "How does the sodium-potassium pump use ATP?")
    )

    # then everything before the question is byte-identical: a prefix a caching server computes once
    assert [(m.role, m.content.encode()) for m in first[:-1]] == [(m.role, m.content.encode()) for m in second[:-1]]
    assert first[-1] != second[-1]

    # when both are streamed from llama_cpp.server through the openai backend, one after the other
    client = served(llama_server)
    try:
        speeds = [
            await timed_stream(client, messages, label=label, max_tokens=24, server_log=llama_server.log_path)
            for messages, label in ((first, "syllabus prompt, 1st question"), (second, "same syllabus, 2nd question"))
        ]
    finally:
        await client.aclose()

    # then both answers streamed tokens; their speed and the server's cache reuse are reported, not asserted
    stream_speeds.extend(speeds)
    for speed in speeds:
        assert speed.tokens > 0 and speed.text.strip() != ""


def test_cli_start_returns_once_ready_and_stop_ends_the_server(tmp_path: Path) -> None:
    # given a free port and a pidfile location
    port = free_port()
    pidfile = tmp_path / "llama.pid"

    # when the server is started in the background the way scripts do
    started = subprocess.run(
        [sys.executable, "-m", "llm.llama_server", "start", "--port", str(port), "--n-ctx", "512",
         "--pidfile", str(pidfile)],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip

    # then it answers /v1/models as soon as the command returns
    try:
        assert started.returncode == 0, started.stdout + started.stderr
        assert f"LLM_BASE_URL=http://127.0.0.1:{port}/v1" in started.stdout
        models = httpx.get(f"http://127.0.0.1:{port}/v1/models", timeout=5).json()
        assert [m["id"] for m in models["data"]] == [SMOLLM2_MODEL_NAME]
        pid = int(pidfile.read_text())
    finally:
        # when it is stopped
        stopped = subprocess.run(
            [sys.executable, "-m", "llm.llama_server", "stop", "--pidfile", str(pidfile)],
            capture_output=True, text=True, timeout=60, check=False,
        )  # fmt: skip

    # then the process is gone and the pidfile removed
    assert stopped.returncode == 0, stopped.stdout + stopped.stderr
    assert not pidfile.exists()
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)
