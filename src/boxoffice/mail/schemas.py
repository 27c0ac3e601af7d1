"""Wire shapes of Boxoffice's own mail routes (not a Wix API)."""

from __future__ import annotations

from ..schemas import WixModel


class MailMessageOut(WixModel):
    id: str
    message_id: str
    kind: str
    order_number: str
    to: str
    status: str
    attempts: int
    created_date: str
    sent_date: str | None = None
    last_error: str | None = None


class ResendConfirmationResponse(WixModel):
    message: MailMessageOut
