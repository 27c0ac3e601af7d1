"""The outbox's tables: domain events, the subscriptions that want them, and one
delivery per (event, subscription), all written in the changing transaction."""

from __future__ import annotations

from typing import Any

from sqlalchemy import JSON, BigInteger, Boolean, ForeignKey, Index, Integer, String, false
from sqlalchemy.orm import Mapped, mapped_column

from ..db import Base, UTCDateTime


class OutboxEvent(Base):
    """A domain event, written in the same transaction as the change it describes.

    ``position`` orders the whole outbox; ``entity_event_sequence`` orders the events
    of one entity, as Wix's ``entityEventSequence`` does.
    """

    __tablename__ = "outbox_events"
    position: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    )
    event_id: Mapped[str] = mapped_column(String(36), unique=True)
    site_id: Mapped[str] = mapped_column(String(64))
    event_type: Mapped[str] = mapped_column(String(120))
    entity_fqdn: Mapped[str] = mapped_column(String(100))
    slug: Mapped[str] = mapped_column(String(60))
    entity_id: Mapped[str] = mapped_column(String(36))
    entity_event_sequence: Mapped[int] = mapped_column(Integer)
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    identity: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_date: Mapped[Any] = mapped_column(UTCDateTime())

    __table_args__ = (Index("ix_outbox_site_entity", "site_id", "entity_id", "entity_event_sequence"),)


class WebhookSubscription(Base):
    """Where a site's events go: a URL and the event types it wants (``*`` = all).

    ``allow_private``: the operator added it (``boxoffice webhooks add``) knowing that it
    points at a non-public address, so the worker delivers there even when
    BOXOFFICE_WEBHOOK_ALLOW_PRIVATE_URLS is off (urlpolicy.py). Never set by the
    admin API.
    """

    __tablename__ = "webhook_subscriptions"
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    site_id: Mapped[str] = mapped_column(String(64))
    url: Mapped[str] = mapped_column(String(2000))
    event_types: Mapped[list[str]] = mapped_column(JSON)
    allow_private: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    created_date: Mapped[Any] = mapped_column(UTCDateTime())

    __table_args__ = (Index("ix_subscriptions_site", "site_id"),)


class WebhookDelivery(Base):
    """One outbox event for one subscription: the unit the worker delivers and retries.

    Created with the event, in the same transaction, so a committed change always has
    its deliveries. ``lease_until`` lets a crashed worker's in-flight deliveries be
    taken again (at-least-once: a receiver may see an event twice, with one ``id``).
    """

    __tablename__ = "webhook_deliveries"
    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True)
    subscription_id: Mapped[str] = mapped_column(ForeignKey("webhook_subscriptions.id", ondelete="CASCADE"))
    outbox_position: Mapped[int] = mapped_column(ForeignKey("outbox_events.position", ondelete="CASCADE"))
    entity_id: Mapped[str] = mapped_column(String(36))
    status: Mapped[str] = mapped_column(String(12))  # PENDING, DELIVERED, DEAD
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_date: Mapped[Any] = mapped_column(UTCDateTime())
    lease_until: Mapped[Any] = mapped_column(UTCDateTime(), nullable=True)
    last_error: Mapped[str | None] = mapped_column(String(500))
    delivered_date: Mapped[Any] = mapped_column(UTCDateTime(), nullable=True)
    created_date: Mapped[Any] = mapped_column(UTCDateTime())

    __table_args__ = (
        Index("ix_deliveries_due", "status", "next_attempt_date"),
        Index("ix_deliveries_order", "subscription_id", "entity_id", "id"),
    )
