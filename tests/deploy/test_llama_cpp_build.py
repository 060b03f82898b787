"""Which llama.cpp instruction sets `make setup` compiles in, per CPU."""

import pytest

from deploy.llama_cpp_build import build_key, cmake_args, cpu_flags, enabled_features

SAPPHIRE_RAPIDS = (
    "processor\t: 0\nmodel name\t: Intel(R) Xeon(R) Platinum 8480+\n"
    "flags\t\t: fpu sse4_2 avx f16c fma bmi2 avx2 avx512f avx512cd avx512vl avx512dq avx512bw avx512vbmi "
    "avx512_vnni avx512_bf16 avx_vnni amx_tile amx_int8 amx_bf16\n"
)
ZEN3 = "processor\t: 0\nmodel name\t: AMD EPYC 7763\nflags\t\t: fpu sse4_2 avx f16c fma bmi2 avx2\n"


def test_an_amx_cpu_gets_the_avx2_baseline_by_default_and_never_amx() -> None:
    # given a Sapphire Rapids CPU, which has AMX
    flags = cpu_flags(SAPPHIRE_RAPIDS)

    # when the CMake flags are chosen for it by default
    args = cmake_args(enabled_features(flags))

    # then it is the AVX2 baseline with -march=native and every AMX kernel off
    assert args == [
        "-DGGML_NATIVE=OFF",
        "-DGGML_SSE42=ON",
        "-DGGML_AVX=ON",
        "-DGGML_AVX2=ON",
        "-DGGML_FMA=ON",
        "-DGGML_F16C=ON",
        "-DGGML_BMI2=ON",
        "-DGGML_AVX_VNNI=OFF",
        "-DGGML_AVX512=OFF",
        "-DGGML_AVX512_VBMI=OFF",
        "-DGGML_AVX512_VNNI=OFF",
        "-DGGML_AVX512_BF16=OFF",
        "-DGGML_AMX_TILE=OFF",
        "-DGGML_AMX_INT8=OFF",
        "-DGGML_AMX_BF16=OFF",
    ]


def test_the_host_tier_on_an_amx_cpu_gets_every_avx512_set_and_never_amx() -> None:
    # given a Sapphire Rapids CPU, which has AMX
    flags = cpu_flags(SAPPHIRE_RAPIDS)

    # when the CMake flags are chosen for this CPU (LLAMA_CPU_TIER=host)
    args = cmake_args(enabled_features(flags, tier="host"))

    # then AVX-512 and its extensions are on, -march=native and all AMX kernels off
    assert args == [
        "-DGGML_NATIVE=OFF",
        "-DGGML_SSE42=ON",
        "-DGGML_AVX=ON",
        "-DGGML_AVX2=ON",
        "-DGGML_FMA=ON",
        "-DGGML_F16C=ON",
        "-DGGML_BMI2=ON",
        "-DGGML_AVX_VNNI=ON",
        "-DGGML_AVX512=ON",
        "-DGGML_AVX512_VBMI=ON",
        "-DGGML_AVX512_VNNI=ON",
        "-DGGML_AVX512_BF16=ON",
        "-DGGML_AMX_TILE=OFF",
        "-DGGML_AMX_INT8=OFF",
        "-DGGML_AMX_BF16=OFF",
    ]


def test_an_avx2_cpu_gets_no_avx512_instruction_even_in_the_host_tier() -> None:
    # given an AVX2-only CPU
    flags = cpu_flags(ZEN3)

    # when the flags are chosen for it
    features = enabled_features(flags, tier="host")

    # then only what it has is compiled in: nothing it would die of with SIGILL
    assert features == ("SSE42", "AVX", "AVX2", "FMA", "F16C", "BMI2")
    assert "-DGGML_AVX512=OFF" in cmake_args(features)


def test_the_default_build_is_one_wheel_for_avx2_and_amx_machines() -> None:
    # given the default tier on an AMX machine and on an AVX2-only one
    # when their flags are chosen
    amx_machine = cmake_args(enabled_features(cpu_flags(SAPPHIRE_RAPIDS)))
    avx2_machine = cmake_args(enabled_features(cpu_flags(ZEN3)))

    # then it is the same build (same wheel folder), and not the host-tuned one
    assert build_key(amx_machine) == build_key(avx2_machine)
    assert build_key(amx_machine) != build_key(cmake_args(enabled_features(cpu_flags(SAPPHIRE_RAPIDS), tier="host")))


def test_an_unknown_tier_is_refused_with_the_choices() -> None:
    with pytest.raises(SystemExit, match="LLAMA_CPU_TIER must be 'avx2' or 'host', not 'native'"):
        enabled_features(cpu_flags(ZEN3), tier="native")
