"""What every benchmark result records about where and on what it ran."""

from __future__ import annotations

import platform
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def git_commit() -> str:
    """The short commit, marked when the working tree differs from it."""
    try:
        sha = subprocess.check_output(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, text=True).strip()
        dirty = subprocess.run(["git", "diff", "--quiet", "HEAD"], cwd=ROOT).returncode != 0
        return sha + (" (uncommitted changes)" if dirty else "")
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def cpu_model() -> str:
    """The CPU's model name as /proc/cpuinfo gives it (lscpu's "Model name")."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def use_scratch_stack(prefix: str) -> Path:
    """Point Django at a fresh SQLite database and local Chroma store in a temporary folder, with
    no Redis and the model in-process; call before `django.setup()`. Returns the folder.

    A benchmark imports books into a store of its own, so a developer's var/ (only its cached ONNX
    embedder is reused) and a running server are never touched. In-process, so that
    reset_prompt_caches() gives each run its own prompt evaluation; what the default child process
    adds is measured side by side in bench/bench_model_process.py.
    """
    import os
    import tempfile

    scratch = Path(tempfile.mkdtemp(prefix=prefix))
    os.environ["DJANGO_SETTINGS_MODULE"] = "config.settings.local"
    os.environ["DATABASE_URL"] = f"sqlite:///{scratch / 'bench.sqlite3'}"
    os.environ["CHROMA_PATH"] = str(scratch / "chroma")
    os.environ["CHROMA_HOST"] = ""
    os.environ["REDIS_URL"] = ""
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    os.environ.setdefault("LLM_EMBEDDED_PROCESS", "inprocess")
    return scratch
