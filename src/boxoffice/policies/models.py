from __future__ import annotations

from typing import Any

from sqlalchemy import ForeignKey, Index, Integer, PrimaryKeyConstraint, String
from sqlalchemy.orm import Mapped, mapped_column

from .. import limits
from ..db import Base, Text, UTCDateTime

# The typings' bounds: name 1-40 characters, body 1-50,000 (HTML allowed); "You can
# create up to 3 policies per event" (Create Policy), else POLICIES_LIMIT_REACHED.
NAME_MAX = 40
BODY_MAX = 50_000
MAX_PER_EVENT = limits.POLICIES_PER_EVENT


class Policy(Base):
    """Policies v2: terms an event's guests agree to at checkout, in the organiser's order
    (``sort_index``, set by Reorder Event Policies; new policies go first)."""

    __tablename__ = "policies"
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    site_id: Mapped[str] = mapped_column(ForeignKey("sites.id", ondelete="CASCADE"))
    event_id: Mapped[str] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(Text(NAME_MAX))
    body: Mapped[str] = mapped_column(Text(BODY_MAX))
    revision: Mapped[int] = mapped_column(Integer)
    sort_index: Mapped[int] = mapped_column(Integer)
    created_date: Mapped[Any] = mapped_column(UTCDateTime())
    updated_date: Mapped[Any] = mapped_column(UTCDateTime())
    event_seq: Mapped[int] = mapped_column(Integer, default=0)  # last entityEventSequence used

    __table_args__ = (
        Index("ix_policies_site_created", "site_id", "created_date", "id"),
        Index("ix_policies_event_sort", "event_id", "sort_index"),
    )


class PolicyText(Base):
    """Every revision's text of every policy, kept after the policy changes or goes, so
    an order's policy agreement (the policy ids and revisions its buyer agreed to) can
    always show the words agreed to."""

    __tablename__ = "policy_texts"
    site_id: Mapped[str] = mapped_column(ForeignKey("sites.id", ondelete="CASCADE"))
    policy_id: Mapped[str] = mapped_column(String(36))
    revision: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(Text(NAME_MAX))
    body: Mapped[str] = mapped_column(Text(BODY_MAX))
    created_date: Mapped[Any] = mapped_column(UTCDateTime())

    __table_args__ = (PrimaryKeyConstraint("policy_id", "revision"), Index("ix_policy_texts_site", "site_id"))
