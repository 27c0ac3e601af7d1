"""Signed ticket QR codes and the printable ticket PDF (no database needed)."""

from __future__ import annotations

import base64
import io
import re
import zlib

import pytest
import segno
from PIL import Image

from boxoffice.links import _mac
from boxoffice.tickets.pdf import (
    InvalidTicketCode,
    TicketPage,
    _qr_png,
    render_tickets_pdf,
    sign_ticket_code,
    verify_ticket_code,
)

SECRET = b"s3cret-key-for-tests-0123456789ab"
SITE, EVENT = "3f2504e0-4f89-11d3-9a0c-0305e82c3301", "6fa459ea-ee8a-3ca4-894e-db77e160355e"


def code() -> str:
    return sign_ticket_code(SECRET, SITE, EVENT, "TKT-4FQ9-82KD")


# --- signing -----------------------------------------------------------------------------


def test_round_trip_and_compact():
    c = code()
    assert c.startswith("BO1.") and "=" not in c
    assert verify_ticket_code(SECRET, c) == (SITE, EVENT, "TKT-4FQ9-82KD")
    assert len(c) < 200 and segno.make(c, error="m").version <= 10  # scannable from paper


def test_round_trip_unicode_and_dots():
    c = sign_ticket_code(SECRET, "site.1", "Ärger—événement", "T.1")
    assert verify_ticket_code(SECRET, c) == ("site.1", "Ärger—événement", "T.1")


def _flip(s: str, i: int) -> str:
    return s[:i] + ("A" if s[i] != "A" else "B") + s[i + 1 :]


def _forgeries() -> list[object]:
    c = code()
    prefix, payload, sig = c.split(".")
    # Same 16 bytes, different text: the last base64 char has 4 unused bits.
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    noncanonical = sig[:-1] + alphabet[alphabet.index(sig[-1]) ^ 1]
    assert base64.urlsafe_b64decode(noncanonical + "==") == base64.urlsafe_b64decode(sig + "==")
    other_payload = base64.urlsafe_b64encode(b'{"s":"x","e":"y","t":"z"}').rstrip(b"=").decode()
    return [
        f"{prefix}.{_flip(payload, 5)}.{sig}",  # altered payload
        f"{prefix}.{other_payload}.{sig}",  # swapped payload
        f"{prefix}.{payload}.{_flip(sig, 3)}",  # altered signature
        f"{prefix}.{payload}.{noncanonical}",  # non-canonical signature encoding
        sign_ticket_code(b"another-secret", SITE, EVENT, "TKT-4FQ9-82KD"),  # other secret
        c[:-1],
        c[:-10],
        f"{prefix}.{payload}",
        f"{prefix}.{payload}.",
        c[:20],  # truncated
        "",
        "garbage",
        "....",
        "BO1..",
        "BO1.é.é",
        "BO1.\ud800.x",
        c + ".extra",
        c + "\n",
        "BO2." + c[4:],
        "bo1." + c[4:],
        c[4:],  # wrong or missing prefix
        "BO1." + "A" * 5000 + "." + sig,  # oversized
        None,
        12345,
        c.encode(),  # not text
    ]


@pytest.mark.parametrize("bad", range(len(_forgeries())))
def test_forged_or_malformed_codes_rejected(bad):
    with pytest.raises(InvalidTicketCode):
        verify_ticket_code(SECRET, _forgeries()[bad])


@pytest.mark.parametrize(
    "raw", [b"[1,2]", b"not json", b'{"s":"a","e":"b"}', b'{"s":1,"e":"b","t":"c"}', b"\xff\xfe", b"null"]
)
def test_signed_but_malformed_payload_rejected(raw):
    """Even a correctly MACed payload must fail cleanly, never with KeyError/TypeError."""
    signed = "BO1." + base64.urlsafe_b64encode(raw).rstrip(b"=").decode()
    with pytest.raises(InvalidTicketCode):
        verify_ticket_code(SECRET, f"{signed}.{_mac(SECRET, signed)}")


def test_invalid_code_is_value_error_and_empty_secret_refused():
    assert issubclass(InvalidTicketCode, ValueError)
    with pytest.raises(ValueError):
        sign_ticket_code(b"", SITE, EVENT, "T1")


# --- PDF ---------------------------------------------------------------------------------


def ticket(n: int, **over: str) -> TicketPage:
    fields = {
        "event_title": "Spring Gala",
        "event_date": "Sat, 14 Dec 2024, 20:00",
        "event_location": "Main Hall, 1 Park Ave",
        "ticket_name": "VIP",
        "ticket_number": f"TKT-000{n}",
        "guest_name": "Émile José",
        "price": "200.00 USD",
        "order_number": f"ORD-{n}",
        "qr_payload": sign_ticket_code(SECRET, SITE, EVENT, f"TKT-000{n}"),
    }
    return TicketPage(**{**fields, **over})


def page_count(pdf: bytes) -> int:
    try:
        import pypdf
    except ImportError:
        pages = len(re.findall(rb"/Type\s*/Page(?![A-Za-z])", pdf))
        counts = [int(c) for c in re.findall(rb"/Type\s*/Pages\b.*?/Count\s+(\d+)", pdf, re.DOTALL)]
        counts += [int(c) for c in re.findall(rb"/Count\s+(\d+)[^>]*?/Type\s*/Pages\b", pdf, re.DOTALL)]
        assert counts and all(c == pages for c in counts), (pages, counts)
        return pages
    return len(pypdf.PdfReader(io.BytesIO(pdf)).pages)


def content(pdf: bytes) -> bytes:
    """All Flate streams inflated: page text lives there (core fonts: cp1252 bytes)."""
    out = []
    for m in re.finditer(rb"stream\r?\n(.*?)\r?\nendstream", pdf, re.DOTALL):
        try:
            out.append(zlib.decompress(m.group(1)))
        except zlib.error:
            out.append(m.group(1))
    return b"\n".join(out)


def test_one_page_per_ticket_with_fields_and_qr():
    pdf = render_tickets_pdf([ticket(1), ticket(2), ticket(3)])
    assert pdf.startswith(b"%PDF-")
    assert page_count(pdf) == 3
    assert len(re.findall(rb"/Subtype\s*/Image", pdf)) == 3  # one distinct QR per ticket
    text = content(pdf)
    for needle in ["Spring Gala", "Sat, 14 Dec 2024, 20:00", "Main Hall", "VIP", "Émile José", "200.00 USD"]:
        assert needle.encode("cp1252") in text, needle
    for n in (1, 2, 3):
        assert f"TKT-000{n}".encode() in text and f"ORD-{n}".encode() in text


def test_a_void_ticket_prints_why_and_no_qr_code():
    pdf = render_tickets_pdf([ticket(1), ticket(2, qr_payload="", void="Order not paid yet (PENDING)")])
    assert page_count(pdf) == 2
    assert len(re.findall(rb"/Subtype\s*/Image", pdf)) == 1  # the valid ticket's QR only
    text = content(pdf)
    assert b"NOT A VALID TICKET" in text and b"Order not paid yet" in text


def test_unicode_empty_and_huge_fields_never_crash_or_overflow():
    nasty = "Ärger — “Émile” José Łódź 日本語 😀 e\u0301 \x00\n\t\u202e\ud800 \uffff"
    pages = [
        ticket(1, event_title=nasty, guest_name=nasty, event_location=nasty, price="Free", ticket_name=nasty),
        ticket(2, event_title="", event_date="", event_location="", ticket_name="", guest_name="", price=""),
        ticket(3, event_title="Word " * 500, event_location="x" * 3000, guest_name="y" * 3000),
    ]
    pdf = render_tickets_pdf(pages)
    assert pdf.startswith(b"%PDF-") and page_count(pdf) == 3
    text = content(pdf)
    assert "Ärger — “Émile” José Lódz".encode("cp1252") in text  # folded, not dropped


def test_no_tickets_is_an_error():
    with pytest.raises(ValueError):
        render_tickets_pdf([])


def test_ticket_page_is_frozen():
    with pytest.raises(AttributeError):
        ticket(1).guest_name = "x"  # type: ignore[misc]


def test_qr_png_encodes_exactly_segnos_symbol_for_the_payload():
    """No QR decoder is installed, so check the PNG module-by-module against segno's matrix."""
    payload = code()
    scale, border = 8, 4
    img = Image.open(io.BytesIO(_qr_png(payload, scale=scale))).convert("L")
    matrix = segno.make(payload, error="m", micro=False).matrix
    size = len(matrix)
    assert img.size == ((size + 2 * border) * scale,) * 2
    for r, row in enumerate(matrix):
        for c, dark in enumerate(row):
            px = img.getpixel(((c + border) * scale + scale // 2, (r + border) * scale + scale // 2))
            assert (px < 128) == bool(dark), (r, c)
