"""Answer-graph nodes: plain async functions that return only the fields they change."""

import asyncio
import time

from django.conf import settings
from langgraph.config import get_stream_writer

from curriculum.retrieval import RetrievedChunk, search_chunks
from llm.factory import get_chat_client

from .context import learner_context_load
from .prompts import build_answer_messages, condense_question, off_syllabus_reply, sentence_budget, strip_instructions
from .sentence_stream import SentenceAssembler, repeats_earlier, split_markers
from .state import AnswerState, DraftSentence, Passage

PASSAGES_IN_PROMPT = 4
# A question whose best passage is less similar than this is not about the syllabus. MiniLM puts
# an on-topic question and its passage at 0.4-0.8 cosine and unrelated text below 0.2; 0.3 leaves
# room for loosely worded student questions (see tests/tutor/test_off_syllabus*).
OFF_SYLLABUS_SIMILARITY = 0.3
NEAREST_TOPICS = 3
ANSWER_TEMPERATURE = 0.2
# Seeded sampling: the same question over the same passages gets the same draft, which makes
# answers reproducible for teachers and lets benchmarks compare modes on identical text.
ANSWER_SEED = 7
SENTENCE_EVENT = "sentence"


async def load_context(state: AnswerState) -> dict:
    started = time.perf_counter()
    learner = await learner_context_load(student_id=state.student_id, curriculum_id=state.curriculum_id)
    return {"learner": learner, "timings": {**state.timings, "load_context": time.perf_counter() - started}}


async def condense(state: AnswerState) -> dict:
    return {"standalone_question": condense_question(question=state.question, history=state.history)}


async def retrieve(state: AnswerState) -> dict:
    started = time.perf_counter()
    query = state.standalone_question or state.question
    chunks: list[RetrievedChunk] = await asyncio.to_thread(
        search_chunks, curriculum_id=state.curriculum_id, query=query, k=PASSAGES_IN_PROMPT
    )
    best = max((c.similarity for c in chunks), default=0.0)
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
    return {
        "passages": [p for p in passages if p.text],
        "on_syllabus": best >= OFF_SYLLABUS_SIMILARITY,
        "nearest_topics": nearest,
        "timings": {**state.timings, "retrieve": time.perf_counter() - started},
    }


async def answer_off_syllabus(state: AnswerState) -> dict:
    notice = off_syllabus_reply(course=state.curriculum_title, nearest_topics=state.nearest_topics)
    return {"notice": notice}


async def draft(state: AnswerState) -> dict:
    """Stream the answer; each complete sentence is emitted as a custom stream event at once."""
    write = get_stream_writer()
    client = get_chat_client()
    messages = build_answer_messages(
        course=state.curriculum_title,
        question=state.question,
        passages=state.passages,
        learner=state.learner,
        history=state.history,
    )
    assembler = SentenceAssembler()
    sentences: list[DraftSentence] = []
    budget = sentence_budget(state.learner.level)
    timings = dict(state.timings)
    started = time.perf_counter()

    def emit(raw: str) -> None:
        if len(sentences) >= budget:
            return
        text, markers = split_markers(raw)
        if not any(ch.isalnum() for ch in text) or repeats_earlier(text, [s.text for s in sentences]):
            return
        sentence = DraftSentence(index=len(sentences), text=text, markers=markers)
        sentences.append(sentence)
        timings.setdefault("first_sentence", time.perf_counter() - started)
        write({SENTENCE_EVENT: sentence})

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
    return {"sentences": sentences, "model_name": client.model_name, "timings": timings}
