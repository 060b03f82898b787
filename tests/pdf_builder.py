"""Builds small real PDFs with text and an optional outline, for importer tests (no PDF library writes text)."""


def build_pdf(pages: list[str], outline: list[tuple[str, int]] | None = None) -> bytes:
    """One page per string (lines split on "\\n"); ``outline`` is [(title, page_index)]."""
    objects: list[bytes] = []

    def add(body: bytes) -> int:
        objects.append(body)
        return len(objects)

    font = add(b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>")
    pages_id = len(objects) + 2 * len(pages) + (1 + len(outline) if outline else 0) + 1
    page_ids = []
    for text in pages:
        lines = [line.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)") for line in text.split("\n")]
        ops = (
            b"BT /F1 11 Tf 14 TL 50 750 Td " + b" ".join(f"({line}) Tj T*".encode("latin-1") for line in lines) + b" ET"
        )
        content = add(b"<< /Length %d >>\nstream\n" % len(ops) + ops + b"\nendstream")
        page_ids.append(
            add(
                b"<< /Type /Page /Parent %d 0 R /MediaBox [0 0 612 792] /Contents %d 0 R "
                b"/Resources << /Font << /F1 %d 0 R >> >> >>" % (pages_id, content, font)
            )
        )
    outline_id = None
    if outline:
        outline_id = len(objects) + 1
        first = outline_id + 1
        last = outline_id + len(outline)
        add(b"<< /Type /Outlines /First %d 0 R /Last %d 0 R /Count %d >>" % (first, last, len(outline)))
        for i, (title, page_index) in enumerate(outline):
            me = first + i
            links = b""
            if i > 0:
                links += b" /Prev %d 0 R" % (me - 1)
            if i < len(outline) - 1:
                links += b" /Next %d 0 R" % (me + 1)
            add(
                b"<< /Title (%s) /Parent %d 0 R /Dest [%d 0 R /Fit]%s >>"
                % (title.encode("latin-1"), outline_id, page_ids[page_index], links)
            )
    kids = b" ".join(b"%d 0 R" % p for p in page_ids)
    assert add(b"<< /Type /Pages /Kids [%s] /Count %d >>" % (kids, len(page_ids))) == pages_id
    catalog_extra = b" /Outlines %d 0 R" % outline_id if outline_id else b""
    catalog = add(b"<< /Type /Catalog /Pages %d 0 R%s >>" % (pages_id, catalog_extra))

    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % off for off in offsets)
    out += b"trailer\n<< /Size %d /Root %d 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, catalog, xref)
    return bytes(out)
