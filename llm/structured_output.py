"""JSON-schema constrained output: the request's response_format and the parsing of the answer."""

from __future__ import annotations

import re
from typing import Any, Literal, TypeVar

from pydantic import BaseModel, ValidationError

from llm.errors import LLMUnavailableError

StructuredOutputMode = Literal["json_schema", "json_object"]
STRUCTURED_OUTPUT_MODES: tuple[StructuredOutputMode, ...] = ("json_schema", "json_object")

SchemaT = TypeVar("SchemaT", bound=BaseModel)

# OpenAI's json_schema "name" must match ^[a-zA-Z0-9_-]{1,64}$.
_NAME_UNSAFE = re.compile(r"[^a-zA-Z0-9_-]")


def response_format_for(schema: type[BaseModel], mode: StructuredOutputMode) -> dict[str, Any]:
    """The response_format that makes a server constrain its output to ``schema``.

    "json_schema" is the OpenAI form that vLLM implements (guided decoding). llama.cpp's server
    rejects it but accepts {"type": "json_object", "schema": ...}, which it turns into a grammar;
    the embedded backend uses that same form.
    """
    json_schema = schema.model_json_schema()
    if mode == "json_schema":
        return {
            "type": "json_schema",
            "json_schema": {
                "name": _NAME_UNSAFE.sub("_", schema.__name__)[:64],
                "schema": json_schema,
                "strict": True,
            },
        }
    if mode == "json_object":
        return {"type": "json_object", "schema": json_schema}
    raise ValueError(f"structured output mode must be one of {STRUCTURED_OUTPUT_MODES}, got {mode!r}")


def parse_structured(text: str, schema: type[SchemaT]) -> SchemaT:
    """Validate the model's JSON answer against ``schema``; unreadable output is a bad_response."""
    try:
        return schema.model_validate_json(text)
    except ValidationError as exc:
        preview = text if len(text) <= 200 else text[:200] + "..."
        raise LLMUnavailableError(
            "bad_response",
            f"output does not match {schema.__name__}: {exc.error_count()} error(s); output was {preview!r}",
        ) from exc
