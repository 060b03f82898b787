"""Composition: the answer plan fitted to the question, and the rules every released sentence meets."""

import pytest

from tutor.composition import (
    PlannedSentence,
    QuestionShape,
    SourcePassage,
    composition_omission,
    narrates,
    near_duplicate,
    plan_answer,
    question_shape,
    quotable,
)

SHOWN = ["In operant conditioning, organisms learn to associate a behavior and its consequence."]

# Two passages as retrieval returns them for a conditioning question (Psychology 2e, section 6.2
# and 6.3, shortened): a heading, a glossary line, a back-reference, narration, a figure reference.
CONDITIONING = [
    SourcePassage(
        number=1,
        text=(
            "Operant Conditioning\n"
            "The previous section of this chapter focused on the type of associative learning known as "
            "classical conditioning. Now we turn to the second type of associative learning, operant conditioning. "
            "In operant conditioning, organisms learn to associate a behavior and its consequence (Table 6.1). "
            "A pleasant consequence makes that behavior more likely to be repeated in the future. "
            "For example, Spirit, a dolphin at the National Aquarium in Baltimore, does a flip when her trainer "
            "blows a whistle."
        ),
    ),
    SourcePassage(
        number=2,
        text=(
            "learning: change in behavior or knowledge that is the result of experience\n"
            "Classical conditioning is a process by which we learn to associate stimuli and, consequently, to "
            "anticipate events. Pavlov studied these responses in dogs. "
            "Both classical and operant conditioning are forms of associative learning, but classical "
            "conditioning involves involuntary responses whereas operant conditioning involves voluntary behavior."
        ),
    ),
]

# A process told in the book's order, with the sentences of another subject in between.
MITOSIS = [
    SourcePassage(
        number=1,
        text=(
            "Mitosis is the division of the nucleus into two genetically identical nuclei. "
            "During prophase, the chromosomes condense and become visible. "
            "Cells store energy in ATP molecules. "
            "During metaphase, the chromosomes line up at the center of the cell. "
            "During anaphase, the sister chromatids separate and move to opposite poles."
        ),
    )
]


# --- the question ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("question", "shape"),
    [
        (
            "What is the difference between classical and operant conditioning?",
            QuestionShape(kind="comparison", subjects=("classical conditioning", "operant conditioning")),
        ),
        (
            "How does osmosis differ from diffusion?",
            QuestionShape(kind="comparison", subjects=("osmosis", "diffusion")),
        ),
        ("Compare mitosis and meiosis.", QuestionShape(kind="comparison", subjects=("mitosis", "meiosis"))),
        ("What is osmosis?", QuestionShape(kind="definition", subjects=("osmosis",))),
        ("What does the hippocampus do?", QuestionShape(kind="definition", subjects=("hippocampus",))),
        ("What is the function of the ribosome?", QuestionShape(kind="definition", subjects=("ribosome",))),
        ("What are the stages of mitosis?", QuestionShape(kind="process", subjects=("mitosis",))),
        ("How does DNA replicate?", QuestionShape(kind="process", subjects=("dna replicate",))),
        ("Why do cells divide?", QuestionShape(kind="cause", subjects=("cells divide",))),
        ("What causes a fever?", QuestionShape(kind="cause", subjects=("fever",))),
        ("Give an example of a prokaryote.", QuestionShape(kind="example", subjects=("prokaryote",))),
        (
            "Which is a feature of eukaryotic cells?",
            QuestionShape(kind="general", subjects=("feature eukaryotic cells",)),
        ),
    ],
)
def test_the_question_decides_the_kind_of_answer_and_its_subject(question, shape):
    # when / then
    assert question_shape(question) == shape


def test_a_question_giving_a_description_and_asking_its_term_asks_for_a_name():
    # when
    shape = question_shape("On a phylogenetic tree, which term refers to lineages that diverged from the same place?")

    # then
    assert shape == QuestionShape(kind="naming", subjects=("phylogenetic tree lineages diverged place",))


def test_a_follow_up_asks_its_kind_of_answer_about_the_question_it_follows():
    # given a follow-up joined to the question before it (condense_question)
    question = "What is acceleration? Give an example."

    # when / then: an example, of acceleration
    assert question_shape(question) == QuestionShape(kind="example", subjects=("acceleration",))


# --- the filters -----------------------------------------------------------------------------------


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


def test_the_book_narrating_its_own_course_leans_on_lost_context():
    # given
    sentence = "Now we turn to the second type of associative learning, operant conditioning."

    # then
    assert narrates(sentence) is True
    assert composition_omission(sentence, shown=[]) == "lost_context"
    assert narrates("Operant conditioning is a type of associative learning.") is False


@pytest.mark.parametrize(
    "sentence",
    [
        "In the equation below, the reaction includes two hydrogen peroxide molecules and two water molecules.",
        "In some organisms such as the amoeba, shown in, wastes are excreted by exocytosis.",
        "Finally, broad-spectrum antimicrobials may be selected when a narrow-spectrum drug fails.",
    ],
)
def test_a_sentence_pointing_at_what_is_below_or_at_a_lost_figure_or_ending_a_list_is_not_quoted(sentence):
    # then
    assert quotable(sentence) is None
    assert composition_omission(sentence, shown=[]) == "lost_context"


def test_a_sentence_saying_what_was_shown_again_is_a_repeat():
    sentence = "Organisms learn to associate a behavior and its consequence in operant conditioning."
    assert composition_omission(sentence, shown=SHOWN) == "repeat"


def test_a_near_duplicate_in_other_words_is_a_repeat_and_a_sentence_adding_to_one_is_not():
    # given
    earlier = ["Operant conditioning involves voluntary behaviors of an organism."]

    # then: the same content words, reordered and inflected, say nothing new
    assert near_duplicate("In an organism, voluntary behavior is involved in operant conditioning.", earlier) is True
    # a sentence that adds to the earlier one says something new
    sentence = "Operant conditioning involves voluntary behavior, whereas classical conditioning involves reflexes."
    assert near_duplicate(sentence, earlier) is False
    assert near_duplicate("Diffusion moves solutes down their concentration gradient.", earlier) is False


def test_the_first_sentence_repeats_nothing():
    assert composition_omission(SHOWN[0], shown=[]) is None


def test_a_quoted_sentence_loses_its_figure_reference_and_labels_and_questions_are_not_quoted():
    assert (
        quotable("In operant conditioning, organisms learn to associate a behavior and its consequence (Table 6.1).")
        == "In operant conditioning, organisms learn to associate a behavior and its consequence."
    )
    assert (
        quotable("Charles Darwin sketched the first phylogenetic tree in 1837 (a).")
        == "Charles Darwin sketched the first phylogenetic tree in 1837."
    )
    assert (
        quotable("The light-dependent reactions (left) convert light energy into chemical energy.")
        == "The light-dependent reactions convert light energy into chemical energy."
    )
    assert quotable("A car moving east.") is None  # a caption: too short to be a point
    assert quotable("What is operant conditioning?") is None
    assert quotable("Pavlov studied these responses in dogs.") is None  # "these responses": which?


# --- the plan --------------------------------------------------------------------------------------


def test_a_comparison_gets_both_sides_then_what_sets_them_apart():
    # when
    plan = plan_answer(
        question="What is the difference between classical and operant conditioning?",
        passages=CONDITIONING,
        budget=4,
    )

    # then: each side once (the definition of each where there is one), then the contrast; no
    # heading, glossary line, back-reference or narration
    assert plan == [
        PlannedSentence(
            text="Classical conditioning is a process by which we learn to associate stimuli and, consequently, "
            "to anticipate events.",
            passage=2,
            role="side 1",
        ),
        PlannedSentence(
            text="In operant conditioning, organisms learn to associate a behavior and its consequence.",
            passage=1,
            role="side 2",
        ),
        PlannedSentence(
            text="Both classical and operant conditioning are forms of associative learning, but classical "
            "conditioning involves involuntary responses whereas operant conditioning involves voluntary behavior.",
            passage=2,
            role="contrast",
        ),
    ]


def test_a_definition_starts_with_the_sentence_that_says_what_the_subject_is():
    # when
    plan = plan_answer(question="What is classical conditioning?", passages=CONDITIONING, budget=4)

    # then
    assert [(p.role, " ".join(p.text.split()[:5])) for p in plan] == [
        ("definition", "Classical conditioning is a process"),
        ("detail", "Both classical and operant conditioning"),
    ]


def test_a_process_keeps_the_books_order_of_its_steps_and_leaves_out_other_subjects():
    # when
    plan = plan_answer(question="What are the stages of mitosis?", passages=MITOSIS, budget=4)

    # then: what mitosis is, then its phases as the book orders them; the ATP sentence is not one
    assert [p.text for p in plan] == [
        "Mitosis is the division of the nucleus into two genetically identical nuclei.",
        "During prophase, the chromosomes condense and become visible.",
        "During metaphase, the chromosomes line up at the center of the cell.",
        "During anaphase, the sister chromatids separate and move to opposite poles.",
    ]


def test_the_plan_keeps_to_the_learners_sentence_budget():
    # when
    plan = plan_answer(question="What are the stages of mitosis?", passages=MITOSIS, budget=2)

    # then
    assert [p.role for p in plan] == ["definition", "step"]


def test_a_question_the_passages_do_not_touch_gets_no_plan():
    # when / then
    assert plan_answer(question="What is photosynthesis?", passages=MITOSIS, budget=4) == []


def test_the_same_sentence_in_two_overlapping_passages_is_planned_once():
    # given consecutive chunks share a sentence
    shared = "Mitosis is the division of the nucleus into two genetically identical nuclei."
    passages = [
        SourcePassage(number=1, text=f"Cells divide in two ways. {shared}"),
        SourcePassage(number=2, text=f"{shared} It produces two nuclei."),
    ]

    # when
    plan = plan_answer(question="What is mitosis?", passages=passages, budget=4)

    # then
    assert [(p.text, p.passage) for p in plan] == [(shared, 1)]


def test_a_naming_question_is_answered_first_by_the_sentence_that_gives_the_name():
    # given a passage mostly about phylogenetic trees in general
    passages = [
        SourcePassage(
            number=1,
            text=(
                "Many phylogenetic trees have a single lineage at the base representing a common ancestor. "
                "Scientists read a phylogenetic tree like a map of evolutionary history. "
                "Lineages that diverged from the same branch point are called sister taxa."
            ),
        )
    ]

    # when
    plan = plan_answer(
        question="On a phylogenetic tree, which term refers to lineages that diverged from the same place?",
        passages=passages,
        budget=4,
    )

    # then
    assert plan[0] == PlannedSentence(
        text="Lineages that diverged from the same branch point are called sister taxa.", passage=1, role="definition"
    )
