"""The live answer path on the embedded model: verified vs unverified, side by side in one run.

    nice -n 5 .venv/bin/python bench/bench_answer.py [--questions 8] [--out bench/results/answer.md]

Biology 2e is imported into a scratch database and Chroma store (the developer's var/ is only used
for the cached ONNX embedder). Each question is asked twice through ``tutor_answer_create``, once
with verification and once without, alternating which goes first so that load drifts hit both;
generation is seeded, so both modes see the same draft. Reported (medians):

- time to first *generated* sentence, time to first *released* sentence, end-to-end time;
- the ratios verified ÷ unverified for first released sentence and end to end (targets ≤ 1.15);
- graph overhead: end-to-end minus LLM drafting and retrieval, as a share of end to end (≤ 5 %);
- what the verifier did: sentences supported / revised / withheld.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import statistics
import sys
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from bench.machine import use_scratch_stack  # noqa: E402

SCRATCH = use_scratch_stack("veritutor-bench-answer-")

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.contrib.auth import get_user_model  # noqa: E402
from django.core.management import call_command  # noqa: E402

from bench.machine import cpu_model, git_commit  # noqa: E402
from curriculum.models import Curriculum  # noqa: E402
from curriculum.services import curriculum_import_openstax, enrollment_create  # noqa: E402
from llm.embedded_backend import reset_prompt_caches  # noqa: E402
from tutor.models import AnswerSentence  # noqa: E402
from tutor.services import tutor_answer_create  # noqa: E402
from verification.entailment.scorer import EXTRACTIVE_PROBABILITY  # noqa: E402

QUESTIONS = [
    "What is osmosis?",
    "What do mitochondria do in a cell?",
    "How does an enzyme speed up a chemical reaction?",
    "What happens during the light-dependent reactions of photosynthesis?",
    "What is the difference between mitosis and meiosis?",
    "What is a codon?",
    "How do vaccines protect the body?",
    "What is natural selection?",
    "What is the function of the cell membrane?",
    "What are the levels of organization of living things?",
    "What is the role of ATP in cells?",
    "How do hormones regulate the body?",
]


def _socket_first_sentence(student, slug: str, questions: list[str]) -> list[tuple[float | None, float]]:
    """Through a real uvicorn server and websocket client: (first `sentence` event, `done`) seconds."""
    import json
    import socket
    import threading
    import time

    import uvicorn
    from rest_framework.authtoken.models import Token
    from websockets.sync.client import connect

    from config.asgi import application

    token, _ = Token.objects.get_or_create(user=student)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(
        uvicorn.Config(
            application, host="127.0.0.1", port=port, ws="websockets-sansio", lifespan="off", log_level="warning"
        )
    )
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.05)
    results = []
    try:
        with connect(f"ws://127.0.0.1:{port}/ws/tutor/", subprotocols=["token", token.key], open_timeout=30) as ws:
            for n, question in enumerate(questions):
                started = time.perf_counter()
                ws.send(
                    json.dumps({"type": "ask", "curriculum": slug, "question": question, "client_msg_id": f"bench-{n}"})
                )
                first = None
                while True:
                    frame = json.loads(ws.recv(timeout=300))
                    if frame["type"] == "sentence" and first is None:
                        first = time.perf_counter() - started
                    if frame["type"] in ("done", "error"):
                        break
                results.append((first, time.perf_counter() - started))
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()
    return results


class _RevisionCalls:
    """Wraps the revision client: how often the verifier asked the LLM to choose, how long it took."""

    def __init__(self) -> None:
        self.seconds: list[float] = []
        self.choices: list[int] = []

    def install(self) -> None:
        import time

        from verification.graph import nodes

        original = nodes.get_revision_client
        calls = self

        class Timed:
            def __init__(self, client) -> None:
                self._client = client

            def __getattr__(self, name):
                return getattr(self._client, name)

            async def complete_json(self, *args, **kwargs):
                started = time.perf_counter()
                result = await self._client.complete_json(*args, **kwargs)
                calls.seconds.append(time.perf_counter() - started)
                calls.choices.append(result.sentence)
                return result

        nodes.get_revision_client = lambda: Timed(original())


REVISION_CALLS = _RevisionCalls()


async def _ask(student, slug: str, question: str, verify: bool):
    # Each run pays its own prompt evaluation: without this, whichever mode runs second reuses the
    # first one's cached prompt prefix (unless a revision prompt evicted it), biasing the ratio.
    reset_prompt_caches()
    message = await tutor_answer_create(student=student, curriculum_slug=slug, question=question, verify=verify)
    return message


def enrolled_student():
    """The scratch database migrated, Biology 2e imported, and a student enrolled in it."""
    call_command("migrate", verbosity=0)
    result = curriculum_import_openstax(path=settings.DEMO_SYLLABUS_PATH, slug="biology-2e")
    curriculum = Curriculum.objects.get(pk=result.curriculum_id)
    student, _ = get_user_model().objects.get_or_create(username="bench")
    enrollment_create(student=student, curriculum=curriculum)
    return student, curriculum


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--questions", type=int, default=8)
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "answer.md")
    args = parser.parse_args()

    student, curriculum = enrolled_student()

    # Warm-up: loads the LLM, the embedder and the verifier model once, outside the measurements.
    asyncio.run(_ask(student, curriculum.slug, "What is a cell?", True))
    REVISION_CALLS.install()

    rows = []
    for i, question in enumerate(QUESTIONS[: args.questions]):
        order = (True, False) if i % 2 == 0 else (False, True)
        runs = {verify: asyncio.run(_ask(student, curriculum.slug, question, verify)) for verify in order}
        rows.append((question, runs[True], runs[False]))
        print(f"{i + 1}/{args.questions} {question}", flush=True)

    def med(values):
        values = [v for v in values if v is not None]
        return statistics.median(values) if values else float("nan")

    def t(message, key):
        return message.timings.get(key)

    v_first_gen = med(t(v, "first_generated_sentence") for _, v, _ in rows)
    v_first_rel = med(t(v, "first_released_sentence") for _, v, _ in rows)
    u_first_rel = med(t(u, "first_released_sentence") for _, _, u in rows)
    v_total = med(t(v, "total") for _, v, _ in rows)
    u_total = med(t(u, "total") for _, _, u in rows)
    ratio_first = med(
        t(v, "first_released_sentence") / t(u, "first_released_sentence")
        for _, v, u in rows
        if t(v, "first_released_sentence") and t(u, "first_released_sentence")
    )
    ratio_total = med(t(v, "total") / t(u, "total") for _, v, u in rows)
    overhead = med(
        (t(u, "total") - t(u, "draft") - t(u, "retrieve")) / t(u, "total") for _, _, u in rows if t(u, "draft")
    )
    llm_choices = len(REVISION_CALLS.seconds)
    choice_ms = med(REVISION_CALLS.seconds) * 1000 if llm_choices else float("nan")
    first_choice = sum(1 for c in REVISION_CALLS.choices if c == 1)
    socket_runs = _socket_first_sentence(student, curriculum.slug, QUESTIONS[args.questions : args.questions + 4])
    socket_first = med(first for first, _ in socket_runs)
    socket_done = med(done for _, done in socket_runs)

    sentences = AnswerSentence.objects.filter(message__in=[v for _, v, _ in rows])
    supported = sentences.filter(verdict="supported").count()
    revised = sentences.exclude(original_text="").count()
    withheld = sentences.exclude(verdict="supported").count()
    # The live measure: of the drafted sentences, how many reach the student as the model
    # wrote them, how many only as a syllabus sentence put in their place, how many not at all.
    # A drafted sentence the extractive rule settled (probability == EXTRACTIVE_PROBABILITY) is
    # the syllabus's wording copied by the model, so it is counted apart from its own words.
    drafted = sentences.count()
    as_drafted = sentences.filter(verdict="supported", original_text="")
    copied = as_drafted.filter(score=EXTRACTIVE_PROBABILITY).count()
    own_words = as_drafted.count() - copied
    replaced = sentences.filter(verdict="supported").exclude(original_text="").count()
    not_shown = drafted - own_words - copied - replaced
    no_release = sum(1 for _, v, _ in rows if t(v, "first_released_sentence") is None)

    lines = [
        f"## Live answer path: verified vs unverified (embedded SmolLM2-135M, {_served_short()})",
        "",
        f"- Machine: {cpu_model()}, {os.cpu_count()} CPUs; Python {platform.python_version()}",
        f"- Date: {datetime.now(UTC):%Y-%m-%d %H:%M} UTC; commit {git_commit()}",
        f"- Workload: {len(rows)} Biology 2e questions, each asked verified and unverified (order alternating), "
        "seeded generation, one warm-up not counted. Command: `nice -n 5 .venv/bin/python bench/bench_answer.py` (`make bench` runs it once each way)",
        f"- Model served {_model_path()}",
        "",
        "| measure (median) | unverified | verified | ratio (verified ÷ unverified) | target |",
        "| --- | ---: | ---: | ---: | --- |",
        f"| time to first generated sentence | — | {v_first_gen * 1000:.0f} ms | — | — |",
        f"| time to first sentence shown | {u_first_rel * 1000:.0f} ms | {v_first_rel * 1000:.0f} ms | {ratio_first:.2f}× | ≤ 1.15× |",
        f"| end to end | {u_total * 1000:.0f} ms | {v_total * 1000:.0f} ms | {ratio_total:.2f}× | ≤ 1.15× |",
        "",
        f"Graph overhead (end to end − LLM drafting − retrieval, unverified runs): {overhead * 100:.1f} % (target ≤ 5 %).",
        "",
        f"Verifier outcome over the {sentences.count()} verified sentences: {supported} supported and shown "
        f"({revised} of all sentences were revised once), {withheld} withheld; {no_release} of {len(rows)} answers had no "
        "sentence shown (their first-shown time is excluded from the medians).",
        "",
        "| drafted sentences (verified runs) | count | share |",
        "| --- | ---: | ---: |",
        f"| released in the model's own words (verified by the model layers, not copied) | {own_words} | "
        f"{_share(own_words, drafted)} |",
        f"| released as drafted, a syllabus sentence copied (extractive rule) | {copied} | {_share(copied, drafted)} |",
        f"| replaced by a syllabus sentence, then released | {replaced} | {_share(replaced, drafted)} |",
        f"| withheld or marked | {not_shown} | {_share(not_shown, drafted)} |",
        "",
        (
            f"Revisions that asked the LLM to choose among syllabus sentences (the others had one candidate, or "
            f"none): {llm_choices}, median {choice_ms:.0f} ms each including any wait for the model; it chose the "
            f"first-ranked candidate {first_choice} times."
            if llm_choices
            else f"Revision mode `{settings.VERIFIER_REVISION_MODE}`: no revision asked the LLM."
        ),
        "",
        f"Through the websocket (real uvicorn server, real websocket client, token auth, {len(socket_runs)} other "
        f"questions, verified): median time to the first `sentence` event {socket_first * 1000:.0f} ms, to `done` "
        f"{socket_done * 1000:.0f} ms.",
    ]
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


def _served_short() -> str:
    return "through llama_cpp.server" if os.environ.get("LLM_EMBEDDED_PROCESS") == "child" else "in process"


def _model_path() -> str:
    if _served_short() == "through llama_cpp.server":
        return "by `llama_cpp.server` in a child process, over the OpenAI API (`LLM_EMBEDDED_PROCESS=child`)"
    return "in-process by llama-cpp-python (`LLM_EMBEDDED_PROCESS=inprocess`)"


def _share(part: int, whole: int) -> str:
    return f"{part / whole * 100:.0f} %" if whole else "–"


if __name__ == "__main__":
    main()
