"""Labelled claim sets in the project's JSON-lines format (passages.jsonl + claims.jsonl)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True, kw_only=True)
class LabelledClaim:
    id: str
    claim: str
    passage: str
    label: int | None
    source: str


class DatasetError(ValueError):
    """A claims/passages file is malformed; the message names the file and line."""


def _read_jsonl(path: Path) -> list[dict]:
    records = []
    with path.open(encoding="utf-8") as handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except json.JSONDecodeError as exc:
                raise DatasetError(f"{path}:{number}: not JSON ({exc.msg})") from exc
            if not isinstance(record, dict):
                raise DatasetError(f"{path}:{number}: expected a JSON object")
            records.append(record)
    return records


def load_claims(passages_path: Path, claims_path: Path) -> list[LabelledClaim]:
    """Join claims to their passages; labels may be absent (then None)."""
    passages: dict[str, str] = {}
    for number, record in enumerate(_read_jsonl(passages_path), start=1):
        if not isinstance(record.get("id"), str) or not isinstance(record.get("text"), str):
            raise DatasetError(f"{passages_path}: record {number} needs string 'id' and 'text'")
        passages[record["id"]] = record["text"]
    claims = []
    for number, record in enumerate(_read_jsonl(claims_path), start=1):
        for field in ("id", "passage_id", "claim"):
            if not isinstance(record.get(field), str):
                raise DatasetError(f"{claims_path}: record {number} needs a string {field!r}")
        if record["passage_id"] not in passages:
            raise DatasetError(f"{claims_path}: record {number} cites unknown passage {record['passage_id']!r}")
        label = record.get("label")
        if label not in (0, 1, None):
            raise DatasetError(f"{claims_path}: record {number} has label {label!r}; expected 0, 1 or absent")
        claims.append(
            LabelledClaim(
                id=record["id"],
                claim=record["claim"],
                passage=passages[record["passage_id"]],
                label=label,
                source=str(record.get("source", "unknown")),
            )
        )
    return claims


def load_dir(directory: Path) -> list[LabelledClaim]:
    return load_claims(directory / "passages.jsonl", directory / "claims.jsonl")
