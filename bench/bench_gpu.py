"""`make gpu-bench`: the live answer path against a served model (vLLM in production), issue 15.

    LLM_BASE_URL=http://gpu-host:8000/v1 LLM_MODEL=Qwen/Qwen2.5-7B-Instruct \\
        nice -n 5 .venv/bin/python bench/bench_gpu.py [--questions 12] [--concurrency 8] [--units 2]

Never starts a server: it needs ``LLM_BASE_URL`` and ``LLM_MODEL`` (``LLM_API_KEY`` when the server
checks one; ``LLM_STRUCTURED_OUTPUT=json_object`` for llama_cpp.server) and exits non-zero, saying
so, without them. ``--if-configured`` exits 0 instead (how ``make bench`` runs it).

Biology 2e (its first ``--units`` parts; 0: the whole book) is imported into a scratch database and
Chroma store; then the real answer path, ``tutor_answer_create`` with ``LLM_BACKEND=openai``, the
"draft" composition (the served model writes the answer) and verification on, answers:

- ``--questions`` questions one after the other, then ``--questions`` other questions with
  ``--concurrency`` of them in flight at once (two disjoint lists, so that the concurrent phase
  does not find the sequential phase's prompts in the server's prefix cache);
- per phase: time to the first released sentence and to ``done`` (p50/p95, from the call), completion
  tokens/s per answer stream (decode: tokens after the first ÷ time after the first) and aggregate
  (all answer tokens ÷ the phase's wall time), share of drafted sentences released;
- the prefix-cache effect: ``--prefix-pairs`` questions asked twice in a row, unverified (nothing
  else reaches the server in between), time to the first token of the cold and of the warm call.

Writes bench/results/gpu.md and replaces its section of BENCHMARKS.md. A benchmark, not a test.
"""

from __future__ import annotations

import argparse
import asyncio
import contextvars
import os
import platform
import re
import statistics
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

SECTION_TITLE = "## Answer path on a served model (`make gpu-bench`)"
# Biology 2e's first two parts ("The Chemistry of Life", "The Cell", chapters 1-10) import in about
# a minute on 2 busy cores; every question below is answered there.
DEFAULT_UNITS = 2
# Two disjoint lists from chapters 1-10: one for the sequential phase, one for the concurrent one.
SEQUENTIAL_QUESTIONS = [
    "What is osmosis?",
    "What do mitochondria do in a cell?",
    "How does an enzyme speed up a chemical reaction?",
    "What happens during the light-dependent reactions of photosynthesis?",
    "What is the function of the cell membrane?",
    "What are the levels of organization of living things?",
    "What is the role of ATP in cells?",
    "What are the stages of the cell cycle?",
    "What is a hydrogen bond?",
    "How are prokaryotic cells different from eukaryotic cells?",
    "What happens during glycolysis?",
    "How do cells respond to signaling molecules?",
]
CONCURRENT_QUESTIONS = [
    "What is diffusion?",
    "What does the nucleus of a cell contain?",
    "What is activation energy?",
    "What happens in the Calvin cycle?",
    "What is active transport?",
    "What is the scientific method?",
    "What is the electron transport chain?",
    "What happens during mitosis?",
    "Why is water a good solvent?",
    "What do ribosomes do?",
    "What is fermentation?",
    "What is a receptor protein?",
]
PREFIX_QUESTIONS = [
    "What is the structure of a phospholipid?",
    "What are carbohydrates made of?",
    "What does the endoplasmic reticulum do?",
]
WARM_UP_QUESTION = "What is a cell?"


def missing_configuration(environ: Mapping[str, str]) -> str | None:
    """The line to exit with when the endpoint is not configured, else None."""
    missing = [name for name in ("LLM_BASE_URL", "LLM_MODEL") if not environ.get(name, "").strip()]
    if not missing:
        return None
    return (
        f"bench_gpu: set {' and '.join(missing)} (the OpenAI-compatible server's API root, e.g. "
        "LLM_BASE_URL=http://gpu-host:8000/v1, and the model it serves, e.g. LLM_MODEL=Qwen/Qwen2.5-7B-Instruct); "
        "this benchmark never starts a server"
    )


def percentile(values: list[float], q: float) -> float:
    """The q-th percentile (0-100) by linear interpolation; nan when there are no values."""
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    position = (len(ordered) - 1) * q / 100
    low = int(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


# --- recording the answer streams ----------------------------------------------------------------

_CURRENT_ASK: contextvars.ContextVar[int | None] = contextvars.ContextVar("bench_gpu_ask", default=None)


@dataclass
class StreamRecord:
    """One answer stream (the draft node's), as this benchmark saw it."""

    ask: int | None
    started: float
    first: float | None = None
    end: float | None = None
    deltas: int = 0
    completion_tokens: int | None = None
    prompt_tokens: int | None = None

    @property
    def tokens(self) -> int:
        """The server's count when it reported usage, else the streamed deltas (one token each)."""
        return self.completion_tokens if self.completion_tokens is not None else self.deltas

    @property
    def decode_tokens_per_s(self) -> float | None:
        if self.first is None or self.end is None or self.tokens < 2 or self.end <= self.first:
            return None
        return (self.tokens - 1) / (self.end - self.first)


class _RecordedStream:
    """A TokenStream passed through, timing its deltas and keeping its usage."""

    def __init__(self, inner: Any, record: StreamRecord) -> None:
        self._inner = inner
        self._record = record

    @property
    def stats(self) -> Any:
        return self._inner.stats

    def __aiter__(self) -> _RecordedStream:
        return self

    async def __anext__(self) -> str:
        try:
            delta: str = await self._inner.__anext__()
        except StopAsyncIteration:
            self._finish()
            raise
        if self._record.first is None:
            self._record.first = time.perf_counter()
        self._record.deltas += 1
        return delta

    def _finish(self) -> None:
        if self._record.end is None:
            self._record.end = time.perf_counter()
        stats = self._inner.stats
        if stats is not None:
            self._record.completion_tokens = stats.completion_tokens
            self._record.prompt_tokens = stats.prompt_tokens

    async def aclose(self) -> None:
        self._finish()
        await self._inner.aclose()

    async def __aenter__(self) -> _RecordedStream:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()


class StreamRecorder:
    """Wraps the chat client the answer graph's draft node uses (not the verifier's revisions)."""

    def __init__(self) -> None:
        self.records: list[StreamRecord] = []

    def install(self) -> None:
        from tutor.graph import nodes

        original = nodes.get_chat_client
        recorder = self

        class Recorded:
            def __init__(self, client: Any) -> None:
                self._client = client

            def __getattr__(self, name: str) -> Any:
                return getattr(self._client, name)

            def stream(self, *args: Any, **kwargs: Any) -> _RecordedStream:
                record = StreamRecord(ask=_CURRENT_ASK.get(), started=time.perf_counter())
                recorder.records.append(record)
                return _RecordedStream(self._client.stream(*args, **kwargs), record)

        nodes.get_chat_client = lambda: Recorded(original())  # type: ignore[assignment]

    def for_asks(self, asks: set[int]) -> list[StreamRecord]:
        return [r for r in self.records if r.ask in asks]


# --- asking --------------------------------------------------------------------------------------


@dataclass
class Asked:
    """One question through tutor_answer_create."""

    ask: int
    question: str
    message: Any = None
    first_released: float | None = None
    done: float | None = None
    error: str = ""
    released_events: list[float] = field(default_factory=list)


class Asker:
    def __init__(self, student: Any, slug: str) -> None:
        self.student = student
        self.slug = slug
        self.count = 0

    async def ask(self, question: str, *, verify: bool) -> Asked:
        from tutor.events import HintReleased, SentenceReleased
        from tutor.services import tutor_answer_create

        self.count += 1
        asked = Asked(ask=self.count, question=question)
        token = _CURRENT_ASK.set(asked.ask)
        started = time.perf_counter()

        async def on_event(event: Any) -> None:
            if isinstance(event, SentenceReleased | HintReleased) and asked.first_released is None:
                asked.first_released = time.perf_counter() - started

        try:
            asked.message = await tutor_answer_create(
                student=self.student, curriculum_slug=self.slug, question=question, verify=verify, on_event=on_event
            )
        except Exception as exc:  # noqa: BLE001 - a benchmark counts a failed answer, it does not stop
            asked.error = f"{type(exc).__name__}: {exc}"
        finally:
            asked.done = time.perf_counter() - started
            _CURRENT_ASK.reset(token)
        if asked.message is not None and asked.message.status != "completed":
            asked.error = f"{asked.message.status}: {asked.message.error_code}"
        return asked


@dataclass
class Phase:
    name: str
    concurrency: int
    asked: list[Asked]
    wall_s: float
    streams: list[StreamRecord]


async def run_phase(asker: Asker, name: str, questions: list[str], concurrency: int, recorder: StreamRecorder) -> Phase:
    semaphore = asyncio.Semaphore(concurrency)

    async def one(question: str) -> Asked:
        async with semaphore:
            asked = await asker.ask(question, verify=True)
            print(f"  {name}: {asked.done:.1f} s {question}" + (f" ({asked.error})" if asked.error else ""), flush=True)
            return asked

    started = time.perf_counter()
    asked = list(await asyncio.gather(*(one(q) for q in questions)))
    wall = time.perf_counter() - started
    return Phase(name, concurrency, asked, wall, recorder.for_asks({a.ask for a in asked}))


@dataclass
class PrefixPair:
    question: str
    cold: StreamRecord | None
    warm: StreamRecord | None

    @staticmethod
    def first_token(record: StreamRecord | None) -> float | None:
        return None if record is None or record.first is None else record.first - record.started


async def prefix_pairs(asker: Asker, questions: list[str], recorder: StreamRecorder) -> list[PrefixPair]:
    """Each question asked twice in a row, unverified, so that no revision request comes between."""
    pairs = []
    for question in questions:
        cold = await asker.ask(question, verify=False)
        warm = await asker.ask(question, verify=False)
        records = [next(iter(recorder.for_asks({a.ask})), None) for a in (cold, warm)]
        pairs.append(PrefixPair(question, records[0], records[1]))
        print(f"  prefix: {question}", flush=True)
    return pairs


# --- the stack and the endpoint ------------------------------------------------------------------


def served_models(base_url: str, api_key: str) -> list[str]:
    import httpx

    headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
    response = httpx.get(base_url.rstrip("/") + "/models", headers=headers, timeout=10.0)
    response.raise_for_status()
    return [str(m.get("id")) for m in response.json().get("data", [])]


def enrolled_student(units: int, scratch: Path) -> tuple[Any, str]:
    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.core.management import call_command

    from bench.bench_load import first_units
    from curriculum.models import Curriculum
    from curriculum.services import curriculum_import_openstax, enrollment_create

    call_command("migrate", verbosity=0)
    book = first_units(Path(settings.DEMO_SYLLABUS_PATH), units, scratch)
    result = curriculum_import_openstax(path=book, slug="biology-2e")
    curriculum = Curriculum.objects.get(pk=result.curriculum_id)
    student, _ = get_user_model().objects.get_or_create(username="bench-gpu")
    enrollment_create(student=student, curriculum=curriculum)
    return student, curriculum.slug


# --- report --------------------------------------------------------------------------------------


def _ms(value: float) -> str:
    return "–" if value != value else f"{value * 1000:.0f} ms"  # nan check


def _share(part: int, whole: int) -> str:
    return f"{part} of {whole} ({part / whole * 100:.0f} %)" if whole else "–"


def phase_rows(phase: Phase) -> list[str]:
    from tutor.models import AnswerSentence

    ok = [a for a in phase.asked if not a.error]
    first = [a.first_released for a in ok if a.first_released is not None]
    done = [a.done for a in ok if a.done is not None]
    rates = [r.decode_tokens_per_s for r in phase.streams if r.decode_tokens_per_s is not None]
    tokens = sum(r.tokens for r in phase.streams)
    sentences = AnswerSentence.objects.filter(message__in=[a.message for a in phase.asked if a.message is not None])
    drafted = sentences.count()
    released = sentences.filter(delivery=AnswerSentence.Delivery.RELEASED)
    as_drafted = released.filter(original_text="").count()
    return [
        f"| {phase.name} | {len(phase.asked)} | {phase.concurrency} | {len(phase.asked) - len(ok)} "
        f"| {_ms(percentile(first, 50))} | {_ms(percentile(first, 95))} "
        f"| {_ms(percentile(done, 50))} | {_ms(percentile(done, 95))} "
        f"| {statistics.median(rates) if rates else float('nan'):.1f} | {tokens / phase.wall_s:.1f} "
        f"| {_share(released.count(), drafted)}; {as_drafted} as drafted |",
    ]


def report(
    *,
    args: argparse.Namespace,
    models: list[str],
    model: str,
    phases: list[Phase],
    pairs: list[PrefixPair],
    import_s: float,
) -> str:
    from django.conf import settings

    streams = [r for p in phases for r in p.streams]
    usage = sum(1 for r in streams if r.completion_tokens is not None)
    no_release = sum(1 for p in phases for a in p.asked if not a.error and a.first_released is None)
    errors = [f"{a.question}: {a.error}" for p in phases for a in p.asked if a.error]
    title = SECTION_TITLE + (f": {args.label}" if args.label else "")
    lines = [
        title,
        "",
        f"- Client machine: {cpu_model()}, {os.cpu_count()} CPUs; Python {platform.python_version()}",
        f"- Endpoint: `{_redacted(os.environ['LLM_BASE_URL'])}` serving {', '.join(f'`{m}`' for m in models)}; "
        f"`LLM_MODEL={model}`",
        f"- Date: {datetime.now(UTC):%Y-%m-%d %H:%M} UTC; commit {git_commit()}",
        f"- Workload: Biology 2e ({f'its first {args.units} parts' if args.units else 'the whole book'}, imported in "
        f"{import_s:.0f} s), `tutor_answer_create` with `LLM_BACKEND=openai`, composition "
        f"`{settings.TUTOR_COMPOSITION or 'draft'}`, verification on (revision mode `{settings.VERIFIER_REVISION_MODE}`), "
        f"max {settings.TUTOR_MAX_ANSWER_TOKENS} answer tokens; one warm-up answer not counted. Command: "
        f"`bench/bench_gpu.py --questions {args.questions} --concurrency {args.concurrency} "
        f"--prefix-pairs {args.prefix_pairs} --units {args.units}`",
    ]
    if args.note:
        lines += ["", args.note]
    lines += [
        "",
        "| phase | answers | in flight | failed | first sentence shown p50 | p95 | done p50 | p95 "
        "| decode tokens/s per answer (median) | aggregate tokens/s | drafted sentences released |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |",
    ]
    for phase in phases:
        lines += phase_rows(phase)
    lines += [
        "",
        "Times are from the call to `tutor_answer_create` (retrieval, drafting, verification, release). "
        "Decode tokens/s: an answer stream's tokens after its first ÷ the time after its first token; aggregate: "
        f"all answer-stream tokens of the phase ÷ its wall time. Tokens from the server's usage report for {usage} "
        f"of {len(streams)} streams, else counted as streamed deltas (one token each on vLLM and llama.cpp): the "
        "draft node closes the stream once the sentence budget is spent, before the usage chunk. "
        f"{no_release} answers released no sentence (excluded from the first-sentence percentiles). "
        "The verifier's revision requests go to the same endpoint and are not counted in tokens/s.",
    ]
    if errors:
        lines += ["", "Failed answers: " + "; ".join(errors[:5]) + (" …" if len(errors) > 5 else "")]
    lines += [
        "",
        "Prefix cache: the same question asked twice in a row (unverified, so no revision request comes between); "
        "time from the request to the first streamed token.",
        "",
        "| question | prompt tokens | first token, cold | first token, warm | warm ÷ cold |",
        "| --- | ---: | ---: | ---: | ---: |",
    ]
    for pair in pairs:
        cold, warm = PrefixPair.first_token(pair.cold), PrefixPair.first_token(pair.warm)
        prompt = next((r.prompt_tokens for r in (pair.cold, pair.warm) if r and r.prompt_tokens), None)
        ratio = f"{warm / cold:.3f}×" if cold and warm else "–"
        lines.append(
            f"| {pair.question} | {prompt if prompt is not None else '–'} | {_ms(cold if cold is not None else float('nan'))} "
            f"| {_ms(warm if warm is not None else float('nan'))} | {ratio} |"
        )
    lines += [
        "",
        "Prompt layout (tutor/graph/prompts.py `build_answer_messages`): one system message, the fixed instructions "
        "first (the course title and the level's sentence count are filled in), then the numbered passages, then the "
        "learner notes; history and question follow as their own messages. Everything up to the passages is shared by "
        "every question of a course at one level, so a server with prefix caching (vLLM `--enable-prefix-caching`) "
        "computes it once; the sentence count sits before the passages, so the same passages asked at another level "
        "share only the instructions.",
    ]
    return "\n".join(lines) + "\n"


def _redacted(url: str) -> str:
    return re.sub(r"//[^/@]*@", "//", url)


def replace_section(text: str, section: str) -> str:
    """BENCHMARKS.md with this benchmark's section replaced (whatever its label), or appended."""
    start = text.find(SECTION_TITLE)
    if start == -1:
        return text.rstrip("\n") + "\n\n" + section
    after = text.find("\n", start)
    following = re.search(r"^#{1,2} ", text[after:], flags=re.MULTILINE) if after != -1 else None
    end = after + following.start() if following else len(text)
    return text[:start] + section + ("\n" + text[end:] if following else "")


# --- main ----------------------------------------------------------------------------------------


def git_commit() -> str:
    from bench.machine import git_commit as commit

    return commit()


def cpu_model() -> str:
    from bench.machine import cpu_model as model

    return model()


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--questions", type=int, default=12, help="answers per phase (at most 12 distinct)")
    parser.add_argument("--concurrency", type=int, default=8, help="answers in flight in the concurrent phase")
    parser.add_argument("--prefix-pairs", type=int, default=3, help="questions asked twice for the prefix cache")
    parser.add_argument("--units", type=int, default=DEFAULT_UNITS, help="import Biology 2e's first N parts (0: all)")
    parser.add_argument("--label", default="", help="appended to the section title (what served the model)")
    parser.add_argument("--note", default="", help="a paragraph added under the section's header lines")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "gpu.md")
    parser.add_argument("--no-benchmarks-md", action="store_true", help="do not update BENCHMARKS.md")
    parser.add_argument(
        "--if-configured", action="store_true", help="exit 0 (skipped) when LLM_BASE_URL/LLM_MODEL are unset"
    )
    args = parser.parse_args(argv)
    if not 1 <= args.questions <= len(SEQUENTIAL_QUESTIONS):
        parser.error(f"--questions must be 1-{len(SEQUENTIAL_QUESTIONS)}")
    if args.concurrency < 1 or not 0 <= args.prefix_pairs <= len(PREFIX_QUESTIONS):
        parser.error(f"--concurrency must be ≥ 1 and --prefix-pairs 0-{len(PREFIX_QUESTIONS)}")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    # The settings read .env too (config/settings/base.py): the same values count here.
    env_file = ROOT / ".env"
    if env_file.exists():
        import environ

        environ.Env.read_env(env_file, overwrite=False)
    problem = missing_configuration(os.environ)
    if problem is not None:
        if args.if_configured:
            print(problem.replace("bench_gpu: set", "bench_gpu: skipped; to run it set"))
            return 0
        print(problem, file=sys.stderr)
        return 2

    base_url, model = os.environ["LLM_BASE_URL"], os.environ["LLM_MODEL"]
    try:
        models = served_models(base_url, os.environ.get("LLM_API_KEY", ""))
    except Exception as exc:  # noqa: BLE001 - any failure here is the same message
        print(
            f"bench_gpu: {_redacted(base_url)}/models did not answer ({exc}); is the server running?", file=sys.stderr
        )
        return 2
    if model not in models:
        print(
            f"bench_gpu: LLM_MODEL={model} is not served at {_redacted(base_url)} (it serves {models})", file=sys.stderr
        )
        return 2

    from bench.machine import use_scratch_stack

    scratch = use_scratch_stack("veritutor-bench-gpu-")
    os.environ["LLM_BACKEND"] = "openai"
    os.environ["TUTOR_COMPOSITION"] = "draft"
    os.environ["TUTOR_VERIFY_ANSWERS"] = "true"

    import django

    django.setup()

    started = time.perf_counter()
    student, slug = enrolled_student(args.units, scratch)
    import_s = time.perf_counter() - started
    print(f"imported in {import_s:.0f} s", flush=True)

    recorder = StreamRecorder()
    recorder.install()
    asker = Asker(student, slug)

    async def run() -> tuple[list[Phase], list[PrefixPair]]:
        # Loads the embedder and the verifier's model and opens the connection, outside the numbers.
        await asker.ask(WARM_UP_QUESTION, verify=True)
        phases = [
            await run_phase(asker, "sequential", SEQUENTIAL_QUESTIONS[: args.questions], 1, recorder),
            await run_phase(asker, "concurrent", CONCURRENT_QUESTIONS[: args.questions], args.concurrency, recorder),
        ]
        pairs = await prefix_pairs(asker, PREFIX_QUESTIONS[: args.prefix_pairs], recorder)
        return phases, pairs

    phases, pairs = asyncio.run(run())
    section = report(args=args, models=models, model=model, phases=phases, pairs=pairs, import_s=import_s)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(section)
    if not args.no_benchmarks_md:
        benchmarks = ROOT / "BENCHMARKS.md"
        benchmarks.write_text(replace_section(benchmarks.read_text(), section))
    print(section)
    return 0


if __name__ == "__main__":
    sys.exit(main())
