"""Links a buyer or door staff opens without credentials: signed, unguessable, and
bound to the site (HMAC of site + number with the instance secret)."""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from typing import Protocol

from .errors import NotFound


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

    def sig(self, kind: str, number: str) -> str:
        msg = f"{kind}:{self.site_id}:{number}".encode()
        return hmac.new(self.secret, msg, hashlib.sha256).hexdigest()[:32]

    def order_pdf(self, order: _Numbered) -> str:
        n = order.order_number
        return f"{self.base}/boxoffice/v1/pdf/{self.site_id}/orders/{n}.pdf?sig={self.sig('order', n)}"

    def check_in(self, tk: _Ticket) -> str:
        """Wix's format, ``.../check-in/{ticketNumber},{eventId}`` (staff open it to check in)."""
        return f"{self.base}/boxoffice/v1/check-in/{tk.ticket_number},{tk.event_id}"

    def ticket_pdf(self, tk: _Ticket) -> str:
        n = tk.ticket_number
        return f"{self.base}/boxoffice/v1/pdf/{self.site_id}/tickets/{n}.pdf?sig={self.sig('ticket', n)}"


def check_sig(urls: Urls, kind: str, number: str, sig: str) -> None:
    # bytes: compare_digest refuses a str with non-ASCII characters (a 500 before)
    if not hmac.compare_digest(urls.sig(kind, number).encode(), (sig or "").encode("utf-8", "surrogatepass")):
        raise NotFound("No such document", code="NOT_FOUND")
