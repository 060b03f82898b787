from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Iterator

import pytest
import pytest_asyncio

from llm.llama_server import LlamaServer, running_llama_server
from tests.llm.fake_openai_server import FakeOpenAIServer, Handler
from tests.llm.stream_speed import StreamSpeed, report_lines

_STREAM_SPEEDS = pytest.StashKey[list[StreamSpeed]]()


@pytest_asyncio.fixture
async def serve() -> AsyncIterator[Callable[[Handler], Awaitable[FakeOpenAIServer]]]:
    """Start fake OpenAI servers on loopback; all are stopped after the test."""
    servers: list[FakeOpenAIServer] = []

    async def start(handler: Handler) -> FakeOpenAIServer:
        server = FakeOpenAIServer(handler)
        await server.start()
        servers.append(server)
        return server

    yield start
    for server in servers:
        await server.stop()


@pytest.fixture(scope="session")
def llama_server() -> Iterator[LlamaServer]:
    """A real llama_cpp.server on the packaged SmolLM2 GGUF, shared by the whole test session."""
    with running_llama_server(n_ctx=2048) as server:
        yield server


@pytest.fixture(scope="session")
def stream_speeds(request: pytest.FixtureRequest) -> list[StreamSpeed]:
    """Where tests put what they measured of llama_cpp.server; printed at the end of the run."""
    return request.config.stash.setdefault(_STREAM_SPEEDS, [])


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter, config: pytest.Config) -> None:
    speeds = config.stash.get(_STREAM_SPEEDS, [])
    if speeds:
        terminalreporter.write_sep("-", "llama_cpp.server through the openai backend (measured, not asserted)")
        for line in report_lines(speeds):
            terminalreporter.write_line(line)
