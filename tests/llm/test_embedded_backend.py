"""Control flow of the embedded backend (threading, cancellation, errors) with a fake Llama.

The real model is exercised in test_integration.py.
"""

from __future__ import annotations

import asyncio
import itertools
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from llm.embedded_backend import EmbeddedBackendConfig, EmbeddedChatClient
from llm.errors import LLMRequestError, LLMUnavailableError
from llm.types import ChatMessage, StreamStats

QUESTION = [ChatMessage("user", "What is osmosis?")]


class FakeLlama:
    """Stands in for llama_cpp.Llama: streams chunks on the calling thread, blocking like the real one."""

    def __init__(
        self,
        pieces: list[str] | None = None,
        *,
        seconds_per_token: float = 0.0,
        error: Exception | None = None,
        endless: bool = False,
    ) -> None:
        self.pieces = pieces or []
        self.seconds_per_token = seconds_per_token
        self.error = error
        self.endless = endless
        self.calls: list[dict[str, Any]] = []
        self.produced = 0
        self.active = 0
        self.max_active = 0
        self.threads: set[str] = set()
        self._guard = threading.Lock()

    def create_chat_completion(self, **kwargs: Any) -> Iterator[dict[str, Any]]:
        self.calls.append(kwargs)
        return self._chunks()

    def _chunks(self) -> Iterator[dict[str, Any]]:
        with self._guard:
            self.active += 1
            self.max_active = max(self.max_active, self.active)
            self.threads.add(threading.current_thread().name)
        try:
            if self.error is not None:
                raise self.error
            source = itertools.repeat("word ") if self.endless else iter(self.pieces)
            for piece in source:
                time.sleep(self.seconds_per_token)
                self.produced += 1
                yield {"choices": [{"index": 0, "delta": {"content": piece}, "finish_reason": None}]}
            yield {"choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]}
        finally:
            with self._guard:
                self.active -= 1


def embedded_client(tmp_path: Path, fake: FakeLlama, read_timeout_s: float = 5.0) -> EmbeddedChatClient:
    model_path = tmp_path / "fake.gguf"
    model_path.write_bytes(b"GGUF")
    config = EmbeddedBackendConfig(
        model_path=model_path, model_name="fake", context_tokens=512, threads=1, read_timeout_s=read_timeout_s
    )
    return EmbeddedChatClient(config, loader=lambda _config: fake)  # type: ignore[arg-type,return-value]


async def test_stream_yields_model_deltas_and_stats(tmp_path: Path) -> None:
    # given a model that generates three pieces
    fake = FakeLlama(["Osmosis", " is", " diffusion."])
    client = embedded_client(tmp_path, fake)

    # when the answer is streamed
    tokens = client.stream(QUESTION, max_tokens=16, temperature=0.0, stop=["\n"], seed=3)
    deltas = [delta async for delta in tokens]

    # then the deltas and stats come through and the options reached the model
    assert deltas == ["Osmosis", " is", " diffusion."]
    assert tokens.stats == StreamStats(finish_reason="stop", delta_count=3)
    assert fake.calls == [
        {
            "messages": [{"role": "user", "content": "What is osmosis?"}],
            "stream": True,
            "max_tokens": 16,
            "temperature": 0.0,
            "stop": ["\n"],
            "seed": 3,
            "response_format": None,
        }
    ]


async def test_generation_runs_off_the_event_loop(tmp_path: Path) -> None:
    # given a slow model that blocks its thread 50 ms per token
    fake = FakeLlama(["a", "b", "c", "d"], seconds_per_token=0.05)
    client = embedded_client(tmp_path, fake)
    ticks = 0

    async def ticker() -> None:
        nonlocal ticks
        while True:
            await asyncio.sleep(0.005)
            ticks += 1

    # when the event loop runs a ticker while the answer is generated
    ticker_task = asyncio.create_task(ticker())
    text = await client.complete(QUESTION, max_tokens=8)
    ticker_task.cancel()

    # then the loop kept ticking during the 200 ms of blocking generation, which ran on the worker
    assert text == "abcd"
    assert ticks >= 10
    assert fake.threads == {"llm-embedded_0"}


async def test_concurrent_requests_never_run_the_model_at_once(tmp_path: Path) -> None:
    # given one model instance
    fake = FakeLlama(["x", "y", "z"], seconds_per_token=0.01)
    client = embedded_client(tmp_path, fake)

    # when four answers are requested concurrently
    answers = await asyncio.gather(*(client.complete(QUESTION, max_tokens=8) for _ in range(4)))

    # then all complete, one generation at a time
    assert answers == ["xyz"] * 4
    assert fake.max_active == 1


async def test_closing_the_stream_stops_generation(tmp_path: Path) -> None:
    # given a model that would generate forever, 50 ms per token
    fake = FakeLlama(endless=True, seconds_per_token=0.05)
    client = embedded_client(tmp_path, fake)

    # when the consumer reads three deltas and closes the stream
    async with client.stream(QUESTION, max_tokens=10_000) as tokens:
        first = [await tokens.__anext__() for _ in range(3)]
    # a no-op queued behind the generation runs only once the worker thread is free again
    await asyncio.wrap_future(client._slot.executor.submit(lambda: None))

    # then the model stopped a few tokens after the close (the bound leaves a loaded machine 350 ms
    # to deliver the close to the worker), and produces nothing more
    assert first == ["word "] * 3
    assert fake.active == 0
    assert 3 <= fake.produced <= 10
    produced_when_free = fake.produced
    await asyncio.sleep(0.1)
    assert fake.produced == produced_when_free


async def test_cancelling_the_consuming_task_stops_generation(tmp_path: Path) -> None:
    # given a consumer task streaming from an endless model
    fake = FakeLlama(endless=True, seconds_per_token=0.01)
    client = embedded_client(tmp_path, fake)
    got_first = asyncio.Event()

    async def consume() -> None:
        async for _ in client.stream(QUESTION, max_tokens=10_000):
            got_first.set()

    task = asyncio.create_task(consume())
    await got_first.wait()

    # when the task is cancelled (a student closed the page)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    await asyncio.wrap_future(client._slot.executor.submit(lambda: None))

    # then the worker is free and stopped generating soon after
    assert fake.active == 0
    produced_when_free = fake.produced
    await asyncio.sleep(0.05)
    assert fake.produced == produced_when_free


async def test_no_token_within_read_timeout_raises_timeout(tmp_path: Path) -> None:
    # given a model that takes 1 s per token and a 0.2 s read timeout
    fake = FakeLlama(["late"], seconds_per_token=1.0)
    client = embedded_client(tmp_path, fake, read_timeout_s=0.2)

    # when an answer is requested
    with pytest.raises(LLMUnavailableError) as caught:
        await client.complete(QUESTION, max_tokens=8)

    # then it fails as a timeout
    assert caught.value.reason == "timeout"


async def test_prompt_over_the_context_window_raises_request_error(tmp_path: Path) -> None:
    # given a model that refuses the prompt as llama-cpp-python does
    fake = FakeLlama(error=ValueError("Requested tokens (9000) exceed context window of 8192"))
    client = embedded_client(tmp_path, fake)

    # when an answer is requested
    with pytest.raises(LLMRequestError, match="does not fit the model's context window"):
        await client.complete(QUESTION, max_tokens=8)


async def test_model_crash_raises_server_error(tmp_path: Path) -> None:
    # given a model that fails while decoding
    fake = FakeLlama(error=RuntimeError("llama_decode returned -3"))
    client = embedded_client(tmp_path, fake)

    # when an answer is requested
    with pytest.raises(LLMUnavailableError) as caught:
        await client.complete(QUESTION, max_tokens=8)

    # then it is a typed server_error carrying the cause
    assert caught.value.reason == "server_error"
    assert "llama_decode returned -3" in caught.value.detail
