"""Links a buyer or door staff opens without credentials: signed, unguessable, and
bound to the site (HMAC of site + number with the instance secret); and a ticket's QR
code, a signed reference (site, event, ticket number) that a scanner can check offline,
never guest data."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
from dataclasses import dataclass
from typing import Protocol

from .errors import NotFound

_VERSION = "BO1"
_MAC_BYTES = 16  # 128-bit tag: unforgeable in practice, and keeps the QR small.
_MAX_CODE_LEN = 2048  # Anything longer is not ours; don't spend work on it.


class InvalidTicketCode(ValueError):
    """The scanned code is malformed, from another version, or not signed by us."""


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _mac(secret: bytes, signed_part: str) -> str:
    # The version prefix is inside the MAC so a code can't be replayed under another format.
    return _b64(hmac.new(secret, signed_part.encode("ascii"), hashlib.sha256).digest()[:_MAC_BYTES])


def sign_ticket_code(secret: bytes, site_id: str, event_id: str, ticket_number: str) -> str:
    """`BO1.<payload>.<tag>`: compact, URL/QR-safe, verifiable without a database hit."""
    if not secret:
        raise ValueError("secret must not be empty")  # an empty key signs nothing
    payload = json.dumps({"s": site_id, "e": event_id, "t": ticket_number}, separators=(",", ":"))
    signed_part = f"{_VERSION}.{_b64(payload.encode('utf-8'))}"
    return f"{signed_part}.{_mac(secret, signed_part)}"


def verify_ticket_code(secret: bytes, code: str) -> tuple[str, str, str]:
    """(site_id, event_id, ticket_number) of a genuine code; InvalidTicketCode otherwise.

    The MAC is checked (constant-time, on the exact text) before the payload is parsed,
    so untrusted input never reaches the JSON decoder and no alternative encoding of
    the same bytes is accepted.
    """
    if not isinstance(code, str) or len(code) > _MAX_CODE_LEN:
        raise InvalidTicketCode("malformed ticket code")
    parts = code.split(".")
    if len(parts) != 3 or parts[0] != _VERSION:
        raise InvalidTicketCode("unknown ticket code format")
    signed_part = f"{parts[0]}.{parts[1]}"
    try:
        expected = _mac(secret, signed_part).encode("ascii")
    except UnicodeEncodeError:
        raise InvalidTicketCode("malformed ticket code") from None
    if not hmac.compare_digest(expected, parts[2].encode("utf-8", "surrogatepass")):
        raise InvalidTicketCode("bad ticket code signature")
    try:
        data = json.loads(_unb64(parts[1]).decode("utf-8"))
        fields = (data["s"], data["e"], data["t"])
    except (binascii.Error, ValueError, TypeError, KeyError) as exc:
        raise InvalidTicketCode("malformed ticket code payload") from exc
    if not all(isinstance(f, str) for f in fields):
        raise InvalidTicketCode("malformed ticket code payload")
    return fields


class _Numbered(Protocol):
    order_number: str


class _Ticket(Protocol):
    ticket_number: str
    event_id: str


@dataclass(frozen=True)
class Urls:
    """Unguessable links a buyer can open without credentials (HMAC of site + number)."""

    base: str
    secret: bytes
    site_id: str
    # whether answers carry a ticket's ``qrCode`` (a bearer credential at the door): only
    # for the site owner's keys, never a visitor, member or staff member
    qr_codes: bool = False

    def sig(self, kind: str, number: str) -> str:
        msg = f"{kind}:{self.site_id}:{number}".encode()
        return hmac.new(self.secret, msg, hashlib.sha256).hexdigest()[:32]

    def order_pdf(self, order: _Numbered) -> str:
        n = order.order_number
        return f"{self.base}/boxoffice/v1/pdf/{self.site_id}/orders/{n}.pdf?sig={self.sig('order', n)}"

    def check_in(self, tk: _Ticket) -> str:
        """Wix's format, ``.../check-in/{ticketNumber},{eventId}`` (staff open it to check in)."""
        return f"{self.base}/boxoffice/v1/check-in/{tk.ticket_number},{tk.event_id}"

    def qr_code(self, tk: _Ticket) -> str:
        """What the ticket's QR code holds (``sign_ticket_code``): a bearer credential at the door."""
        return sign_ticket_code(self.secret, self.site_id, tk.event_id, tk.ticket_number)

    def ticket_pdf(self, tk: _Ticket) -> str:
        n = tk.ticket_number
        return f"{self.base}/boxoffice/v1/pdf/{self.site_id}/tickets/{n}.pdf?sig={self.sig('ticket', n)}"


def check_sig(urls: Urls, kind: str, number: str, sig: str) -> None:
    # bytes: compare_digest refuses a str with non-ASCII characters (a 500 before)
    if not hmac.compare_digest(urls.sig(kind, number).encode(), (sig or "").encode("utf-8", "surrogatepass")):
        raise NotFound("No such document", code="NOT_FOUND")
