"""Training pairs for the cross-encoder: NLI, textbook exam claims, BEGIN and synthetic book pairs.

Every pair ends as an `Example` (statement, evidence window, label) built with the scorer's own
claim rephrasing (`claim_forms`) and window selection (`evidence.select_windows`), so the model
sees at training time exactly the inputs it is scored on. A supported claim is paired with the
best window (the one the scorer trusts most); an unsupported one with any of its windows, since
at scoring time the maximum over windows must stay low for it (multiple-instance learning).
"""

from __future__ import annotations

import gzip
import hashlib
import json
import lzma
import random
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from verification.entailment.claim_forms import parse_claim
from verification.entailment.datasets import load_dir
from verification.entailment.evidence import budget_words, index_passage, select_windows
from verification.training.synthetic import glossary_pairs, load_modules, synthetic_pairs

# Windows per claim; the scorer uses the same number (scorer.WINDOWS).
WINDOWS = 3


@dataclass(frozen=True, kw_only=True)
class Pair:
    """A labelled (claim, passage) before window selection."""

    claim: str
    passage: str
    label: int
    source: str


@dataclass(frozen=True, kw_only=True)
class Example:
    claim: str
    """The statement the model reads (a QA claim rephrased by `claim_forms`)."""
    window: str
    label: int
    source: str


@dataclass(frozen=True, kw_only=True)
class MixConfig:
    """How many pairs of each kind go into one epoch (None = all of them)."""

    nli_per_file: int | None = 5000
    breaking_nli: int = 1500
    """Breaking NLI is 87 % contradictions of one pattern (a swapped word); a little goes far."""
    begin: int | None = None
    book_claims: int | None = None
    synthetic_per_module: int = 6
    glossary_per_module: int = 0
    """Definition pairs per module of the training books (never the dev syllabus: its glossary is
    too close to the review questions the verifier is measured on)."""
    holdout_books: tuple[str, ...] = ("us-history",)
    """Books whose claims and text are never trained on: the leave-a-book-out check."""


def claim_windows(claim: str, passage: str, *, max_length: int, windows: int = WINDOWS) -> tuple[str, list[str]]:
    """(statement, evidence windows best first), selected lexically (no embeddings: seconds for 50k)."""
    form = parse_claim(claim)
    index = index_passage(passage)
    chosen = select_windows(
        form.focus, index, budget_words=budget_words(form.statement, max_length), embedder=None, windows=windows
    )
    return form.statement, [" ".join(index.sentences[i] for i in window) for window in chosen]


def make_examples(pairs: Sequence[Pair], *, max_length: int, seed: int) -> list[Example]:
    rng = random.Random(seed)
    examples = []
    for pair in pairs:
        statement, windows = claim_windows(pair.claim, pair.passage, max_length=max_length)
        window = windows[0] if pair.label == 1 else rng.choice(windows)
        examples.append(Example(claim=statement, window=window, label=pair.label, source=pair.source))
    return examples


def examples_without_book(examples: Iterable[Example], book: str) -> list[Example]:
    """Every example but the book's own: its exam claims and its synthetic and glossary pairs
    (sources `book:<name>`, `synthetic:<name>`, `glossary:<name>`), for leave-one-book-out."""
    return [e for e in examples if e.source.split(":", 1)[-1] != book]


def examples_sha(examples: Iterable[Example]) -> str:
    """Identifies a training set: a checkpoint is only resumed on the data it was trained on."""
    digest = hashlib.sha256()
    for e in examples:
        digest.update(json.dumps([e.claim, e.window, e.label, e.source]).encode())
    return digest.hexdigest()


_FEVER_TOKENS = {"-LRB-": "(", "-RRB-": ")", "-LSB-": "[", "-RSB-": "]", "-COLON-": ":"}


def _untokenise(text: str) -> str:
    """FEVER/SNLI are stored tokenised ("Paris , France -LRB- ..."); the scorer sees normal prose."""
    for token, char in _FEVER_TOKENS.items():
        text = text.replace(token, char)
    text = re.sub(r"\s+([,.;:!?)\]'])", r"\1", text)
    text = re.sub(r"([(\[])\s+", r"\1", text)
    return " ".join(text.split())


def nli_pairs(nli_dir: Path, mix: MixConfig, rng: random.Random) -> list[Pair]:
    pairs: list[Pair] = []
    for path in sorted(nli_dir.glob("*.jsonl.gz")):
        with gzip.open(path, "rt", encoding="utf-8") as handle:
            rows = [json.loads(line) for line in handle if line.strip()]
        limit = mix.breaking_nli if path.name.startswith("breaking") else mix.nli_per_file
        if limit is not None and limit < len(rows):
            rows = rng.sample(rows, limit)
        name = path.name.removesuffix(".jsonl.gz")
        pairs.extend(
            Pair(
                claim=_untokenise(r["hypothesis"]),
                passage=_untokenise(r["premise"]),
                label=int(r["label"]),
                source=f"nli:{name}",
            )
            for r in rows
            if r["premise"].strip() and r["hypothesis"].strip()
        )
    return pairs


def book_claim_pairs(books_dir: Path, mix: MixConfig, rng: random.Random) -> tuple[list[Pair], list[Pair]]:
    """(training pairs, held-out-book pairs) from the books' exam claims."""
    claims = load_dir(books_dir)
    train = [
        Pair(claim=c.claim, passage=c.passage, label=int(c.label or 0), source=f"book:{c.source}")
        for c in claims
        if c.source not in mix.holdout_books
    ]
    held = [
        Pair(claim=c.claim, passage=c.passage, label=int(c.label or 0), source=f"heldout-book:{c.source}")
        for c in claims
        if c.source in mix.holdout_books
    ]
    if mix.book_claims is not None and mix.book_claims < len(train):
        train = rng.sample(train, mix.book_claims)
    return train, held


def begin_pairs(train_dir: Path, mix: MixConfig, rng: random.Random) -> list[Pair]:
    claims = load_dir(train_dir)
    pairs = [
        Pair(claim=c.claim, passage=c.passage, label=int(c.label or 0), source=f"begin:{c.source}") for c in claims
    ]
    if mix.begin is not None and mix.begin < len(pairs):
        pairs = rng.sample(pairs, mix.begin)
    return pairs


def book_module_dirs(books_dir: Path, syllabus_dir: Path | None, mix: MixConfig) -> list[tuple[str, Path]]:
    """(book, modules folder) of every book whose text may be trained on."""
    found = [
        (book.name, book / "modules")
        for book in sorted(books_dir.iterdir())
        if (book / "modules").is_dir() and book.name not in mix.holdout_books
    ]
    if syllabus_dir is not None and syllabus_dir.is_dir():
        # The dev syllabus's *text* is trained on (never its review questions, which are removed
        # from the modules): the live tutor checks claims against exactly this text.
        found.append((syllabus_dir.parent.name, syllabus_dir))
    return found


def synthetic_book_pairs(
    module_dirs: Sequence[tuple[str, Path]],
    mix: MixConfig,
    rng: random.Random,
    *,
    max_modules: int | None = None,
    no_glossary: Sequence[Path] = (),
) -> list[Pair]:
    """Synthetic pairs of every book, and glossary pairs of those whose folder is not in `no_glossary`."""
    pairs: list[Pair] = []
    for book, directory in module_dirs:
        modules = load_modules(directory)
        if max_modules is not None:
            modules = modules[:max_modules]
        pairs.extend(
            Pair(claim=p.claim, passage=p.passage, label=p.label, source=f"synthetic:{book}")
            for p in synthetic_pairs(modules, per_module=mix.synthetic_per_module, rng=rng)
        )
        if mix.glossary_per_module and directory not in no_glossary:
            pairs.extend(
                Pair(claim=p.claim, passage=p.passage, label=p.label, source=f"glossary:{book}")
                for p in glossary_pairs(modules, per_module=mix.glossary_per_module, rng=rng)
            )
    return pairs


def counts(pairs: Iterable[Pair | Example]) -> dict[str, int]:
    """Pairs per source and label, for the training report."""
    tally = Counter(f"{p.source}:{p.label}" for p in pairs)
    return dict(sorted(tally.items()))


# One BEGIN corpus is held out of fine-tuning to watch generalisation beside the held-out book.
VALIDATION_SOURCES = frozenset({"begin-cmudog-dev"})


@dataclass(frozen=True, kw_only=True)
class DataDirs:
    begin: Path
    """BEGIN pairs (claims.jsonl + passages.jsonl)."""
    nli: Path
    """The NLI files (*.jsonl.gz)."""
    books: Path
    """The books: exam claims (claims.jsonl + passages.jsonl) and each book's modules."""
    syllabus: Path | None
    """The dev syllabus's modules (its text is trained on, never its review questions)."""


def training_pairs(
    dirs: DataDirs, mix: MixConfig, *, seed: int, book_claim_copies: int = 1, max_modules_per_book: int | None = None
) -> tuple[list[Pair], list[Pair]]:
    """(training pairs, validation pairs): a fixed function of the data, the mix and the seed."""
    rng = random.Random(seed)
    train: list[Pair] = []
    val: list[Pair] = []
    if not (dirs.begin / "claims.jsonl").exists():
        raise ValueError(f"no BEGIN training data at {dirs.begin} (claims.jsonl + passages.jsonl)")
    for pair in begin_pairs(dirs.begin, mix, rng):
        (val if pair.source.removeprefix("begin:") in VALIDATION_SOURCES else train).append(pair)
    if not dirs.nli.is_dir():
        raise ValueError(f"no NLI data at {dirs.nli}")
    train.extend(nli_pairs(dirs.nli, mix, rng))
    if not (dirs.books / "claims.jsonl").exists():
        raise ValueError(f"no book claims at {dirs.books} (claims.jsonl + passages.jsonl)")
    book_train, book_held = book_claim_pairs(dirs.books, mix, rng)
    train.extend(book_train * book_claim_copies)
    val.extend(book_held)
    module_dirs = book_module_dirs(dirs.books, dirs.syllabus, mix)
    no_glossary = [dirs.syllabus] if dirs.syllabus is not None else []
    train.extend(synthetic_book_pairs(module_dirs, mix, rng, max_modules=max_modules_per_book, no_glossary=no_glossary))
    return train, val


def write_examples(path: Path, examples: Sequence[Example]) -> None:
    """Examples as xz-compressed JSON lines: the compact form a GPU machine is sent."""
    with lzma.open(path, "wt", encoding="utf-8", preset=9) as handle:
        for e in examples:
            handle.write(json.dumps([e.claim, e.window, e.label, e.source]) + "\n")


def read_examples(path: Path) -> list[Example]:
    with lzma.open(path, "rt", encoding="utf-8") as handle:
        return [
            Example(claim=claim, window=window, label=int(label), source=source)
            for claim, window, label, source in (json.loads(line) for line in handle if line.strip())
        ]
