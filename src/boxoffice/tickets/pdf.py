"""Printable tickets: a signed QR code per ticket and a one-page-per-ticket PDF.

The QR carries only a signed reference (site, event, ticket number), never guest
data, so a scanner can reject forged or edited codes offline with the site secret.
"""

from __future__ import annotations

import io
import unicodedata
from dataclasses import dataclass
from typing import TYPE_CHECKING

import segno

from ..links import InvalidTicketCode, sign_ticket_code, verify_ticket_code

if TYPE_CHECKING:  # fpdf2 (and fontTools, numpy under it) is ~0.8 s of import: only a render pays it
    from fpdf import FPDF

# The QR code's signed payload lives with the other signed links (``links.py``), so that
# a ticket's ``qrCode`` can be presented by the orders slice too.
__all__ = ["InvalidTicketCode", "TicketPage", "render_tickets_pdf", "sign_ticket_code", "verify_ticket_code"]


@dataclass(frozen=True)
class TicketPage:
    """Everything printed on one ticket; values arrive already formatted for display."""

    event_title: str
    event_date: str
    event_location: str
    ticket_name: str
    ticket_number: str
    guest_name: str
    price: str
    order_number: str
    qr_payload: str  # empty: no QR code (the ticket is not valid, ``void``)
    void: str = ""  # why the ticket is not valid at the door (an unpaid or canceled order), printed instead of the QR


# PDF core fonts avoid shipping a TTF but only speak cp1252; everything else is folded.
_ENCODING = "cp1252"
_NO_DECOMPOSITION = str.maketrans("ŁłĐđĦħıŦŧ", "LlDdHhiTt")  # NFKD leaves these whole


def _safe(text: str) -> str:
    """Fold text to cp1252 ('Łódź' -> 'Lódz', emoji -> '?') so no input can crash rendering."""
    out = []
    for ch in unicodedata.normalize("NFC", str(text)).translate(_NO_DECOMPOSITION):
        cat = unicodedata.category(ch)
        if cat in ("Cc", "Cf", "Zl", "Zp"):
            out.append(" ")  # newlines, NULs, bidi overrides: the layout is one line per slot
        elif _encodable(ch):
            out.append(ch)
        elif cat != "Mn":  # orphan combining marks are dropped, not shown as '?'
            out.append("".join(c for c in unicodedata.normalize("NFKD", ch) if _encodable(c)) or "?")
    return "".join(out)


def _encodable(ch: str) -> bool:
    if unicodedata.category(ch) == "Mn":
        return False
    try:
        ch.encode(_ENCODING)
    except UnicodeEncodeError:
        return False
    return True


def _qr_png(payload: str, scale: int = 8) -> bytes:
    """QR as PNG in memory; error level M survives some print smudging at modest size."""
    buf = io.BytesIO()
    segno.make(payload, error="m", micro=False).save(buf, kind="png", scale=scale, border=4)
    return buf.getvalue()


_W, _H, _M = 148.0, 210.0, 12.0  # A5 portrait, mm
_QR = 62.0


def _fit(pdf: FPDF, text: str, width: float, cut: bool = False) -> str:
    """One line, shortened with an ellipsis: the layout has fixed slots and must not overflow."""
    text = _safe(text).strip()
    if not cut and pdf.get_string_width(text) <= width:
        return text
    # the longest prefix that fits, by bisection: a width is a sum over the characters,
    # so shortening one character at a time was quadratic (seconds for a 5,000-char name)
    lo, hi = 0, len(text)
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if pdf.get_string_width(text[:mid] + "...") <= width:
            lo = mid
        else:
            hi = mid - 1
    return text[:lo].rstrip() + "..."


def _lines(pdf: FPDF, text: str, max_lines: int, height: float) -> None:
    """Greedy word wrap capped at max_lines, so a long title can't push the QR off the page."""
    width = _W - 2 * _M - 2 * pdf.c_margin
    lines: list[str] = []
    for word in _safe(text).split():
        if lines and pdf.get_string_width(f"{lines[-1]} {word}") <= width:
            lines[-1] += f" {word}"
        else:
            lines.append(word)
    if len(lines) > max_lines:
        lines[max_lines - 1] = _fit(pdf, lines[max_lines - 1], width, cut=True)
    for line in lines[:max_lines] or [""]:
        pdf.cell(_W - 2 * _M, height, _fit(pdf, line, width), new_x="LMARGIN", new_y="NEXT")


def _field(pdf: FPDF, label: str, value: str) -> None:
    pdf.set_font("Helvetica", "", 8)
    pdf.set_text_color(110)
    pdf.cell(32, 7, label.upper())
    pdf.set_font("Helvetica", "B", 11)
    pdf.set_text_color(0)
    pdf.cell(0, 7, _fit(pdf, value, _W - 2 * _M - 32 - 2 * pdf.c_margin), new_x="LMARGIN", new_y="NEXT")


def render_tickets_pdf(tickets: list[TicketPage]) -> bytes:
    """One A5 page per ticket, in order, ready to email or print at the door."""
    if not tickets:
        raise ValueError("no tickets to render")  # a zero-page PDF is rejected by some viewers
    from fpdf import FPDF

    pdf = FPDF(orientation="P", unit="mm", format=(_W, _H))  # tuple: "A5" warns in fpdf2 2.8
    pdf.core_fonts_encoding = _ENCODING
    pdf.set_auto_page_break(False)  # fixed layout: exactly one page per ticket
    pdf.set_margins(_M, _M, _M)
    pdf.set_creator("Boxoffice")
    for t in tickets:
        pdf.add_page()
        pdf.set_font("Helvetica", "B", 18)
        _lines(pdf, t.event_title, 3, 8)
        pdf.set_font("Helvetica", "", 11)
        _lines(pdf, t.event_date, 1, 6)
        _lines(pdf, t.event_location, 2, 6)
        pdf.ln(2)
        pdf.line(_M, pdf.get_y(), _W - _M, pdf.get_y())
        pdf.ln(3)
        _field(pdf, "Ticket", t.ticket_name)
        _field(pdf, "Guest", t.guest_name)
        _field(pdf, "Price", t.price)
        _field(pdf, "Order", t.order_number)
        _field(pdf, "Ticket no.", t.ticket_number)
        qr_y = _H - _M - _QR - 8
        if t.void or not t.qr_payload:  # nothing to scan: said plainly where the QR would be
            pdf.set_draw_color(200, 0, 0)
            pdf.rect((_W - _QR) / 2, qr_y, _QR, _QR)
            pdf.set_xy(_M, qr_y + _QR / 2 - 10)
            pdf.set_font("Helvetica", "B", 16)
            pdf.set_text_color(200, 0, 0)
            pdf.cell(_W - 2 * _M, 8, "NOT A VALID TICKET", align="C", new_x="LMARGIN", new_y="NEXT")
            pdf.set_font("Helvetica", "", 10)
            pdf.cell(_W - 2 * _M, 6, _fit(pdf, t.void, _QR - 4), align="C")
            pdf.set_text_color(0)
            pdf.set_draw_color(0)
        else:
            pdf.image(io.BytesIO(_qr_png(t.qr_payload)), x=(_W - _QR) / 2, y=qr_y, w=_QR, h=_QR)
        pdf.set_xy(_M, qr_y + _QR + 1)
        pdf.set_font("Courier", "", 10)
        pdf.cell(_W - 2 * _M, 5, _fit(pdf, t.ticket_number, _W - 2 * _M - 2 * pdf.c_margin), align="C")
    return bytes(pdf.output())
