"""The errors an LLM client raises. Callers catch these, never a backend's own exceptions."""

from __future__ import annotations

from typing import Literal

UnavailableReason = Literal["unreachable", "timeout", "server_error", "bad_response"]

# What a student sees for each reason: the tutor cannot answer right now, and whether retrying soon
# is likely to help. The detail (host, status, exception) is for the logs only.
_STUDENT_MESSAGES: dict[UnavailableReason, str] = {
    "unreachable": "The tutor's language model cannot be reached right now. Please try again in a minute.",
    "timeout": "The tutor's language model is taking too long to answer. Please try again in a minute.",
    "server_error": "The tutor's language model failed while answering. Please try again.",
    "bad_response": "The tutor's language model gave an answer it could not read. Please try again.",
}


class LLMError(Exception):
    """Base of every error raised by the llm package."""


class LLMConfigurationError(LLMError):
    """The LLM settings are wrong (unknown backend, missing base URL, model file absent).

    Raised when a client is built, so that a misconfigured deployment fails at start-up rather
    than on a student's first question.
    """


class LLMUnavailableError(LLMError):
    """The model could not produce an answer: down, too slow, failing, or unreadable output."""

    def __init__(self, reason: UnavailableReason, detail: str) -> None:
        super().__init__(f"LLM unavailable ({reason}): {detail}")
        self.reason: UnavailableReason = reason
        self.detail = detail

    @property
    def student_message(self) -> str:
        """A sentence fit to show a student; says nothing about hosts or stack traces."""
        return _STUDENT_MESSAGES[self.reason]


class LLMRequestError(LLMError, ValueError):
    """The request itself was refused (e.g. the prompt does not fit the model's context window).

    Retrying the same request cannot succeed; the caller must shorten or fix it.
    """
