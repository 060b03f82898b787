"""Answer-graph nodes: plain async functions that return only the state fields they change, and
report to the graph's caller through typed events (``state.AnswerGraphEvent``) on the custom stream."""

import asyncio
import time

from django.conf import settings
from langgraph.config import get_stream_writer

from curriculum.retrieval import RetrievedChunk, search_chunks_batch
from learning import hints
from llm.factory import get_chat_client

from ..composition import SourcePassage, plan_answer, question_shape
from .context import learner_context_load, learner_for_topic
from .prompts import (
    build_answer_messages,
    condense_question,
    hint_first_reply,
    off_syllabus_reply,
    sentence_budget,
    strip_instructions,
)
from .sentence_stream import SentenceAssembler, repeats_earlier, split_markers
from .state import (
    AnswerGraphEvent,
    AnswerState,
    DraftFinished,
    DraftSentence,
    HintOffered,
    OffSyllabus,
    Passage,
    PassagesRetrieved,
    QuestionCondensed,
    SentenceDrafted,
    StageTimed,
)

PASSAGES_IN_PROMPT = 4
# A comparison gets this many more passages for each side, retrieved for that side alone: the
# question's own retrieval often finds only one of them. They are evidence and plan material;
# the prompt keeps the first PASSAGES_IN_PROMPT (a longer prompt is seconds more on the CPU model).
PASSAGES_PER_SIDE = 2
# A question whose best passage is less similar than this is not about the syllabus. MiniLM puts
# an on-topic question and its passage at 0.4-0.8 cosine and unrelated text below 0.2; 0.3 leaves
# room for loosely worded student questions (see tests/tutor/test_off_syllabus*).
OFF_SYLLABUS_SIMILARITY = 0.3
NEAREST_TOPICS = 3
ANSWER_TEMPERATURE = 0.2
# Seeded sampling: the same question over the same passages gets the same draft, which makes
# answers reproducible for teachers and lets benchmarks compare modes on identical text.
ANSWER_SEED = 7


def _emit(event: AnswerGraphEvent) -> None:
    get_stream_writer()(event)


async def load_context(state: AnswerState) -> dict:
    started = time.perf_counter()
    learner = await learner_context_load(student_id=state.student_id, curriculum_id=state.curriculum_id)
    elapsed = time.perf_counter() - started
    _emit(StageTimed(stage="load_context", seconds=elapsed))
    return {"learner": learner, "timings": {**state.timings, "load_context": elapsed}}


async def condense(state: AnswerState) -> dict:
    standalone = condense_question(question=state.question, history=state.history)
    _emit(QuestionCondensed(standalone_question=standalone))
    return {"standalone_question": standalone}


async def retrieve(state: AnswerState) -> dict:
    started = time.perf_counter()
    query = state.standalone_question or state.question
    shape = question_shape(query)
    sides = list(shape.subjects) if shape.kind == "comparison" else []
    found: list[list[RetrievedChunk]] = await asyncio.to_thread(
        search_chunks_batch, curriculum_id=state.curriculum_id, queries=[query, *sides], k=PASSAGES_IN_PROMPT
    )
    chunks = found[0]
    best = max((c.similarity for c in chunks), default=0.0)
    for side in found[1:]:
        taken = {c.chunk_id for c in chunks}
        chunks = chunks + [c for c in side if c.chunk_id not in taken][:PASSAGES_PER_SIDE]
    passages = [
        Passage(
            number=i + 1,
            chunk_id=c.chunk_id,
            text=strip_instructions(c.text),
            topic=c.topic,
            topic_path=c.topic_path,
            module=c.module,
            similarity=c.similarity,
        )
        for i, c in enumerate(chunks)
    ]
    nearest = list(dict.fromkeys(c.topic_path for c in chunks))[:NEAREST_TOPICS]
    kept = [p for p in passages if p.text]
    elapsed = time.perf_counter() - started
    _emit(StageTimed(stage="retrieve", seconds=elapsed))
    _emit(PassagesRetrieved(passages=tuple(kept)))
    return {
        "passages": kept,
        "learner": learner_for_topic(state.learner, topic_id=chunks[0].topic_id if chunks else None),
        "on_syllabus": best >= OFF_SYLLABUS_SIMILARITY,
        "nearest_topics": nearest,
        "timings": {**state.timings, "retrieve": elapsed},
    }


async def answer_off_syllabus(state: AnswerState) -> dict:
    notice = off_syllabus_reply(course=state.curriculum_title, nearest_topics=state.nearest_topics)
    topics = tuple(dict.fromkeys(p.topic_path for p in state.passages))
    _emit(OffSyllabus(notice=notice, topics=topics))
    return {"notice": notice}


async def hint(state: AnswerState) -> dict:
    """Hint-first: instead of the answer, a guiding question and one sentence of it as a clue, its key
    term blanked (``learning.hints.answer_hint``). The answer is the one the plan would give, whatever
    the composition mode: the clue must be a syllabus sentence, which the verifier checks as it stands.
    No model call: the student is asked to think before anything is generated."""
    started = time.perf_counter()
    query = state.standalone_question or state.question
    planned = plan_answer(
        question=query,
        passages=[SourcePassage(number=p.number, text=p.text) for p in state.passages],
        budget=sentence_budget(state.learner.level),
    )
    by_number = {p.number: p for p in state.passages}
    by_chunk = {p.chunk_id: p for p in state.passages}
    found = hints.answer_hint(
        question=query,
        answer=[hints.Passage(chunk_id=by_number[s.passage].chunk_id, text=s.text) for s in planned],
    )
    if found is None:
        event = HintOffered(notice=hint_first_reply(section=state.passages[0].topic, clue=False), clue=None)
    else:
        source = by_chunk[found.chunk_id]
        event = HintOffered(
            notice=hint_first_reply(section=source.topic, clue=True),
            clue=DraftSentence(index=0, text=found.sentence, markers=(source.number,), source="plan"),
            blanked=found.text,
        )
    elapsed = time.perf_counter() - started
    _emit(StageTimed(stage="hint", seconds=elapsed))
    _emit(event)
    return {
        "notice": event.notice,
        "sentences": [event.clue] if event.clue else [],
        "timings": {**state.timings, "hint": elapsed},
    }


def composition_mode() -> str:
    """ "plan": the answer plan's syllabus sentences come first, then the model's (on the embedded
    model, whose own sentences rarely verify); "draft": the model's sentences only (a server model
    that can write the explanation). ``TUTOR_COMPOSITION`` overrides the default."""
    configured = settings.TUTOR_COMPOSITION
    return configured or ("plan" if settings.LLM_BACKEND == "embedded" else "draft")


async def plan(state: AnswerState) -> dict:
    """Choose and order the syllabus sentences that answer the question (``tutor/composition.py``)
    and draft them, each as its own sentence with the passage it quotes as its marker."""
    if composition_mode() != "plan":
        return {}
    started = time.perf_counter()
    planned = plan_answer(
        question=state.standalone_question or state.question,
        passages=[SourcePassage(number=p.number, text=p.text) for p in state.passages],
        budget=sentence_budget(state.learner.level),
    )
    sentences = [
        DraftSentence(index=i, text=p.text, markers=(p.passage,), source="plan") for i, p in enumerate(planned)
    ]
    elapsed = time.perf_counter() - started
    _emit(StageTimed(stage="plan", seconds=elapsed))
    for sentence in sentences:
        _emit(SentenceDrafted(sentence=sentence))
    return {"sentences": sentences, "timings": {**state.timings, "plan": elapsed}}


async def draft(state: AnswerState) -> dict:
    """Stream the answer; each complete sentence is emitted as a custom stream event at once.

    The model's sentences follow the planned ones (``plan``), if any: numbered after them, and a
    sentence repeating one of them is not drafted again."""
    client = get_chat_client()
    messages = build_answer_messages(
        course=state.curriculum_title,
        question=state.question,
        passages=state.passages[:PASSAGES_IN_PROMPT],
        learner=state.learner,
        history=state.history,
    )
    assembler = SentenceAssembler()
    planned = list(state.sentences)
    sentences: list[DraftSentence] = []
    budget = sentence_budget(state.learner.level)
    timings = dict(state.timings)
    started = time.perf_counter()

    def emit(raw: str) -> None:
        if len(sentences) >= budget:
            return
        text, markers = split_markers(raw)
        if not any(ch.isalnum() for ch in text) or repeats_earlier(text, [s.text for s in planned + sentences]):
            return
        sentence = DraftSentence(index=len(planned) + len(sentences), text=text, markers=markers)
        sentences.append(sentence)
        timings.setdefault("first_sentence", time.perf_counter() - started)
        _emit(SentenceDrafted(sentence=sentence))

    # Leaving the block closes the stream, which stops generation: once the sentence budget is
    # spent the model is not allowed to keep the student (and the verifier) waiting.
    async with client.stream(
        messages, max_tokens=settings.TUTOR_MAX_ANSWER_TOKENS, temperature=ANSWER_TEMPERATURE, seed=ANSWER_SEED
    ) as stream:
        async for delta in stream:
            timings.setdefault("first_token", time.perf_counter() - started)
            for raw in assembler.feed(delta):
                emit(raw)
            if len(sentences) >= budget:
                break
    # A tail cut off by max_tokens is a fragment, not a sentence: it is dropped, not verified.
    cut_off = stream.stats is not None and stream.stats.finish_reason == "length"
    if not cut_off:
        for raw in assembler.flush():
            emit(raw)
    timings["draft"] = time.perf_counter() - started
    for stage in ("first_token", "first_sentence", "draft"):
        if stage in timings:
            _emit(StageTimed(stage=stage, seconds=timings[stage]))
    _emit(DraftFinished(model_name=client.model_name))
    return {"sentences": planned + sentences, "model_name": client.model_name, "timings": timings}
