"""Practice's text helpers on the one text module (curriculum.text): sentences, practice terms, blanks."""

from curriculum.text import practice_terms, strip_credits
from learning.text import blank_words, key_coverage, passage_sentences


def test_a_passage_is_split_by_the_one_sentence_rule_without_its_figure_credits():
    # given a caption with its credit line (brackets inside it too), and an abbreviation
    text = (
        "Foods such as bread are rich in macromolecules. (credit: modification of work by Bengt Nyman (2010))\n"
        "Cells divide, e.g. by mitosis. Osmosis moves water."
    )
    # when
    found = passage_sentences(text)
    # then
    assert found == [
        "Foods such as bread are rich in macromolecules.",
        "Cells divide, e.g. by mitosis.",
        "Osmosis moves water.",
    ]


def test_credit_lines_of_several_panels_go_and_other_brackets_stay():
    # when / then
    assert strip_credits("A sea star (Novodinia antillensis) (credit a: NOAA; credit b: USGS).") == (
        "A sea star (Novodinia antillensis)."
    )


def test_practice_terms_meet_across_word_forms_and_skip_fillers():
    # when / then: "diffuses" meets "diffusion" (the stems are crude: "osmosi"), a definition's fillers
    # ("called", "because") carry nothing
    assert practice_terms("Water diffuses; this is called osmosis because of membranes.") == {
        "water",
        "diffus",
        "osmosi",
        "membran",
    }
    assert practice_terms("diffusion") == practice_terms("diffuses")


def test_blanks_and_coverage_use_practice_terms():
    # given
    key = "Because the displacement over a closed lap is zero."
    stem = "Why can average velocity be zero when average speed is not?"
    # when / then
    assert key_coverage(answer="The displacement is zero. The lap is closed.", key=key, stem_text=stem) == 1.0
    assert blank_words("Osmosis is the diffusion of water.", {"diffus", "water"}) == "Osmosis is the _____ of _____."
