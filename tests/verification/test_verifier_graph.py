"""Verifier graph control flow (fake scorer, scripted LLM) and claim splitting."""

import pytest

from llm.errors import LLMUnavailableError
from tests.fakes import LexicalScorer, ScriptedChatClient
from verification.claims import split_claims
from verification.graph.state import EvidencePassage
from verification.pipeline import OrderedVerifier, verify_sentence

pytestmark = pytest.mark.django_db(transaction=True)

# Chunk ids far above the mini book's: the verifier dedups evidence by chunk id, and ids that
# collide with the imported book's real chunks would hide them (seen when a test ran alone).
EVIDENCE = [
    EvidencePassage(chunk_id=9001, text="Water boils at 100 degrees Celsius at sea level.", topic="Heat", module="m1"),
    EvidencePassage(chunk_id=9002, text="Heat flows from a hotter object to a colder one.", topic="Heat", module="m1"),
]


def test_split_claims_only_where_both_sides_stand_alone():
    assert split_claims("Water boils at 100 degrees; ice melts at 0 degrees.") == [
        "Water boils at 100 degrees.",
        "ice melts at 0 degrees.",
    ]
    assert split_claims("Heat flows from hot to cold, but not always quickly.") == [
        "Heat flows from hot to cold, not always quickly."
    ]
    assert split_claims("Cells divide.") == ["Cells divide."]


async def test_supported_sentence_is_cited_without_revision(imported_mini_book, use_chat_client, use_scorer):
    # given
    client = use_chat_client(ScriptedChatClient(answer="", revision="unused"))
    use_scorer(LexicalScorer())

    # when
    result = await verify_sentence(
        index=0,
        sentence="Water boils at 100 degrees Celsius.",
        curriculum_id=imported_mini_book.pk,
        answer_evidence=EVIDENCE,
    )

    # then
    assert (result.verdict, result.text, result.revised) == ("supported", "Water boils at 100 degrees Celsius.", False)
    assert [c.chunk_id for c in result.citations] == [9001]
    assert client.prompts == []


async def test_revision_failure_keeps_the_failing_verdict(imported_mini_book, use_chat_client, use_scorer, settings):
    # given the LLM is down when the revision needs it to choose between two syllabus sentences
    settings.VERIFIER_REVISION_MODE = "select"
    use_chat_client(ScriptedChatClient(answer="", fail_with=LLMUnavailableError("timeout", "read timed out")))
    use_scorer(LexicalScorer())

    # when
    result = await verify_sentence(
        index=0,
        sentence="Water boils at 50 degrees Celsius; heat flows from a hotter object to a colder one.",
        curriculum_id=imported_mini_book.pk,
        answer_evidence=EVIDENCE,
    )

    # then
    assert (result.verdict, result.revised, result.citations) == ("contradicted", False, ())
    assert [r.attempt for r in result.records] == [0, 0]  # two claims, checked once each


async def test_select_revision_with_one_candidate_takes_it_without_asking_the_llm(
    imported_mini_book, use_chat_client, use_scorer, settings
):
    # given a wrong number; only one syllabus sentence is about the same thing
    settings.VERIFIER_REVISION_MODE = "select"
    client = use_chat_client(ScriptedChatClient(answer="", selection=1))
    use_scorer(LexicalScorer())

    # when
    result = await verify_sentence(
        index=0,
        sentence="Water boils at 50 degrees Celsius.",
        curriculum_id=imported_mini_book.pk,
        answer_evidence=EVIDENCE,
    )

    # then the syllabus sentence is shown, re-checked and cited; the draft is kept for the audit
    assert (result.verdict, result.text, result.original) == (
        "supported",
        "Water boils at 100 degrees Celsius at sea level.",
        "Water boils at 50 degrees Celsius.",
    )
    assert [c.chunk_id for c in result.citations] == [9001]
    assert [(r.attempt, r.verdict) for r in result.records] == [(0, "contradicted"), (1, "supported")]
    assert client.prompts == []


async def test_select_revision_shows_the_candidate_the_llm_chose(
    imported_mini_book, use_chat_client, use_scorer, settings
):
    # given two claims, one wrong; the LLM picks candidate 2 of the numbered syllabus sentences
    settings.VERIFIER_REVISION_MODE = "select"
    client = use_chat_client(ScriptedChatClient(answer="", selection=2))
    use_scorer(LexicalScorer())

    # when
    result = await verify_sentence(
        index=0,
        sentence="Water boils at 50 degrees Celsius; heat flows from a hotter object to a colder one.",
        curriculum_id=imported_mini_book.pk,
        answer_evidence=EVIDENCE,
    )

    # then
    (prompt,) = client.prompts
    assert (
        "1. Water boils at 100 degrees Celsius at sea level.\n2. Heat flows from a hotter object to a colder one."
        in (prompt[-1].content)
    )
    assert (result.verdict, result.text) == ("supported", "Heat flows from a hotter object to a colder one.")


async def test_select_revision_without_a_sentence_on_the_subject_asks_no_llm(
    imported_mini_book, use_chat_client, use_scorer, settings
):
    # given a sentence no evidence sentence shares two content words with
    settings.VERIFIER_REVISION_MODE = "select"
    client = use_chat_client(ScriptedChatClient(answer="", selection=1))
    use_scorer(LexicalScorer())

    # when
    result = await verify_sentence(
        index=0,
        sentence="Photosynthesis happens in chloroplasts of leaves.",
        curriculum_id=imported_mini_book.pk,
        answer_evidence=EVIDENCE,
    )

    # then
    assert (result.verdict, result.revised, result.citations) == ("unsupported", False, ())
    assert client.prompts == []


async def test_extract_revision_takes_the_best_ranked_candidate_without_the_llm(
    imported_mini_book, use_chat_client, use_scorer, settings
):
    # given the embedded default: two syllabus sentences share words with a partly wrong sentence
    settings.VERIFIER_REVISION_MODE = "extract"
    client = use_chat_client(ScriptedChatClient(answer="", selection=2))
    use_scorer(LexicalScorer())

    # when
    result = await verify_sentence(
        index=0,
        sentence="Water boils at 50 degrees Celsius; heat flows from a hotter object to a colder one.",
        curriculum_id=imported_mini_book.pk,
        answer_evidence=EVIDENCE,
    )

    # then the sentence closest to the first failing claim replaces it, and no LLM was asked
    assert (result.verdict, result.text) == ("supported", "Water boils at 100 degrees Celsius at sea level.")
    assert [c.chunk_id for c in result.citations] == [9001]
    assert client.prompts == []


async def test_recheck_of_an_extracted_revision_retrieves_nothing_new(
    imported_mini_book, use_chat_client, use_scorer, settings, monkeypatch
):
    # given the extract mode and a sentence with a wrong number
    from verification.graph import nodes

    settings.VERIFIER_REVISION_MODE = "extract"
    use_chat_client(ScriptedChatClient(answer=""))
    use_scorer(LexicalScorer())
    queries: list[list[str]] = []
    search = nodes.search_chunks_batch

    def counting_search(**kwargs):
        queries.append(kwargs["queries"])
        return search(**kwargs)

    monkeypatch.setattr(nodes, "search_chunks_batch", counting_search)

    # when it is verified, revised from the evidence and re-checked
    result = await verify_sentence(
        index=0,
        sentence="Water boils at 50 degrees Celsius.",
        curriculum_id=imported_mini_book.pk,
        answer_evidence=EVIDENCE,
    )

    # then only the draft's claims were retrieved for: the revision is an evidence sentence already
    assert queries == [["Water boils at 50 degrees Celsius."]]
    assert (result.verdict, result.text) == ("supported", "Water boils at 100 degrees Celsius at sea level.")
    assert [r.attempt for r in result.records] == [0, 1]


async def test_a_sentence_restating_an_answer_passage_is_checked_without_a_search(
    imported_mini_book, use_chat_client, use_scorer, monkeypatch
):
    # given a search that counts its calls
    from verification.graph import nodes

    use_chat_client(ScriptedChatClient(answer="", revision="unused"))
    use_scorer(LexicalScorer())
    queries: list[list[str]] = []
    search = nodes.search_chunks_batch

    def counting_search(**kwargs):
        queries.append(kwargs["queries"])
        return search(**kwargs)

    monkeypatch.setattr(nodes, "search_chunks_batch", counting_search)

    # when a sentence in the words of one of the answer's passages is verified, and one that is not
    restated = await verify_sentence(
        index=0,
        sentence="Heat flows from a hotter object to a colder one.",
        curriculum_id=imported_mini_book.pk,
        answer_evidence=EVIDENCE,
    )
    reworded = await verify_sentence(
        index=1,
        sentence="Objects in free fall accelerate downward.",
        curriculum_id=imported_mini_book.pk,
        answer_evidence=EVIDENCE,
    )

    # then the first is checked against the answer's passages alone, the second searches the syllabus
    assert (restated.verdict, [c.chunk_id for c in restated.citations]) == ("supported", [9002])
    assert queries == [["Objects in free fall accelerate downward."]]
    assert reworded.verdict == "supported"


def test_restating_needs_every_claim_in_one_sentence_in_order():
    from verification.graph.nodes import restates_answer_evidence

    # given the answer's passages, then a sentence of them restates them, a reordering or a claim
    # across two of their sentences does not, and no claims at all is nothing restated
    assert restates_answer_evidence(["Water boils at 100 degrees Celsius."], EVIDENCE) is True
    assert restates_answer_evidence(["Heat flows from a colder object to a hotter one."], EVIDENCE) is False
    assert restates_answer_evidence(["Water boils at 100 degrees and heat flows to a colder one."], EVIDENCE) is False
    assert restates_answer_evidence([], EVIDENCE) is False


def test_selection_schema_admits_only_the_candidates_numbers():
    from pydantic import ValidationError

    from verification.revision import selection_schema

    schema = selection_schema(3)
    assert schema.model_validate({"sentence": 3}).sentence == 3  # type: ignore[attr-defined]
    with pytest.raises(ValidationError):
        schema.model_validate({"sentence": 4})
    assert schema.model_json_schema()["properties"]["sentence"]["enum"] == [1, 2, 3]


def test_revision_candidates_drop_figure_references_and_off_subject_sentences():
    from verification.revision import revision_candidates

    candidates = revision_candidates(
        sentence="Water boils at 50 degrees.",
        evidence=[
            "Water boils at 100 degrees Celsius (Figure 2.3).",
            "Heat flows from a hotter object to a colder one.",
        ],
    )
    assert candidates == ["Water boils at 100 degrees Celsius."]


def test_revision_candidates_skip_sentences_that_point_back_to_their_paragraph():
    from verification.revision import revision_candidates

    # given syllabus sentences on the subject, two of which only make sense after the one before
    candidates = revision_candidates(
        sentence="Osmosis is vital for water in living cells.",
        evidence=[
            "It is because water is essential to life in living cells.",
            "This movement of water in living cells is osmosis.",
            "Osmosis is the diffusion of water through a membrane of living cells.",
        ],
    )

    # then only the one that stands on its own may replace the draft
    assert candidates == ["Osmosis is the diffusion of water through a membrane of living cells."]


async def test_per_claim_retrieval_finds_evidence_the_answer_was_not_given(
    imported_mini_book, use_chat_client, use_scorer
):
    # given: the answer's passages say nothing about free fall; the curriculum does
    use_chat_client(ScriptedChatClient(answer="", revision="unused"))
    use_scorer(LexicalScorer())

    # when
    result = await verify_sentence(
        index=0,
        sentence="Objects in free fall accelerate downward at about 9.8 meters per second squared.",
        curriculum_id=imported_mini_book.pk,
        answer_evidence=EVIDENCE,
    )

    # then
    assert result.verdict == "supported"
    assert [c.module for c in result.citations] == ["m90002"]


async def test_revision_comes_only_from_the_passages_retrieved_for_the_question(
    imported_mini_book, use_chat_client, use_scorer, settings
):
    # given a wrong number about free fall, which only the per-claim retrieval has evidence for
    settings.VERIFIER_REVISION_MODE = "extract"
    use_chat_client(ScriptedChatClient(answer=""))
    use_scorer(LexicalScorer())

    # when it is verified against an answer whose passages are about boiling and heat
    result = await verify_sentence(
        index=0,
        sentence="Objects in free fall accelerate downward at about 5 meters per second squared.",
        curriculum_id=imported_mini_book.pk,
        answer_evidence=EVIDENCE,
    )

    # then it is not replaced by a sentence from off the question's passages: it stays failed
    assert (result.verdict, result.revised) == ("unsupported", False)
    assert [r.attempt for r in result.records] == [0]


async def test_ordered_verifier_yields_in_submission_order(imported_mini_book, use_chat_client, use_scorer):
    # given the first sentence is the slowest to score
    use_chat_client(ScriptedChatClient(answer="", revision="unused"))
    use_scorer(LexicalScorer(delays_s={"Water boils at 100 degrees Celsius.": 0.4}))
    verifier = OrderedVerifier(curriculum_id=imported_mini_book.pk, answer_evidence=EVIDENCE)

    # when
    verifier.submit(index=0, sentence="Water boils at 100 degrees Celsius.")
    verifier.submit(index=1, sentence="Heat flows from a hotter object to a colder one.")
    verifier.close()
    results = [r async for r in verifier.results()]

    # then
    assert [(r.index, r.verdict) for r in results] == [(0, "supported"), (1, "supported")]
