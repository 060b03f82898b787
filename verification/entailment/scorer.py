"""One interface over the three layers: local cross-encoder, deterministic checks, optional judge.

    score_claims([ClaimInput(text=..., evidence=(passage, ...))]) -> [ClaimScore, ...]

The model loads once per process (`get_scorer`); scoring is thread-safe (the torch and tokenizer
calls are serialised by locks) so async callers can use `ascore_claims` or `asyncio.to_thread`.
"""

from __future__ import annotations

import asyncio
import math
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from curriculum.text import split_sentences
from verification.checks import CheckReport, run_checks
from verification.checks.extractive import extractive_support
from verification.checks.negation import best_matching_sentence
from verification.entailment.claim_forms import parse_claim
from verification.entailment.combiner import Combiner
from verification.entailment.cross_encoder import WEIGHTS_DIR, CrossEncoder
from verification.entailment.evidence import (
    SentenceEmbedder,
    StaticMiniLMEmbedder,
    budget_words,
    index_passage,
    select_windows,
)
from verification.entailment.features import claim_features
from verification.entailment.judge import LlmJudge

CHECKS_VERSION = "checks1+extractive3"
# P(supported) given to an extractive, check-passing claim: its precision on the dev set, 24 of 24
# claims over all sources, Laplace-smoothed ((24 + 1) / (24 + 2)); docs/verifier.md. It clears the
# operating threshold:
# the learned combiner alone never reaches the precision target on the dev sources, so this rule
# is what lets a sentence the syllabus states outright be released.
EXTRACTIVE_PROBABILITY = 0.96
# Evidence windows scored per claim (the logit is their maximum): one more window is one more
# cross-encoder pair, and a module's support is usually in the first two or three places the
# claim's (or question's) words point to. Training builds its windows the same way.
WINDOWS = 3
# A judge such as MiniCheck-7B is far stronger than the local 22M-parameter model; when it answers
# it dominates the local layers, which still move borderline cases. Not calibrated (no judge ran
# on the dev set here); see docs/verifier.md.
JUDGE_WEIGHT = 0.75
# A claim of several sentences (a summary) is split and each sentence scored on its own, as
# SummaC does: one 128-token input cannot hold a 50-word claim and the evidence for all of it.
# Capped because each part costs WINDOWS cross-encoder pairs; the last part takes the rest.
MAX_CLAIM_PARTS = 4
MIN_PART_WORDS = 4


@dataclass(frozen=True, kw_only=True)
class ClaimInput:
    text: str
    """The claim (one answer sentence)."""
    evidence: tuple[str, ...]
    """Evidence passages, any length (a whole module is fine); sentences are selected here."""


@dataclass(frozen=True, kw_only=True)
class EvidenceSentence:
    passage: int
    """Index into `ClaimInput.evidence`."""
    sentence: int
    """Index of the sentence within that passage (as split by `text.split_sentences`)."""
    text: str


@dataclass(frozen=True, kw_only=True)
class LayerDetails:
    model_logit: float | None
    """Raw cross-encoder logit on (claim, selected evidence window); None when the claim was
    extractively supported, which the model could not change (it is not run then)."""
    model_probability: float | None
    """sigmoid(model_logit): the model alone, uncalibrated."""
    checks: CheckReport
    """Deterministic checks (numbers, dates, names, negation)."""
    local_probability: float
    """Calibrated P(supported) from model + checks, or EXTRACTIVE_PROBABILITY for a claim that
    restates one evidence sentence and passes every check."""
    judge_probability: float | None = None
    """LLM judge's P(supported); None when off or failed."""
    judge_error: str | None = None


@dataclass(frozen=True, kw_only=True)
class ClaimScore:
    probability: float
    """Calibrated P(supported) (local layers; mixed with the judge when it answered)."""
    supported: bool
    """probability >= threshold."""
    threshold: float
    """The operating threshold, chosen for high precision of "supported"."""
    evidence: tuple[EvidenceSentence, ...]
    """The selected evidence sentences, in document order, best-matching first is NOT implied."""
    best_evidence: EvidenceSentence | None
    """The selected sentence sharing most content with the claim: the citation to show."""
    layers: LayerDetails
    checker_version: str


@dataclass(frozen=True)
class _Part:
    statement: str
    """One sentence of the claim as the cross-encoder reads it (a QA claim: its statement form)."""
    windows: tuple[str, ...]
    """Evidence windows for this sentence, best first; its logit is the maximum over them."""


@dataclass(frozen=True)
class _Prepared:
    parts: tuple[_Part, ...]
    """One per sentence of a plain claim (a summary of several sentences is supported only if
    every sentence is), a single part for a one-sentence or review-question claim."""
    answer: str | None
    """A review-question claim's answer; None for a plain claim."""
    sentences: tuple[EvidenceSentence, ...]
    """Every selected sentence (all windows of all parts), in document order."""
    passage_text: str
    vocabulary: frozenset[str]

    @property
    def windows(self) -> tuple[str, ...]:
        """Every part's windows (what the question's answer coverage is measured on)."""
        return tuple(window for part in self.parts for window in part.windows)

    @property
    def window(self) -> str:
        """The best window of each part: what the judge reads and the lexical window feature is
        measured on."""
        return " ".join(part.windows[0] for part in self.parts)


class EntailmentScorer:
    def __init__(
        self,
        *,
        cross_encoder: CrossEncoder,
        combiner: Combiner,
        embedder: SentenceEmbedder | None,
        judge: LlmJudge | None = None,
    ) -> None:
        self.cross_encoder = cross_encoder
        self.combiner = combiner
        self.embedder = embedder
        self.judge = judge
        # The threshold is part of the version: the same scores under another threshold are other verdicts.
        self.checker_version = checker_version(
            model_version=cross_encoder.meta.version, combiner=combiner, judge_model=judge.model if judge else None
        )

    def prepare(self, claim: ClaimInput) -> _Prepared:
        """Select the evidence window for a claim (no model call except cached embeddings)."""
        if not claim.text.strip():
            raise ValueError("claim text is empty")
        if not claim.evidence:
            raise ValueError("claim has no evidence passages")
        form = parse_claim(claim.text)
        passage_text = "\n".join(claim.evidence)
        index = index_passage(passage_text)
        # A review question's evidence is chosen by its stem (where the syllabus answers it), so the
        # right answer and a distractor are read against the same sentences.
        statements = [form.statement] if form.is_question else claim_sentences(form.statement)
        # A claim costs about WINDOWS cross-encoder pairs however many sentences it has (at least
        # one window a sentence: the packed best sentences, which carry most of the support).
        windows_per_part = max(1, -(-WINDOWS // len(statements)))
        chosen_by_part = [
            select_windows(
                form.focus if form.is_question else statement,
                index,
                budget_words=budget_words(statement, self.cross_encoder.meta.max_length),
                embedder=self.embedder,
                windows=windows_per_part,
            )
            for statement in statements
        ]
        # Newlines always end a sentence, so the joined index is the per-passage indexes end to end.
        owners = [
            (p, s) for p, passage in enumerate(claim.evidence) for s in range(len(index_passage(passage).sentences))
        ]
        chosen = sorted({i for windows in chosen_by_part for window in windows for i in window})
        sentences = tuple(
            EvidenceSentence(passage=owners[i][0], sentence=owners[i][1], text=index.sentences[i])
            if i < len(owners)
            else EvidenceSentence(passage=0, sentence=i, text=index.sentences[i])
            for i in chosen
        )
        return _Prepared(
            parts=tuple(
                _Part(
                    statement=statement,
                    windows=tuple(" ".join(index.sentences[i] for i in window) for window in windows),
                )
                for statement, windows in zip(statements, chosen_by_part, strict=True)
            ),
            answer=form.answer,
            sentences=sentences,
            passage_text=passage_text,
            vocabulary=index.vocabulary,
        )

    def _max_logits(self, prepared: Sequence[_Prepared]) -> np.ndarray:
        """Per claim, the minimum over its sentences of the maximum over that sentence's windows of
        the cross-encoder logit (every sentence must be supported somewhere), in one batched call."""
        pairs = [(part.statement, window) for p in prepared for part in p.parts for window in part.windows]
        flat = self.cross_encoder.logits(pairs) if pairs else np.zeros(0, dtype=np.float32)
        out = np.zeros(len(prepared), dtype=np.float32)
        start = 0
        for i, p in enumerate(prepared):
            part_logits = []
            for part in p.parts:
                part_logits.append(flat[start : start + len(part.windows)].max())
                start += len(part.windows)
            out[i] = min(part_logits)
        return out

    def features(
        self, claims: Sequence[ClaimInput]
    ) -> tuple[np.ndarray, list[_Prepared], list[CheckReport], np.ndarray]:
        prepared = [self.prepare(c) for c in claims]
        logits = self._max_logits(prepared)
        reports = [
            run_checks(c.text, evidence=p.passage_text, evidence_sentences=[s.text for s in p.sentences])
            for c, p in zip(claims, prepared, strict=True)
        ]
        matrix = (
            np.stack(
                [
                    claim_features(
                        claim=c.text,
                        model_logit=float(logit),
                        report=report,
                        passage_vocabulary=p.vocabulary,
                        window_text=p.window,
                        answer=p.answer,
                        windows=p.windows,
                    )
                    for c, p, report, logit in zip(claims, prepared, reports, logits, strict=True)
                ]
            )
            if claims
            else np.zeros((0, 0))
        )
        return matrix, prepared, reports, logits

    def score_claims(self, claims: Sequence[ClaimInput]) -> list[ClaimScore]:
        if not claims:
            return []
        prepared = [self.prepare(c) for c in claims]
        reports = [
            run_checks(c.text, evidence=p.passage_text, evidence_sentences=[s.text for s in p.sentences])
            for c, p in zip(claims, prepared, strict=True)
        ]
        extractive = [
            report.passed and extractive_support(claim.text, [s.text for s in p.sentences])
            for claim, p, report in zip(claims, prepared, reports, strict=True)
        ]
        # The cross-encoder is most of the cost, and an extractive claim's verdict does not depend
        # on it (it is supported at EXTRACTIVE_PROBABILITY, above the threshold): in the live tutor
        # every re-check of a revision is such a claim.
        pending = [i for i, flag in enumerate(extractive) if not flag]
        logits: list[float | None] = [None] * len(claims)
        local = [EXTRACTIVE_PROBABILITY] * len(claims)
        if pending:
            pending_logits = self._max_logits([prepared[i] for i in pending])
            matrix = np.stack(
                [
                    claim_features(
                        claim=claims[i].text,
                        model_logit=float(logit),
                        report=reports[i],
                        passage_vocabulary=prepared[i].vocabulary,
                        window_text=prepared[i].window,
                        answer=prepared[i].answer,
                        windows=prepared[i].windows,
                    )
                    for i, logit in zip(pending, pending_logits, strict=True)
                ]
            )
            for i, logit, probability in zip(pending, pending_logits, self.combiner.probability(matrix), strict=True):
                logits[i] = float(logit)
                local[i] = float(probability)
        scores = []
        for claim, p, report, logit, local_p, is_extractive in zip(
            claims, prepared, reports, logits, local, extractive, strict=True
        ):
            judge_p, judge_error = None, None
            probability = local_p
            if self.judge is not None:
                result = self.judge.judge(claim=claim.text, evidence=p.window)
                judge_p, judge_error = result.probability, result.error
                if judge_p is not None:
                    probability = _mix(probability, judge_p)
            if is_extractive:
                probability = max(probability, EXTRACTIVE_PROBABILITY)
            best_text = best_matching_sentence(claim.text, [s.text for s in p.sentences])
            best = next((s for s in p.sentences if s.text == best_text), p.sentences[0] if p.sentences else None)
            scores.append(
                ClaimScore(
                    probability=probability,
                    supported=probability >= self.combiner.threshold,
                    threshold=self.combiner.threshold,
                    evidence=p.sentences,
                    best_evidence=best,
                    layers=LayerDetails(
                        model_logit=logit,
                        model_probability=None if logit is None else 1.0 / (1.0 + math.exp(-logit)),
                        checks=report,
                        local_probability=local_p,
                        judge_probability=judge_p,
                        judge_error=judge_error,
                    ),
                    checker_version=self.checker_version,
                )
            )
        return scores


def checker_version(*, model_version: str, combiner: Combiner, judge_model: str | None) -> str:
    """What scored a claim: model, combiner, threshold (the same scores under another threshold
    are other verdicts), checks and judge; stored with every verdict."""
    version = f"minilm-ce-{model_version}+{combiner.version}-t{combiner.threshold:.3f}+{CHECKS_VERSION}"
    return version + (f"+judge:{judge_model}" if judge_model else "")


def claim_sentences(statement: str) -> list[str]:
    """The sentences of a plain claim, each scored on its own (at most MAX_CLAIM_PARTS; a fragment
    of fewer than MIN_PART_WORDS words stays with the sentence before it, as it rarely says
    anything checkable alone)."""
    parts: list[str] = []
    for sentence in split_sentences(statement):
        if parts and (len(sentence.split()) < MIN_PART_WORDS or len(parts) == MAX_CLAIM_PARTS):
            parts[-1] = f"{parts[-1]} {sentence}"
        else:
            parts.append(sentence)
    return parts or [statement]


def _mix(local: float, judge: float) -> float:
    def logit(p: float) -> float:
        p = min(max(p, 1e-4), 1 - 1e-4)
        return math.log(p / (1 - p))

    z = JUDGE_WEIGHT * logit(judge) + (1 - JUDGE_WEIGHT) * logit(local)
    return 1.0 / (1.0 + math.exp(-z))


_scorer: EntailmentScorer | None = None
_scorer_lock = threading.Lock()


def _judge_from_settings() -> LlmJudge | None:
    from django.conf import settings

    if not settings.configured or not getattr(settings, "VERIFIER_LLM_JUDGE", False):
        return None
    return LlmJudge(base_url=settings.VERIFIER_JUDGE_BASE_URL, model=settings.VERIFIER_JUDGE_MODEL)


def build_scorer(
    weights_dir: Path = WEIGHTS_DIR,
    *,
    use_embeddings: bool = True,
    judge: LlmJudge | None = None,
    combiner: Combiner | None = None,
) -> EntailmentScorer:
    """`use_embeddings=False` ranks evidence by BM25 alone (as training does)."""
    embedder: SentenceEmbedder | None = None
    if use_embeddings:
        embedder = StaticMiniLMEmbedder()
    return EntailmentScorer(
        cross_encoder=CrossEncoder(weights_dir),
        combiner=combiner or Combiner.load(weights_dir),
        embedder=embedder,
        judge=judge,
    )


def get_scorer() -> EntailmentScorer:
    """The process-wide scorer, built on first use (model load ~1 s); thread-safe."""
    global _scorer
    with _scorer_lock:
        if _scorer is None:
            _scorer = build_scorer(judge=_judge_from_settings())
            _apply_thread_setting()
        return _scorer


def _apply_thread_setting() -> None:
    from django.conf import settings

    threads = getattr(settings, "VERIFIER_THREADS", 0) if settings.configured else 0
    if threads > 0:
        import torch

        torch.set_num_threads(threads)


def score_claims(claims: Sequence[ClaimInput]) -> list[ClaimScore]:
    return get_scorer().score_claims(claims)


async def ascore_claims(claims: Sequence[ClaimInput]) -> list[ClaimScore]:
    """For async callers (the verifier graph): runs the CPU-bound scoring in a worker thread."""
    return await asyncio.to_thread(score_claims, claims)
