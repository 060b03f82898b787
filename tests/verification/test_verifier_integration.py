"""End to end on the real models: the trained entailment model scores; a failed sentence is revised
(by default from the evidence, in `select` mode by SmolLM2's choice) and checked again.

The four cases the product must get right: a supported sentence is released with its citation; a
contradicted one, a number mismatch and an unsupported one are never shown as verified.
"""

import pytest

from verification.graph.state import EvidencePassage
from verification.pipeline import verify_sentence

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


def _evidence(curriculum) -> list[EvidencePassage]:
    from curriculum.retrieval import search_chunks

    return [
        EvidencePassage(chunk_id=c.chunk_id, text=c.text, topic=c.topic, module=c.module)
        for c in search_chunks(curriculum_id=curriculum.pk, query="At what temperature does water boil?", k=3)
    ]


async def _verify(curriculum, sentence: str):
    from asgiref.sync import sync_to_async

    evidence = await sync_to_async(_evidence)(curriculum)
    return await verify_sentence(index=0, sentence=sentence, curriculum_id=curriculum.pk, answer_evidence=evidence)


async def test_supported_sentence_is_released_with_its_citation(imported_mini_book):
    result = await _verify(imported_mini_book, "Water boils at 100 degrees Celsius at sea level.")
    assert result.verdict == "supported"
    assert result.revised is False
    assert "m90003" in {c.module for c in result.citations}


async def test_number_mismatch_is_caught(imported_mini_book):
    result = await _verify(imported_mini_book, "Water boils at 70 degrees Celsius at sea level.")
    first = result.records[0]
    assert (first.attempt, first.verdict) == (0, "contradicted")
    assert "number not in evidence: 70" in first.reasons
    # whatever the revision made of it, the wrong number is never shown as verified
    assert not (result.verdict == "supported" and "70" in result.text)


async def test_contradicted_sentence_is_caught(imported_mini_book):
    result = await _verify(imported_mini_book, "Heat always flows spontaneously from a colder object to a hotter one.")
    assert result.records[0].verdict in {"contradicted", "unsupported"}
    assert not (result.verdict == "supported" and "colder object to a hotter" in result.text)


async def test_unsupported_sentence_is_not_verified(imported_mini_book):
    result = await _verify(imported_mini_book, "Photosynthesis takes place in the chloroplasts of plant cells.")
    assert result.records[0].verdict == "unsupported"
    assert not (result.verdict == "supported" and "chloroplast" in result.text.lower())


@pytest.mark.parametrize("mode", ["extract", "select"])
async def test_number_mismatch_is_revised_from_the_syllabus(imported_mini_book, settings, mode):
    # given a wrong number, revised by the default extraction or by SmolLM2 choosing a sentence
    settings.VERIFIER_REVISION_MODE = mode
    from llm.factory import reset_chat_client

    reset_chat_client()

    # when it is verified
    result = await _verify(imported_mini_book, "Water boils at 70 degrees Celsius at sea level.")

    # then a syllabus sentence replaces it and passes the re-check, cited; the wrong number is gone
    assert [(r.attempt, r.verdict) for r in result.records] == [(0, "contradicted"), (1, "supported")]
    assert (result.verdict, result.revised) == ("supported", True)
    assert "70" not in result.text
    assert "m90003" in {c.module for c in result.citations}
