"""The buyer's e-mails, composed at send time from the stored order. The confirmation:
text and HTML bodies (Jinja2 templates), one PDF per ticket (the same renderer as the
signed PDF links), the event as an ``.ics`` entry (``icalendar``), the order's public
link. The cancellation and late-payment notices: what ended and what is refunded.

Templates: ``<kind>_subject.txt``, ``<kind>.txt``, ``<kind>.html`` for each kind
(``confirmation``, ``cancellation``, ``payment_refunded``: ``models.MailKind``), looked
up first in ``BOXOFFICE_MAIL_TEMPLATES_DIR`` (an operator's or organiser's copies), then in this package's ``templates/``. They run in Jinja2's sandbox, and see
plain values only (see :func:`context`), never database rows.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
import zoneinfo
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import format_datetime, formataddr, parseaddr
from functools import lru_cache
from pathlib import Path
from typing import Any

from jinja2 import ChoiceLoader, FileSystemLoader, StrictUndefined, select_autoescape
from jinja2.sandbox import ImmutableSandboxedEnvironment
from sqlalchemy.orm import Session

from ..db import now
from ..events import wire as events_wire
from ..events.models import Event, EventState
from ..links import Urls
from ..money import legacy_money
from ..orders import service as orders
from ..orders.models import CONFIRMED, Order, OrderStatus
from ..orders.wire import guest_name
from ..payments import refunds
from ..payments.models import AMOUNT_MISMATCH, LATE_PAYMENT, RefundStatus
from ..tickets import service as tickets_service
from ..tickets.models import Ticket
from .models import ATTACHMENTS_MAX_BYTES, BODY_MAX, PDFS_MAX, SUBJECT_MAX, MailKind, MailMessage
from .sender import PermanentFailure

TEMPLATES = Path(__file__).parent / "templates"


class Skip(Exception):
    """This message is not to be sent any more (the order was canceled meanwhile)."""


@dataclass(frozen=True)
class Composer:
    """What composing needs beyond the database: the From address, the public base URL
    of the signed links (the worker has no request to take it from), the template
    override directory, and the instance secret that signs links and QR codes."""

    from_addr: str
    public_url: str
    templates_dir: str
    secret: bytes


@lru_cache(maxsize=8)
def environment(templates_dir: str) -> ImmutableSandboxedEnvironment:
    loaders = [FileSystemLoader(templates_dir)] if templates_dir else []
    loaders.append(FileSystemLoader(TEMPLATES))
    return ImmutableSandboxedEnvironment(
        loader=ChoiceLoader(loaders),
        autoescape=select_autoescape(enabled_extensions=("html",), default_for_string=False, default=False),
        undefined=StrictUndefined,
        keep_trailing_newline=True,
        auto_reload=True,
    )


def domain_of(from_addr: str) -> str:
    """The From address's domain, for Message-IDs and calendar UIDs."""
    addr = parseaddr(from_addr)[1]
    domain = addr.rpartition("@")[2].strip().lower()
    return domain if re.fullmatch(r"[a-z0-9.-]{1,200}", domain or "") else "boxoffice.invalid"


_ADDRESS = re.compile(r"[^\s@<>,;:\"()\[\]\\]{1,64}@[^\s@<>,;:\"()\[\]\\]{1,189}\.[^\s@<>,;:\"()\[\]\\.]{1,63}")


def check_recipient(addr: str) -> str:
    """One plain address (the order's e-mail), or PermanentFailure: never a list, a
    display name or anything a header could be built out of."""
    addr = addr.strip()
    if len(addr) > 254 or not _ADDRESS.fullmatch(addr) or any(unicodedata.category(c).startswith("C") for c in addr):
        raise PermanentFailure("the order's e-mail address cannot be sent to")
    return addr


def _line(text: str, limit: int) -> str:
    """One header-safe line: control characters become spaces, runs of space one."""
    clean = "".join(" " if unicodedata.category(c).startswith("C") else c for c in str(text))
    return " ".join(clean.split())[:limit]


def _money(cents: int, currency: str) -> str:
    return f"{legacy_money(cents, currency)['value']} {currency}"


def _local(t: dt.datetime | None, tz: zoneinfo.ZoneInfo, same_day_as: dt.datetime | None = None) -> str:
    """``Saturday 12 December 2026, 19:00`` in the event's zone; only ``21:30`` for an end
    on the start's day."""
    if t is None:
        return ""
    local = t.astimezone(tz)
    if same_day_as is not None and same_day_as.astimezone(tz).date() == local.date():
        return local.strftime("%H:%M")
    return local.strftime("%A %d %B %Y, %H:%M")


def _zone(event: Event | None) -> zoneinfo.ZoneInfo:
    name = str(((event.date_settings or {}) if event else {}).get("timeZoneId") or "Etc/UTC")
    try:
        return zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return zoneinfo.ZoneInfo("Etc/UTC")


def context(order: Order, event: Event | None, tickets: list[Ticket], order_url: str, attached: bool) -> dict[str, Any]:
    """What the templates see: plain values, formatted for display."""
    tz = _zone(event)
    loc = (event.location or {}) if event else {}
    scheduled = event is not None and event.start_date is not None and not event.date_tbd
    return {
        "order": {
            "number": order.order_number,
            "first_name": order.first_name,
            "last_name": order.last_name,
            "email": order.email,
            "status": order.status,
            "free": order.total_cents == 0,
            "total": _money(order.total_cents, order.currency),
            "tickets_quantity": len(tickets),
        },
        "event": {
            "title": event.title if event else "",
            "scheduled": scheduled,
            "start": _local(event.start_date, tz) if scheduled and event else "",
            "end": _local(event.end_date, tz, event.start_date) if scheduled and event else "",
            "time_zone": tz.key,
            "location": (loc.get("address") or {}).get("formattedAddress") or loc.get("name") or "",
        },
        "tickets": [
            {
                "number": tk.ticket_number,
                "name": tk.name + (f" ({tk.pricing_option_name})" if tk.pricing_option_name else ""),
                "guest": guest_name(tk, order),
                "price": "Free" if tk.price_cents == 0 else _money(tk.price_cents, tk.currency),
            }
            for tk in tickets
        ],
        "order_url": order_url,
        "attached": attached,
    }


def calendar(order: Order, event: Event, order_url: str, domain: str) -> bytes | None:
    """The event as an iCalendar entry (events.wire.ics), one per order: a resend
    updates the buyer's entry rather than adding one. None while its date is unknown."""
    if event.start_date is None or event.date_tbd:
        return None
    return events_wire.ics(
        event, now(), uid=f"order-{order.id}@{domain}",
        description=f"Order {order.order_number}. Your tickets: {order_url}", url=order_url,
    )


def _refund(session: Session, order: Order) -> dict[str, Any] | None:
    r = refunds.of_order(session, order.site_id, order.id)
    if r is None or r.status == RefundStatus.KEPT:  # kept on cancel: nothing is given back
        return None
    return {
        "amount": _money(r.amount_cents, r.currency),
        "by_hand": r.status == RefundStatus.BY_HAND,
        "late": r.reason == LATE_PAYMENT,
        "wrong_amount": r.reason == AMOUNT_MISMATCH,
    }


def compose(session: Session, m: MailMessage, c: Composer) -> EmailMessage:
    """The message for ``m``, or Skip when it no longer applies (a confirmation of an
    order that is no longer confirmed; a cancellation notice of one that is not canceled)."""
    order = session.get(Order, m.order_id)
    if order is None or order.site_id != m.site_id:
        raise Skip("the order no longer exists")
    recipient = check_recipient(m.recipient)
    event = session.get(Event, order.event_id)
    domain = domain_of(c.from_addr)
    if m.kind != MailKind.CONFIRMATION:
        return _notice(session, m, c, order, event, recipient, domain)
    if order.status not in CONFIRMED:
        raise Skip(f"the order is {order.status}")
    tickets = [tk for tk in orders.tickets_of(session, order) if not tk.canceled]
    if not tickets:
        raise Skip("the order has no valid tickets")
    urls = Urls(c.public_url.rstrip("/"), c.secret, order.site_id)
    order_url = urls.order_pdf(order)

    files: list[tuple[bytes, str, str, str]] = []  # (content, maintype, subtype, filename)
    if len(tickets) <= PDFS_MAX:
        for tk in tickets:
            pdf = tickets_service.pdf(session, order.site_id, c.secret, [tk], order)
            files.append((pdf, "application", "pdf", f"ticket-{tk.ticket_number}.pdf"))
    else:  # very many tickets: one PDF with a page each
        pdf = tickets_service.pdf(session, order.site_id, c.secret, tickets, order)
        files.append((pdf, "application", "pdf", f"tickets-{order.order_number}.pdf"))
    attached = sum(len(f[0]) for f in files) <= ATTACHMENTS_MAX_BYTES
    if not attached:  # the link in the body still opens them
        files = []
    ics = calendar(order, event, order_url, domain) if event is not None else None
    if ics is not None:
        files.append((ics, "text", "calendar", "event.ics"))

    ctx = context(order, event, tickets, order_url, attached)
    msg = _message(m, c, order, recipient, domain, ctx, f"Your tickets, order {order.order_number}")
    for content, maintype, subtype, filename in files:
        params = {"method": "PUBLISH"} if subtype == "calendar" else {}
        msg.add_attachment(content, maintype=maintype, subtype=subtype, filename=filename, params=params)
    return msg


def _message(
    m: MailMessage, c: Composer, order: Order, recipient: str, domain: str, ctx: dict[str, Any], fallback_subject: str
) -> EmailMessage:
    """Subject, text and HTML bodies from the kind's three templates, and the headers."""
    env = environment(c.templates_dir)
    subject = _line(env.get_template(f"{m.kind}_subject.txt").render(ctx), SUBJECT_MAX)
    text = env.get_template(f"{m.kind}.txt").render(ctx)
    html = env.get_template(f"{m.kind}.html").render(ctx)
    if len(text) > BODY_MAX or len(html) > BODY_MAX:
        raise ValueError(f"the rendered {m.kind} e-mail is larger than {BODY_MAX} characters (check the templates)")
    msg = EmailMessage()
    msg["Subject"] = subject or fallback_subject
    msg["From"] = c.from_addr
    msg["To"] = formataddr((_line(f"{order.first_name} {order.last_name}", 100), recipient))
    msg["Date"] = format_datetime(now())
    msg["Message-ID"] = f"<{m.message_id}@{domain}>"
    msg["Auto-Submitted"] = "auto-generated"
    msg.set_content(text)
    msg.add_alternative(html, subtype="html")
    return msg


def _notice(
    session: Session, m: MailMessage, c: Composer, order: Order, event: Event | None, recipient: str, domain: str
) -> EmailMessage:
    """The cancellation notice, or the notice that a late payment is refunded: no
    tickets attached (there are none to use), what is given back and how."""
    if order.status not in (OrderStatus.CANCELED, OrderStatus.DECLINED):
        raise Skip(f"the order is {order.status}, not canceled")
    tickets = orders.tickets_of(session, order)
    ctx = context(order, event, tickets, "", False)
    ctx["refund"] = _refund(session, order)
    kept = refunds.of_order(session, order.site_id, order.id)
    ctx["kept"] = kept is not None and kept.status == RefundStatus.KEPT  # paid, and the organiser keeps it
    ctx["event"]["canceled"] = event is not None and event.state == EventState.CANCELED
    return _message(m, c, order, recipient, domain, ctx, f"Order {order.order_number} is canceled")
