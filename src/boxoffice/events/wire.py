"""Events v3 on the wire (`@wix/auto_sdk_events_wix-events-v-2`) and the bodies of their
domain events. Presentation only: what other slices add to an event (its form, its
categories, its tickets' prices) comes through ``service.present``."""

from __future__ import annotations

import datetime as dt
import re
import zoneinfo
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from typing import Any
from urllib.parse import urlencode

from icalendar import Calendar
from icalendar import Event as CalendarEvent

from ..db import now
from ..links import Urls
from ..timefmt import iso
from .models import DEFAULT_TICKET_LIMIT_PER_ORDER, Event, EventState
from .schemas import EventField

# Which fieldset (`fields`) adds which top-level field: the typings' RequestedFields,
# one line each. Without fieldsets an event carries BASE only. FORM and CATEGORIES come
# from the forms and categories slices, REGISTRATION's ticket prices and soldOut from
# ticket definitions, DASHBOARD (summaries) from orders (all through
# events.hooks.presenting). FEED (a discussion feed token) and ONLINE_CONFERENCING_SESSION
# (a provider's session links) add nothing: no feed or conferencing provider exists here.
FIELDSETS: dict[str, tuple[str, ...]] = {
    EventField.DETAILS.value: ("shortDescription", "mainImage", "calendarUrls"),
    EventField.TEXTS.value: ("description", "detailedDescription"),
    EventField.REGISTRATION.value: ("registration",),
    EventField.URLS.value: ("eventPageUrl",),
    EventField.FORM.value: ("form",),
    EventField.DASHBOARD.value: ("summaries",),
    EventField.FEED.value: ("feed",),
    EventField.ONLINE_CONFERENCING_SESSION.value: (),
    EventField.SEO_SETTINGS.value: ("seoSettings",),
    EventField.AGENDA.value: ("agendaSettings",),
    EventField.CATEGORIES.value: ("categories",),
}
BASE = (
    "id", "title", "slug", "status", "location", "dateAndTimeSettings", "instanceId", "userId",
    "guestListSettings", "onlineConferencing", "eventDisplaySettings",
    "createdDate", "updatedDate", "publishedDate", "revision",
)  # fmt: skip
# What webhooks carry of an event: every fieldset this server computes, except FORM (the
# form has its own API) and those that add nothing.
WEBHOOK_FIELDS = (
    EventField.DETAILS.value,
    EventField.TEXTS.value,
    EventField.REGISTRATION.value,
    EventField.URLS.value,
    EventField.SEO_SETTINGS.value,
    EventField.AGENDA.value,
    EventField.CATEGORIES.value,
)
# Settings kept in Event.settings, by wire name.
SETTINGS = ("guestListSettings", "onlineConferencing", "seoSettings", "agendaSettings", "eventDisplaySettings")
# Where an event's page is on the site unless the organiser gives `eventPageUrl` (Wix's own path).
EVENT_PAGE_PATH = "/event-details/{slug}"
GOOGLE_CALENDAR = "https://calendar.google.com/calendar/render"


@dataclass(frozen=True)
class Links:
    """What URLs are made of: this server's base URL and the instance secret (signs the
    ICS link, which calendar apps open without credentials)."""

    base: str
    secret: bytes

    def ics(self, e: Event) -> str:
        sig = Urls(self.base, self.secret, e.site_id).sig("event-ics", e.id)
        return f"{self.base}/boxoffice/v1/calendar/{e.site_id}/{e.id}.ics?sig={sig}"


# --- time zones and formatted dates -------------------------------------------------


@lru_cache(maxsize=1)
def known_zones() -> frozenset[str]:
    """The IANA zones this machine knows (empty without a time-zone database)."""
    return frozenset(zoneinfo.available_timezones())


@lru_cache(maxsize=1024)
def zone(name: str | None) -> dt.tzinfo:
    try:
        return zoneinfo.ZoneInfo(name or "Etc/UTC")
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return dt.UTC


def _date(t: dt.datetime) -> str:
    return f"{t:%B} {t.day}, {t.year}"


def _time(t: dt.datetime) -> str:
    return f"{(t.hour % 12) or 12}:{t.minute:02d} {'AM' if t.hour < 12 else 'PM'}"


def _gmt(t: dt.datetime) -> str:
    off = t.utcoffset() or dt.timedelta(0)
    if not off:
        return "GMT"
    sign, off = ("-", -off) if off < dt.timedelta(0) else ("+", off)
    h, m = divmod(int(off.total_seconds()) // 60, 60)
    return f"GMT{sign}{h}" + (f":{m:02d}" if m else "")


def formatted(e: Event) -> dict[str, str]:
    """dateAndTimeSettings.formatted, in English, in the event's time zone, as the typings'
    examples: `September 1, 2015 at 10:20 AM – September 5, 2015 at 12:14 PM` (several
    days), `February 1, 2018, 12:10 PM – 2:50 PM GMT+2` (one day, zone shown)."""
    ds = e.date_settings or {}
    if e.date_tbd or e.start_date is None or e.end_date is None:
        msg = ds.get("dateAndTimeTbdMessage") or ""
        return {"dateAndTime": msg, "startDate": "", "startTime": "", "endDate": "", "endTime": ""}
    tz = zone(ds.get("timeZoneId"))
    s, en = e.start_date.astimezone(tz), e.end_date.astimezone(tz)
    shown = f" {_gmt(s)}" if ds.get("showTimeZone") else ""
    hide = bool(ds.get("hideEndDate"))
    if hide:
        text = f"{_date(s)}, {_time(s)}{shown}"
    elif s.date() == en.date():
        text = f"{_date(s)}, {_time(s)} – {_time(en)}{shown}"
    else:
        text = f"{_date(s)} at {_time(s)} – {_date(en)} at {_time(en)}{shown}"
    return {
        "dateAndTime": text,
        "startDate": _date(s),
        "startTime": _time(s),
        "endDate": "" if hide else _date(en),
        "endTime": "" if hide else _time(en),
    }


# --- the event ------------------------------------------------------------------------


def registration_status(e: Event, t: dt.datetime) -> str:
    """registration.status from what was decided and the clock (ticket definitions turn
    OPEN_TICKETS into CLOSED_AUTOMATICALLY when every ticket is sold)."""
    if e.state == EventState.DRAFT or e.registration_type == "NONE":
        return "UNKNOWN_REGISTRATION_STATUS"
    reg = e.registration or {}
    if e.state == EventState.CANCELED or reg.get("registrationDisabled") or reg.get("registrationPaused"):
        return "CLOSED_MANUALLY"
    if e.status_at(t) == "ENDED":
        return "CLOSED_AUTOMATICALLY"
    if e.registration_type == "RSVP":
        rsvp = reg.get("rsvp") or {}
        if rsvp.get("startDate") and rsvp["startDate"] > iso(t):
            return "SCHEDULED_RSVP"
        if rsvp.get("endDate") and rsvp["endDate"] <= iso(t):
            return "CLOSED_AUTOMATICALLY"
        return "OPEN_RSVP"
    return {"TICKETING": "OPEN_TICKETS", "EXTERNAL": "OPEN_EXTERNAL"}.get(e.registration_type, "CLOSED_MANUALLY")


def _registration(e: Event, t: dt.datetime) -> dict[str, Any]:
    reg = dict(e.registration or {})
    tickets = dict(reg.pop("tickets", None) or {})
    tickets.setdefault("guestsAssignedSeparately", False)
    tickets.setdefault("ticketLimitPerOrder", DEFAULT_TICKET_LIMIT_PER_ORDER)
    if e.currency:
        tickets["currency"] = e.currency
    out: dict[str, Any] = {
        "initialType": e.initial_type,
        "type": e.registration_type,
        "status": registration_status(e, t),
        "allowedGuestTypes": "VISITOR_OR_MEMBER",
        "registrationPaused": False,
        "registrationDisabled": False,
        **reg,
        "tickets": tickets,
    }
    return out


def _location_text(e: Event) -> str:
    loc = e.location or {}
    addr = loc.get("address") or {}
    parts = [loc.get("name"), addr.get("formattedAddress") or addr.get("addressLine") or addr.get("city")]
    return ", ".join(p for p in parts if p)


def page_url(e: Event, links: Links | None) -> dict[str, str] | None:
    """eventPageUrl {base, path}: the organiser's, else this server's base and Wix's path."""
    given = (e.settings or {}).get("eventPageUrl")
    if given:
        return dict(given)
    if links is None:
        return None
    return {"base": links.base, "path": EVENT_PAGE_PATH.format(slug=e.slug)}


def calendar_urls(e: Event, links: Links | None) -> dict[str, str]:
    """calendarUrls as Wix makes them: a Google Calendar "render?action=TEMPLATE" link
    (title, UTC dates, location, details) and a signed link to this server's ICS file."""
    dates = ""
    if not e.date_tbd and e.start_date is not None and e.end_date is not None:
        dates = f"{e.start_date:%Y%m%dT%H%M%SZ}/{e.end_date:%Y%m%dT%H%M%SZ}"
    details = "\n".join(p for p in (e.short_description, formatted(e)["dateAndTime"], _location_text(e)) if p)
    query = {"action": "TEMPLATE", "text": e.title, "dates": dates, "location": _location_text(e), "details": details}
    out = {"google": f"{GOOGLE_CALENDAR}?{urlencode(query)}"}
    if links is not None and not e.date_tbd and e.start_date is not None:
        out["ics"] = links.ics(e)
    return out


def to_wire(
    e: Event, fields: Iterable[str] | None = None, t: dt.datetime | None = None, links: Links | None = None
) -> dict[str, Any]:
    """The event's own fields for ``fields`` (BASE plus what FIELDSETS says each adds);
    what other slices add is merged in by service.present."""
    t = t or now()
    wanted = set(BASE)
    for f in fields or ():
        wanted.update(FIELDSETS.get(f, ()))
    ds = dict(e.date_settings or {})
    ds["startDate"], ds["endDate"] = iso(e.start_date), iso(e.end_date)
    ds = {k: v for k, v in ds.items() if v is not None}
    ds.setdefault("recurrenceStatus", "ONE_TIME")
    ds["formatted"] = formatted(e)
    settings = e.settings or {}
    out: dict[str, Any] = {
        "id": e.id,
        "title": e.title,
        "slug": e.slug,
        "status": e.status_at(t),
        "location": e.location,
        "dateAndTimeSettings": ds,
        "instanceId": e.site_id,
        "userId": e.user_id,
        "guestListSettings": settings.get("guestListSettings") or {"displayedPublicly": False},
        "onlineConferencing": settings.get("onlineConferencing") or {"enabled": False},
        "eventDisplaySettings": settings.get("eventDisplaySettings") or {},
        "createdDate": iso(e.created_date),
        "updatedDate": iso(e.updated_date),
        "publishedDate": iso(e.published_date),
        "revision": str(e.revision),
        "shortDescription": e.short_description,
        "mainImage": e.main_image,
        "description": e.description,
        "detailedDescription": e.detailed_description,
    }
    if "calendarUrls" in wanted:
        out["calendarUrls"] = calendar_urls(e, links)
    if "registration" in wanted:
        out["registration"] = _registration(e, t)
    if "eventPageUrl" in wanted:
        out["eventPageUrl"] = page_url(e, links)
    if "seoSettings" in wanted:
        out["seoSettings"] = {"hidden": False, **(settings.get("seoSettings") or {})}
    if "agendaSettings" in wanted:
        agenda: dict[str, Any] = {"enabled": False, **(settings.get("agendaSettings") or {})}
        page = page_url(e, links)
        if page is not None:
            agenda["pageUrl"] = {"base": page["base"], "path": page["path"].rstrip("/") + "/schedule"}
        out["agendaSettings"] = agenda
    return {k: v for k, v in out.items() if k in wanted and v is not None}


def entity(e: Event) -> dict[str, Any]:
    """The event's own fields as webhooks carry them (service.entity adds the other slices')."""
    return to_wire(e, WEBHOOK_FIELDS)


def published_body(ent: dict[str, Any]) -> dict[str, Any]:
    """The EventPublished action body, flat as the SDK types it (not the entity)."""
    body = {"timestamp": iso(now()), "eventId": ent["id"]}
    for k in ("status", "title", "shortDescription", "location", "dateAndTimeSettings", "eventPageUrl", "registration"):
        if k in ent:
            body[k] = ent[k]
    return {"actionEvent": {"body": body}}


def canceled_body(e: Event, t: dt.datetime, user_id: str, has_guests: bool) -> dict[str, Any]:
    """The EventCanceled action body, flat as the SDK types it."""
    body = {"timestamp": iso(t), "eventId": e.id, "title": e.title, "userId": user_id, "hasGuests": has_guests}
    return {"actionEvent": {"body": body}}


def cloned_body(e: Event, src: Event, t: dt.datetime, user_id: str, definitions: dict[str, str]) -> dict[str, Any]:
    """The EventCloned action body, flat as the SDK types it."""
    ent = to_wire(e, (), t)
    body: dict[str, Any] = {
        "timestamp": iso(t),
        "eventId": e.id,
        "location": ent["location"],
        "dateAndTimeSettings": ent["dateAndTimeSettings"],
        "title": e.title,
        "userId": user_id,
        "status": ent["status"],
        "derivedFromInstanceId": src.site_id,
        "derivedFromEventId": src.id,
        "ticketDefinitions": definitions,
    }
    return {"actionEvent": {"body": body}}


def started_body(e: Event, t: dt.datetime, has_guests: bool) -> dict[str, Any]:
    """The EventStarted action body (typings: timestamp, eventId, hasGuests)."""
    return {"actionEvent": {"body": {"timestamp": iso(t), "eventId": e.id, "hasGuests": has_guests}}}


def ended_body(e: Event, t: dt.datetime, has_guests: bool) -> dict[str, Any]:
    """The EventEnded action body (typings: timestamp, eventId, hasGuests)."""
    return {"actionEvent": {"body": {"timestamp": iso(t), "eventId": e.id, "hasGuests": has_guests}}}


def reminder_body(e: Event, t: dt.datetime, starts_in: dict[str, int], has_guests: bool) -> dict[str, Any]:
    """The EventReminder action body (typings: timestamp, eventId, location,
    dateAndTimeSettings, title, userId, startsIn, hasGuests)."""
    ent = to_wire(e, (), t)
    body: dict[str, Any] = {
        "timestamp": iso(t),
        "eventId": e.id,
        "location": ent["location"],
        "dateAndTimeSettings": ent["dateAndTimeSettings"],
        "title": e.title,
        "startsIn": starts_in,
        "hasGuests": has_guests,
    }
    if e.user_id:
        body["userId"] = e.user_id
    return {"actionEvent": {"body": body}}


# --- the ICS file ----------------------------------------------------------------------


_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


def _plain(text: str) -> str:
    """A text property's value without control characters (a bare CR could end the line
    in a lenient reader); the library escapes the rest."""
    return _CONTROL.sub(" ", text)


def ics(
    e: Event, t: dt.datetime, *, uid: str | None = None, description: str | None = None, url: str | None = None
) -> bytes:
    """The event as an iCalendar file (RFC 5545, by ``icalendar``): one VEVENT, times in
    UTC. The calendar link serves it as it is; the confirmation e-mail gives it the
    order's ``uid`` (a resend updates the buyer's entry), ``description`` and ``url``."""
    cal = Calendar()
    cal.add("prodid", "-//Boxoffice//Events v3//EN")
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("method", "PUBLISH")
    v = CalendarEvent()
    v.add("uid", uid or f"{e.id}@boxoffice")
    v.add("dtstamp", t)
    v.add("last-modified", e.updated_date)
    v.add("dtstart", e.start_date)
    if e.end_date is not None and e.start_date is not None and e.end_date > e.start_date:
        v.add("dtend", e.end_date)
    v.add("summary", _plain(e.title))
    v.add("status", "CANCELLED" if e.state == EventState.CANCELED else "CONFIRMED")
    v.add("sequence", e.revision)
    text = description or e.short_description
    if text:
        v.add("description", _plain(text))
    where = _location_text(e)
    if where:
        v.add("location", _plain(where))
    if url:
        v.add("url", url)
    cal.add_component(v)
    return cal.to_ical()
