"""PDF uploads via pypdf: the outline (bookmarks) gives topics; without one, headings in the text do."""

import io
import logging

from django.conf import settings
from pypdf import PdfReader
from pypdf.errors import LimitReachedError, PdfReadError

from .errors import SyllabusImportError
from .parsed import ParsedSyllabus, ParsedTopic, ParsedUnit
from .text import parse_text

logger = logging.getLogger(__name__)


def parse_pdf_document(*, filename: str, content: bytes) -> ParsedSyllabus:
    if not content:
        raise SyllabusImportError(filename=filename, problem="is empty")
    if not content.lstrip().startswith(b"%PDF"):
        raise SyllabusImportError(filename=filename, problem="is not a PDF (no %PDF header)")
    try:
        reader = PdfReader(io.BytesIO(content))
        if reader.is_encrypted:
            raise SyllabusImportError(filename=filename, problem="is encrypted; upload an unlocked copy")
        pages = _page_texts(reader, filename)
    except SyllabusImportError:
        raise
    except LimitReachedError as exc:
        # pypdf's own bounds on decompression and object sizes: a PDF bomb, or a file far past any syllabus.
        raise SyllabusImportError(
            filename=filename, problem=f"exceeds a safety limit of the PDF reader ({exc})"
        ) from exc
    except (PdfReadError, ValueError, KeyError, TypeError) as exc:
        raise SyllabusImportError(filename=filename, problem=f"is a damaged PDF ({exc})") from exc
    if not any(page.strip() for page in pages):
        raise SyllabusImportError(filename=filename, problem="has no extractable text (a scanned PDF needs OCR first)")
    topics = _topics_from_outline(reader, pages, filename)
    if topics:
        title = (reader.metadata.title if reader.metadata and reader.metadata.title else "") or filename.rsplit(".", 1)[
            0
        ]
        return ParsedSyllabus(title=title, slug="", source_format="pdf", units=[ParsedUnit(title=title, topics=topics)])
    parsed = parse_text(filename=filename, text="\n\n".join(pages), is_markdown=False)
    return ParsedSyllabus(title=parsed.title, slug=parsed.slug, source_format="pdf", units=parsed.units)


def _page_texts(reader: PdfReader, filename: str) -> list[str]:
    """Each page's text, within the limits on pages and on extracted text (settings)."""
    max_pages = settings.MAX_UPLOAD_PDF_PAGES
    if len(reader.pages) > max_pages:
        raise SyllabusImportError(
            filename=filename, problem=f"has {len(reader.pages):,} pages; the limit is {max_pages:,}"
        )
    limit = settings.MAX_UPLOAD_EXTRACTED_BYTES
    pages: list[str] = []
    extracted = 0
    for page in reader.pages:
        text = page.extract_text() or ""
        extracted += len(text)
        if extracted > limit:
            raise SyllabusImportError(filename=filename, problem=f"has more text than the limit ({limit:,} characters)")
        pages.append(text)
    return pages


def _topics_from_outline(reader: PdfReader, pages: list[str], filename: str) -> list[ParsedTopic]:
    try:
        outline = [item for item in reader.outline if not isinstance(item, list)]
        numbered = [(reader.get_destination_page_number(item), str(item.title)) for item in outline]
    except Exception:  # noqa: BLE001 - a broken outline is common; fall back to text headings
        logger.info("%s: unreadable PDF outline, using text headings", filename)
        return []
    starts: list[tuple[int, str]] = sorted((page, title) for page, title in numbered if page is not None)
    topics = []
    for i, (page, title) in enumerate(starts):
        end = starts[i + 1][0] if i + 1 < len(starts) else len(pages)
        text = "\n\n".join(p.strip() for p in pages[page : max(end, page + 1)] if p.strip())
        if text:
            topics.append(ParsedTopic(source_id=f"{filename}#p{page + 1}:{title[:200]}", title=title[:255], text=text))
    return topics
