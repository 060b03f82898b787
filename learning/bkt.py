"""Bayesian Knowledge Tracing: the probability that a student knows a topic, from graded answers.

Pure Python, no Django: the services call it per answer, the ``fit_bkt`` command fits its parameters
and the bench simulates cohorts with it.

The model (Corbett & Anderson 1995): a topic is either known or not. A student who knows it answers
right unless they slip; one who does not can still guess right. After each answer the student may
learn the topic (the practice itself teaches). Forgetting is left to spaced repetition (FSRS), as in
standard BKT.
"""

import math
from collections.abc import Sequence
from dataclasses import dataclass

# Probabilities are kept inside (EPSILON, 1 - EPSILON): at exactly 0 or 1 one answer could never
# move the estimate again, and EM's log-likelihood would be -inf.
EPSILON = 1e-6
# Bounds the EM fit may move a parameter within. Guess and slip above 0.5 would mean a wrong answer
# is evidence of knowing (the model would be unidentifiable: "known" and "unknown" swap roles).
MAX_GUESS = 0.5
MAX_SLIP = 0.3
# Mastery at which a topic counts as learned: the conventional BKT threshold (Corbett & Anderson).
MASTERED = 0.95


@dataclass(frozen=True, kw_only=True)
class BktParams:
    p_init: float
    """P(known) before the first answer."""
    p_learn: float
    """P(an unknown topic becomes known) at each practice opportunity."""
    p_slip: float
    """P(wrong answer | known)."""
    p_guess: float
    """P(right answer | not known); about 1/options for multiple choice."""


# Defaults before a topic has enough answers to fit: the median values of per-skill fits reported
# for tutoring data (Baker et al. 2008: learn ~0.1, slip ~0.1); guess 0.25 because the imported
# questions are four-option multiple choice; p_init 0.2 because a student starts a book's topics
# mostly unknown (a higher prior would read four lucky guesses as mastery).
DEFAULT_PARAMS = BktParams(p_init=0.2, p_learn=0.1, p_slip=0.1, p_guess=0.25)


@dataclass(frozen=True, kw_only=True)
class MasteryEstimate:
    mastery: float
    """P(known) after the evidence."""
    evidence: int
    """Graded answers it rests on."""

    @property
    def uncertainty(self) -> float:
        """Standard error of the estimate: the known/not-known spread under it, sqrt(m (1 - m)), over
        the square root of the answers behind it plus one (the prior counts as one): 0.4 for the
        default prior with no answers, shrinking as answers accumulate, near 0 once they agree.
        Shown next to the mastery so 0.6 from two answers does not read like 0.6 from forty. (The
        spread alone, shown before, is the same for both and rose from 0.4 to 0.5 after a first
        right answer, telling the student they were less known after more evidence.)"""
        return math.sqrt(self.mastery * (1.0 - self.mastery) / (self.evidence + 1))


def _clamp(p: float) -> float:
    return min(1.0 - EPSILON, max(EPSILON, p))


def posterior(p_known: float, correct: bool, params: BktParams) -> float:
    """P(known | this answer), before the learning step."""
    if correct:
        known = p_known * (1.0 - params.p_slip)
        unknown = (1.0 - p_known) * params.p_guess
    else:
        known = p_known * params.p_slip
        unknown = (1.0 - p_known) * (1.0 - params.p_guess)
    return known / (known + unknown)


def update(p_known: float, correct: bool, params: BktParams) -> float:
    """The online update for one graded answer: condition on it, then allow learning."""
    after = posterior(p_known, correct, params)
    return _clamp(after + (1.0 - after) * params.p_learn)


def estimate(answers: Sequence[bool], params: BktParams) -> MasteryEstimate:
    """Mastery after a student's answers on one topic, oldest first."""
    p = params.p_init
    for correct in answers:
        p = update(p, correct, params)
    return MasteryEstimate(mastery=p, evidence=len(answers))


# Ability carries across a course's sections, so a student's mastery of the sections they have
# practised says something about the next one: a topic's prior moves toward the student's mean
# mastery elsewhere by n / (n + PRIOR_PSEUDO_TOPICS) for n other practised topics (one moves it a
# quarter of the way, nine three quarters): BKT with individualized priors (Pardos & Heffernan,
# 2010). On the simulated cohort of bench_learning it lifts the rank correlation with the hidden
# mastery at 20 answers a topic from 0.797 to about 0.86 (BENCHMARKS.md, learner model).
PRIOR_PSEUDO_TOPICS = 3


def individual_prior(*, topic_prior: float, elsewhere: Sequence[float]) -> float:
    """The prior of a topic for one student: the topic's own prior moved toward the student's mean
    mastery over their other practised topics of the course (``elsewhere``; none: unchanged)."""
    if not elsewhere:
        return topic_prior
    weight = len(elsewhere) / (len(elsewhere) + PRIOR_PSEUDO_TOPICS)
    return _clamp((1.0 - weight) * topic_prior + weight * sum(elsewhere) / len(elsewhere))


def p_correct(p_known: float, params: BktParams) -> float:
    """Probability of a right answer to the topic's next question."""
    return p_known * (1.0 - params.p_slip) + (1.0 - p_known) * params.p_guess


def after_practice(p_known: float, opportunities: int, params: BktParams) -> float:
    """Expected mastery after ``opportunities`` more practice answers (learning only; the answers'
    evidence averages out): 1 - (1 - p)(1 - learn)^n."""
    return 1.0 - (1.0 - p_known) * (1.0 - params.p_learn) ** opportunities


def opportunities_to_master(p_known: float, params: BktParams, *, target: float = MASTERED) -> int:
    """Practice answers expected to bring ``p_known`` to ``target``: how much more often a weak topic
    must come back than a strong one."""
    if p_known >= target:
        return 0
    if params.p_learn <= 0.0:
        raise ValueError("a topic nobody learns (p_learn = 0) never reaches mastery by practice")
    return math.ceil(math.log((1.0 - target) / (1.0 - p_known)) / math.log(1.0 - params.p_learn))


# --- fitting (EM, Baum-Welch on the two-state HMM) ------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class FitResult:
    params: BktParams
    log_likelihood: float
    iterations: int
    sequences: int
    answers: int


def fit(
    sequences: Sequence[Sequence[bool]],
    *,
    start: BktParams = DEFAULT_PARAMS,
    max_iterations: int = 100,
    tolerance: float = 1e-6,
) -> FitResult:
    """Fit one topic's parameters to its students' answer sequences (each oldest first) by EM.

    Each sequence is one student's answers on the topic. Forward-backward gives, per answer, the
    posterior of the hidden state and of the unknown->known transition; the M-step re-estimates the
    four probabilities from those expected counts. Stops when the log-likelihood gains less than
    ``tolerance``; guess and slip are kept below ``MAX_GUESS``/``MAX_SLIP`` so the fit stays
    identifiable.
    """
    data = [list(s) for s in sequences if len(s) > 0]
    total_answers = sum(len(s) for s in data)
    if not data:
        return FitResult(params=start, log_likelihood=0.0, iterations=0, sequences=0, answers=0)
    params = start
    previous = -math.inf
    log_likelihood = -math.inf
    iteration = 0
    for iteration in range(1, max_iterations + 1):  # noqa: B007 - the count is reported
        init_known = 0.0
        learn_num = learn_den = 0.0
        slip_num = known_total = 0.0
        guess_num = unknown_total = 0.0
        log_likelihood = 0.0
        for seq in data:
            gammas, xis, ll = _forward_backward(seq, params)
            log_likelihood += ll
            init_known += gammas[0]
            for t, correct in enumerate(seq):
                g = gammas[t]
                known_total += g
                unknown_total += 1.0 - g
                if correct:
                    guess_num += 1.0 - g
                else:
                    slip_num += g
            for t, xi in enumerate(xis):
                # Learning transitions out of "unknown" at step t: expected count over expected time unknown.
                learn_num += xi
                learn_den += 1.0 - gammas[t]
        params = BktParams(
            p_init=_clamp(init_known / len(data)),
            p_learn=_clamp(learn_num / learn_den) if learn_den > 0 else params.p_learn,
            p_slip=min(MAX_SLIP, _clamp(slip_num / known_total)) if known_total > 0 else params.p_slip,
            p_guess=min(MAX_GUESS, _clamp(guess_num / unknown_total)) if unknown_total > 0 else params.p_guess,
        )
        if log_likelihood - previous < tolerance:
            break
        previous = log_likelihood
    return FitResult(
        params=params,
        log_likelihood=log_likelihood,
        iterations=iteration,
        sequences=len(data),
        answers=total_answers,
    )


def _forward_backward(seq: Sequence[bool], params: BktParams) -> tuple[list[float], list[float], float]:
    """Per step P(known | whole sequence), per step P(unknown at t, known at t+1 | sequence), and the
    sequence's log-likelihood. Scaled forward-backward on the two states (known, unknown); no
    forgetting, so known stays known."""
    n = len(seq)
    learn = params.p_learn

    def emit(correct: bool) -> tuple[float, float]:
        if correct:
            return 1.0 - params.p_slip, params.p_guess
        return params.p_slip, 1.0 - params.p_guess

    alphas: list[tuple[float, float]] = []
    scales: list[float] = []
    known, unknown = params.p_init, 1.0 - params.p_init
    for t, correct in enumerate(seq):
        if t > 0:
            prev_known, prev_unknown = alphas[-1]
            known = prev_known + prev_unknown * learn
            unknown = prev_unknown * (1.0 - learn)
        e_known, e_unknown = emit(correct)
        known *= e_known
        unknown *= e_unknown
        scale = known + unknown
        scales.append(scale)
        alphas.append((known / scale, unknown / scale))

    betas: list[tuple[float, float]] = [(1.0, 1.0)] * n
    for t in range(n - 2, -1, -1):
        e_known, e_unknown = emit(seq[t + 1])
        next_known, next_unknown = betas[t + 1]
        b_known = e_known * next_known
        b_unknown = learn * e_known * next_known + (1.0 - learn) * e_unknown * next_unknown
        betas[t] = (b_known / scales[t + 1], b_unknown / scales[t + 1])

    gammas = []
    for (a_known, a_unknown), (b_known, b_unknown) in zip(alphas, betas, strict=True):
        k = a_known * b_known
        u = a_unknown * b_unknown
        gammas.append(k / (k + u))
    xis = []
    for t in range(n - 1):
        e_known, _ = emit(seq[t + 1])
        xis.append(alphas[t][1] * learn * e_known * betas[t + 1][0] / scales[t + 1])
    return gammas, xis, sum(math.log(s) for s in scales)
