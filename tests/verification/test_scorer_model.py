"""Integration tests on the real shipped cross-encoder (verification/entailment/weights/)."""

import asyncio
from concurrent.futures import ThreadPoolExecutor

import pytest

from verification.entailment.scorer import (
    EXTRACTIVE_PROBABILITY,
    ClaimInput,
    ascore_claims,
    get_scorer,
    score_claims,
)

EVIDENCE = (
    "The cell membrane is made of a phospholipid bilayer. "
    "Chloroplasts are found in plant cells and in algae, but not in animal cells. "
    "They capture light energy and convert it into chemical energy during photosynthesis."
)
SUPPORTED = ClaimInput(text="Chloroplasts are found in plant cells and in algae.", evidence=(EVIDENCE,))
UNSUPPORTED = ClaimInput(
    text="Chloroplasts are found in animal cells, where they digest proteins.", evidence=(EVIDENCE,)
)


def test_supported_pair_scores_above_unsupported_pair():
    # when the real model scores a clearly supported and a clearly unsupported claim
    supported, unsupported = score_claims([SUPPORTED, UNSUPPORTED])
    # then the supported one scores higher, on the model alone and combined
    assert supported.probability > unsupported.probability
    assert supported.layers.model_logit > unsupported.layers.model_logit
    # and the best evidence is the sentence the claim paraphrases
    assert supported.best_evidence is not None
    assert supported.best_evidence.text.startswith("Chloroplasts are found in plant cells")
    assert supported.checker_version == get_scorer().checker_version


def test_module_length_evidence_selects_the_relevant_sentence():
    # given the evidence buried in a long passage of unrelated sentences, in a second passage
    filler = " ".join(f"Sentence {i} is about tectonic plates and volcanic islands." for i in range(300))
    claim = ClaimInput(text=SUPPORTED.text, evidence=(filler, filler + "\n" + EVIDENCE))
    # when scored
    (score,) = score_claims([claim])
    # then the chosen evidence comes from the second passage and contains the source sentence
    assert score.best_evidence is not None
    assert score.best_evidence.passage == 1
    assert score.best_evidence.text.startswith("Chloroplasts are found in plant cells")


def test_scoring_is_thread_safe_and_async_usable():
    # given the same claims scored from several threads at once
    expected = [s.probability for s in score_claims([SUPPORTED, UNSUPPORTED])]
    with ThreadPoolExecutor(max_workers=4) as pool:
        results = list(pool.map(lambda _: [s.probability for s in score_claims([SUPPORTED, UNSUPPORTED])], range(4)))
    # then every thread gets the same scores, and the async wrapper agrees too
    assert results == [expected] * 4
    via_async = asyncio.run(ascore_claims([SUPPORTED, UNSUPPORTED]))
    assert [s.probability for s in via_async] == expected


def test_bad_input_gets_a_clear_error():
    with pytest.raises(ValueError, match="no evidence"):
        score_claims([ClaimInput(text="A claim.", evidence=())])
    with pytest.raises(ValueError, match="empty"):
        score_claims([ClaimInput(text="  ", evidence=("x",))])


@pytest.mark.xfail(
    strict=True,
    reason="the shipped model is too weak to clear its precision-first threshold on a clear paraphrase; "
    "see docs/verifier.md (Results). Remove this marker when a stronger model passes.",
)
def test_clear_cases_fall_on_the_right_side_of_the_threshold():
    supported, unsupported = score_claims([SUPPORTED, UNSUPPORTED])
    assert supported.supported is True
    assert unsupported.supported is False


def test_extractive_claim_is_settled_without_the_cross_encoder():
    # given a claim restating one evidence sentence word for word, next to one that does not
    verbatim = ClaimInput(text="The cell membrane is made of a phospholipid bilayer.", evidence=(EVIDENCE,))

    # when both are scored in one batch
    extractive, other = score_claims([verbatim, UNSUPPORTED])

    # then the verbatim one is supported at the extractive probability with no model pass
    assert (extractive.supported, extractive.probability) == (True, EXTRACTIVE_PROBABILITY)
    assert (extractive.layers.model_logit, extractive.layers.model_probability) == (None, None)
    # and the other went through the cross-encoder and the combiner
    assert other.layers.model_logit is not None
    assert other.probability == other.layers.local_probability


def test_process_scorer_takes_its_torch_threads_from_settings(settings, monkeypatch):
    # given the tutor process setting for the verifier's threads and no scorer built yet
    import torch

    import verification.entailment.scorer as scorer_module

    settings.VERIFIER_THREADS = 1
    monkeypatch.setattr(scorer_module, "_scorer", None)
    before = torch.get_num_threads()
    torch.set_num_threads(2)
    try:
        # when the process-wide scorer is built
        get_scorer()

        # then torch runs it on that many threads
        assert torch.get_num_threads() == 1
    finally:
        torch.set_num_threads(before)


PARAPHRASE = ClaimInput(text="Plant cells and algae contain chloroplasts.", evidence=(EVIDENCE,))
ONE_WORD_SWAP = ClaimInput(text="Animal cells and algae contain chloroplasts.", evidence=(EVIDENCE,))


def test_the_model_ranks_a_paraphrase_above_its_one_word_swap():
    # given a correct paraphrase of a syllabus sentence (not in the syllabus's word order, so the
    # extractive rule does not settle it) and the same sentence with one word swapped
    # when the real model scores both
    paraphrase, swapped = score_claims([PARAPHRASE, ONE_WORD_SWAP])
    # then both went through the cross-encoder, and it prefers the paraphrase
    assert paraphrase.layers.model_logit is not None
    assert swapped.layers.model_logit is not None
    assert paraphrase.layers.model_logit > swapped.layers.model_logit


@pytest.mark.xfail(
    strict=True,
    reason="issue 11's done criterion, not met by the v2 model (973 CPU steps): it prefers the paraphrase "
    "but by too little to clear the precision-first threshold (0.96), and the negation check misfires on "
    "the evidence's 'but not in animal cells'; see docs/verifier.md. Remove this marker when a model passes.",
)
def test_a_paraphrase_is_released_in_its_own_words_and_a_one_word_swap_is_withheld():
    # when the real model scores the paraphrase and the swap
    released, withheld = score_claims([PARAPHRASE, ONE_WORD_SWAP])
    # then the paraphrase is supported on the model's judgement, the swap is not
    assert released.layers.model_logit is not None
    assert released.supported is True
    assert withheld.supported is False
