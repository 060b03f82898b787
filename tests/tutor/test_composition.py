"""The composition rules: a supported sentence is released only where it reads as part of the answer."""

from tutor.composition import composition_omission

SHOWN = ["In operant conditioning, organisms learn to associate a behavior and its consequence."]


def test_a_sentence_of_its_own_on_a_new_point_is_released():
    sentence = "In classical conditioning, organisms learn to associate two stimuli."
    assert composition_omission(sentence, shown=SHOWN) is None


def test_a_glossary_line_is_a_fragment():
    sentence = "learning: change in behavior or knowledge that is the result of experience"
    assert composition_omission(sentence, shown=SHOWN) == "fragment"


def test_a_heading_is_a_fragment():
    assert composition_omission("Operant Conditioning", shown=SHOWN) == "fragment"


def test_a_reference_to_the_previous_section_leans_on_lost_context():
    sentence = "The previous section of this chapter focused on the type of associative learning known as classical conditioning."
    assert composition_omission(sentence, shown=SHOWN) == "lost_context"


def test_a_sentence_saying_what_was_shown_again_is_a_repeat():
    sentence = "Organisms learn to associate a behavior and its consequence in operant conditioning."
    assert composition_omission(sentence, shown=SHOWN) == "repeat"


def test_the_first_sentence_repeats_nothing():
    assert composition_omission(SHOWN[0], shown=[]) is None
