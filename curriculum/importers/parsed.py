"""What every importer produces: a format-neutral outline of a syllabus, before it touches the DB."""

from dataclasses import dataclass, field


@dataclass(frozen=True, kw_only=True)
class ParsedQuestion:
    source_id: str
    """Stable id inside the source (the CNXML exercise id), so re-imports update in place."""
    stem: str
    choices: list[str] = field(default_factory=list)
    """Empty for a free-response question."""
    answer_index: int | None = None
    """Index into ``choices`` of the keyed answer; None for free response."""
    explanation: str = ""


@dataclass(frozen=True, kw_only=True)
class ParsedTopic:
    source_id: str
    """The source document id, e.g. the OpenStax module id "m66374"."""
    title: str
    number: str = ""
    """The section number the book prints, e.g. "6.3"; blank for a chapter's introduction and for
    sources that number nothing (uploads)."""
    text: str
    """Indexable text: paragraphs separated by blank lines, exercises removed."""
    objectives: str = ""
    questions: list[ParsedQuestion] = field(default_factory=list)


@dataclass(frozen=True, kw_only=True)
class ParsedUnit:
    title: str
    number: str = ""
    """The chapter number the book prints, e.g. "6"; blank when the source numbers nothing."""
    part: str = ""
    topics: list[ParsedTopic] = field(default_factory=list)


@dataclass(frozen=True, kw_only=True)
class ParsedSyllabus:
    title: str
    slug: str
    source_format: str
    attribution: str = ""
    units: list[ParsedUnit] = field(default_factory=list)

    @property
    def topic_count(self) -> int:
        return sum(len(unit.topics) for unit in self.units)
