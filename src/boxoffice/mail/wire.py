"""Presenters: a mail message -> its JSON shape."""

from __future__ import annotations

from typing import Any

from ..timefmt import iso
from .models import MailMessage


def message_wire(m: MailMessage, order_number: str) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": m.id,
        "messageId": m.message_id,
        "kind": m.kind,
        "orderNumber": order_number,
        "to": m.recipient,
        "status": m.status,
        "attempts": m.attempts,
        "createdDate": iso(m.created_date),
    }
    if m.sent_date is not None:
        out["sentDate"] = iso(m.sent_date)
    if m.last_error:
        out["lastError"] = m.last_error
    return out
