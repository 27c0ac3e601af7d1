"""The mail outbox: one row per message, written in the unit that makes it necessary
(an order confirmed, a resend asked for) and sent by the mail worker."""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from sqlalchemy import ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from ..db import Base, Text, UTCDateTime

# What a message may grow to: the subject (one line), each body (text, HTML) after
# rendering, the attachments together, and how many messages one order may ever have
# (the confirmation and its resends). A resend is refused while one is still waiting.
SUBJECT_MAX = 200
BODY_MAX = 200_000
ATTACHMENTS_MAX_BYTES = 15_000_000
# Tickets attached as one PDF each up to this many; beyond, one PDF with every page.
PDFS_MAX = 50
MESSAGES_PER_ORDER_MAX = 20


class MailKind(StrEnum):
    CONFIRMATION = "confirmation"  # the order is paid or free: tickets attached
    CANCELLATION = "cancellation"  # the organiser canceled the order (or its event): what is refunded
    PAYMENT_REFUNDED = "payment_refunded"  # a payment came too late (or for another amount) and is refunded


class MailStatus(StrEnum):
    PENDING = "PENDING"  # to send (now, or at next_attempt_date after a failure)
    SENT = "SENT"  # the SMTP server accepted it (or it was written to BOXOFFICE_MAIL_DIR)
    DEAD = "DEAD"  # refused for good, or failed max_attempts times (resend to try again)
    SKIPPED = "SKIPPED"  # not sent: the order was no longer confirmed when its turn came


class MailMessage(Base):
    """One e-mail to an order's buyer. ``message_id`` (the ``Message-ID`` header's left
    part; its domain is the From address's) is unique: an order's first confirmation
    has a fixed one, so confirming twice queues it once; each resend gets a new one."""

    __tablename__ = "mail_messages"
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    site_id: Mapped[str] = mapped_column(ForeignKey("sites.id", ondelete="CASCADE"))
    order_id: Mapped[str] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(20))
    message_id: Mapped[str] = mapped_column(String(255))
    recipient: Mapped[str] = mapped_column(Text(255))  # the order's e-mail, never another
    status: Mapped[str] = mapped_column(String(12))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_date: Mapped[Any] = mapped_column(UTCDateTime())
    lease_until: Mapped[Any] = mapped_column(UTCDateTime(), nullable=True)
    last_error: Mapped[str | None] = mapped_column(String(500))
    sent_date: Mapped[Any] = mapped_column(UTCDateTime(), nullable=True)
    created_date: Mapped[Any] = mapped_column(UTCDateTime())

    __table_args__ = (
        UniqueConstraint("site_id", "message_id", name="uq_mail_messages_site_message"),
        Index("ix_mail_messages_due", "status", "next_attempt_date"),
        Index("ix_mail_messages_site_order", "site_id", "order_id"),
    )
