"""verification.training.device: what a GPU machine is sent is what the CPU would train on."""

import numpy as np

from verification.entailment.cross_encoder import MINILM_DIR_ENV, WEIGHTS_DIR, CrossEncoder
from verification.training.data import Example, read_examples, write_examples
from verification.training.device import pack_base

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
