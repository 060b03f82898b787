import random

from verification.training.synthetic import glossary_pairs, parse_module

CNXML = """<document xmlns="http://cnx.rice.edu/cnxml">
<title>Transport</title>
<content>
<para id="p1"><term>Osmosis</term> is the movement of water across a membrane toward the side with more solute.</para>
<para id="p2"><term>Diffusion</term> is the spread of a substance from high to low concentration.</para>
<para id="p3"><term>Active transport</term> moves a substance against its gradient and uses energy from ATP.</para>
</content>
<glossary>
<definition id="d1"><term>osmosis</term><meaning id="m1">movement of water across a membrane toward more solute; also called water diffusion</meaning></definition>
<definition id="d2"><term>diffusion</term><meaning id="m2">spread of a substance from high to low concentration</meaning></definition>
<definition id="d3"><term>endocytosis</term><meaning id="m3">uptake of material by folding in the membrane</meaning></definition>
</glossary>
</document>"""


def test_a_module_keeps_its_glossary_apart_from_its_text(tmp_path):
    # given a CNXML module with prose and a glossary
    path = tmp_path / "m1" / "index.cnxml"
    path.parent.mkdir()
    path.write_text(CNXML)
    # when it is parsed
    module = parse_module(path)
    # then the glossary's definitions are kept, and none of their text is in the module's prose
    assert module.glossary == (
        ("osmosis", "movement of water across a membrane toward more solute; also called water diffusion"),
        ("diffusion", "spread of a substance from high to low concentration"),
        ("endocytosis", "uptake of material by folding in the membrane"),
    )
    assert "also called" not in module.text
    assert "endocytosis" not in module.text


def test_glossary_pairs_bind_a_definition_to_its_own_term_or_to_another_term_of_the_module(tmp_path):
    # given a module whose glossary has two terms defined in its prose and one (endocytosis) not
    path = tmp_path / "m1" / "index.cnxml"
    path.parent.mkdir()
    path.write_text(CNXML)
    module = parse_module(path)
    # when pairs are made with many seeds
    pairs = [p for seed in range(40) for p in glossary_pairs([module], per_module=2, rng=random.Random(seed))]
    # then each supported claim names the term its definition belongs to, each unsupported one the other term
    meanings = {"osmosis": "movement of water across a membrane toward more solute", "diffusion": "spread of a"}
    for pair in pairs:
        assert pair.kind == "glossary"
        assert pair.passage == module.text
        own = next(t for t, m in meanings.items() if m.lower() in pair.claim.lower())
        other = ({"osmosis", "diffusion"} - {own}).pop()
        named = own if pair.claim.lower().rstrip(".").endswith(own) or f"term {own} " in pair.claim.lower() else other
        assert (named == own) == (pair.label == 1), pair.claim
        # and the definition is cut at its semicolon, and a term the prose never uses is left out
        assert "also called" not in pair.claim
        assert "endocytosis" not in pair.claim and "uptake" not in pair.claim
    assert {p.label for p in pairs} == {0, 1}
    assert len({p.claim for p in pairs}) >= 8
