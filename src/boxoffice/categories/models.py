"""Event categories: a site's categories and which events each holds, in order."""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from ..db import Base, Text, UTCDateTime


class CategoryState(StrEnum):
    MANUAL = "MANUAL"
    AUTO = "AUTO"
    RECURRING_EVENT = "RECURRING_EVENT"
    HIDDEN = "HIDDEN"


class Category(Base):
    """A category of one site. ``states`` are four flags (the wire lists the set ones
    in the enum's order), so ``states $hasSome`` is a plain column test."""

    __tablename__ = "categories"
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    site_id: Mapped[str] = mapped_column(ForeignKey("sites.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(Text(30))
    created_date: Mapped[Any] = mapped_column(UTCDateTime())
    state_manual: Mapped[bool] = mapped_column(Boolean, default=True)
    state_auto: Mapped[bool] = mapped_column(Boolean, default=False)
    state_recurring_event: Mapped[bool] = mapped_column(Boolean, default=False)
    state_hidden: Mapped[bool] = mapped_column(Boolean, default=False)

    @property
    def states(self) -> list[str]:
        return [s.value for s in CategoryState if getattr(self, STATE_COLUMNS[s])]

    @states.setter
    def states(self, values: list[str]) -> None:
        for s in CategoryState:
            setattr(self, STATE_COLUMNS[s], s.value in values)

    __table_args__ = (
        UniqueConstraint("site_id", "name", name="uq_categories_site_name"),
        Index("ix_categories_site_created", "site_id", "created_date", "id"),
    )


STATE_COLUMNS = {
    CategoryState.MANUAL: "state_manual",
    CategoryState.AUTO: "state_auto",
    CategoryState.RECURRING_EVENT: "state_recurring_event",
    CategoryState.HIDDEN: "state_hidden",
}


class CategoryEvent(Base):
    """One event assigned to one category; ``sort_index`` is its place in the category
    (Reorder Category Events)."""

    __tablename__ = "category_events"
    category_id: Mapped[str] = mapped_column(ForeignKey("categories.id", ondelete="CASCADE"), primary_key=True)
    event_id: Mapped[str] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"), primary_key=True)
    site_id: Mapped[str] = mapped_column(ForeignKey("sites.id", ondelete="CASCADE"))
    sort_index: Mapped[int] = mapped_column(Integer)

    __table_args__ = (
        Index("ix_category_events_event", "event_id"),
        Index("ix_category_events_category_sort", "category_id", "sort_index"),
    )
