"""Registration forms (`@wix/auto_sdk_events_forms`): one form per event, an ordered list
of controls and the messages shown around registration.

An event without a row has the default form (first name, last name, e-mail and the
default messages): rows are made lazily, by the first change to an event's form, so
events made before this table existed need no backfill. Every change is live at once
(the typings: Publish Draft and Discard Draft are deprecated no-ops)."""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, Integer
from sqlalchemy.orm import Mapped, mapped_column

from ..db import Base, UTCDateTime


class ControlKind(StrEnum):
    """What a control was made as: the request's one-of field (Add/Update Control).
    ``name`` and ``email`` are the two system controls every form has."""

    NAME = "name"
    EMAIL = "email"
    PHONE = "phone"
    ADDRESS = "address"
    DATE = "date"
    ADDITIONAL_GUESTS = "additionalGuests"
    DROPDOWN = "dropdown"
    CHECKBOX = "checkbox"
    TEXT = "text"
    RADIO_BUTTON = "radioButton"


SYSTEM_KINDS = (ControlKind.NAME, ControlKind.EMAIL)
# The system controls' ids (Wix's own: `name` holds firstName and lastName, `email` email).
NAME_ID = "name"
EMAIL_ID = "email"


class EventForm(Base):
    """An event's form. ``controls``: ``[{"id", "kind", "orderIndex", "spec"}]`` where
    ``spec`` is the control as the request gave it (``{"label", "mandatory", ...}``);
    wire.py renders each as the SDK's ``InputControl``. ``messages``: the whole
    ``FormMessages`` object."""

    __tablename__ = "event_forms"
    event_id: Mapped[str] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"), primary_key=True)
    site_id: Mapped[str] = mapped_column(ForeignKey("sites.id", ondelete="CASCADE"))
    controls: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    messages: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_date: Mapped[Any] = mapped_column(UTCDateTime())
    updated_date: Mapped[Any] = mapped_column(UTCDateTime())
    event_seq: Mapped[int] = mapped_column(Integer, default=0)  # last sequence of its EventUpdated webhooks

    __table_args__ = (Index("ix_event_forms_site", "site_id", "event_id"),)
