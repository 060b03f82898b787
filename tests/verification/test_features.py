from verification.checks import run_checks
from verification.entailment.features import FEATURE_NAMES, claim_features

WINDOW = "Osmosis is the diffusion of water across a membrane."


def _features(claim: str, *, answer: str | None, windows: tuple[str, ...]) -> dict[str, float]:
    values = claim_features(
        claim=claim,
        model_logit=1.5,
        report=run_checks(claim, evidence=WINDOW, evidence_sentences=[WINDOW]),
        passage_vocabulary=frozenset(),
        window_text=WINDOW,
        answer=answer,
        windows=windows,
    )
    return dict(zip(FEATURE_NAMES, values.tolist(), strict=True))


def test_question_answer_coverage_is_measured_in_the_best_window():
    # given a review-question claim whose answer's words stand in the second window only
    features = _features(
        "Question: What is osmosis? Answer: diffusion of water",
        answer="diffusion of water",
        windows=("Cells divide by mitosis.", WINDOW),
    )
    # then it is flagged a question, with all of its answer's content words found
    assert features["is_question"] == 1.0
    assert features["answer_in_windows"] == 1.0
    assert features["model_logit"] == 1.5


def test_a_distractor_covers_less_of_its_answer():
    features = _features(
        "Question: What is osmosis? Answer: active transport of water",
        answer="active transport of water",
        windows=(WINDOW,),
    )
    # "active", "transport" and "water": only water is in the window
    assert features["answer_in_windows"] == 1 / 3


def test_plain_claims_have_both_question_features_zero():
    features = _features("Osmosis is the diffusion of water.", answer=None, windows=(WINDOW,))
    assert (features["is_question"], features["answer_in_windows"]) == (0.0, 0.0)
