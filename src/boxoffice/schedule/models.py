"""Schedule items (`@wix/auto_sdk_events_schedule`): every item of an event's schedule
has up to two versions, the draft (what organisers edit) and the published one (what
guests see). Publish Draft copies the draft over the published version; Discard Draft
copies the published version back over the draft."""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    String,
)
from sqlalchemy.orm import Mapped, mapped_column

from .. import limits
from ..db import Base, Text, UTCDateTime

# The typings' bounds (ScheduleItemData): name 120, description 10,000 (rich text),
# stageName 30, tags at most 5 of 1-30 characters, timeZoneId 1-100.
NAME_MAX = 120
DESCRIPTION_MAX = 10_000
STAGE_NAME_MAX = 30
TAG_MAX = 30
TAGS_MAX = 5
TIME_ZONE_MAX = 100
# Boxoffice's own bound (the typings give none): draft items per event.
MAX_ITEMS_PER_EVENT = limits.SCHEDULE_ITEMS_PER_EVENT
DEFAULT_TIME_ZONE = "Etc/UTC"


class ScheduleStatus(StrEnum):
    SCHEDULED = "SCHEDULED"
    CANCELED = "CANCELED"


class ScheduleItem(Base):
    """One version of one schedule item: ``draft`` True is the draft, False the published one."""

    __tablename__ = "schedule_items"
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    draft: Mapped[bool] = mapped_column(Boolean, primary_key=True)
    site_id: Mapped[str] = mapped_column(ForeignKey("sites.id", ondelete="CASCADE"))
    event_id: Mapped[str] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(Text(NAME_MAX))
    description: Mapped[str] = mapped_column(Text(DESCRIPTION_MAX))
    stage_name: Mapped[str] = mapped_column(Text(STAGE_NAME_MAX))
    tags: Mapped[list[str]] = mapped_column(JSON)  # as sent; schedule_item_tags indexes them
    status: Mapped[str] = mapped_column(String(16))
    hidden: Mapped[bool] = mapped_column(Boolean)
    start: Mapped[Any] = mapped_column(UTCDateTime())
    end: Mapped[Any] = mapped_column(UTCDateTime())
    time_zone_id: Mapped[str] = mapped_column(String(TIME_ZONE_MAX))
    created_date: Mapped[Any] = mapped_column(UTCDateTime())
    updated_date: Mapped[Any] = mapped_column(UTCDateTime())

    def content(self) -> tuple[Any, ...]:
        """What Publish Draft copies: equal content means no unpublished change."""
        return (
            self.name, self.description, self.stage_name, tuple(self.tags), self.status, self.hidden,
            self.start, self.end, self.time_zone_id, self.updated_date,
        )

    __table_args__ = (
        Index("ix_schedule_items_site_event", "site_id", "event_id", "draft", "start"),
        Index("ix_schedule_items_site_created", "site_id", "created_date", "id"),
    )


class ScheduleItemTag(Base):
    """One tag of one version of an item (List Schedule Items filters and counts by tag)."""

    __tablename__ = "schedule_item_tags"
    item_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    draft: Mapped[bool] = mapped_column(Boolean, primary_key=True)
    tag: Mapped[str] = mapped_column(Text(TAG_MAX), primary_key=True)
    site_id: Mapped[str] = mapped_column(ForeignKey("sites.id", ondelete="CASCADE"))

    __table_args__ = (
        ForeignKeyConstraint(
            ["item_id", "draft"], ["schedule_items.id", "schedule_items.draft"], ondelete="CASCADE"
        ),
        Index("ix_schedule_item_tags_site_tag", "site_id", "tag"),
    )


class ScheduleDraft(Base):
    """Per event: whether its draft schedule differs from the published one
    (List Schedule Items' ``draftNotPublished``), kept exact by every write."""

    __tablename__ = "schedule_drafts"
    event_id: Mapped[str] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"), primary_key=True)
    site_id: Mapped[str] = mapped_column(ForeignKey("sites.id", ondelete="CASCADE"))
    changed: Mapped[bool] = mapped_column(Boolean)

    __table_args__ = (Index("ix_schedule_drafts_site_changed", "site_id", "changed"),)
