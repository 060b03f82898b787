"""verification.training.device: what a GPU machine is sent is what the CPU would train on."""

import numpy as np

from verification.entailment.cross_encoder import MINILM_DIR_ENV, WEIGHTS_DIR, CrossEncoder
from verification.training.data import Example, examples_without_book, read_examples, write_examples
from verification.training.device import pack_base
from verification.training.loop import fitted_total

PAIRS = [
    ("Plant cells and algae contain chloroplasts.", "Chloroplasts are found in plant cells and in algae."),
    ("Osmosis moves salt.", "Osmosis is the diffusion of water across a membrane."),
]


def test_examples_survive_the_trip(tmp_path):
    # given examples with quotes, unicode and both labels
    examples = [
        Example(claim='He said "yes".', window="Évian is a town; it’s in France.", label=1, source="nli:x"),
        Example(claim="A claim.", window="Some window.", label=0, source="book:y"),
    ]
    # when they are written and read back
    write_examples(tmp_path / "e.jsonl.xz", examples)
    # then nothing changed
    assert read_examples(tmp_path / "e.jsonl.xz") == examples


def test_a_packed_base_scores_like_the_installed_one(tmp_path, monkeypatch):
    # given the shipped weights loaded over the installed MiniLM
    installed = CrossEncoder(WEIGHTS_DIR, quantize=False).logits(PAIRS)
    # when the base is packed (config, tokenizer, fp16 word embeddings only) and used instead
    pack_base(tmp_path / "minilm")
    monkeypatch.setenv(MINILM_DIR_ENV, str(tmp_path / "minilm"))
    packed = CrossEncoder(WEIGHTS_DIR, quantize=False).logits(PAIRS)
    # then the scores agree up to the fp16 rounding of the embeddings
    assert np.allclose(packed, installed, atol=0.02)
    assert sorted(p.name for p in (tmp_path / "minilm").iterdir()) == [
        "config.json",
        "special_tokens_map.json",
        "tokenizer.json",
        "tokenizer_config.json",
        "vocab.txt",
        "word_embeddings.safetensors",
    ]


def test_a_packed_base_without_trained_weights_is_not_the_model(tmp_path, monkeypatch):
    # given a packed base: only the word embeddings are real weights
    pack_base(tmp_path / "minilm")
    monkeypatch.setenv(MINILM_DIR_ENV, str(tmp_path / "minilm"))
    from verification.entailment.cross_encoder import load_base

    # when it is loaded alone, the other layers are freshly initialised (random), so a caller must
    # load trained weights over them; the embeddings match the installed package's
    model, _ = load_base(seed=1)
    monkeypatch.delenv(MINILM_DIR_ENV)
    reference, _ = load_base(seed=1)
    key = "bert.embeddings.word_embeddings.weight"
    assert model.state_dict()[key].allclose(reference.state_dict()[key], atol=1e-3)
    assert not model.state_dict()["bert.encoder.layer.0.attention.self.query.weight"].equal(
        reference.state_dict()["bert.encoder.layer.0.attention.self.query.weight"]
    )


def test_a_full_packed_base_is_the_installed_base_but_the_head(tmp_path, monkeypatch):
    # given every base weight packed in fp16 (a run from the base: the shipped weights stay behind)
    pack_base(tmp_path / "minilm", full=True)
    monkeypatch.setenv(MINILM_DIR_ENV, str(tmp_path / "minilm"))
    from verification.entailment.cross_encoder import PACKED_BASE_FILE, load_base

    # when it is loaded beside the installed base
    packed, _ = load_base(seed=1)
    monkeypatch.delenv(MINILM_DIR_ENV)
    installed, _ = load_base(seed=1)
    # then every encoder weight agrees up to fp16 rounding; only the fresh 1-logit head is new
    ours, theirs = packed.state_dict(), installed.state_dict()
    differing = sorted(k for k in theirs if not ours[k].allclose(theirs[k], rtol=2e-3, atol=2e-3))
    assert differing == ["classifier.weight"]
    assert (tmp_path / "minilm" / PACKED_BASE_FILE).exists()


def test_leaving_a_book_out_drops_its_claims_synthetic_and_glossary_pairs():
    # given examples of two books and of NLI
    examples = [
        Example(claim="a", window="w", label=1, source="book:microbiology"),
        Example(claim="b", window="w", label=0, source="synthetic:microbiology"),
        Example(claim="c", window="w", label=1, source="glossary:microbiology"),
        Example(claim="d", window="w", label=1, source="book:sociology-3e"),
        Example(claim="e", window="w", label=0, source="nli:snli"),
    ]
    # when microbiology is left out
    kept = examples_without_book(examples, "microbiology")
    # then only the other book's and NLI's remain
    assert [e.claim for e in kept] == ["d", "e"]


def test_a_fitted_schedule_ends_inside_the_time_left():
    # given 10,000 planned steps, 300 done, 20 steps/s and 100 s left
    # when the schedule is fitted, then it ends after the 2,000 steps that fit
    assert fitted_total(total=10_000, done=300, warmup=600, steps_per_second=20.0, seconds_left=100.0) == 2_300
    # and never grows past the plan, never ends inside the warm-up, never before what is done
    assert fitted_total(total=1_000, done=300, warmup=60, steps_per_second=20.0, seconds_left=1e6) == 1_000
    assert fitted_total(total=10_000, done=300, warmup=600, steps_per_second=20.0, seconds_left=1.0) == 601
    assert fitted_total(total=10_000, done=900, warmup=600, steps_per_second=20.0, seconds_left=-5.0) == 900
