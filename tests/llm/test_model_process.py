"""The embedded model in a supervised child process: a crash fails one request, never this process."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import time
from collections.abc import Iterator

import pytest

from llm.child_backend import ChildProcessChatClient
from llm.errors import LLMUnavailableError
from llm.llama_server import child_environment, free_port
from llm.model_files import SMOLLM2_MODEL_NAME, smollm2_gguf_path
from llm.model_process import ModelProcess, ModelProcessConfig, process_running
from llm.types import ChatMessage, StreamStats

pytestmark = pytest.mark.integration

QUESTION = [ChatMessage("user", "Explain what a cell is, in three sentences.")]


@pytest.fixture
def model_child() -> Iterator[ModelProcess]:
    process = ModelProcess(
        ModelProcessConfig(
            model_path=smollm2_gguf_path(),
            model_name=SMOLLM2_MODEL_NAME,
            context_tokens=1024,
            threads=0,
            ready_timeout_s=60,
        )
    )
    yield process
    process.stop()


def _client(process: ModelProcess) -> ChildProcessChatClient:
    return ChildProcessChatClient(process, read_timeout_s=30, connect_timeout_s=3)


async def _kill_mid_stream(process: ModelProcess, client: ChildProcessChatClient, signum: int) -> tuple[str, float]:
    """Stream an answer, kill the child after its third delta; the text seen and the seconds to fail."""
    seen: list[str] = []
    async with client.stream(QUESTION, max_tokens=200, temperature=0.0) as stream:
        with pytest.raises(LLMUnavailableError) as failure:
            async for delta in stream:
                seen.append(delta)
                if len(seen) == 3:
                    assert process.pid is not None
                    os.kill(process.pid, signum)
                    killed_at = time.monotonic()
    assert failure.value.reason == "server_error"
    return "".join(seen), time.monotonic() - killed_at


@pytest.mark.parametrize("signum", [signal.SIGKILL, signal.SIGSEGV])
def test_a_child_killed_mid_answer_fails_that_answer_fast_and_is_restarted(
    model_child: ModelProcess, signum: int
) -> None:
    # given a ready model child answering over the OpenAI protocol
    client = _client(model_child)
    model_child.wait_ready()
    first_pid = model_child.pid

    # when the child dies after three streamed deltas
    partial, seconds_to_fail = asyncio.run(_kill_mid_stream(model_child, client, signum))

    # then the stream fails with a clear error within 3 s, having delivered what came before
    assert len(partial) > 0
    assert seconds_to_fail < 3.0
    # and a new child answers the next request, which waits for it instead of failing
    answer = asyncio.run(client.complete(QUESTION, max_tokens=8, temperature=0.0))
    assert answer.strip() != ""
    assert (model_child.restarts, model_child.last_exit) == (1, -signum)
    assert model_child.pid not in (None, first_pid)


def test_concurrent_requests_queue_instead_of_cutting_each_other_short(model_child: ModelProcess) -> None:
    # given one child (llama_cpp.server interrupts a stream when a new request arrives, by default)
    client = _client(model_child)
    model_child.wait_ready()
    long_question = [ChatMessage("user", "Describe the parts of a plant cell and what each part does.")]

    async def one() -> StreamStats | None:
        async with client.stream(long_question, max_tokens=48, temperature=0.0) as stream:
            await stream.text()
            return stream.stats

    async def both() -> list[StreamStats | None]:
        return list(await asyncio.gather(one(), one()))

    # when two answers stream at once
    first, second = asyncio.run(both())

    # then each ran to its token limit: neither was cut short by the other
    assert first is not None and second is not None
    assert (first.finish_reason, second.finish_reason) == ("length", "length")
    assert first.delta_count >= 40 and second.delta_count >= 40


def test_a_request_while_no_child_can_start_fails_as_unreachable(tmp_path) -> None:
    # given a child whose model file is not a model: it can never become ready
    bad = tmp_path / "broken.gguf"
    bad.write_bytes(b"not a gguf")
    process = ModelProcess(
        ModelProcessConfig(model_path=bad, model_name="broken", context_tokens=256, threads=1, ready_timeout_s=2)
    )
    try:
        # when a completion is requested
        with pytest.raises(LLMUnavailableError) as failure:
            asyncio.run(_client(process).complete(QUESTION, max_tokens=4))
    finally:
        process.stop()

    # then the caller is told the model is unreachable, after the ready timeout
    assert failure.value.reason == "unreachable"
    assert "not ready after 2 s" in failure.value.detail


def test_the_web_servers_environment_does_not_steer_the_child(
    model_child: ModelProcess, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given the variables a deployment sets for its web server (llama_cpp.server also reads them)
    monkeypatch.setenv("PORT", str(free_port()))
    monkeypatch.setenv("HOST", "0.0.0.0")
    monkeypatch.setenv("API_KEY", "the-web-servers-secret")

    # when the child starts and is asked
    answer = asyncio.run(_client(model_child).complete(QUESTION, max_tokens=4, temperature=0.0))

    # then it listens on its own loopback port and wants no key
    assert answer.strip() != ""
    assert model_child.base_url == f"http://127.0.0.1:{model_child.port}/v1"


def test_the_child_inherits_only_what_python_and_the_native_libraries_need() -> None:
    # given an environment with the process basics and a web server's settings
    environ = {
        "PATH": "/usr/bin",
        "HOME": "/root",
        "LC_ALL": "C.UTF-8",
        "PYTHONPATH": "/app",
        "OMP_NUM_THREADS": "2",
        "OPENBLAS_CORETYPE": "haswell",
        "PORT": "8000",
        "HOST": "0.0.0.0",
        "CONFIG_FILE": "/etc/llama.json",
        "API_KEY": "secret",
        "DATABASE_URL": "postgres://",
    }

    # when the child's environment is made, then the settings are gone and the basics kept
    assert child_environment(environ) == {
        "PATH": "/usr/bin",
        "HOME": "/root",
        "LC_ALL": "C.UTF-8",
        "PYTHONPATH": "/app",
        "OMP_NUM_THREADS": "2",
        "OPENBLAS_CORETYPE": "haswell",
    }


def test_a_dead_child_is_not_running_even_before_it_is_reaped() -> None:
    # given a child process that has exited but not been waited for (a zombie, as the model child
    # is while the watchdog thread holds Popen's wait lock)
    child = subprocess.Popen(["sleep", "30"])
    assert process_running(child.pid) is True
    # when it is killed
    os.kill(child.pid, signal.SIGKILL)
    deadline = time.monotonic() + 5
    while process_running(child.pid) and time.monotonic() < deadline:
        time.sleep(0.01)
    # then it reads as not running before anyone reaps it, and after
    assert process_running(child.pid) is False
    child.wait()
    assert process_running(child.pid) is False
