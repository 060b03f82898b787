import json
import shutil

from django.conf import settings
from django.core.management import call_command

BEGIN_LIKE = [
    ("Paris is the capital of France.", "Paris is the capital and largest city of France.", 1),
    ("Berlin is the capital of Spain.", "Madrid is the capital of Spain.", 0),
    ("The Nile flows north.", "The Nile flows north into the Mediterranean Sea.", 1),
    ("I love pizza so much!", "Pizza is an Italian dish of flattened dough.", 0),
] * 4


def _tiny_dataset(directory):
    directory.mkdir()
    with (directory / "passages.jsonl").open("w") as p, (directory / "claims.jsonl").open("w") as c:
        for i, (claim, passage, label) in enumerate(BEGIN_LIKE):
            p.write(json.dumps({"id": f"p{i}", "text": passage}) + "\n")
            source = "begin-cmudog-dev" if i % 4 == 0 else "begin-wow-test"
            c.write(
                json.dumps({"id": f"c{i}", "passage_id": f"p{i}", "claim": claim, "label": label, "source": source})
                + "\n"
            )
    return directory


def _train(tmp_path, name, train_dir):
    out = tmp_path / name
    call_command(
        "train_verifier",
        "--train-dir",
        str(train_dir),
        "--syllabus-dir",
        str(settings.BASE_DIR / "data/syllabi/biology-2e/modules"),
        "--syllabus-modules",
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
        "--out",
        str(out),
    )
    return json.loads((out / "training_report.json").read_text()), out


def test_training_is_deterministic_for_a_seed(tmp_path):
    # given a tiny training set
    train_dir = _tiny_dataset(tmp_path / "train")
    # when the command trains twice with the same seed
    first, out = _train(tmp_path, "a", train_dir)
    second, _ = _train(tmp_path, "b", train_dir)
    # then the weights and the loss curve are identical, and a scorer-ready model is written
    assert first["weights_sha256"] == second["weights_sha256"]
    assert first["losses"] == second["losses"]
    assert first["steps"] == 2
    assert sorted(p.name for p in out.iterdir()) == [
        "combiner.json",
        "cross_encoder.json",
        "cross_encoder.safetensors",
        "training_report.json",
    ]
    shutil.rmtree(tmp_path / "a")
