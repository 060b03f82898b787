"""Which syllabus sentences can stand on their own: the bar for revision candidates (and, through
tutor/composition.py, for every released sentence)."""

import pytest

from verification.revision import is_fragment, leans_on_lost_context, revision_candidates, stands_alone


@pytest.mark.parametrize(
    "sentence",
    [
        "The previous section of this chapter focused on the type of associative learning known as classical conditioning.",
        "As shown in Figure 6.3, the dog salivates at the sound of the bell.",
        "This figure shows a neuron.",
        "Pavlov studied these responses in dogs.",
        "Water has a concentration gradient in this system.",
        "Consequently, long-necked tortoises would be more likely to be reproductively successful.",
        "In these cells, the nucleus is large.",
        "It is because water is essential to life.",
        "Both are forms of associative learning.",
    ],
)
def test_sentences_that_point_at_context_they_lost_lean_on_it(sentence):
    assert leans_on_lost_context(sentence) is True


@pytest.mark.parametrize(
    "sentence",
    [
        "In operant conditioning, organisms learn to associate a behavior and its consequence.",
        "Cells have membranes, and these membranes control what enters the cell.",
        "A gene is a sequence of DNA, and this sequence codes for a protein.",
        "Organisms such as those that live in salt water lose water by osmosis.",
        "Both classical and operant conditioning are forms of associative learning.",
        "The unit of heredity is the gene.",
    ],
)
def test_sentences_that_name_what_they_talk_about_stand_alone(sentence):
    assert leans_on_lost_context(sentence) is False
    assert stands_alone(sentence) is True


@pytest.mark.parametrize(
    "text",
    [
        "learning: change in behavior or knowledge that is the result of experience",
        "Operant Conditioning",
        "DNA: deoxyribonucleic acid",
        "Extent of the concentration gradient: The greater the difference in concentration, the faster it goes.",
        "Three types of muscle tissue are",
    ],
)
def test_glossary_lines_headings_and_list_labels_are_fragments(text):
    assert is_fragment(text) is True
    assert stands_alone(text) is False


def test_a_sentence_with_a_colon_inside_is_still_a_sentence():
    assert is_fragment("Plasma membranes are asymmetric: the interior is not identical to the exterior.") is False


def test_revision_candidates_skip_glossary_lines_and_book_references():
    # given syllabus text on the subject: a back-reference, a glossary line and a sentence of its own
    candidates = revision_candidates(
        sentence="Operant conditioning is learning from the consequence of a behavior.",
        evidence=[
            "The previous section of this chapter focused on classical conditioning, not operant conditioning.",
            "operant conditioning: form of learning in which the stimulus or experience happens after the behavior",
            "In operant conditioning, organisms learn to associate a behavior and its consequence.",
        ],
    )

    # then only the sentence that reads on its own may replace the draft
    assert candidates == ["In operant conditioning, organisms learn to associate a behavior and its consequence."]
