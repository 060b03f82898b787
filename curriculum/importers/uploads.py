"""Hostile uploads: what a file really is (by its bytes, not its name), and a book archive unpacked safely.

An upload's name only proposes a type; its first bytes decide. A ``.txt`` that is really a PDF, a
``.pdf`` that is an executable, a ``.zip`` that is not an archive: each is refused with a sentence
that says so. An OpenStax book comes as a ``.zip`` of its CNXML (``collections/`` + ``modules/``, as
the book's repository downloads); only those XML files are unpacked, within limits on the number of
entries, each entry's compression ratio and the total unpacked size, so a zip bomb is refused from its
directory before anything is decompressed, and an archive whose sizes lie stops at the limit. The
XML itself is parsed with defusedxml (importers/openstax.py): no entity expansion, no external entity.
"""

from __future__ import annotations

import re
import stat
import zipfile
from dataclasses import dataclass
from io import BytesIO
from pathlib import Path, PurePosixPath

from django.conf import settings

from .errors import SyllabusImportError

# Suffix -> kind. Documents are single files; a book archive is an OpenStax CNXML book zipped.
DOCUMENT_SUFFIXES = {".md": "markdown", ".markdown": "markdown", ".txt": "text", ".pdf": "pdf"}
ARCHIVE_SUFFIXES = {".zip": "openstax-zip"}
UPLOAD_SUFFIXES = {**DOCUMENT_SUFFIXES, **ARCHIVE_SUFFIXES}

# Leading bytes of the binary formats a mislabelled upload usually is, with a name a teacher knows.
_SIGNATURES: tuple[tuple[bytes, str], ...] = (
    (b"%PDF", "a PDF"),
    (b"PK\x03\x04", "a ZIP archive (or a Word/OpenDocument file)"),
    (b"PK\x05\x06", "a ZIP archive"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "an old Microsoft Office file"),
    (b"\x1f\x8b", "a gzip archive"),
    (b"7z\xbc\xaf\x27\x1c", "a 7-Zip archive"),
    (b"Rar!\x1a\x07", "a RAR archive"),
    (b"\x89PNG", "a PNG image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"GIF8", "a GIF image"),
    (b"\x7fELF", "a Linux program"),
)
# The header may follow a little junk (PDF readers look in the first 1 KiB).
_PDF_HEADER_WINDOW = 1024
_ZIP_MAGIC = (b"PK\x03\x04", b"PK\x05\x06")
_COLLECTION = re.compile(r"^(?P<root>(?:[^/]+/)?)collections/[^/]+\.collection\.xml$")
_MODULE = re.compile(r"^modules/[^/]+/index\.cnxml$")
_READ_BLOCK = 64 * 1024


def upload_kind(filename: str) -> str:
    """The kind a name asks for, or a clear refusal naming what is allowed."""
    kind = UPLOAD_SUFFIXES.get(Path(filename).suffix.lower())
    if kind is None:
        allowed = ", ".join(sorted(DOCUMENT_SUFFIXES))
        raise SyllabusImportError(
            filename=filename,
            problem=f"has an unsupported type (allowed: {allowed}); an OpenStax CNXML book is uploaded as a .zip",
        )
    return kind


def check_upload_size(*, filename: str, size: int) -> None:
    """Refuse a file over the upload limit from its size, before it is read into memory (every view
    that receives a file calls this first; Django has spooled a large one to disk)."""
    if size > settings.MAX_UPLOAD_BYTES:
        raise SyllabusImportError(
            filename=filename,
            problem=f"is {size / 1e6:.1f} MB; the limit is {settings.MAX_UPLOAD_BYTES / 1e6:.1f} MB",
        )


def check_upload(*, filename: str, content: bytes, limit_size: bool = True) -> str:
    """Refuse an upload whose size or content does not match its name; returns its kind.

    Cheap enough for the request that receives the file: a book archive is judged from its
    directory only (entries, declared sizes and ratios), nothing is decompressed. ``limit_size``
    off: a file an administrator imports from disk (``import_document``) may exceed the upload limit.
    """
    kind = upload_kind(filename)
    if not content:
        raise SyllabusImportError(filename=filename, problem="is empty")
    if limit_size:
        check_upload_size(filename=filename, size=len(content))
    found = _binary_format(content)
    if kind == "pdf":
        if b"%PDF" not in content[:_PDF_HEADER_WINDOW]:
            raise SyllabusImportError(filename=filename, problem=f"is not a PDF (its content is {found or 'text'})")
    elif kind == "openstax-zip":
        if not content.startswith(_ZIP_MAGIC):
            raise SyllabusImportError(
                filename=filename, problem=f"is not a ZIP archive (its content is {found or 'text'})"
            )
        book_members(filename=filename, content=content)
    elif found is not None:
        raise SyllabusImportError(filename=filename, problem=f"is {found}, not a {kind} file")
    return kind


def _binary_format(content: bytes) -> str | None:
    head = content.lstrip(b"\t\n\r ")[:16]
    for signature, name in _SIGNATURES:
        if head.startswith(signature):
            return name
    return None


@dataclass(frozen=True)
class _Member:
    info: zipfile.ZipInfo
    target: PurePosixPath  # relative to the book folder


def book_members(*, filename: str, content: bytes) -> list[_Member]:
    """The archive's collection and module files, after checking its directory against the limits."""
    try:
        archive = zipfile.ZipFile(BytesIO(content))
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, EOFError) as exc:
        raise SyllabusImportError(filename=filename, problem=f"is not a readable ZIP archive ({exc})") from exc
    with archive:
        infos = archive.infolist()
    max_entries = settings.MAX_UPLOAD_ARCHIVE_ENTRIES
    if len(infos) > max_entries:
        raise SyllabusImportError(
            filename=filename, problem=f"holds {len(infos):,} entries; the limit is {max_entries:,}"
        )
    roots = sorted({m.group("root") for info in infos if (m := _COLLECTION.match(info.filename))})
    if not roots:
        raise SyllabusImportError(
            filename=filename, problem="is not an OpenStax book (no collections/*.collection.xml inside)"
        )
    root = roots[0]
    members: list[_Member] = []
    declared = 0
    for info in infos:
        if not info.filename.startswith(root) or info.is_dir():
            continue
        relative = info.filename[len(root) :]
        if not (_COLLECTION.match(relative) or _MODULE.match(relative)):
            continue  # media, scripts, nested archives: never unpacked
        _check_member(filename, info)
        declared += info.file_size
        members.append(_Member(info=info, target=PurePosixPath(relative)))
    limit = settings.MAX_UPLOAD_EXTRACTED_BYTES
    if declared > limit:
        raise SyllabusImportError(
            filename=filename,
            problem=f"would unpack to {declared / 1e6:.0f} MB of XML; the limit is {limit / 1e6:.0f} MB",
        )
    return members


def _check_member(filename: str, info: zipfile.ZipInfo) -> None:
    name = info.filename
    path = PurePosixPath(name)
    if path.is_absolute() or ".." in path.parts or "\\" in name or "\x00" in name:
        raise SyllabusImportError(filename=filename, problem=f"has an entry with an unsafe path ({name!r})")
    if stat.S_ISLNK(info.external_attr >> 16):
        raise SyllabusImportError(filename=filename, problem=f"has a symbolic link ({name!r})")
    if info.flag_bits & 0x1:
        raise SyllabusImportError(filename=filename, problem=f"is encrypted ({name!r}); upload an unlocked archive")
    max_ratio = settings.MAX_UPLOAD_COMPRESSION_RATIO
    # Text compresses 5-20x; a bomb's entries compress ~1000x.
    if info.file_size > 1_000_000 and info.file_size > max_ratio * max(info.compress_size, 1):
        raise SyllabusImportError(
            filename=filename,
            problem=(
                f"looks like a zip bomb: {name!r} would unpack {info.compress_size:,} bytes into "
                f"{info.file_size:,} (over {max_ratio}x)"
            ),
        )


def unpack_book(*, filename: str, content: bytes, into: Path) -> Path:
    """Unpack the book's XML under ``into`` (within the limits, whatever the headers claim); returns its folder."""
    members = book_members(filename=filename, content=content)
    limit = settings.MAX_UPLOAD_EXTRACTED_BYTES
    written = 0
    try:
        with zipfile.ZipFile(BytesIO(content)) as archive:
            for member in members:
                target = into.joinpath(*member.target.parts)
                target.parent.mkdir(parents=True, exist_ok=True)
                with archive.open(member.info) as source, target.open("wb") as sink:
                    while block := source.read(_READ_BLOCK):
                        written += len(block)
                        if written > limit:
                            raise SyllabusImportError(
                                filename=filename,
                                problem=f"unpacks to more than {limit / 1e6:.0f} MB of XML (its sizes lie); refused",
                            )
                        sink.write(block)
    except (zipfile.BadZipFile, EOFError, OSError, ValueError, RuntimeError, NotImplementedError) as exc:
        # A CRC mismatch (data longer than declared is cut there by zipfile) lands here too.
        raise SyllabusImportError(filename=filename, problem=f"is a damaged ZIP archive ({exc})") from exc
    return into
