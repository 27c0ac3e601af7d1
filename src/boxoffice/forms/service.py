"""Registration forms: the rules of Get Form, Add / Update / Delete Control, Update
Messages, Publish Draft and Discard Draft, the form's webhook (the legacy
``wix.events.events.EventUpdated``), and the one home of the rule that checks guests'
answers against their event's form (``check_answers``, called by checkout).

Every event has a form: without a row it is the default one (first name, last name,
e-mail); the first change makes the row. Every change is live at once."""

from __future__ import annotations

import datetime as dt
import re
import secrets
from collections.abc import Sequence
from typing import Any, Protocol

from sqlalchemy import select
from sqlalchemy.orm import Session

from .. import limits, outbox
from ..db import now
from ..errors import FailedPrecondition, InvalidArgument, NotFound
from ..events import service as events
from ..events.models import Event
from ..identity import Principal
from . import wire
from .models import SYSTEM_KINDS, ControlKind, EventForm
from .schemas import ADDABLE, AddControlRequest, UpdateControlRequest, UpdateMessagesRequest

# The webhook the forms package declares (`onFormEventUpdated`): a legacy event.
WEBHOOK_PREFIX = "wix.events.events"
WEBHOOK_NAME = "EventUpdated"
# Wix's one declared code for a change the form cannot take (Add/Update Control).
INVALID_CONFIGURATION = "INVALID_EVENT_CONFIGURATION"

# The request's one-of fields: wire name -> attribute.
_ATTR = {
    "phone": "phone",
    "address": "address",
    "date": "date",
    "additionalGuests": "additional_guests",
    "dropdown": "dropdown",
    "checkbox": "checkbox",
    "text": "text",
    "radioButton": "radio_button",
    "name": "name",
    "email": "email",
}
# Ids of new controls: `phone-1a4acde6c958ff66`, as Wix makes them.
_ID_PREFIX = {
    ControlKind.PHONE: "phone",
    ControlKind.ADDRESS: "address",
    ControlKind.DATE: "date",
    ControlKind.DROPDOWN: "dropdown",
    ControlKind.CHECKBOX: "checkbox",
    ControlKind.TEXT: "text",
    ControlKind.RADIO_BUTTON: "radio",
}
# The one additional-guests control of a form has this id (its inputs are
# `additionalGuests` and `guestNames`).
GUESTS_ID = "additionalGuests"


def _invalid_configuration(description: str, **data: Any) -> FailedPrecondition:
    return FailedPrecondition(description, code=INVALID_CONFIGURATION, data=data)


def _control_not_found(event_id: str, control_id: str) -> NotFound:
    return NotFound(f"Control {control_id} not found in the form of event {event_id}", code="CONTROL_NOT_FOUND")


# --- reading -------------------------------------------------------------------


def of_event(session: Session, event_id: str) -> EventForm | None:
    """The event's stored form, or None when it still has the default one."""
    return session.get(EventForm, event_id)


def get(session: Session, principal: Principal, event_id: str) -> EventForm | None:
    """Get Form: visitors (Read Events) read the forms of published events; the site's
    managers every event's. Another site's event, or a draft to a visitor, is 404."""
    events.get(session, principal, event_id)
    return of_event(session, event_id)


def present(session: Session, principal: Principal, evs: Sequence[Event]) -> dict[str, dict[str, Any]]:
    """Events v3's FORM fieldset: ``{event id: {"form": Form}}`` for the events given
    (already the caller's to see)."""
    ids = [e.id for e in evs]
    rows = {f.event_id: f for f in session.scalars(select(EventForm).where(EventForm.event_id.in_(ids)))} if ids else {}
    return {e.id: {"form": wire.form(rows.get(e.id))} for e in evs}


# --- writing -------------------------------------------------------------------


def _materialise(session: Session, event: Event) -> EventForm:
    """The event's row (the event row is locked), made with the default form if it has none yet."""
    f = of_event(session, event.id)
    if f is None:
        t = now()
        f = EventForm(
            event_id=event.id, site_id=event.site_id, controls=wire.default_controls(), messages={},
            created_date=t, updated_date=t, event_seq=0,
        )
        session.add(f)
    return f


def _changed(session: Session, principal: Principal, event: Event, f: EventForm) -> None:
    """Every change is live at once, and announced by ``EventUpdated``."""
    f.updated_date = now()
    f.event_seq = (f.event_seq or 0) + 1
    session.flush()
    outbox.record_legacy(
        session,
        site_id=f.site_id,
        identity=principal.webhook_identity(),
        name=WEBHOOK_NAME,
        entity_id=event.id,
        sequence=f.event_seq,
        data=wire.event_updated(event),
        prefix=WEBHOOK_PREFIX,
    )


def _one_control(req: AddControlRequest, allowed: Sequence[str]) -> tuple[str, Any] | None:
    given = [name for name, attr in _ATTR.items() if getattr(req, attr, None) is not None]
    if len(given) > 1:
        raise InvalidArgument(given[1], f"only one control may be given, got {', '.join(given)}")
    if not given:
        return None
    if given[0] not in allowed:
        raise InvalidArgument(given[0], "cannot be added: every form has its one name and e-mail control")
    return given[0], getattr(req, _ATTR[given[0]])


def _check_options(field: str, spec: dict[str, Any], least: int) -> None:
    options = spec.get("options") or []
    if len(options) < least:
        raise InvalidArgument(f"{field}.options", f"must have at least {least} options", "MIN_SIZE")
    if len(set(options)) != len(options):
        raise InvalidArgument(f"{field}.options", "must be distinct")


def _spec(kind: ControlKind, field: str, value: Any) -> dict[str, Any]:
    """The settings of a control as stored, checked beyond the schema's bounds."""
    spec: dict[str, Any] = value.model_dump(by_alias=True, exclude_none=True)
    if kind in (ControlKind.DROPDOWN, ControlKind.RADIO_BUTTON):
        _check_options(field, spec, 2)
    elif kind == ControlKind.CHECKBOX:
        _check_options(field, spec, 1)
    selection = spec.get("defaultOptionSelection")
    if selection is not None:
        if "optionIndex" in selection and "placeholderText" in selection:
            raise InvalidArgument(f"{field}.defaultOptionSelection", "takes optionIndex or placeholderText, not both")
        if selection.get("optionIndex", 0) >= len(spec.get("options") or []):
            raise InvalidArgument(f"{field}.defaultOptionSelection.optionIndex", "is not the index of an option", "MAX")
    return spec


def _renumbered(controls: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Name and e-mail first (0, 1), then the custom controls in their order from 2."""
    system = {c["kind"]: c for c in controls if c["kind"] in SYSTEM_KINDS}
    custom = sorted((c for c in controls if c["kind"] not in SYSTEM_KINDS), key=lambda c: (c["orderIndex"], c["id"]))
    ordered = [system[ControlKind.NAME.value], system[ControlKind.EMAIL.value], *custom]
    return [{**c, "orderIndex": i} for i, c in enumerate(ordered)]


def add_control(session: Session, principal: Principal, event_id: str, req: AddControlRequest) -> tuple[str, EventForm]:
    """Add Control: the control goes last; answers (id, the form)."""
    picked = _one_control(req, ADDABLE)
    if picked is None:
        raise InvalidArgument("control", f"one of {', '.join(ADDABLE)} is required", "REQUIRED_FIELD")
    wire_name, value = picked
    kind = ControlKind(wire_name)
    spec = _spec(kind, wire_name, value)
    event = events.lock_for_update(session, principal.site_id, event_id)
    f = _materialise(session, event)
    controls = list(f.controls)
    if len(controls) >= limits.FORM_CONTROLS_PER_EVENT:
        raise _invalid_configuration(
            f"A form holds at most {limits.FORM_CONTROLS_PER_EVENT} controls", limit=limits.FORM_CONTROLS_PER_EVENT
        )
    if kind == ControlKind.ADDITIONAL_GUESTS:
        if event.initial_type != "RSVP":
            raise _invalid_configuration("Additional guests can be added to the form of an RSVP event only")
        if any(c["kind"] == kind.value for c in controls):
            raise _invalid_configuration("The form already has its additional guests control")
        cid = GUESTS_ID
    else:
        taken = {c["id"] for c in controls}
        cid = f"{_ID_PREFIX[kind]}-{secrets.token_hex(8)}"
        while cid in taken:  # pragma: no cover - 64 random bits
            cid = f"{_ID_PREFIX[kind]}-{secrets.token_hex(8)}"
    controls.append({"id": cid, "kind": kind.value, "orderIndex": len(controls) + 1_000_000, "spec": spec})
    f.controls = _renumbered(controls)
    _changed(session, principal, event, f)
    return cid, f


def _find(f: EventForm, event_id: str, control_id: str) -> dict[str, Any]:
    for c in f.controls:
        if c["id"] == control_id:
            return c
    raise _control_not_found(event_id, control_id)


def update_control(
    session: Session, principal: Principal, event_id: str, control_id: str, req: UpdateControlRequest
) -> EventForm:
    """Update Control (PUT): the control's settings become the ones given, which must be
    of the control's own kind (a phone stays a phone); the name and e-mail controls take
    only their labels. ``orderIndex`` moves a custom control among the custom ones."""
    picked = _one_control(req, (*ADDABLE, "name", "email"))
    if picked is None and req.order_index is None:
        raise InvalidArgument("control", "a control or orderIndex is required", "REQUIRED_FIELD")
    event = events.lock_for_update(session, principal.site_id, event_id)
    f = _materialise(session, event)
    current = _find(f, event_id, control_id)
    kind = ControlKind(current["kind"])
    updated = dict(current)
    if picked is not None:
        wire_name, value = picked
        if wire_name != kind.value:
            if kind in SYSTEM_KINDS:
                raise _invalid_configuration(
                    f'The {kind.value} control is required on every form: only its labels can change (send "{kind.value}")',
                    controlId=control_id,
                )
            raise _invalid_configuration(
                f'Control {control_id} is a {kind.value} control: send "{kind.value}" to update it', controlId=control_id
            )
        updated["spec"] = _spec(kind, wire_name, value)
    if req.order_index is not None and req.order_index != current["orderIndex"]:
        if kind in SYSTEM_KINDS:
            raise _invalid_configuration(
                f"The {kind.value} control is pinned to the top of the form", controlId=control_id
            )
        # between the custom controls now at orderIndex - 1 and orderIndex: ties sort by id,
        # so place it half a step before the control that holds that index today
        updated["orderIndex"] = req.order_index - 0.5 if req.order_index < current["orderIndex"] else req.order_index + 0.5
    f.controls = _renumbered([updated if c["id"] == control_id else c for c in f.controls])
    _changed(session, principal, event, f)
    return f


def delete_control(session: Session, principal: Principal, event_id: str, control_id: str) -> EventForm:
    """Delete Control: custom controls only; guests' answers already given stay on their orders."""
    event = events.lock_for_update(session, principal.site_id, event_id)
    f = _materialise(session, event)
    current = _find(f, event_id, control_id)
    if current["kind"] in SYSTEM_KINDS:
        raise _invalid_configuration(
            f"The {current['kind']} control is required on every form and cannot be deleted", controlId=control_id
        )
    f.controls = _renumbered([c for c in f.controls if c["id"] != control_id])
    _changed(session, principal, event, f)
    return f


def _paths(tree: dict[str, Any], prefix: str = "") -> set[str]:
    out = set()
    for k, v in tree.items():
        out.add(prefix + k)
        if isinstance(v, dict):
            out |= _paths(v, f"{prefix}{k}.")
    return out


MESSAGE_PATHS = _paths(wire.DEFAULT_MESSAGES)


def _at(tree: dict[str, Any], path: str) -> Any:
    node: Any = tree
    for part in path.split("."):
        if not isinstance(node, dict) or part not in node:
            return None
        node = node[part]
    return node


def _put(tree: dict[str, Any], path: str, value: Any) -> dict[str, Any]:
    head, _, rest = path.partition(".")
    out = dict(tree)
    if not rest:
        out[head] = value
    else:
        child = out.get(head)
        out[head] = _put(child if isinstance(child, dict) else {}, rest, value)
    return out


def update_messages(session: Session, principal: Principal, event_id: str, req: UpdateMessagesRequest) -> EventForm:
    """Update Messages: with ``fields``, each path (``checkout.title``, ``rsvp.positiveMessages``
    ...) takes its value from ``messages`` (a path ``messages`` leaves out returns to its
    default); without, ``messages`` replaces them all (what it leaves out is the default)."""
    given = req.messages.model_dump(by_alias=True, exclude_none=True) if req.messages else {}
    raw = req.fields
    paths = [p.strip() for p in (raw.split(",") if isinstance(raw, str) else raw or []) if p.strip()]
    for i, p in enumerate(paths):
        if p.startswith("messages."):
            paths[i] = p = p[len("messages."):]
        if p not in MESSAGE_PATHS:
            raise InvalidArgument("fields", f'"{p}" is not a path of the form\'s messages')
    event = events.lock_for_update(session, principal.site_id, event_id)
    f = _materialise(session, event)
    if not paths:
        messages = given
    else:
        messages = wire.merged(wire.DEFAULT_MESSAGES, f.messages)
        for p in sorted(paths, key=len):
            value = _at(given, p)
            default = _at(wire.DEFAULT_MESSAGES, p)
            messages = _put(messages, p, wire.merged(default, value) if isinstance(default, dict) else (value or default))
    f.messages = wire.merged(wire.DEFAULT_MESSAGES, messages)
    _changed(session, principal, event, f)
    return f


def publish_draft(session: Session, principal: Principal, event_id: str) -> EventForm | None:
    """Publish Draft (deprecated): every change is already live; answers the form."""
    events.lock_for_update(session, principal.site_id, event_id)
    return of_event(session, event_id)


def discard_draft(session: Session, principal: Principal, event_id: str) -> None:
    """Discard Draft (deprecated): there is no draft to discard."""
    events.lock_for_update(session, principal.site_id, event_id)


# --- reacting to events ----------------------------------------------------------------


def delete_of_event(session: Session, principal: Principal, event: Event) -> None:
    """The form goes with its event."""
    f = of_event(session, event.id)
    if f is not None:
        session.delete(f)
        session.flush()


def clone_of_event(session: Session, principal: Principal, src: Event, copy: Event) -> dict[str, str]:
    """Clone Event copies the form (its controls keep their ids: answers read alike).
    Forms are not in EventCloned's id map."""
    f = of_event(session, src.id)
    if f is not None:
        t = now()
        session.add(
            EventForm(
                event_id=copy.id, site_id=copy.site_id, controls=[dict(c) for c in f.controls],
                messages=dict(f.messages), created_date=t, updated_date=t, event_seq=0,
            )
        )
        session.flush()
    return {}


events.hooks.deleting.append(delete_of_event)
events.hooks.cloning.append(clone_of_event)
events.hooks.presenting.setdefault("FORM", []).append(present)


# --- guests' answers ---------------------------------------------------------------------


class Answer(Protocol):
    """One ``inputValues`` item of a guest's form (orders' ``InputValue``)."""

    input_name: str
    value: str | None
    values: list[str] | None


EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
PHONE_RE = re.compile(r"^\+?[0-9()\-.\s/]+$")
NUMBER_RE = re.compile(r"^-?[0-9]+(\.[0-9]+)?$")
# Answers go into e-mail headers, PDFs and calendar files: no line breaks (but in a
# multi-line text) or other control characters.
_CONTROL_CHARS = re.compile(r"[\x00-\x1f\x7f]")
# Answers the buyer gives once for the first guest: ``buyer`` may carry them instead.
BUYER_INPUTS = ("firstName", "lastName", "email")


def _is_date(value: str) -> bool:
    try:
        dt.datetime.fromisoformat(value)
    except ValueError:
        return False
    return True


def _check_input(control: dict[str, Any], kind: ControlKind, inp: dict[str, Any], given: list[str]) -> tuple[str, str] | None:
    """(description, rule) of what is wrong with one input's answer, or None."""
    label = control["label"]
    where = f'of "{label}" (control {control["id"]})'
    if not given:
        return (f"is required: answer {where}", "REQUIRED_FIELD") if inp["mandatory"] else None
    type_, options = inp["type"], inp["options"]
    if type_ in ("TEXT", "NUMBER", "DATE_TIME") and len(given) > 1:
        return f"takes one value {where}, got {len(given)}", "MAX_SIZE"
    max_size = inp.get("maxSize")
    if max_size is not None and len(given) > max_size:
        return f"takes at most {max_size} values {where}, got {len(given)}", "MAX_SIZE"
    max_length = inp.get("maxLength")
    multiline = kind == ControlKind.TEXT and control.get("type") == "TEXTAREA"
    for v in given:
        if _CONTROL_CHARS.search(v.replace("\r", "").replace("\n", "") if multiline else v):
            return f"must not hold control characters {where}", "FORMAT"
        if max_length is not None and len(v) > max_length:
            return f"must be at most {max_length} characters {where}", "MAX_LENGTH"
        if type_ == "NUMBER" and not NUMBER_RE.match(v.strip()):
            return f"must be a number {where}", "FORMAT"
        if type_ == "DATE_TIME" and not _is_date(v.strip()):
            return f"must be a date (YYYY-MM-DD) {where}", "FORMAT"
        if options and v not in options:
            return f"must be one of the options {where}", "FORMAT"
    if kind == ControlKind.EMAIL and not EMAIL_RE.match(given[0].strip()):
        return f"is not an e-mail address {where}", "FORMAT"
    if kind == ControlKind.PHONE and not (PHONE_RE.match(given[0]) and sum(ch.isdigit() for ch in given[0]) >= 3):
        return f"is not a phone number {where}", "FORMAT"
    if type_ == "TEXT_ARRAY" and len(set(given)) != len(given):
        return f"has a value twice {where}", "FORMAT"
    return None


def check_answers(
    session: Session, event: Event, forms: Sequence[Sequence[Answer] | None], buyer: dict[str, str | None]
) -> None:
    """Checkout's rule for guests' forms (``options.ignoreFormValidation`` skips it):
    each guest answers every mandatory input of the event's form, each answer fits its
    input (one value where one is taken, a number, a date, an e-mail, one of the
    options, no more values than allowed, no longer than allowed), and no answer names
    an input the form does not have. The first guest's name and e-mail may come from
    ``buyer`` instead. Refusals are one 400 listing every wrong answer, each naming
    ``guests[i].form.inputValues.<inputName>`` and its control."""
    f = of_event(session, event.id)
    stored = {c["id"]: ControlKind(c["kind"]) for c in (f.controls if f is not None else wire.default_controls())}
    inputs: dict[str, tuple[dict[str, Any], ControlKind, dict[str, Any]]] = {}
    for c in wire.form(f)["controls"]:
        for inp in c["inputs"]:
            inputs[inp["name"]] = (c, stored[c["id"]], inp)
    violations: list[dict[str, str]] = []
    for i, answers in enumerate(forms or [None]):
        base = f"guests[{i}].form.inputValues"
        got: dict[str, list[str]] = {}
        for a in answers or []:
            if a.input_name in got:
                violations.append({"field": f"{base}.{a.input_name}", "description": "is answered twice", "violatedRule": "CUSTOM"})
                continue
            if a.input_name not in inputs:
                violations.append({
                    "field": f"{base}.{a.input_name}",
                    "description": "is not an input of this event's registration form",
                    "violatedRule": "CUSTOM",
                })
                continue
            vals = a.values if a.values else ([a.value] if a.value is not None else [])
            got[a.input_name] = [v for v in vals if v.strip()]
        if i == 0:
            for name in BUYER_INPUTS:
                if not buyer.get(name) or name not in inputs:
                    continue
                # checkout keeps ``buyer`` over the form: what is kept is what is checked
                control, kind, inp = inputs[name]
                wrong = _check_input(control, kind, inp, [str(buyer[name])])
                if wrong:
                    violations.append({"field": f"buyer.{name}", "description": wrong[0], "violatedRule": wrong[1]})
                if not got.get(name):
                    got[name] = [str(buyer[name])]
        for name, (control, kind, inp) in inputs.items():
            if kind == ControlKind.ADDITIONAL_GUESTS:
                if name == "guestNames":
                    continue  # checked with the number of guests, below
                if [v.strip() for v in got.get(name, [])] == ["0"]:
                    got[name] = []  # no additional guests
            wrong = _check_input(control, kind, inp, got.get(name, []))
            if wrong:
                violations.append({"field": f"{base}.{name}", "description": wrong[0], "violatedRule": wrong[1]})
        if "guestNames" in inputs and "additionalGuests" in inputs:
            violations.extend(_check_guests(inputs, got, base))
    if violations:
        raise InvalidArgument.many(violations)


def _check_guests(
    inputs: dict[str, tuple[dict[str, Any], ControlKind, dict[str, Any]]], got: dict[str, list[str]], base: str
) -> list[dict[str, str]]:
    control, _, names_input = inputs["guestNames"]
    count_text = (got.get("additionalGuests") or ["0"])[0].strip()
    count = int(count_text) if count_text.isdigit() else 0
    names = got.get("guestNames", [])
    field = f"{base}.guestNames"
    if len(names) > count:
        return [{"field": field, "description": f"names {len(names)} guests for {count} additional guests", "violatedRule": "MAX_SIZE"}]
    if names_input["mandatory"] and len(names) < count:
        return [{"field": field, "description": f"must name each of the {count} additional guests", "violatedRule": "REQUIRED_FIELD"}]
    for n in names:
        if len(n) > (names_input.get("maxLength") or 0):
            return [{"field": field, "description": f"a name must be at most {names_input['maxLength']} characters", "violatedRule": "MAX_LENGTH"}]
    return []
