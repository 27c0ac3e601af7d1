"""Events v3: the rules of Create, Get, Update, Publish Draft, Query, Clone, Cancel and
Delete Event, how an event is presented with what other slices add to it (``present``),
and its lifecycle webhooks (event_started / event_ended / event_reminder), which the
scheduler writes once each (``emit_lifecycle``)."""

from __future__ import annotations

import copy
import datetime as dt
import re
import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any
from urllib.parse import urlsplit

import pycountry
from sqlalchemy import Select, case, literal, select
from sqlalchemy.orm import Session

from .. import outbox
from .. import query as q
from ..db import UTCDateTime, lock, now
from ..errors import AlreadyExists, FailedPrecondition, InvalidArgument, NotFound
from ..identity import SYSTEM_IDENTITY, IdentityType, Permission, Principal
from ..links import Urls, check_sig
from ..money import check_currency
from ..timefmt import iso
from . import wire
from .models import REMINDERS, Event, EventState
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
    # canceled(session, principal, event): the event has just been canceled (state CANCELED, flushed)
    canceled: list[Callable[[Session, Principal, Event], None]] = field(default_factory=list)
    # lifecycle(session, event, slug, startsIn): the scheduler has just written the event's
    # "reminder" (with its startsIn), "started" or "ended" webhook (startsIn None)
    lifecycle: list[Callable[[Session, Event, str, dict[str, int] | None], None]] = field(default_factory=list)


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
    max_limit=100,  # the typings: CursorPaging.limit @max 100
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


# --- presenting ------------------------------------------------------------------


def _merge_into(out: dict[str, Any], extra: dict[str, Any]) -> None:
    """What a slice adds, merged key by key (registration.tickets.lowestPrice joins the
    registration the event already has)."""
    for k, v in extra.items():
        if isinstance(v, dict) and isinstance(out.get(k), dict):
            _merge_into(out[k], v)
        else:
            out[k] = v


def present(
    session: Session,
    principal: Principal,
    events: Sequence[Event],
    fields: Iterable[str] | None,
    links: wire.Links | None = None,
) -> list[dict[str, Any]]:
    """Events as the wire has them for ``fields``: each event's own fields (wire.to_wire)
    plus, for each fieldset asked for, what the slices registered in
    ``hooks.presenting[fieldset]`` add, each asked once for all the events (a Query page
    costs one call per fieldset, not one per event)."""
    wanted = list(dict.fromkeys(fields or ()))
    t = now()
    out = [wire.to_wire(e, wanted, t, links) for e in events]
    if events:
        by_id = {d["id"]: d for d in out}
        for f in wanted:
            for hook in hooks.presenting.get(f, ()):
                for event_id, extra in hook(session, principal, events).items():
                    if event_id in by_id:
                        _merge_into(by_id[event_id], extra)
    return out


def present_one(
    session: Session, principal: Principal, e: Event, fields: Iterable[str] | None, links: wire.Links | None = None
) -> dict[str, Any]:
    return present(session, principal, [e], fields, links)[0]


def system_principal(site_id: str) -> Principal:
    """Who presents an event in a webhook: the site's own manager view (drafts included)."""
    return Principal(site_id, IdentityType.APP, SYSTEM_IDENTITY["appId"], frozenset(Permission))


def entity(session: Session, e: Event) -> dict[str, Any]:
    """The event as its created/updated/deleted/published webhooks carry it."""
    return present_one(session, system_principal(e.site_id), e, wire.WEBHOOK_FIELDS)


# --- writing -------------------------------------------------------------------


def _emit(session: Session, principal: Principal, e: Event, slug: str, body: dict[str, Any]) -> None:
    _emit_as(session, principal.webhook_identity(), e, slug, body)


def _emit_as(session: Session, identity: dict[str, str], e: Event, slug: str, body: dict[str, Any]) -> None:
    e.event_seq += 1
    outbox.record(
        session,
        site_id=e.site_id,
        identity=identity,
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


def _merge(old: dict[str, Any] | None, patch: dict[str, Any]) -> dict[str, Any]:
    """PATCH of a JSON object: what the patch carries replaces, nested objects merge, an
    explicit null removes; nothing else changes."""
    out = copy.deepcopy(old or {})
    for k, v in patch.items():
        if v is None:
            out.pop(k, None)
        elif isinstance(v, dict) and isinstance(out.get(k), dict):
            out[k] = _merge(out[k], v)
        else:
            out[k] = v
    return out


def _dump(model: Any) -> dict[str, Any]:
    """What a request model carried, as the wire spells it (unset fields left out)."""
    return dict(model.model_dump(by_alias=True, exclude_unset=True, mode="json"))


def check_time_zone(name: str, where: str) -> None:
    """An IANA zone this machine knows (any, if it has no time-zone database)."""
    zones = wire.known_zones()
    if zones and name not in zones and name != "UTC":
        raise InvalidArgument(where, f'"{name}" is not a time zone of the TZ database', "FORMAT")


def _apply_dates(e: Event, ev: EventIn, creating: bool) -> bool:
    """dateAndTimeSettings (PATCH: only what is sent). Answers whether the start moved."""
    ds = ev.date_and_time_settings
    if ds is None:
        if creating:
            raise InvalidArgument("event.dateAndTimeSettings", "is required", "REQUIRED_FIELD")
        return False
    given = ds.model_dump(by_alias=True, exclude_unset=True, exclude={"start_date", "end_date"}, mode="json")
    if ds.time_zone_id is not None:
        check_time_zone(ds.time_zone_id, "event.dateAndTimeSettings.timeZoneId")
    if ds.recurring_events is not None and ds.recurring_events.individual_event_dates is not None:
        given["recurringEvents"] = {
            "individualEventDates": [
                {
                    **o.model_dump(by_alias=True, exclude_unset=True, exclude={"start_date", "end_date"}),
                    **({"startDate": iso(o.start_date)} if o.start_date else {}),
                    **({"endDate": iso(o.end_date)} if o.end_date else {}),
                }
                for o in ds.recurring_events.individual_event_dates
            ]
        }
    settings = _merge(e.date_settings, given)
    start = ds.start_date if "start_date" in ds.model_fields_set else e.start_date
    end = ds.end_date if "end_date" in ds.model_fields_set else e.end_date
    tbd = bool(settings.get("dateAndTimeTbd"))
    if not tbd:
        if start is None:
            raise InvalidArgument("event.dateAndTimeSettings.startDate", "is required", "REQUIRED_FIELD")
        if end is None:
            raise InvalidArgument("event.dateAndTimeSettings.endDate", "is required", "REQUIRED_FIELD")
    if start is not None and end is not None and end <= start:
        raise InvalidArgument("event.dateAndTimeSettings.endDate", "must be after startDate")
    settings.setdefault("timeZoneId", "Etc/UTC")
    moved = creating or start != e.start_date or tbd != e.date_tbd
    e.date_settings = settings
    e.date_tbd = tbd
    e.start_date = start.astimezone(dt.UTC) if start else None
    e.end_date = end.astimezone(dt.UTC) if end else None
    return moved


def _location(e: Event, ev: EventIn) -> None:
    """location (PATCH: nested fields merge); country codes checked, full names computed."""
    if ev.location is None:
        return
    patch = _dump(ev.location)
    addr = ev.location.address
    if addr is not None and addr.country is not None:
        country = pycountry.countries.get(alpha_2=addr.country.upper())
        if country is None:
            raise InvalidArgument("event.location.address.country", f'"{addr.country}" is not an ISO-3166 alpha-2 code', "FORMAT")
        patch["address"]["country"] = country.alpha_2
    loc = _merge(e.location, patch)
    a = loc.get("address")
    if isinstance(a, dict):
        a.pop("countryFullname", None)
        a.pop("subdivisionFullname", None)
        country = pycountry.countries.get(alpha_2=a["country"]) if a.get("country") else None
        if country is not None:
            a["countryFullname"] = country.name
            sub = a.get("subdivision")
            if sub:
                code = sub if "-" in sub else f"{country.alpha_2}-{sub}"
                found = pycountry.subdivisions.get(code=code.upper())
                if found is not None:
                    a["subdivisionFullname"] = found.name
    e.location = loc


def _web_url(value: str | None, where: str) -> None:
    if value is None:
        return
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise InvalidArgument(where, "must be an http(s) URL", "FORMAT")


def _tax_rate(value: str | None) -> None:
    """@decimalValue options { gte:0.001, lte:100, maxScale:3 }."""
    if value is None:
        return
    where = "event.registration.tickets.taxSettings.rate"
    try:
        d = Decimal(value)
    except InvalidOperation:
        raise InvalidArgument(where, "must be a decimal such as \"21.55\"", "FORMAT") from None
    exp = d.as_tuple().exponent
    if not d.is_finite() or not isinstance(exp, int) or exp < -3 or d < Decimal("0.001") or d > 100:
        raise InvalidArgument(where, "must be a decimal from 0.001 to 100 with at most 3 decimal places", "FORMAT")


def _registration(e: Event, ev: EventIn, creating: bool) -> None:
    """registration: the types' rules, then the rest of it (PATCH: nested fields merge).
    Read-only parts (status, tickets.lowestPrice/highestPrice/soldOut) are not taken."""
    reg = ev.registration
    if reg is None:
        return
    if not creating:
        if reg.initial_type is not None and reg.initial_type.value != e.initial_type:
            raise FailedPrecondition("registration.initialType cannot change", code="INVALID_EVENT_CONFIGURATION")
        if reg.type is not None and reg.type.value != e.registration_type:
            if reg.type.value not in ("EXTERNAL", "NONE"):
                raise FailedPrecondition(
                    f"registration.type can change from {e.registration_type} only to EXTERNAL or NONE",
                    code="INVALID_EVENT_CONFIGURATION",
                )
            e.registration_type = reg.type.value
    if reg.tickets is not None and reg.tickets.currency is not None:
        currency = check_currency(reg.tickets.currency, "event.registration.tickets.currency")
        if creating:
            e.currency = currency
        elif currency != e.currency:
            raise FailedPrecondition("Use Change Currency to change the currency of an event's tickets", code="CURRENCY_LOCKED")
    if reg.tickets is not None and reg.tickets.tax_settings is not None:
        _tax_rate(reg.tickets.tax_settings.rate)
    if reg.external is not None:
        _web_url(reg.external.url, "event.registration.external.url")
    patch = _dump(reg)
    for k in ("initialType", "type"):
        patch.pop(k, None)
    if isinstance(patch.get("tickets"), dict):
        patch["tickets"].pop("currency", None)
    rsvp = reg.rsvp
    if rsvp is not None:
        for name, value in (("startDate", rsvp.start_date), ("endDate", rsvp.end_date)):
            if name in patch.get("rsvp", {}):
                patch["rsvp"][name] = iso(value)
        start = rsvp.start_date if "start_date" in rsvp.model_fields_set else None
        end = rsvp.end_date if "end_date" in rsvp.model_fields_set else None
        if start is not None and end is not None and end <= start:
            raise InvalidArgument("event.registration.rsvp.endDate", "must be after startDate")
    e.registration = _merge(e.registration, patch)


def _settings(e: Event, ev: EventIn) -> None:
    """guestListSettings, onlineConferencing, seoSettings, agendaSettings,
    eventDisplaySettings and eventPageUrl (PATCH: nested objects merge, a list such as
    seoSettings.advancedSeoData.tags is replaced whole)."""
    sent = ev.model_dump(by_alias=True, exclude_unset=True, mode="json")
    patch = {k: sent[k] for k in (*wire.SETTINGS, "eventPageUrl") if k in sent}
    if not patch:
        return
    e.settings = _merge(e.settings, patch)


def _apply(e: Event, ev: EventIn, creating: bool) -> bool:
    """Every field an organiser sets (PATCH semantics unless ``creating``). Answers
    whether the start moved (the lifecycle webhooks are planned anew)."""
    sent = ev.model_fields_set
    if "title" in sent and not creating:
        if not ev.title:
            raise InvalidArgument("event.title", "must not be empty", "MIN_LENGTH")
        e.title = ev.title
    if "short_description" in sent:
        e.short_description = ev.short_description
    if "detailed_description" in sent:
        e.detailed_description = ev.detailed_description
    if "main_image" in sent:
        image = _dump(ev.main_image) if ev.main_image is not None else None
        if image is not None and image.get("url") is not None and not image["url"].startswith("wix:"):
            _web_url(image["url"], "event.mainImage.url")
        e.main_image = image or None
    if "description" in sent:
        e.description = ev.description
    _location(e, ev)
    moved = _apply_dates(e, ev, creating) if (creating or "date_and_time_settings" in sent) else False
    _registration(e, ev, creating)
    if ev.event_page_url is not None:
        for part in ("base", "path"):
            if getattr(ev.event_page_url, part) is None:
                raise InvalidArgument(f"event.eventPageUrl.{part}", "is required", "REQUIRED_FIELD")
    _settings(e, ev)
    return moved


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
        state=EventState.DRAFT if req.draft else EventState.PUBLISHED,
        location={},
        initial_type=initial,
        registration_type=ev.registration.type.value if ev.registration.type else initial,
        registration={},
        currency=None,
        settings={},
        user_id=principal.identity_id,
        created_date=t,
        updated_date=t,
        published_date=None if req.draft else t,
        revision=1,
        event_seq=0,
    )
    _apply(e, ev, creating=True)
    _set_new_slug(session, principal, e, ev.slug)
    plan_lifecycle(e, t, None, True)
    session.add(e)
    session.flush()
    ent = entity(session, e)
    _emit(session, principal, e, "created", {"createdEvent": {"entity": ent}})
    if e.state == EventState.PUBLISHED:
        _emit(session, principal, e, "published", wire.published_body(ent))
    return e


def clone(session: Session, principal: Principal, event_id: str, req: CloneEventRequest) -> Event:
    """Clone Event: a new event with its own id and slug (a draft unless ``draft`` is
    false), every setting of the original, with ``req.event``'s changes applied as Update
    Event applies them, and a copy of what hangs on it (ticket definitions without their
    sales, policies, schedule, categories: ``hooks.cloning``). Emits `created` (and
    `published` if so) and `cloned`."""
    src = lock_for_update(session, principal.site_id, event_id)
    ev = req.event or EventIn()
    draft = True if req.draft is None else req.draft
    t = now()
    e = Event(
        id=str(uuid.uuid4()),
        site_id=principal.site_id,
        title=ev.title or src.title,
        short_description=src.short_description,
        detailed_description=src.detailed_description,
        main_image=copy.deepcopy(src.main_image),
        description=copy.deepcopy(src.description),
        state=EventState.DRAFT if draft else EventState.PUBLISHED,
        location=copy.deepcopy(src.location),
        initial_type=src.initial_type,
        registration_type=src.registration_type,
        registration=copy.deepcopy(src.registration),
        currency=src.currency,
        settings=copy.deepcopy(src.settings or {}),
        user_id=principal.identity_id,
        date_settings=copy.deepcopy(src.date_settings),
        date_tbd=src.date_tbd,
        start_date=src.start_date,
        end_date=src.end_date,
        created_date=t,
        updated_date=t,
        published_date=None if draft else t,
        revision=1,
        event_seq=0,
    )
    if (e.settings.get("seoSettings") or {}).get("slug"):
        e.settings["seoSettings"].pop("slug")  # a page's SEO slug is its own
    e.settings.pop("eventPageUrl", None)  # so is its page
    _apply(e, ev, creating=False)
    _set_new_slug(session, principal, e, ev.slug)
    plan_lifecycle(e, t, None, True)
    session.add(e)
    session.flush()
    copied: dict[str, str] = {}
    for react in hooks.cloning:
        copied.update(react(session, principal, src, e))
    ent = entity(session, e)
    _emit(session, principal, e, "created", {"createdEvent": {"entity": ent}})
    if e.state == EventState.PUBLISHED:
        _emit(session, principal, e, "published", wire.published_body(ent))
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
    """PATCH semantics (the SDK sends no mask): only the fields the request carries
    change, nested objects field by field (agendaSettings.enabled alone leaves every
    other setting as it was); read-only fields sent back are ignored."""
    e = lock_for_update(session, principal.site_id, event_id)
    ev = req.event
    t = now()
    was = e.status_at(t)
    if "slug" in ev.model_fields_set and ev.slug is not None and ev.slug != e.slug:
        if not SLUG_RE.match(ev.slug):
            raise InvalidArgument("event.slug", "must be lowercase letters, digits and single dashes")
        _check_slug_free(session, e.site_id, ev.slug, e.id)
        e.slug = ev.slug
    moved = _apply(e, ev, creating=False)
    if "date_and_time_settings" in ev.model_fields_set:
        plan_lifecycle(e, t, was, moved)
    e.revision += 1
    e.updated_date = t
    session.flush()
    emit_updated(session, principal, e)
    return e


def emit_updated(session: Session, principal: Principal, e: Event) -> None:
    _emit(session, principal, e, "updated", {"updatedEvent": {"currentEntity": entity(session, e)}})


def publish(session: Session, principal: Principal, event_id: str) -> Event:
    e = lock_for_update(session, principal.site_id, event_id)
    if e.state != EventState.DRAFT:
        raise FailedPrecondition("Event is already published", code="EVENT_ALREADY_PUBLISHED")
    t = now()
    e.state, e.published_date, e.updated_date = EventState.PUBLISHED, t, t
    e.revision += 1
    plan_lifecycle(e, t, EventState.DRAFT.value, True)
    session.flush()
    _emit(session, principal, e, "published", wire.published_body(entity(session, e)))
    return e


def cancel(session: Session, principal: Principal, event_id: str) -> Event:
    """Cancel Event: a published event becomes CANCELED; its tickets stop selling (new
    reservations and checkouts are refused with EVENT_CANCELED) and existing orders stay
    as they are (refunds belong to the payments issue). `event_canceled` is emitted; no
    lifecycle webhook follows."""
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
    e.next_lifecycle = None
    session.flush()
    guests = _has_guests(session, e)
    _emit(session, principal, e, "canceled", wire.canceled_body(e, t, principal.identity_id, guests))
    for react in hooks.canceled:
        react(session, principal, e)


def _has_guests(session: Session, e: Event) -> bool:
    return any(ask(session, e) for ask in hooks.has_guests)


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
    snapshot = entity(session, e)
    _emit(session, principal, e, "deleted", {"deletedEvent": {"deletedEntity": snapshot}})
    session.delete(e)


# --- the ICS file -------------------------------------------------------------------


def calendar_file(session: Session, urls: Urls, event_id: str, sig: str) -> bytes:
    """The event's ICS file for a signed calendarUrls.ics link (opened without
    credentials): published and canceled events with dates; anything else is a 404."""
    check_sig(urls, "event-ics", event_id, sig)
    e = session.scalars(
        select(Event).where(Event.id == event_id, Event.site_id == urls.site_id, Event.state != EventState.DRAFT)
    ).first()
    if e is None or e.date_tbd or e.start_date is None or e.end_date is None:
        raise NotFound(f"Event {event_id} not found", code="EVENT_NOT_FOUND")
    return wire.ics(e, now())


# --- lifecycle webhooks (the scheduler) ----------------------------------------------
#
# Each published event with dates keeps, as ticket definitions do for their sales: the
# start and end an event_started / event_ended was written for (started_for /
# ended_for), the time up to which reminders are dealt with (reminded_until), and when
# the scheduler next has work for it (next_lifecycle, indexed). The scheduler takes due
# rows FOR UPDATE SKIP LOCKED, writes the webhooks and moves the bookkeeping in the same
# unit: two passes at once cannot both write one. Drafts and canceled events have no
# next_lifecycle and get none.


def plan_lifecycle(e: Event, t: dt.datetime, was: str | None, start_moved: bool) -> None:
    """After a change of state or dates: boundaries already behind us that were no
    transition are marked done (an event created, published or moved into the past does
    not "start" then; an UPCOMING event whose start is moved into the past starts now,
    once), reminders due before now are skipped when the start moved, then the next due
    time is noted."""
    if e.state != EventState.PUBLISHED or e.date_tbd or e.start_date is None or e.end_date is None:
        e.next_lifecycle = None
        return
    fresh = was is None or was == EventState.DRAFT.value
    if e.start_date <= t and (fresh or was != "UPCOMING"):
        e.started_for = e.start_date
    if e.end_date <= t and (fresh or was == "ENDED"):
        e.ended_for = e.end_date
    if start_moved or e.reminded_until is None:
        e.reminded_until = t
    _schedule_next(e)


def _schedule_next(e: Event) -> None:
    pending = []
    if e.started_for != e.start_date:
        pending.append(e.start_date)
    if e.ended_for != e.end_date:
        pending.append(e.end_date)
    for before, _ in REMINDERS:
        r = e.start_date - before
        if r > e.reminded_until and r < e.start_date:
            pending.append(r)
            break  # REMINDERS runs earliest first: the first one pending is the next
    e.next_lifecycle = min(pending) if pending else None


def lifecycle_due_query(t: dt.datetime) -> Select[Any]:
    """The scheduler's probe (an indexed look at next_lifecycle): any row means work."""
    return select(Event.id).where(Event.next_lifecycle.is_not(None), Event.next_lifecycle <= t)


def lifecycle_due(session: Session, t: dt.datetime) -> bool:
    return session.scalars(lifecycle_due_query(t).limit(1)).first() is not None


def emit_lifecycle(session: Session, t: dt.datetime, limit: int = 500) -> int:
    """event_reminder / event_started / event_ended for every event whose time came.
    After downtime: event_started and event_ended are written once each, however late;
    of the reminders that came due meanwhile only the latest is written, and only if the
    event has not started yet (a "7 days left" a day before would be wrong)."""
    due = list(
        session.scalars(
            select(Event)
            .where(Event.next_lifecycle.is_not(None), Event.next_lifecycle <= t)
            .order_by(Event.next_lifecycle, Event.id)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
    )
    n = 0
    for e in due:
        if e.state != EventState.PUBLISHED or e.date_tbd or e.start_date is None or e.end_date is None:
            e.next_lifecycle = None
            continue
        guests: bool | None = None
        since = e.reminded_until or t
        if t < e.start_date:
            came = [(e.start_date - before, starts_in) for before, starts_in in REMINDERS]
            came = [(r, d) for r, d in came if since < r <= t]
            if came:
                guests = _has_guests(session, e)
                r, starts_in = came[-1]
                _emit_as(session, SYSTEM_IDENTITY, e, "reminder", wire.reminder_body(e, r, starts_in, guests))
                n += 1
                for react in hooks.lifecycle:
                    react(session, e, "reminder", starts_in)
        e.reminded_until = max(since, t)
        if e.start_date <= t and e.started_for != e.start_date:
            e.started_for = e.start_date
            guests = _has_guests(session, e) if guests is None else guests
            _emit_as(session, SYSTEM_IDENTITY, e, "started", wire.started_body(e, e.start_date, guests))
            n += 1
            for react in hooks.lifecycle:
                react(session, e, "started", None)
        if e.end_date <= t and e.ended_for != e.end_date:
            e.ended_for = e.end_date
            guests = _has_guests(session, e) if guests is None else guests
            _emit_as(session, SYSTEM_IDENTITY, e, "ended", wire.ended_body(e, e.end_date, guests))
            n += 1
            for react in hooks.lifecycle:
                react(session, e, "ended", None)
        _schedule_next(e)
    session.flush()
    return n
