from tutor.graph.sentence_stream import SentenceAssembler, split_markers


def _assemble(deltas: list[str]) -> list[str]:
    assembler = SentenceAssembler()
    out: list[str] = []
    for delta in deltas:
        out += assembler.feed(delta)
    return out + assembler.flush()


def test_sentences_are_emitted_as_soon_as_the_next_one_starts():
    assembler = SentenceAssembler()
    assert assembler.feed("Cells are small [1].") == []
    assert assembler.feed(" The") == ["Cells are small [1]."]
    assert assembler.feed(" nucleus holds DNA.") == []
    assert assembler.flush() == ["The nucleus holds DNA."]


def test_decimals_abbreviations_and_trailing_markers_do_not_split():
    sentences = _assemble(["The pH", " is 3.5 here,", " e.g. in", " the gut. [2]", " Mitochondria make ATP", "."])
    assert sentences == ["The pH is 3.5 here, e.g. in the gut. [2]", "Mitochondria make ATP."]


def test_markers_are_split_off_and_deduplicated():
    assert split_markers("Osmosis moves water [1, 2] across membranes [2].") == (
        "Osmosis moves water across membranes.",
        (1, 2),
    )
    assert split_markers("No citation here.") == ("No citation here.", ())


def test_a_sentence_mostly_repeating_an_earlier_one_is_a_repeat():
    from tutor.graph.sentence_stream import repeats_earlier

    earlier = ["Osmosis is essential for the survival of living organisms."]
    assert repeats_earlier("Osmosis is essential for the survival of organisms.", earlier) is True
    assert repeats_earlier("Water moves toward the higher solute concentration.", earlier) is False
