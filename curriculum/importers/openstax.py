"""Parse an OpenStax CNXML book: ``collections/*.collection.xml`` plus ``modules/*/index.cnxml``.

The collection gives the tree: the subcollection that directly holds modules is a unit (a chapter),
its parent subcollection the book part, each module a topic. Exercises become practice questions
and are kept out of the indexed text, so a review question can never retrieve its own answer key.

Books come from teachers' uploads as well as from disk, so the XML is parsed with defusedxml: an
entity declaration (the billion-laughs expansion, an external entity reading a local file or a URL)
is refused with a clear error before anything is expanded or fetched. OpenStax's own files declare
no entities.
"""

import re
import xml.etree.ElementTree as ET
from pathlib import Path

from defusedxml import DefusedXmlException
from defusedxml import ElementTree as SafeET
from django.utils.text import slugify

from .errors import SyllabusImportError
from .parsed import ParsedQuestion, ParsedSyllabus, ParsedTopic, ParsedUnit

COL = "{http://cnx.rice.edu/collxml}"
MD = "{http://cnx.rice.edu/mdml}"
CNX = "{http://cnx.rice.edu/cnxml}"

# Elements whose text is layout or media plumbing, not prose a student would read.
_SKIPPED_TAGS = {f"{CNX}exercise", f"{CNX}media", f"{CNX}image", f"{CNX}iframe", f"{CNX}metadata"}
# Block elements: each becomes its own paragraph in the extracted text.
_BLOCK_TAGS = {
    f"{CNX}{name}"
    for name in ("para", "title", "item", "caption", "entry", "definition", "equation", "footnote", "note")
}
_LETTERS = "abcdefghijklmnopqrstuvwxyz"
_SPACES = re.compile(r"[ \t\r\f\v\n]+")
_EMPTY_PARENS = re.compile(r"\(\s*\)")


def parse_openstax_book(path: Path, *, slug: str | None = None) -> ParsedSyllabus:
    """Parse the book folder at ``path``; raise SyllabusImportError naming the offending file."""
    path = Path(path)
    if not path.is_dir():
        raise SyllabusImportError(filename=str(path), problem="is not a folder (expected an OpenStax CNXML book)")
    collections = sorted((path / "collections").glob("*.collection.xml"))
    if not collections:
        raise SyllabusImportError(filename=str(path), problem="has no collections/*.collection.xml")
    collection_file = collections[0]
    root = _parse_xml(collection_file)
    title = _text(root.find(f"{COL}metadata/{MD}title")) or _text(root.find(f".//{MD}title"))
    if not title:
        raise SyllabusImportError(filename=str(collection_file), problem="has no <md:title>")
    book_slug = slug or _text(root.find(f"{COL}metadata/{MD}slug")) or slugify(title)
    licence = root.find(f"{COL}metadata/{MD}license")
    licence_text = _text(licence) or "see the book's LICENSE"
    licence_url = licence.get("url", "") if licence is not None else ""
    attribution = (
        f"{title} by OpenStax (Rice University), licensed under the {licence_text}"
        + (f" ({licence_url})" if licence_url else "")
        + ". Access for free at openstax.org."
    )

    content = root.find(f"{COL}content")
    if content is None:
        raise SyllabusImportError(filename=str(collection_file), problem="has no <col:content>")
    units: list[ParsedUnit] = []
    _collect_units(content, part="", units=units, modules_dir=path / "modules")
    if not units:
        raise SyllabusImportError(filename=str(collection_file), problem="lists no chapters with modules")
    return ParsedSyllabus(
        title=title, slug=book_slug, source_format="openstax-cnxml", attribution=attribution, units=units
    )


def _collect_units(content: ET.Element, *, part: str, units: list[ParsedUnit], modules_dir: Path) -> None:
    # Front and back matter (preface, appendices) sit as bare modules at the top level; they are
    # not examinable topics, so only modules inside a subcollection become topics.
    for sub in content.findall(f"{COL}subcollection"):
        sub_title = _text(sub.find(f"{MD}title"))
        sub_content = sub.find(f"{COL}content")
        if sub_content is None:
            continue
        module_ids = [m.get("document", "") for m in sub_content.findall(f"{COL}module")]
        if module_ids:
            # Chapters are numbered through the whole book, across its parts, as the book prints them.
            chapter = str(len(units) + 1)
            topics: list[ParsedTopic] = []
            for mid in filter(None, module_ids):
                section = f"{chapter}.{sum(1 for t in topics if t.number) + 1}"
                topics.append(_parse_module(modules_dir / mid / "index.cnxml", mid, section=section))
            units.append(ParsedUnit(title=sub_title, number=chapter, part=part, topics=topics))
        _collect_units(sub_content, part=sub_title if not module_ids else part, units=units, modules_dir=modules_dir)


def _parse_module(file: Path, module_id: str, *, section: str) -> ParsedTopic:
    """The module as a topic numbered ``section``, unless it is the chapter's (unnumbered) introduction."""
    if not file.is_file():
        raise SyllabusImportError(filename=str(file), problem="is listed in the collection but missing")
    root = _parse_xml(file)
    title = _text(root.find(f"{CNX}title")) or _text(root.find(f".//{MD}title"))
    abstract = root.find(f".//{MD}abstract")
    objectives = "\n".join(p for p in _blocks(abstract) if p) if abstract is not None else ""
    content = root.find(f"{CNX}content")
    if content is None:
        raise SyllabusImportError(filename=str(file), problem="has no <content> element")
    paragraphs = _blocks(content)
    glossary = root.find(f"{CNX}glossary")
    if glossary is not None:
        for definition in glossary.findall(f"{CNX}definition"):
            term = _inline_text(definition.find(f"{CNX}term"))
            meaning = _inline_text(definition.find(f"{CNX}meaning"))
            if term and meaning:
                paragraphs.append(f"{term}: {meaning}")
    text = "\n\n".join(paragraphs)
    if not text.strip():
        raise SyllabusImportError(filename=str(file), problem="has no text")
    questions = [q for ex in content.iter(f"{CNX}exercise") if (q := _parse_exercise(ex)) is not None]
    # An introduction is marked so (class="introduction") or at least titled so; the book prints no
    # section number for it, and the chapter's first section is still "6.1".
    is_introduction = "introduction" in root.get("class", "").split() or title.lower() == "introduction"
    return ParsedTopic(
        source_id=module_id,
        title=title or module_id,
        number="" if is_introduction else section,
        text=text,
        objectives=objectives,
        questions=questions,
    )


def _parse_exercise(exercise: ET.Element) -> ParsedQuestion | None:
    problem = exercise.find(f"{CNX}problem")
    if problem is None:
        return None
    stem_parts = [_inline_text(p) for p in problem.findall(f"{CNX}para")]
    stem = " ".join(part for part in stem_parts if part)
    if not stem:
        return None
    choice_list = problem.find(f"{CNX}list")
    choices = [_inline_text(item) for item in choice_list.findall(f"{CNX}item")] if choice_list is not None else []
    solution = exercise.find(f"{CNX}solution")
    solution_text = " ".join(_blocks(solution)) if solution is not None else ""
    answer_index = None
    if choices and len(solution_text) == 1 and solution_text.lower() in _LETTERS[: len(choices)]:
        answer_index = _LETTERS.index(solution_text.lower())
        explanation = ""
    else:
        # Not a keyed multiple-choice item: keep it as free response with its model answer.
        if choices:
            stem = stem + " " + " ".join(f"({_LETTERS[i]}) {c}" for i, c in enumerate(choices))
            choices = []
        explanation = solution_text
    return ParsedQuestion(
        source_id=exercise.get("id", ""), stem=stem, choices=choices, answer_index=answer_index, explanation=explanation
    )


def _blocks(element: ET.Element | None) -> list[str]:
    """Paragraph texts under ``element``, in document order, skipping exercises and media."""
    if element is None:
        return []
    out: list[str] = []

    def walk(node: ET.Element) -> None:
        for child in node:
            if child.tag in _SKIPPED_TAGS or _is_exercise_section(child):
                continue
            if child.tag in _BLOCK_TAGS and not any(
                grand.tag in _BLOCK_TAGS for grand in child.iter() if grand is not child
            ):
                text = _inline_text(child)
                if text:
                    out.append(text)
            else:
                walk(child)

    walk(element)
    return out


def _is_exercise_section(element: ET.Element) -> bool:
    """A review or critical-thinking section: its title and exercises, no prose of its own."""
    if element.tag != f"{CNX}section":
        return False
    children = [c for c in element if c.tag not in (f"{CNX}title", f"{CNX}label")]
    return bool(children) and all(c.tag == f"{CNX}exercise" for c in children)


def _inline_text(element: ET.Element | None) -> str:
    if element is None:
        return ""
    parts: list[str] = []

    def walk(node: ET.Element) -> None:
        if node.tag in _SKIPPED_TAGS:
            return
        if node.text:
            parts.append(node.text)
        for child in node:
            walk(child)
            if child.tail:
                parts.append(child.tail)

    walk(element)
    text = _SPACES.sub(" ", "".join(parts)).strip()
    return _SPACES.sub(" ", _EMPTY_PARENS.sub("", text)).replace(" .", ".").replace(" ,", ",").strip()


def _text(element: ET.Element | None) -> str:
    return _inline_text(element) if element is not None else ""


def _parse_xml(file: Path) -> ET.Element:
    try:
        return SafeET.parse(file, forbid_dtd=False, forbid_entities=True, forbid_external=True).getroot()
    except DefusedXmlException as exc:
        raise SyllabusImportError(
            filename=str(file),
            problem=f"declares XML entities or external references, which a book may not ({exc})",
        ) from exc
    except ET.ParseError as exc:
        raise SyllabusImportError(filename=str(file), problem=f"is not well-formed XML ({exc})") from exc
    except OSError as exc:
        raise SyllabusImportError(filename=str(file), problem=f"cannot be read ({exc.strerror})") from exc
