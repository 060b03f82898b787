"""bench/bench_gpu.py's configuration check (the benchmark itself needs a served model: `make gpu-bench`)."""

from pathlib import Path

import pytest

from bench import bench_gpu


@pytest.fixture
def no_endpoint(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("LLM_BASE_URL", raising=False)
    monkeypatch.delenv("LLM_MODEL", raising=False)
    monkeypatch.setattr(bench_gpu, "ROOT", tmp_path)  # no .env to read


def test_missing_configuration_names_what_to_set() -> None:
    assert bench_gpu.missing_configuration({"LLM_BASE_URL": "http://gpu:8000/v1", "LLM_MODEL": "m"}) is None
    line = bench_gpu.missing_configuration({"LLM_MODEL": "m"})
    assert line is not None and "set LLM_BASE_URL " in line and "\n" not in line
    line = bench_gpu.missing_configuration({"LLM_BASE_URL": " ", "LLM_MODEL": ""})
    assert line is not None and "set LLM_BASE_URL and LLM_MODEL" in line


@pytest.mark.usefixtures("no_endpoint")
def test_without_an_endpoint_it_exits_non_zero_with_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    assert bench_gpu.main([]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.count("\n") == 1 and "LLM_BASE_URL" in captured.err and "never starts a server" in captured.err


@pytest.mark.usefixtures("no_endpoint")
def test_if_configured_skips_with_exit_zero(capsys: pytest.CaptureFixture[str]) -> None:
    assert bench_gpu.main(["--if-configured"]) == 0
    assert "skipped" in capsys.readouterr().out


def test_replace_section_replaces_whatever_label_it_had() -> None:
    old = f"# Benchmarks\n\n{bench_gpu.SECTION_TITLE}: old label\n\nold\n\n## Next\n\nkept\n"
    new = f"{bench_gpu.SECTION_TITLE}: new\n\nnew\n"
    assert bench_gpu.replace_section(old, new) == f"# Benchmarks\n\n{new}\n## Next\n\nkept\n"
    assert bench_gpu.replace_section("# Benchmarks\n", new) == f"# Benchmarks\n\n{new}"
