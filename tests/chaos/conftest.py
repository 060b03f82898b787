"""Fixtures of the chaos suite: a real ASGI server, students with tokens, the LLM on a server."""

from collections.abc import Iterator

import pytest
from django.core.cache import cache
from rest_framework.authtoken.models import Token

import llm.factory
from curriculum.indexing.chroma_server import ChromaServer, running_chroma_server
from tests.asgi_server import serving
from tests.chaos.processes import free_port
from tests.factories import EnrollmentFactory, UserFactory

# The LLM deadline in these tests: the read timeout, for the first byte and between streamed chunks.
LLM_DEADLINE_S = 2.0


@pytest.fixture(autouse=True)
def _fresh_cache() -> Iterator[None]:
    # Rate-limit counters live in the cache; each test starts from zero.
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def web_port(transactional_db) -> Iterator[int]:
    """uvicorn serving config.asgi on a free loopback port, in a thread of this process."""
    from config.asgi import application

    with serving(application) as port:
        yield port


@pytest.fixture
def token_for():
    def make(curriculum) -> str:
        student = UserFactory()
        EnrollmentFactory(student=student, curriculum=curriculum)
        return str(Token.objects.create(user=student).key)

    return make


@pytest.fixture
def llm_port(settings) -> Iterator[int]:
    """The app's LLM is an OpenAI-compatible server on this (free) port; nothing listens there yet."""
    port = free_port()
    settings.LLM_BACKEND = "openai"
    settings.LLM_BASE_URL = f"http://127.0.0.1:{port}/v1"
    settings.LLM_MODEL = "fake-model"
    settings.LLM_CONNECT_TIMEOUT_S = 1.0
    settings.LLM_READ_TIMEOUT_S = LLM_DEADLINE_S
    settings.LLM_MAX_RETRIES = 1
    settings.TUTOR_COMPOSITION = "draft"
    llm.factory.reset_chat_client()
    yield port
    llm.factory.reset_chat_client()


@pytest.fixture
def chroma_server(settings, tmp_path) -> Iterator[ChromaServer]:
    """A Chroma server of this test's own (``chroma run``), which this process and the processes the
    test starts all use."""
    with running_chroma_server(tmp_path / "chroma") as server:
        settings.CHROMA_HOST, settings.CHROMA_PORT = server.host, server.port
        yield server
