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
PARAPHRASE = ClaimInput(text="Plant cells and algae contain chloroplasts.", evidence=(EVIDENCE,))
ONE_WORD_SWAP = ClaimInput(text="Animal cells and algae contain chloroplasts.", evidence=(EVIDENCE,))


def test_supported_pair_scores_above_unsupported_pair():
    # when the real model scores a paraphrase of the evidence and a clearly unsupported claim
    supported, unsupported = score_claims([PARAPHRASE, UNSUPPORTED])
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


def test_a_restated_clause_is_released_and_a_contradicted_claim_withheld():
    # given a claim restating the affirmed clause of a sentence whose other clause is negated
    # ("..., but not in animal cells"), and a claim the evidence contradicts
    # when both are scored
    supported, unsupported = score_claims([SUPPORTED, UNSUPPORTED])
    # then the first is released (the negation belongs to the other clause), the second is not
    assert supported.supported is True
    assert supported.layers.checks.passed is True
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
    reason="issue 11's done criterion, not met by the v3 model (v2 + 48,814 CPU pairs) nor by any model trained "
    "on a GPU from it or from the base (BENCHMARKS 'Verifier on a GPU'): with the clause-level negation check the "
    "scorer ranks the paraphrase above the swap (probability 0.67 vs 0.59), but no model-based operating point "
    "reaches 0.95 precision leave-one-source-out, so only the extractive rule's 0.96 releases; see "
    "docs/verifier.md. Remove this marker when a model passes.",
)
def test_a_paraphrase_is_released_in_its_own_words_and_a_one_word_swap_is_withheld():
    # when the real model scores the paraphrase and the swap
    released, withheld = score_claims([PARAPHRASE, ONE_WORD_SWAP])
    # then the paraphrase is supported on the model's judgement, the swap is not
    assert released.layers.model_logit is not None
    assert released.supported is True
    assert withheld.supported is False


def test_a_claim_of_several_sentences_is_as_supported_as_its_weakest_sentence():
    # given two claim sentences about the evidence, one supported and one not, and a summary of both
    first = PARAPHRASE.text
    second = "Chloroplasts digest proteins in animal cells."
    both = ClaimInput(text=f"{first} {second}", evidence=(EVIDENCE,))
    # when each sentence and the summary are scored
    alone_first, alone_second, summary = score_claims(
        [ClaimInput(text=first, evidence=(EVIDENCE,)), ClaimInput(text=second, evidence=(EVIDENCE,)), both]
    )
    # then the summary's model logit is the lower of its sentences' logits (each sentence is read
    # against its own evidence windows, not truncated into one 128-token input)
    assert summary.layers.model_logit == pytest.approx(
        min(alone_first.layers.model_logit, alone_second.layers.model_logit), abs=1e-3
    )


def test_claim_sentences_keeps_fragments_with_their_sentence_and_caps_the_parts():
    from verification.entailment.scorer import MAX_CLAIM_PARTS, claim_sentences

    # given a summary with a three-word fragment and more sentences than the cap
    text = "Cells divide by mitosis. It is fast. " + " ".join(
        f"Sentence number {i} says something checkable." for i in range(6)
    )
    # when it is split into parts
    parts = claim_sentences(text)
    # then the fragment stays with its sentence and the last part takes the rest
    assert parts[0] == "Cells divide by mitosis. It is fast."
    assert len(parts) == MAX_CLAIM_PARTS
    assert parts[-1].endswith("Sentence number 5 says something checkable.")
    assert claim_sentences("One sentence only.") == ["One sentence only."]
