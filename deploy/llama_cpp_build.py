"""Build and install llama-cpp-python so it runs on this x86-64 CPU, never with llama.cpp's AMX kernels.

Run by `make setup` with the venv's interpreter, as a script (stdlib only; it must work before the
project's dependencies are installed)::

    .venv/bin/python deploy/llama_cpp_build.py install      # build if needed, install, record the build
    .venv/bin/python deploy/llama_cpp_build.py flags        # print the CMake flags chosen for this CPU

Why not pip's default build: it compiles with -march=native, and on CPUs with AMX (Intel Sapphire
Rapids and later) llama.cpp's AMX matrix kernels segfault in decode (upstream bug, open). llama.cpp's
runtime dispatch (GGML_BACKEND_DL + GGML_CPU_ALL_VARIANTS) would pick its `sapphirerapids` variant on
those CPUs, which enables AMX, and llama-cpp-python 0.3.36 does not load dynamic backends anyway.
So the instruction sets are named explicitly, and never AMX. By default (LLAMA_CPU_TIER=avx2) the
AVX2 baseline: it runs on every x86-64 CPU of the last decade (AVX2-only, AVX-512 and AMX alike), so
one wheel serves every machine, and for SmolLM2-135M it decodes as fast as a build with every
AVX-512 extension this CPU has (bench/bench_llama_build.py: 1.00-1.04x side by side on a Sapphire
Rapids; the model is too small for the wider kernels to matter). LLAMA_CPU_TIER=host compiles in
each instruction set the CPU reports (AVX-512, VNNI, BF16, ...), still without AMX, for a bigger
model where that may pay.

Why a wheel folder of our own: pip's wheel cache keys on the sdist, not on CMAKE_ARGS, so a wheel
built earlier with other flags (a native one) would silently come back. The wheel is built with
--no-cache-dir into a folder named after the version and the flags, and installed from there only.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

LLAMA_CPP_VERSION = "0.3.36"
PACKAGE = "llama-cpp-python"
# The server extra's dependencies: installed from the index, while the compiled package itself only
# ever comes from our wheel folder.
SERVER_EXTRA = f"{PACKAGE}[server]=={LLAMA_CPP_VERSION}"

# ggml CMake option -> the /proc/cpuinfo flags it needs (all of them).
_FEATURES: dict[str, tuple[str, ...]] = {
    "SSE42": ("sse4_2",),
    "AVX": ("avx",),
    "AVX2": ("avx2",),
    "FMA": ("fma",),
    "F16C": ("f16c",),
    "BMI2": ("bmi2",),
    "AVX_VNNI": ("avx_vnni",),
    "AVX512": ("avx512f", "avx512cd", "avx512vl", "avx512dq", "avx512bw"),
    "AVX512_VBMI": ("avx512f", "avx512vbmi"),
    "AVX512_VNNI": ("avx512f", "avx512_vnni"),
    "AVX512_BF16": ("avx512f", "avx512_bf16"),
}
# The AVX2 baseline: every x86-64 CPU of the last decade (Intel Haswell 2013+, AMD Zen). A CPU
# without one of these gets the rest: the tier never names an instruction the CPU lacks.
_AVX2_TIER = ("SSE42", "AVX", "AVX2", "FMA", "F16C", "BMI2")
# Never on: these are the crashing kernels.
_ALWAYS_OFF = ("AMX_TILE", "AMX_INT8", "AMX_BF16")


def cpu_flags(cpuinfo: str | None = None) -> frozenset[str]:
    """The instruction-set flags of the first CPU in /proc/cpuinfo (empty where there is none)."""
    if cpuinfo is None:
        try:
            cpuinfo = Path("/proc/cpuinfo").read_text(encoding="utf-8")
        except OSError:
            return frozenset()
    for line in cpuinfo.splitlines():
        if line.startswith("flags"):
            return frozenset(line.partition(":")[2].split())
    return frozenset()


DEFAULT_TIER = "avx2"


def enabled_features(flags: frozenset[str], *, tier: str = DEFAULT_TIER) -> tuple[str, ...]:
    """The ggml instruction sets to compile in: the AVX2 baseline ("avx2"), or all the CPU has ("host")."""
    if tier == "avx2":
        return tuple(name for name in _AVX2_TIER if set(_FEATURES[name]) <= flags)
    if tier != "host":
        raise SystemExit(f"LLAMA_CPU_TIER must be 'avx2' or 'host', not {tier!r}")
    return tuple(name for name, needs in _FEATURES.items() if set(needs) <= flags)


def cmake_args(features: tuple[str, ...]) -> list[str]:
    """CMake arguments: no -march=native, each listed feature on, every other one and AMX off."""
    args = ["-DGGML_NATIVE=OFF"]
    args += [f"-DGGML_{name}={'ON' if name in features else 'OFF'}" for name in _FEATURES]
    args += [f"-DGGML_{name}=OFF" for name in _ALWAYS_OFF]
    return args


def build_key(args: list[str]) -> str:
    """Names the wheel folder: the version and a digest of the flags and the interpreter."""
    digest = hashlib.sha256(" ".join([*args, sys.version]).encode()).hexdigest()[:12]
    return f"{PACKAGE}-{LLAMA_CPP_VERSION}-{digest}"


def wheel_root() -> Path:
    """Built wheels outlive a venv or a clone on this machine (a rebuild is ~7 minutes on 2 cores)."""
    override = os.environ.get("LLAMA_WHEEL_DIR")
    if override:
        return Path(override)
    cache = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(cache) / "veritutor" / "wheels"


def _installed_marker() -> Path:
    return Path(sys.prefix) / ".llama-cpp-build"


def build_wheel(args: list[str], folder: Path) -> Path:
    """Compile the sdist with `args` into `folder` (skipped when a wheel is already there)."""
    existing = sorted(folder.glob("llama_cpp_python-*.whl"))
    if existing:
        return existing[-1]
    staging = Path(tempfile.mkdtemp(prefix="llama-wheel-"))
    env = {**os.environ, "CMAKE_ARGS": " ".join(args), "FORCE_CMAKE": "1"}
    env.setdefault("CMAKE_BUILD_PARALLEL_LEVEL", str(os.cpu_count() or 2))
    print(f"building {PACKAGE} {LLAMA_CPP_VERSION} with {' '.join(args)} (several minutes)", flush=True)
    pip_wheel = [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-cache-dir", "--no-binary", PACKAGE]
    subprocess.run([*pip_wheel, "-w", str(staging), f"{PACKAGE}=={LLAMA_CPP_VERSION}"], env=env, check=True)
    wheels = sorted(staging.glob("llama_cpp_python-*.whl"))
    if not wheels:
        raise SystemExit(f"pip built no {PACKAGE} wheel in {staging}")
    folder.mkdir(parents=True, exist_ok=True)
    # Moved in whole, so an interrupted build never leaves a half-written wheel under the key.
    target = folder / wheels[-1].name
    shutil.move(str(wheels[-1]), str(target))
    shutil.rmtree(staging, ignore_errors=True)
    return target


def install(*, tier: str) -> None:
    """Build (if needed) and install the wheel for this CPU; a no-op when it is already installed."""
    args = cmake_args(enabled_features(cpu_flags(), tier=tier))
    key = build_key(args)
    marker = _installed_marker()
    if marker.is_file() and marker.read_text(encoding="utf-8").splitlines()[:1] == [key]:
        return
    wheel = build_wheel(args, wheel_root() / key)
    pip = [sys.executable, "-m", "pip", "install", "-q"]
    subprocess.run([*pip, "--no-deps", "--force-reinstall", str(wheel)], check=True)
    # The server extra's pure-Python dependencies; the package itself is already satisfied.
    subprocess.run([*pip, "--find-links", str(wheel.parent), "--only-binary", PACKAGE, SERVER_EXTRA], check=True)
    marker.write_text(f"{key}\n{' '.join(args)}\n", encoding="utf-8")
    print(f"installed {wheel.name} ({key})", flush=True)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("command", choices=["install", "flags", "key"])
    options = parser.parse_args(argv)
    tier = os.environ.get("LLAMA_CPU_TIER", DEFAULT_TIER)
    args = cmake_args(enabled_features(cpu_flags(), tier=tier))
    if options.command == "flags":
        print(" ".join(args))
    elif options.command == "key":
        print(build_key(args))
    else:
        install(tier=tier)


if __name__ == "__main__":
    main()
