import gzip
import json
import shutil

import torch
from django.conf import settings
from django.core.management import call_command

from verification.training.loop import CHECKPOINT_FILE

BEGIN_LIKE = [
    ("Paris is the capital of France.", "Paris is the capital and largest city of France.", 1),
    ("Berlin is the capital of Spain.", "Madrid is the capital of Spain.", 0),
    ("The Nile flows north.", "The Nile flows north into the Mediterranean Sea.", 1),
    ("I love pizza so much!", "Pizza is an Italian dish of flattened dough.", 0),
] * 4
NLI = [
    {"premise": "A man plays a guitar.", "hypothesis": "A man plays an instrument.", "label": 1},
    {"premise": "A man plays a guitar.", "hypothesis": "A woman sleeps.", "label": 0},
]
BOOK_MODULE = (
    "Osmosis is the diffusion of water across a semipermeable membrane. "
    "Water moves from low solute concentration to high solute concentration."
)


def _write_pairs(directory, rows):
    """rows: (claim, passage, label, source) -> passages.jsonl + claims.jsonl."""
    directory.mkdir()
    with (directory / "passages.jsonl").open("w") as p, (directory / "claims.jsonl").open("w") as c:
        for i, (claim, passage, label, source) in enumerate(rows):
            p.write(json.dumps({"id": f"p{i}", "text": passage}) + "\n")
            c.write(
                json.dumps({"id": f"c{i}", "passage_id": f"p{i}", "claim": claim, "label": label, "source": source})
                + "\n"
            )
    return directory


def _fixtures(tmp_path):
    train = _write_pairs(
        tmp_path / "train",
        [(c, p, y, "begin-cmudog-dev" if i % 4 == 0 else "begin-wow-test") for i, (c, p, y) in enumerate(BEGIN_LIKE)],
    )
    nli = tmp_path / "nli"
    nli.mkdir()
    with gzip.open(nli / "tiny_nli.jsonl.gz", "wt") as handle:
        for row in NLI * 3:
            handle.write(json.dumps(row) + "\n")
    question = "Question: What is osmosis? Answer: "
    books = _write_pairs(
        tmp_path / "books",
        [
            (question + "the diffusion of water across a membrane", BOOK_MODULE, 1, "tinybook"),
            (question + "the active transport of sugar", BOOK_MODULE, 0, "tinybook"),
            (question + "the diffusion of water across a membrane", BOOK_MODULE, 1, "heldbook"),
            (question + "the active transport of sugar", BOOK_MODULE, 0, "heldbook"),
        ],
    )
    return train, nli, books


def _train(tmp_path, name, fixtures, *extra):
    train, nli, books = fixtures
    out = tmp_path / name
    call_command(
        "train_verifier",
        "--train-dir",
        str(train),
        "--nli-dir",
        str(nli),
        "--books-dir",
        str(books),
        "--holdout-book",
        "heldbook",
        "--syllabus-dir",
        str(settings.BASE_DIR / "data/syllabi/biology-2e/modules"),
        "--max-modules-per-book",
        "2",
        "--syllabus-per-module",
        "2",
        "--max-steps",
        "2",
        "--batch-size",
        "4",
        "--max-length",
        "64",
        "--no-dev",
        "--checkpoint-dir",
        str(tmp_path / f"{name}-checkpoint"),
        "--out",
        str(out),
        *extra,
    )
    return json.loads((out / "training_report.json").read_text()), out


def test_training_is_deterministic_for_a_seed(tmp_path):
    # given tiny NLI, book, BEGIN and syllabus data
    fixtures = _fixtures(tmp_path)
    # when the command trains twice with the same seed
    first, out = _train(tmp_path, "a", fixtures)
    second, _ = _train(tmp_path, "b", fixtures)
    # then the weights and the loss curve are identical, and a scorer-ready model is written
    assert first["weights_sha256"] == second["weights_sha256"]
    assert first["losses"] == second["losses"]
    assert first["steps"] == 2
    assert first["pairs_seen"] == 8
    assert first["finished"] is True
    assert first["device"] == "cpu"
    # and every kind of data went in, the held-out book's claims never
    kinds = {key.split(":")[0] for key in first["data"]}
    assert kinds == {"begin", "nli", "book", "synthetic"}
    assert not [key for key in first["data"] if "heldbook" in key]
    assert sorted(p.name for p in out.iterdir()) == [
        "combiner.json",
        "cross_encoder.json",
        "cross_encoder.safetensors",
        "training_report.json",
    ]
    shutil.rmtree(tmp_path / "a")


def test_an_interrupted_run_resumes_to_the_same_weights(tmp_path):
    # given a run of the 2-step schedule stopped after its first step (checkpointed)
    fixtures = _fixtures(tmp_path)
    stopped, _ = _train(tmp_path, "split", fixtures, "--stop-after-steps", "1", "--no-combiner")
    assert stopped["steps"] == 1
    assert stopped["finished"] is False
    checkpoint = torch.load(tmp_path / "split-checkpoint" / CHECKPOINT_FILE, weights_only=False)
    assert checkpoint["step"] == 1
    # when it is resumed, and compared with an uninterrupted run
    resumed, _ = _train(tmp_path, "split", fixtures, "--resume", "--no-combiner")
    whole, _ = _train(tmp_path, "whole", fixtures, "--no-combiner")
    # then the resumed run finishes the schedule with the same weights and losses
    assert resumed["steps"] == 2
    assert resumed["pairs_seen"] == 8
    assert resumed["finished"] is True
    assert resumed["weights_sha256"] == whole["weights_sha256"]
    assert resumed["losses"] == whole["losses"]


def test_a_new_schedule_can_start_from_trained_weights(tmp_path):
    # given a trained model and the same tiny data
    fixtures = _fixtures(tmp_path)
    _, trained = _train(tmp_path, "first", fixtures, "--no-combiner")
    # when one run starts from those weights and another from the base model, with the same seed
    continued, _ = _train(tmp_path, "continued", fixtures, "--no-combiner", "--init-weights", str(trained))
    fresh, _ = _train(tmp_path, "fresh", fixtures, "--no-combiner")
    # then the continued run started elsewhere (other weights, other losses) and records where from
    assert continued["config"]["init_weights"] == str(trained)
    assert fresh["config"]["init_weights"] is None
    assert continued["weights_sha256"] != fresh["weights_sha256"]
    assert continued["losses"] != fresh["losses"]
    # and its first model saw the trained head: a lower loss on the data the first run was fitted to
    assert continued["losses"][0] < fresh["losses"][0]
