"""Verifier graph control flow (fake scorer, scripted LLM) and claim splitting."""

import pytest

from llm.errors import LLMUnavailableError
from tests.fakes import LexicalScorer, ScriptedChatClient
from verification.claims import split_claims
from verification.graph.state import EvidencePassage
from verification.pipeline import OrderedVerifier, verify_sentence

pytestmark = pytest.mark.django_db(transaction=True)

EVIDENCE = [
    EvidencePassage(chunk_id=1, text="Water boils at 100 degrees Celsius at sea level.", topic="Heat", module="m1"),
    EvidencePassage(chunk_id=2, text="Heat flows from a hotter object to a colder one.", topic="Heat", module="m1"),
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
    assert [c.chunk_id for c in result.citations] == [1]
    assert client.prompts == []


async def test_revision_failure_keeps_the_failing_verdict(imported_mini_book, use_chat_client, use_scorer):
    # given the LLM is down when the revision is attempted
    use_chat_client(ScriptedChatClient(answer="", fail_with=LLMUnavailableError("timeout", "read timed out")))
    use_scorer(LexicalScorer())

    # when
    result = await verify_sentence(
        index=0,
        sentence="Water boils at 50 degrees Celsius.",
        curriculum_id=imported_mini_book.pk,
        answer_evidence=EVIDENCE,
    )

    # then
    assert (result.verdict, result.revised, result.citations) == ("contradicted", False, ())
    assert [r.attempt for r in result.records] == [0]


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
