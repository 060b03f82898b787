from verification.entailment.claim_forms import parse_claim, to_statement


def test_plain_claim_passes_through_unchanged():
    # given a declarative claim
    form = parse_claim("Mitochondria make ATP.")
    # then it is its own statement and its own evidence focus
    assert form.statement == "Mitochondria make ATP."
    assert form.focus == "Mitochondria make ATP."
    assert form.answer is None
    assert form.is_question is False


def test_question_claim_is_split_into_stem_and_answer():
    # given a review-question claim
    form = parse_claim("Question: Which of the following is the powerhouse of the cell? Answer: the mitochondrion")
    # then evidence is chosen by the stem and the model reads a statement
    assert form.focus == "Which of the following is the powerhouse of the cell?"
    assert form.answer == "the mitochondrion"
    assert form.statement == "The mitochondrion is the powerhouse of the cell."


def test_which_noun_phrase_keeps_the_category():
    assert (
        to_statement("Which organelle is found only in plant cells?", "chloroplast")
        == "Chloroplast is the organelle found only in plant cells."
    )


def test_fill_in_the_blank_puts_the_answer_in_the_blank():
    assert (
        to_statement("The ____ carries oxygen in the blood.", "hemoglobin")
        == "The hemoglobin carries oxygen in the blood."
    )


def test_unfinished_stem_is_completed_by_the_answer():
    assert to_statement("A mantle and mantle cavity are present in:", "phylum Mollusca") == (
        "A mantle and mantle cavity are present in phylum Mollusca."
    )


def test_what_is_question_becomes_a_copula_statement():
    assert to_statement("What is the function of the ribosome?", "protein synthesis") == (
        "The function of the ribosome is protein synthesis."
    )


def test_inner_which_phrase_is_replaced_by_the_answer():
    assert to_statement("The F plasmid is involved in which of the following processes?", "conjugation") == (
        "The F plasmid is involved in conjugation."
    )


def test_unrephrasable_question_keeps_question_and_answer_side_by_side():
    # given an object question no rule rephrases safely
    # then the fallback is the question followed by the answer, the form the model is trained on
    assert to_statement("Which cranial nerve does not control the tongue?", "vagus") == (
        "Which cranial nerve does not control the tongue? Vagus."
    )


def test_scenario_stem_rephrases_only_its_last_sentence():
    assert to_statement("A cell is placed in salt water. What is the result?", "it shrinks") == (
        "A cell is placed in salt water. The result is it shrinks."
    )
