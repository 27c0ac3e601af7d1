"""Events v3: the rules of Create, Get, Update, Publish Draft, Query and Delete Event."""

from __future__ import annotations

import datetime as dt
import re
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import case, literal, select
from sqlalchemy.orm import Session

from .. import outbox
from .. import query as q
from ..db import UTCDateTime, lock, now
from ..errors import AlreadyExists, FailedPrecondition, InvalidArgument, NotFound
from ..identity import Permission, Principal
from ..money import check_currency
from . import wire
from .models import Event, EventState
from .schemas import CloneEventRequest, CreateEventRequest, EventIn, QueryEventsRequest, UpdateEventRequest

FQDN = "wix.events.v3.event"
SLUG_RE = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")


@dataclass
class Hooks:
    """How the slices built on events react to them: declared here, registered by them.

    ``deleting(session, principal, event)``: the event is being deleted (ticket
    definitions delete themselves, or refuse with an error).
    ``has_guests(session, event)``: whether anyone registered (orders answer).
    ``cloning(session, principal, original, copy)``: copy what hangs on the event (ticket
    definitions answer with the map of their ids, as EventCloned carries it)."""

    deleting: list[Callable[[Session, Principal, Event], None]] = field(default_factory=list)
    has_guests: list[Callable[[Session, Event], bool]] = field(default_factory=list)
    # cloning(session, principal, original, copy) -> {original id: copy id} of what it copied
    cloning: list[Callable[[Session, Principal, Event, Event], dict[str, str]]] = field(default_factory=list)
    # presenting[fieldset](session, principal, events) -> {event id: {wire key: value}}: what a
    # fieldset (FORM, AGENDA, CATEGORIES ...) adds to each event, from the slice that owns it
    presenting: dict[str, list[Callable[[Session, Principal, Sequence[Event]], dict[str, dict[str, Any]]]]] = field(
        default_factory=dict
    )


hooks = Hooks()


# --- reading -------------------------------------------------------------------


def status_expr(ctx: q.Ctx) -> Any:
    t = literal(ctx.now, UTCDateTime())
    return case(
        (Event.state == EventState.DRAFT, EventState.DRAFT.value),
        (Event.state == EventState.CANCELED, EventState.CANCELED.value),
        (Event.end_date.is_not(None) & (Event.end_date <= t), "ENDED"),
        (Event.start_date.is_not(None) & (Event.start_date <= t), "STARTED"),
        else_="UPCOMING",
    )


def _visible(principal: Principal) -> Any:
    cond = Event.site_id == principal.site_id
    if not principal.can(Permission.MANAGE_EVENTS):
        cond = cond & (Event.state != EventState.DRAFT)
    return cond


def get(session: Session, principal: Principal, event_id: str) -> Event:
    e = session.scalars(select(Event).where(Event.id == event_id, _visible(principal))).first()
    if e is None:
        raise NotFound(f"Event {event_id} not found", code="EVENT_NOT_FOUND")
    return e


def lock_for_update(session: Session, site_id: str, event_id: str) -> Event:
    """Lock the event row: the serialisation point for all changes to its definitions."""
    e = lock(session, select(Event).where(Event.id == event_id, Event.site_id == site_id))
    if e is None:
        raise NotFound(f"Event {event_id} not found", code="EVENT_NOT_FOUND")
    return e


QUERY = q.Spec(
    fields=[
        q.field("id", Event.id, "string", nullable=False),
        q.field("title", Event.title, "string", nullable=False),
        q.field("slug", Event.slug, "string", nullable=False),
        q.field(
            "status",
            status_expr,
            "enum",
            enum=("UPCOMING", "STARTED", "ENDED", "CANCELED", "DRAFT"),
            nullable=False,
        ),
        q.field("createdDate", Event.created_date, "datetime", nullable=False),
        q.field("updatedDate", Event.updated_date, "datetime", nullable=False),
        q.field("publishedDate", Event.published_date, "datetime"),
        q.field("dateAndTimeSettings.startDate", Event.start_date, "datetime"),
        q.field("dateAndTimeSettings.endDate", Event.end_date, "datetime"),
        q.field("registration.initialType", Event.initial_type, "enum", ops=q.EQ_OPS, nullable=False),
        q.field("registration.type", Event.registration_type, "enum", ops=q.EQ_OPS, nullable=False),
    ],
    id_expr=Event.id,
    default_sort=[{"fieldName": "createdDate", "order": "ASC"}],
    max_limit=1000,
    default_limit=50,
)


def get_by_slug(session: Session, principal: Principal, slug: str) -> Event:
    e = session.scalars(select(Event).where(Event.slug == slug, _visible(principal))).first()
    if e is None:
        raise NotFound(f"Event with slug {slug!r} not found", code="EVENT_NOT_FOUND")
    return e


def count_by_status(
    session: Session, principal: Principal, flt: Any, facets: list[str] | None, include_drafts: bool
) -> dict[str, Any]:
    """Count Events By Status: ``{facet: {"counts": {value: n}}}`` (``status`` by default)
    over the events the filter selects and the caller may see."""
    cond = _visible(principal)
    if not (include_drafts and principal.can(Permission.MANAGE_EVENTS)):
        cond = cond & (Event.state != EventState.DRAFT)
    return q.facet_counts(session, select(Event).where(cond), QUERY, flt, facets or ["status"], q.Ctx(now=now()))


def query(session: Session, principal: Principal, req: QueryEventsRequest, secret: bytes) -> q.Page:
    cond = _visible(principal)
    if not (req.include_drafts and principal.can(Permission.MANAGE_EVENTS)):
        cond = cond & (Event.state != EventState.DRAFT)
    return q.run_query(
        session,
        QUERY,
        select(Event).where(cond),
        q.raw(req.query),
        q.Ctx(now=now()),
        secret=secret,
        scope=f"events:{principal.site_id}",
        default_mode="offset",
    )


# --- writing -------------------------------------------------------------------


def _emit(session: Session, principal: Principal, e: Event, slug: str, body: dict[str, Any]) -> None:
    e.event_seq += 1
    outbox.record(
        session,
        site_id=e.site_id,
        identity=principal.webhook_identity(),
        entity_fqdn=FQDN,
        slug=slug,
        entity_id=e.id,
        sequence=e.event_seq,
        body=body,
    )


def _slugify(title: str) -> str:
    s = re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-")
    return s[:80] or "event"


def _unique_slug(session: Session, site_id: str, base: str) -> str:
    taken = set(
        session.scalars(select(Event.slug).where(Event.site_id == site_id, Event.slug.like(f"{base}%"))).all()
    )
    if base not in taken:
        return base
    n = 2
    while f"{base}-{n}" in taken:
        n += 1
    return f"{base}-{n}"


def _apply_dates(e: Event, ev: EventIn, creating: bool) -> None:
    ds = ev.date_and_time_settings
    if ds is None:
        if creating:
            raise InvalidArgument("event.dateAndTimeSettings", "is required", "REQUIRED_FIELD")
        return
    given = ds.model_dump(by_alias=True, exclude_unset=True, exclude={"start_date", "end_date"})
    settings = {**(e.date_settings or {}), **{k: v for k, v in given.items()}}
    settings = {k: v for k, v in settings.items() if v is not None}
    start = ds.start_date if "start_date" in ds.model_fields_set else e.start_date
    end = ds.end_date if "end_date" in ds.model_fields_set else e.end_date
    start = start.replace(tzinfo=dt.UTC) if start and start.tzinfo is None else start
    end = end.replace(tzinfo=dt.UTC) if end and end.tzinfo is None else end
    tbd = bool(settings.get("dateAndTimeTbd"))
    if not tbd:
        if start is None:
            raise InvalidArgument("event.dateAndTimeSettings.startDate", "is required", "REQUIRED_FIELD")
        if end is None:
            raise InvalidArgument("event.dateAndTimeSettings.endDate", "is required", "REQUIRED_FIELD")
    if start is not None and end is not None and end <= start:
        raise InvalidArgument("event.dateAndTimeSettings.endDate", "must be after startDate")
    settings.setdefault("timeZoneId", "Etc/UTC")
    e.date_settings = settings
    e.date_tbd = tbd
    e.start_date = start.astimezone(dt.UTC) if start else None
    e.end_date = end.astimezone(dt.UTC) if end else None


def _registration_tickets(ev: EventIn) -> dict[str, Any]:
    reg = ev.registration
    if reg is None or reg.tickets is None:
        return {}
    return reg.tickets.model_dump(by_alias=True, exclude_unset=True, exclude_none=True, exclude={"currency"})


def _currency(ev: EventIn) -> str | None:
    reg = ev.registration
    if reg is None or reg.tickets is None or reg.tickets.currency is None:
        return None
    return check_currency(reg.tickets.currency, "event.registration.tickets.currency")


def create(session: Session, principal: Principal, req: CreateEventRequest) -> Event:
    ev = req.event
    if not ev.title:
        raise InvalidArgument("event.title", "is required", "REQUIRED_FIELD")
    if ev.location is None:
        raise InvalidArgument("event.location", "is required", "REQUIRED_FIELD")
    if ev.registration is None or ev.registration.initial_type is None:
        raise InvalidArgument("event.registration.initialType", "is required", "REQUIRED_FIELD")
    t = now()
    initial = ev.registration.initial_type.value
    e = Event(
        id=str(uuid.uuid4()),
        site_id=principal.site_id,
        title=ev.title,
        short_description=ev.short_description,
        state=EventState.DRAFT if req.draft else EventState.PUBLISHED,
        location=ev.location.model_dump(by_alias=True, exclude_none=True, mode="json"),
        initial_type=initial,
        registration_type=ev.registration.type.value if ev.registration.type else initial,
        registration={"tickets": _registration_tickets(ev)},
        currency=_currency(ev),
        created_date=t,
        updated_date=t,
        published_date=None if req.draft else t,
        revision=1,
        event_seq=0,
    )
    _apply_dates(e, ev, creating=True)
    _set_new_slug(session, principal, e, ev.slug)
    session.add(e)
    session.flush()
    _emit(session, principal, e, "created", {"createdEvent": {"entity": wire.entity(e)}})
    if e.state == EventState.PUBLISHED:
        _emit(session, principal, e, "published", wire.published_body(e))
    return e


def clone(session: Session, principal: Principal, event_id: str, req: CloneEventRequest) -> Event:
    """Clone Event: a new event with its own id and slug (a draft unless ``draft`` is
    false), the original's settings, with ``req.event``'s changes, and a copy of what
    hangs on it (ticket definitions without their sales, through ``hooks.cloning``).
    Emits `created` (and `published` if so) and `cloned`."""
    src = lock_for_update(session, principal.site_id, event_id)
    ev = req.event or EventIn()
    draft = True if req.draft is None else req.draft
    t = now()
    e = Event(
        id=str(uuid.uuid4()),
        site_id=principal.site_id,
        title=ev.title or src.title,
        short_description=ev.short_description if "short_description" in ev.model_fields_set else src.short_description,
        state=EventState.DRAFT if draft else EventState.PUBLISHED,
        location=ev.location.model_dump(by_alias=True, exclude_none=True, mode="json") if ev.location else dict(src.location),
        initial_type=src.initial_type,
        registration_type=src.registration_type,
        registration=dict(src.registration),
        currency=src.currency,
        date_settings=dict(src.date_settings),
        date_tbd=src.date_tbd,
        start_date=src.start_date,
        end_date=src.end_date,
        created_date=t,
        updated_date=t,
        published_date=None if draft else t,
        revision=1,
        event_seq=0,
    )
    _apply_dates(e, ev, creating=False)
    _set_new_slug(session, principal, e, ev.slug)
    session.add(e)
    session.flush()
    copied: dict[str, str] = {}
    for react in hooks.cloning:
        copied.update(react(session, principal, src, e))
    _emit(session, principal, e, "created", {"createdEvent": {"entity": wire.entity(e)}})
    if e.state == EventState.PUBLISHED:
        _emit(session, principal, e, "published", wire.published_body(e))
    _emit(session, principal, e, "cloned", wire.cloned_body(e, src, t, principal.identity_id, copied))
    return e


def _set_new_slug(session: Session, principal: Principal, e: Event, requested: str | None) -> None:
    """A new event's slug: the one asked for (a 409 if taken), else one made unique from its title."""
    if requested is not None:
        if not SLUG_RE.match(requested):
            raise InvalidArgument("event.slug", "must be lowercase letters, digits and single dashes")
        _check_slug_free(session, principal.site_id, requested, None)
        e.slug = requested
    else:
        e.slug = _unique_slug(session, principal.site_id, _slugify(e.title))


def _check_slug_free(session: Session, site_id: str, slug: str, event_id: str | None) -> None:
    other = session.scalars(select(Event.id).where(Event.site_id == site_id, Event.slug == slug)).first()
    if other is not None and other != event_id:
        raise AlreadyExists(f'Slug "{slug}" is already in use', code="SLUG_ALREADY_IN_USE")


def update(session: Session, principal: Principal, event_id: str, req: UpdateEventRequest) -> Event:
    """PATCH semantics: only the fields the request carries change."""
    e = lock_for_update(session, principal.site_id, event_id)
    ev = req.event
    sent = ev.model_fields_set
    if "title" in sent:
        if not ev.title:
            raise InvalidArgument("event.title", "must not be empty", "MIN_LENGTH")
        e.title = ev.title
    if "short_description" in sent:
        e.short_description = ev.short_description
    if "slug" in sent and ev.slug is not None and ev.slug != e.slug:
        if not SLUG_RE.match(ev.slug):
            raise InvalidArgument("event.slug", "must be lowercase letters, digits and single dashes")
        _check_slug_free(session, e.site_id, ev.slug, e.id)
        e.slug = ev.slug
    if "location" in sent and ev.location is not None:
        e.location = {
            **e.location,
            **ev.location.model_dump(by_alias=True, exclude_unset=True, exclude_none=True, mode="json"),
        }
    if "date_and_time_settings" in sent:
        _apply_dates(e, ev, creating=False)
    if "registration" in sent and ev.registration is not None:
        reg = ev.registration
        if reg.initial_type is not None and reg.initial_type.value != e.initial_type:
            raise FailedPrecondition("registration.initialType cannot change", code="INVALID_EVENT_CONFIGURATION")
        if reg.type is not None and reg.type.value != e.registration_type:
            if reg.type.value not in ("EXTERNAL", "NONE"):
                raise FailedPrecondition(
                    f"registration.type can change from {e.registration_type} only to EXTERNAL or NONE",
                    code="INVALID_EVENT_CONFIGURATION",
                )
            e.registration_type = reg.type.value
        if reg.tickets is not None:
            if reg.tickets.currency is not None and reg.tickets.currency != e.currency:
                raise FailedPrecondition(
                    "Use Change Currency to change the currency of an event's tickets", code="CURRENCY_LOCKED"
                )
            e.registration = {"tickets": {**(e.registration.get("tickets") or {}), **_registration_tickets(ev)}}
    e.revision += 1
    e.updated_date = now()
    session.flush()
    emit_updated(session, principal, e)
    return e


def emit_updated(session: Session, principal: Principal, e: Event) -> None:
    _emit(session, principal, e, "updated", {"updatedEvent": {"currentEntity": wire.entity(e)}})


def publish(session: Session, principal: Principal, event_id: str) -> Event:
    e = lock_for_update(session, principal.site_id, event_id)
    if e.state != EventState.DRAFT:
        raise FailedPrecondition("Event is already published", code="EVENT_ALREADY_PUBLISHED")
    t = now()
    e.state, e.published_date, e.updated_date = EventState.PUBLISHED, t, t
    e.revision += 1
    session.flush()
    _emit(session, principal, e, "published", wire.published_body(e))
    return e


def cancel(session: Session, principal: Principal, event_id: str) -> Event:
    """Cancel Event: a published event becomes CANCELED; its tickets stop selling (new
    reservations and checkouts are refused with EVENT_CANCELED) and existing orders stay
    as they are (refunds belong to the payments issue). `event_canceled` is emitted."""
    e = lock_for_update(session, principal.site_id, event_id)
    _cancel(session, principal, e)
    return e


def _cancel(session: Session, principal: Principal, e: Event) -> None:
    if e.state == EventState.CANCELED:
        raise FailedPrecondition(f"Event {e.id} is already canceled", code="EVENT_ALREADY_CANCELED")
    if e.state != EventState.PUBLISHED:
        raise FailedPrecondition(f"Event {e.id} is a draft: delete it instead", code="EVENT_NOT_PUBLISHED")
    t = now()
    e.state, e.updated_date = EventState.CANCELED, t
    e.revision += 1
    session.flush()
    guests = any(ask(session, e) for ask in hooks.has_guests)
    _emit(session, principal, e, "canceled", wire.canceled_body(e, t, principal.identity_id, guests))


def _matching(session: Session, principal: Principal, flt: Any) -> list[Event]:
    cond = q.compile_filter(QUERY, flt, q.Ctx(now=now()), "filter.filter")
    stmt = select(Event).where(Event.site_id == principal.site_id, cond).order_by(Event.created_date, Event.id)
    return list(session.scalars(stmt.with_for_update()))


def bulk_cancel(session: Session, principal: Principal, flt: Any) -> int:
    """Bulk Cancel Events By Filter: every published event the filter selects (drafts and
    events already canceled are passed over), all in one unit."""
    events = [e for e in _matching(session, principal, flt) if e.state == EventState.PUBLISHED]
    for e in events:
        _cancel(session, principal, e)
    return len(events)


def bulk_delete(session: Session, principal: Principal, flt: Any) -> int:
    """Bulk Delete Events By Filter: every event the filter selects, each as Delete Event
    does (with what hangs on it); one refusal (sold tickets) refuses all."""
    events = _matching(session, principal, flt)
    for e in events:
        _delete(session, principal, e)
    session.flush()
    return len(events)


def delete(session: Session, principal: Principal, event_id: str) -> None:
    """Deletes the event and what hangs on it (its ticket definitions, through
    ``hooks.deleting``), each with its own `deleted` webhook."""
    _delete(session, principal, lock_for_update(session, principal.site_id, event_id))
    session.flush()


def _delete(session: Session, principal: Principal, e: Event) -> None:
    for react in hooks.deleting:
        react(session, principal, e)
    snapshot = wire.entity(e)
    _emit(session, principal, e, "deleted", {"deletedEvent": {"deletedEntity": snapshot}})
    session.delete(e)
