"""Markdown and plain-text uploads: headings become topics.

Markdown: ``#`` headings become units and ``##`` headings topics; a document with one heading level
makes each heading a topic of one unit named after the file. Plain text: numbered headings such as
"2.3 Cell Membranes" and short ALL-CAPS lines mark topics. Text with no headings is one topic.
"""

import re
from dataclasses import dataclass, field
from pathlib import Path

from django.utils.text import slugify

from .errors import SyllabusImportError
from .parsed import ParsedSyllabus, ParsedTopic, ParsedUnit

_ATX_HEADING = re.compile(r"^(#{1,6})\s+(.+?)\s*#*\s*$")
_NUMBERED_HEADING = re.compile(r"^(\d+(\.\d+)*)\.?\s+([A-Z][^.!?]{2,80})$")


@dataclass(kw_only=True)
class _Section:
    level: int
    title: str
    lines: list[str] = field(default_factory=list)


def parse_text_document(*, filename: str, content: bytes, is_markdown: bool) -> ParsedSyllabus:
    text = _decode(filename, content)
    return parse_text(filename=filename, text=text, is_markdown=is_markdown)


def parse_text(*, filename: str, text: str, is_markdown: bool) -> ParsedSyllabus:
    if not text.strip():
        raise SyllabusImportError(filename=filename, problem="is empty")
    stem = Path(filename).stem.replace("_", " ").replace("-", " ").strip() or "Uploaded document"
    sections = _split_sections(text, is_markdown=is_markdown)
    levels = sorted({s.level for s in sections if s.level > 0})
    # With two heading levels the top one makes units; with one level every heading is a topic.
    unit_level = levels[0] if len(levels) >= 2 else None
    units: list[ParsedUnit] = []
    for section in sections:
        if unit_level is not None and section.level == unit_level:
            units.append(ParsedUnit(title=section.title))
        elif not units:
            units.append(ParsedUnit(title=stem))
        if _body(section):
            unit = units[-1]
            unit.topics.append(_topic(filename, section.title or unit.title, section, len(unit.topics)))
    units = [u for u in units if u.topics]
    if not units:
        raise SyllabusImportError(filename=filename, problem="has headings but no text under them")
    return ParsedSyllabus(
        title=stem, slug=slugify(stem), source_format="markdown" if is_markdown else "text", units=units
    )


def _split_sections(text: str, *, is_markdown: bool) -> list[_Section]:
    sections = [_Section(level=0, title="")]
    in_code = False
    for raw in text.splitlines():
        line = raw.rstrip()
        if is_markdown and line.startswith("```"):
            in_code = not in_code
        heading = None if in_code else _heading(line, is_markdown=is_markdown)
        if heading is not None:
            sections.append(_Section(level=heading[0], title=heading[1]))
        else:
            sections[-1].lines.append(line)
    return sections


def _heading(line: str, *, is_markdown: bool) -> tuple[int, str] | None:
    if is_markdown:
        match = _ATX_HEADING.match(line)
        return (len(match.group(1)), match.group(2).strip()) if match else None
    match = _NUMBERED_HEADING.match(line.strip())
    if match:
        return (match.group(1).count(".") + 1, line.strip())
    stripped = line.strip()
    if 3 <= len(stripped) <= 80 and stripped.isupper() and any(c.isalpha() for c in stripped):
        return (1, stripped.title())
    return None


def _body(section: _Section) -> str:
    paragraphs = re.split(r"\n\s*\n", "\n".join(section.lines))
    cleaned = [re.sub(r"\s+", " ", p).strip() for p in paragraphs]
    return "\n\n".join(p for p in cleaned if p)


def _topic(filename: str, title: str, section: _Section, index: int) -> ParsedTopic:
    return ParsedTopic(source_id=f"{filename}#{index + 1}:{title[:200]}", title=title[:255], text=_body(section))


def _decode(filename: str, content: bytes) -> str:
    if b"\x00" in content[:4096]:
        raise SyllabusImportError(filename=filename, problem="looks binary, not text (is it really a .md/.txt file?)")
    for encoding in ("utf-8-sig", "cp1252"):
        try:
            return content.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise SyllabusImportError(filename=filename, problem="is not valid UTF-8 text")
