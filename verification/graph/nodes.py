"""Verifier-graph nodes: plain async functions returning only the fields they change."""

import asyncio
import time

from curriculum.injection import split_instructions
from curriculum.retrieval import search_chunks_batch
from llm.errors import LLMError
from llm.factory import get_revision_client

from ..checks.extractive import extractive_support
from ..claims import split_claims
from ..entailment.evidence import index_passage
from ..entailment.scorer import ClaimInput, ClaimScore, ascore_claims
from ..revision import (
    RevisionMode,
    build_revision_messages,
    build_selection_messages,
    first_sentence,
    revision_candidates,
    selection_schema,
)
from .state import ClaimRecord, EvidencePassage, Verdict, VerifyState

# Chunks retrieved per claim on top of the answer's own passages: the model may have drawn a
# fact from a passage it was given but cited the wrong one, or from nothing at all.
CLAIM_RETRIEVAL_K = 3
# One sentence; a revision that runs longer is not a revision of this sentence.
REVISION_MAX_TOKENS = 60
REVISION_EVIDENCE_SENTENCES = 4
NO_CANDIDATE = "no syllabus sentence is about the same thing"
# {"sentence": N} is 6 or 7 tokens; a little slack for whitespace the grammar allows.
SELECTION_MAX_TOKENS = 16


async def split(state: VerifyState) -> dict:
    return {"claims": split_claims(state.sentence)}


async def gather_evidence(state: VerifyState) -> dict:
    if state.attempt > 0 and revision_mode() != "rewrite":
        # The revision is one of the evidence sentences already gathered: retrieving for it again
        # would only find the passage it came from.
        return {}
    if restates_answer_evidence(state.claims, state.answer_evidence):
        # Every claim restates a sentence of the answer's own passages (the answer plan drafts such
        # sentences first): the extractive rule settles it on them, and a search per claim would
        # only delay the first sentence shown (~140 ms of the 173 ms it took through the child).
        return {"evidence": list(state.answer_evidence)}
    retrieved = await asyncio.to_thread(
        search_chunks_batch, curriculum_id=state.curriculum_id, queries=state.claims, k=CLAIM_RETRIEVAL_K
    )
    seen = {p.chunk_id for p in state.answer_evidence}
    evidence = list(state.answer_evidence)
    injected = list(state.injected)
    for results in retrieved:
        for chunk in results:
            if chunk.chunk_id not in seen:
                seen.add(chunk.chunk_id)
                # Without the lines that address the model: an injected line is no evidence for a
                # sentence that obeys it (the answer's own passages were stripped the same way).
                text, removed = split_instructions(chunk.text)
                injected.extend(removed)
                if text:
                    evidence.append(
                        EvidencePassage(chunk_id=chunk.chunk_id, text=text, topic=chunk.topic, module=chunk.module)
                    )
    return {"evidence": evidence, "injected": injected}


def restates_answer_evidence(claims: list[str], evidence: list[EvidencePassage]) -> bool:
    """Whether each claim is extractive (checks.extractive) in one sentence of these passages."""
    sentences = [sentence for passage in evidence for sentence in index_passage(passage.text).sentences]
    return bool(claims) and all(extractive_support(claim, sentences) for claim in claims)


async def score(state: VerifyState) -> dict:
    started = time.perf_counter()
    texts = tuple(p.text for p in state.evidence)
    scores = await ascore_claims([ClaimInput(text=claim, evidence=texts) for claim in state.claims])
    latency_ms = (time.perf_counter() - started) * 1000 / max(1, len(scores))
    records = list(state.records)
    citations: list[EvidencePassage] = []
    verdicts: list[Verdict] = []
    best_text: list[str] = []
    answer_passages = len(state.answer_evidence)  # gather_evidence puts them first
    for i, (claim, result) in enumerate(zip(state.claims, scores, strict=True)):
        verdict = claim_verdict(result)
        verdicts.append(verdict)
        used = tuple(dict.fromkeys(state.evidence[s.passage].chunk_id for s in result.evidence))
        records.append(
            ClaimRecord(
                claim_index=i,
                attempt=state.attempt,
                claim=claim,
                verdict=verdict,
                score=result.probability,
                evidence_chunk_ids=used,
                checker_version=result.checker_version,
                reasons=tuple(result.layers.checks.reasons()),
                latency_ms=latency_ms,
            )
        )
        if result.best_evidence is not None:
            cited = state.evidence[result.best_evidence.passage]
            if cited not in citations:
                citations.append(cited)
        # A revision answers the student's question only if it comes from the passages retrieved for
        # that question; the per-claim retrieval (for the draft's own words) can drift off topic
        # when the draft is vague ("It is a vital process...").
        on_question = [
            s.text for s in (result.best_evidence, *result.evidence) if s is not None and s.passage < answer_passages
        ]
        best_text.extend(text for text in on_question if text not in best_text)
    sentence_verdict: Verdict = (
        "supported"
        if all(v == "supported" for v in verdicts)
        else "contradicted"
        if "contradicted" in verdicts
        else "unsupported"
    )
    return {
        "verdict": sentence_verdict,
        "score": min((s.probability for s in scores), default=0.0),
        "citations": citations if sentence_verdict == "supported" else [],
        "best_evidence_text": best_text[:REVISION_EVIDENCE_SENTENCES],
        "records": records,
    }


def claim_verdict(result: ClaimScore) -> Verdict:
    if result.supported:
        return "supported"
    checks = result.layers.checks
    # A changed number or a flipped negation against the closest evidence is a contradiction;
    # anything else that fails is merely not supported by the syllabus.
    if checks.number_mismatches or checks.negation_mismatch or checks.antonym_mismatches:
        return "contradicted"
    return "unsupported"


async def revise(state: VerifyState) -> dict:
    """One attempt to restate the sentence from the evidence only (see verification/revision.py)."""
    mode = revision_mode()
    if mode == "extract":
        candidates = revision_candidates(sentence=state.sentence, evidence=state.best_evidence_text)
        if not candidates:
            return {"attempt": state.attempt + 1, "revision_error": NO_CANDIDATE}
        return {"attempt": state.attempt + 1, "sentence": candidates[0]}
    if mode == "select":
        return await _revise_by_selection(state)
    messages = build_revision_messages(sentence=state.sentence, evidence=state.best_evidence_text)
    try:
        text = await get_revision_client().complete(messages, max_tokens=REVISION_MAX_TOKENS, temperature=0.0)
    except LLMError as exc:
        return {"attempt": state.attempt + 1, "revision_error": str(exc)}
    revised = first_sentence(text)
    if not revised:
        return {"attempt": state.attempt + 1, "revision_error": "the revision was empty"}
    return {"attempt": state.attempt + 1, "sentence": revised}


async def _revise_by_selection(state: VerifyState) -> dict:
    candidates = revision_candidates(sentence=state.sentence, evidence=state.best_evidence_text)
    if not candidates:
        return {"attempt": state.attempt + 1, "revision_error": NO_CANDIDATE}
    if len(candidates) == 1:
        # A choice of one is no choice: asking the model would only cost a prompt evaluation.
        return {"attempt": state.attempt + 1, "sentence": candidates[0]}
    messages = build_selection_messages(sentence=state.sentence, candidates=candidates)
    try:
        choice = await get_revision_client().complete_json(
            messages, schema=selection_schema(len(candidates)), max_tokens=SELECTION_MAX_TOKENS, temperature=0.0
        )
    except LLMError as exc:
        return {"attempt": state.attempt + 1, "revision_error": str(exc)}
    return {"attempt": state.attempt + 1, "sentence": candidates[choice.sentence - 1]}  # type: ignore[attr-defined]


def revision_mode() -> RevisionMode:
    from django.conf import settings

    return settings.VERIFIER_REVISION_MODE
