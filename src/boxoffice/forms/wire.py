"""Registration forms on the wire: a stored control (its kind and the settings it was
made with) as the SDK's ``InputControl``, the form as ``Form``, and the body of the
form's webhook (the legacy ``wix.events.events.EventUpdated``). Presentation only."""

from __future__ import annotations

import copy
from typing import Any

from .. import limits
from ..events.models import Event
from ..timefmt import iso
from .models import EMAIL_ID, NAME_ID, ControlKind, EventForm

# Wix's own numbers for the fixed inputs (Publish Draft's documented example): names and
# e-mail 50 characters, a phone 25.
NAME_MAX_LENGTH = 50
EMAIL_MAX_LENGTH = 50
PHONE_MAX_LENGTH = 25
# Boxoffice's (the typings give none): an address line (the v1 location's `address` is
# at most 300), one option or guest name.
ADDRESS_MAX_LENGTH = 300
GUEST_NAME_MAX_LENGTH = 100
# A full address's parts, in the order its `values` carry them.
ADDRESS_PARTS = ("streetAddress", "city", "subdivision", "postalCode", "country")
ADDRESS_PART_LABELS = {
    "streetAddress": "Street Address",
    "city": "City",
    "subdivision": "State/Province",
    "postalCode": "Zip/Postal Code",
    "country": "Country",
}

DEFAULT_MESSAGES: dict[str, Any] = {
    "rsvp": {
        "rsvpYesOption": "I will attend",
        "rsvpNoOption": "Not Going",
        "positiveMessages": {
            "title": "Add Your Details",
            "confirmation": {
                "title": "Thank you!",
                "message": "An email with all the event info was sent to you.",
                "addToCalendarActionLabel": "Add to Calendar",
                "shareActionLabel": "Share",
            },
        },
        "waitlistMessages": {
            "title": "Looks Like This Event Is Full. Join the waiting list",
            "confirmation": {
                "title": "Thanks! You've been added to the waitlist.",
                "message": "We'll update you if additional spots become available.",
                "addToCalendarActionLabel": "Add to Calendar",
                "shareActionLabel": "Share",
            },
        },
        "negativeMessages": {
            "title": "Add Your Details",
            "confirmation": {"title": "Thanks for letting us know", "shareActionLabel": "Share"},
        },
        "submitActionLabel": "RSVP",
    },
    "checkout": {
        "title": "Add Your Details",
        "submitActionLabel": "Continue",
        "confirmation": {
            "title": "Thank you!",
            "message": "You're going! Your tickets were sent to your email.",
            "downloadTicketsLabel": "Download Tickets",
            "addToCalendarLabel": "Add to Calendar",
            "shareEventLabel": "Share Event",
        },
    },
    "registrationClosed": {"message": "Registration is closed", "exploreEventsActionLabel": "Explore Other Events"},
    "ticketsUnavailable": {"message": "Tickets are not on sale", "exploreEventsActionLabel": "Explore Other Events"},
}


def default_controls() -> list[dict[str, Any]]:
    """The two controls every form has, pinned to the top."""
    return [
        {"id": NAME_ID, "kind": ControlKind.NAME.value, "orderIndex": 0, "spec": {}},
        {"id": EMAIL_ID, "kind": ControlKind.EMAIL.value, "orderIndex": 1, "spec": {}},
    ]


def merged(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    """``over`` laid on ``base``, object by object."""
    out = copy.deepcopy(base)
    for k, v in over.items():
        if isinstance(v, dict) and isinstance(out.get(k), dict):
            out[k] = merged(out[k], v)
        elif v is not None:
            out[k] = copy.deepcopy(v)
    return out


def _input(
    name: str,
    label: str,
    *,
    type_: str = "TEXT",
    mandatory: bool = False,
    max_length: int | None = None,
    options: list[str] | None = None,
    max_size: int | None = None,
    additional_labels: dict[str, str] | None = None,
    labels: list[dict[str, str]] | None = None,
    default_option_selection: dict[str, Any] | None = None,
) -> dict[str, Any]:
    out: dict[str, Any] = {
        "name": name,
        "array": type_ in ("TEXT_ARRAY", "ADDRESS"),
        "label": label,
        "additionalLabels": additional_labels or {},
        "options": list(options or []),
        "mandatory": mandatory,
        "type": type_,
    }
    if max_length is not None:
        out["maxLength"] = max_length
    if max_size is not None:
        out["maxSize"] = max_size
    if labels is not None:
        out["labels"] = labels
    if default_option_selection:
        out["defaultOptionSelection"] = default_option_selection
    return out


def _render(kind: ControlKind, cid: str, spec: dict[str, Any]) -> tuple[str, str, list[dict[str, Any]]]:
    """(InputControl type, control label, inputs) of one control."""
    mandatory = bool(spec.get("mandatory"))
    label = spec.get("label")
    if kind == ControlKind.NAME:
        labels = spec.get("labels") or {}
        first, last = labels.get("firstName") or "First Name", labels.get("lastName") or "Last Name"
        return "NAME", f"{first}, {last}", [
            _input("firstName", first, mandatory=True, max_length=NAME_MAX_LENGTH),
            _input("lastName", last, mandatory=True, max_length=NAME_MAX_LENGTH),
        ]
    if kind == ControlKind.EMAIL:
        label = label or "Email"
        return "INPUT", label, [_input("email", label, mandatory=True, max_length=EMAIL_MAX_LENGTH)]
    if kind == ControlKind.PHONE:
        label = label or "Phone"
        return "INPUT", label, [_input(cid, label, mandatory=mandatory, max_length=PHONE_MAX_LENGTH)]
    if kind == ControlKind.DATE:
        label = label or "Date"
        return "DATE", label, [_input(cid, label, type_="DATE_TIME", mandatory=mandatory)]
    if kind == ControlKind.ADDRESS:
        labels = spec.get("labels") or {}
        line = labels.get("addressLine") or "Address"
        if not spec.get("full"):
            return "ADDRESS_SHORT", line, [_input(cid, line, mandatory=mandatory, max_length=ADDRESS_MAX_LENGTH)]
        parts = {p: labels.get(p) or ADDRESS_PART_LABELS[p] for p in ADDRESS_PARTS}
        return "ADDRESS_FULL", line, [
            _input(
                cid, line, type_="ADDRESS", mandatory=mandatory, max_length=ADDRESS_MAX_LENGTH,
                max_size=len(ADDRESS_PARTS), additional_labels=parts,
                labels=[{"name": p, "label": parts[p]} for p in ADDRESS_PARTS],
            )
        ]
    if kind == ControlKind.ADDITIONAL_GUESTS:
        labels = spec.get("labels") or {}
        single, multiple = labels.get("single") or "Additional Guest", labels.get("multiple") or "Additional Guests"
        most = int(spec.get("maxGuests") or limits.FORM_MAX_GUESTS)
        return "GUEST_CONTROL", multiple, [
            _input(
                "additionalGuests", multiple, type_="NUMBER", options=[str(n) for n in range(1, most + 1)],
                additional_labels={"single": single, "multiple": multiple},
            ),
            _input(
                "guestNames", "Guest Names", type_="TEXT_ARRAY", mandatory=bool(spec.get("namesMandatory")),
                max_length=GUEST_NAME_MAX_LENGTH, max_size=most,
            ),
        ]
    options = list(spec.get("options") or [])
    if kind == ControlKind.DROPDOWN:
        label = label or "Dropdown"
        return "DROPDOWN", label, [
            _input(
                cid, label, mandatory=mandatory, max_length=limits.FORM_OPTION_MAX, options=options,
                default_option_selection=spec.get("defaultOptionSelection"),
            )
        ]
    if kind == ControlKind.RADIO_BUTTON:
        label = label or "Choose one"
        return "RADIO", label, [_input(cid, label, max_length=limits.FORM_OPTION_MAX, options=options)]
    if kind == ControlKind.CHECKBOX:
        label = label or "Choose"
        return "CHECKBOX", label, [
            _input(
                cid, label, type_="TEXT_ARRAY", mandatory=mandatory, max_length=limits.FORM_OPTION_MAX,
                options=options, max_size=len(options),
            )
        ]
    assert kind == ControlKind.TEXT
    label = label or "Text"
    type_ = "TEXTAREA" if spec.get("multiLine") or spec.get("comment") else "INPUT"
    return type_, label, [
        _input(cid, label, mandatory=mandatory, max_length=int(spec.get("maxLength") or limits.FORM_TEXT_MAX_LENGTH))
    ]


def control(c: dict[str, Any]) -> dict[str, Any]:
    """A stored control as the SDK's ``InputControl``."""
    kind = ControlKind(c["kind"])
    type_, label, inputs = _render(kind, c["id"], c.get("spec") or {})
    return {
        "type": type_,
        "system": kind in (ControlKind.NAME, ControlKind.EMAIL),
        "name": c["id"],
        "inputs": inputs,
        "label": label,
        "orderIndex": c["orderIndex"],
        "id": c["id"],
    }


def form(f: EventForm | None) -> dict[str, Any]:
    """An event's form (``None``: the event has never changed it, so the default) as ``Form``."""
    controls = f.controls if f is not None else default_controls()
    messages = merged(DEFAULT_MESSAGES, f.messages) if f is not None else copy.deepcopy(DEFAULT_MESSAGES)
    ordered = sorted(controls, key=lambda c: (c["orderIndex"], c["id"]))
    return {"controls": [control(c) for c in ordered], "messages": messages}


def event_updated(event: Event) -> dict[str, Any]:
    """The data of ``wix.events.events.EventUpdated`` (the forms package's one webhook,
    "triggered when a form is updated"), as its typings give ``EventUpdated``."""
    loc = event.location or {}
    address = loc.get("address") or {}
    location: dict[str, Any] = {k: v for k, v in (("name", loc.get("name")), ("type", loc.get("type"))) if v}
    if address.get("formattedAddress"):
        location["address"] = address["formattedAddress"]
    settings = event.date_settings or {}
    schedule: dict[str, Any] = {"scheduleTbd": bool(event.date_tbd)}
    if event.start_date is not None:
        schedule["startDate"] = iso(event.start_date)
    if event.end_date is not None:
        schedule["endDate"] = iso(event.end_date)
    if settings.get("timeZoneId"):
        schedule["timeZoneId"] = settings["timeZoneId"]
    schedule["endDateHidden"] = bool(settings.get("hideEndDate"))
    schedule["showTimeZone"] = bool(settings.get("showTimeZone"))
    return {
        "eventId": event.id,
        "title": event.title,
        "location": location,
        "scheduleConfig": schedule,
        "scheduleConfigUpdated": False,
    }
