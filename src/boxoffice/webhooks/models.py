from __future__ import annotations

from typing import Any

from sqlalchemy import JSON, BigInteger, Index, Integer, String
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
