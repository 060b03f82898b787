"""`make setup`'s smoke check: the packaged model runs on this CPU, or set-up fails saying why."""

import signal
import stat
from pathlib import Path

import pytest

from llm.smoke_check import AMX_MARKER, SmokeResult, cpu_summary, diagnose, run_smoke

CPUINFO = "model name\t: Intel(R) Xeon(R) Platinum 8480+\nflags\t\t: fpu avx2 avx512f amx_tile amx_int8\n"


def _crashing_python(tmp_path: Path, signum: int) -> str:
    """An 'interpreter' that dies of ``signum`` the way a native crash in llama.cpp ends the child."""
    script = tmp_path / "python"
    script.write_text(f"#!/bin/sh\nkill -{signal.Signals(signum).name.removeprefix('SIG')} $$\n")
    script.chmod(script.stat().st_mode | stat.S_IEXEC)
    return str(script)


@pytest.mark.integration
def test_the_installed_build_generates_with_the_packaged_model_and_no_amx_kernels() -> None:
    # when the smoke check runs the real library and model
    result = run_smoke()

    # then the model answered and llama.cpp reports no AMX kernels compiled in
    assert (result.returncode, diagnose(result, cpu="this CPU")) == (0, None)
    assert result.text
    assert "AVX2 = 1" in result.system_info
    assert "AMX" not in result.system_info


@pytest.mark.parametrize("signum", [signal.SIGSEGV, signal.SIGILL])
def test_a_child_that_crashes_fails_set_up_naming_the_signal_cpu_and_remedy(tmp_path: Path, signum: int) -> None:
    # given a model child that dies of a native crash
    result = run_smoke(python=_crashing_python(tmp_path, signum))

    # when it is diagnosed
    problem = diagnose(result, cpu=cpu_summary(CPUINFO))

    # then set-up fails with the signal, the CPU's features and the rebuild command
    assert result.returncode == -signum
    assert problem is not None
    assert problem.startswith(
        f"the embedded model crashed with {signal.Signals(signum).name} while generating 4 tokens."
    )
    assert "CPU: Intel(R) Xeon(R) Platinum 8480+ (avx2, avx512f, amx_tile, amx_int8)" in problem
    assert "make setup" in problem


def test_a_build_with_amx_kernels_fails_even_when_the_prompt_passed() -> None:
    # given a run that answered, on a library compiled with AMX
    result = SmokeResult(returncode=0, system_info=f"CPU : AVX2 = 1 | {AMX_MARKER} |", text="A cell", stderr="")

    # when it is diagnosed
    problem = diagnose(result, cpu="x")

    # then it is refused all the same
    assert problem is not None
    assert problem.startswith("llama.cpp was compiled with its AMX kernels (AMX_INT8 = 1)")
