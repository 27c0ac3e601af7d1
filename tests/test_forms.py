"""Registration forms (`@wix/auto_sdk_events_forms` 1.0.108): every method, rule and
refusal, tenancy and who may read or write, the events hooks (clone, delete, the FORM
fieldset's presenter) and the form's webhook, on SQLite and PostgreSQL. Checkout's
validation of guests' answers is in tests/test_checkout_form.py."""

from __future__ import annotations

from sqlalchemy import select

from boxoffice import limits
from boxoffice.events.models import Event
from boxoffice.forms import service as forms_service
from boxoffice.forms.models import EventForm
from boxoffice.identity import IdentityType, Permission, Principal
from boxoffice.outbox.models import OutboxEvent
from tests.conftest import new_id
from tests.helpers import EVENTS, create_event

DOCS = "/events/v1/events"
ALT = "/_api/wix-events-web/v1/events"
WEBHOOK = "wix.events.events.EventUpdated"


def form_url(event_id, base=DOCS):
    return f"{base}/{event_id}/form"


def get_form(api, event_id, base=DOCS, status=200):
    r = api.get(form_url(event_id, base), params={"eventId": event_id})
    assert r.status_code == status, r.text
    return r.json()["form"] if status == 200 else r


def add(api, event_id, control, status=200, base=DOCS):
    r = api.post(f"{form_url(event_id, base)}/control", {"eventId": event_id, **control})
    assert r.status_code == status, r.text
    return r.json() if status == 200 else r


def put(api, event_id, control_id, body, status=200, base=DOCS):
    r = api.client.put(f"{form_url(event_id, base)}/controls/{control_id}", headers=api.headers(), json={"eventId": event_id, **body})
    assert r.status_code == status, r.text
    return r.json() if status == 200 else r


def delete(api, event_id, control_id, status=200, base=DOCS):
    r = api.delete(f"{form_url(event_id, base)}/controls/{control_id}", params={"eventId": event_id})
    assert r.status_code == status, r.text
    return r.json() if status == 200 else r


def messages(api, event_id, body, status=200, base=DOCS):
    r = api.patch(f"{form_url(event_id, base)}/messages", {"eventId": event_id, **body})
    assert r.status_code == status, r.text
    return r.json()["form"] if status == 200 else r


def code(r):
    return r.json()["details"]["applicationError"]["code"]


def violation(r):
    return r.json()["details"]["validationError"]["fieldViolations"][0]


def control(form, control_id):
    return next(c for c in form["controls"] if c["id"] == control_id)


def webhooks(database, event_id):
    with database.session() as s:
        return list(
            s.scalars(
                select(OutboxEvent).where(OutboxEvent.entity_id == event_id, OutboxEvent.event_type == WEBHOOK).order_by(OutboxEvent.position)
            )
        )


# --- Get Form: the default form ------------------------------------------------------------


def test_every_event_has_the_default_form_on_both_path_families(api):
    ev = create_event(api)
    r = api.get(form_url(ev["id"]))
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["draftForm"] == body["form"]  # deprecated: the same as form
    f = body["form"]
    name, email = f["controls"]
    assert name["type"] == "NAME" and name["system"] is True and name["id"] == "name" and name["orderIndex"] == 0
    assert [i["name"] for i in name["inputs"]] == ["firstName", "lastName"]
    assert all(i["mandatory"] and i["type"] == "TEXT" and i["maxLength"] == 50 for i in name["inputs"])
    assert name["label"] == "First Name, Last Name"
    assert email["type"] == "INPUT" and email["system"] is True and email["id"] == "email" and email["orderIndex"] == 1
    assert email["inputs"][0]["name"] == "email" and email["inputs"][0]["mandatory"] is True
    m = f["messages"]
    assert m["rsvp"]["positiveMessages"]["confirmation"]["title"] and m["checkout"]["confirmation"]["downloadTicketsLabel"]
    assert m["registrationClosed"]["exploreEventsActionLabel"] and m["ticketsUnavailable"]["message"]
    assert get_form(api, ev["id"], ALT) == f


# --- Add Control -------------------------------------------------------------------------


def test_add_every_control_kind(api, database):
    ev = create_event(api)
    r = add(api, ev["id"], {"phone": {"label": "Work phone", "mandatory": True}})
    pid = r["id"]
    assert pid.startswith("phone-") and len(pid) == len("phone-") + 16
    phone = control(r["form"], pid)
    assert phone == {
        "type": "INPUT", "system": False, "name": pid, "label": "Work phone", "orderIndex": 2, "id": pid,
        "inputs": [{"name": pid, "array": False, "label": "Work phone", "additionalLabels": {}, "options": [],
                    "mandatory": True, "maxLength": 25, "type": "TEXT"}],
    }
    short = add(api, ev["id"], {"address": {"labels": {"addressLine": "Where"}}})
    assert control(short["form"], short["id"])["type"] == "ADDRESS_SHORT"
    full = add(api, ev["id"], {"address": {"full": True, "mandatory": True, "labels": {"city": "Town"}}})
    fc = control(full["form"], full["id"])
    assert fc["type"] == "ADDRESS_FULL" and fc["inputs"][0]["type"] == "ADDRESS" and fc["inputs"][0]["array"] is True
    assert fc["inputs"][0]["additionalLabels"]["city"] == "Town" and fc["inputs"][0]["maxSize"] == 5
    date = add(api, ev["id"], {"date": {"label": "Birthday"}})
    assert control(date["form"], date["id"])["inputs"][0]["type"] == "DATE_TIME"
    dd = add(api, ev["id"], {"dropdown": {"label": "Size", "options": ["S", "M", "L"], "mandatory": True,
                                          "defaultOptionSelection": {"optionIndex": 1}}})
    d = control(dd["form"], dd["id"])
    assert d["type"] == "DROPDOWN" and d["inputs"][0]["options"] == ["S", "M", "L"]
    assert d["inputs"][0]["defaultOptionSelection"] == {"optionIndex": 1}
    cb = add(api, ev["id"], {"checkbox": {"label": "Diet", "options": ["Vegan", "Halal"]}})
    c = control(cb["form"], cb["id"])
    assert c["type"] == "CHECKBOX" and c["inputs"][0]["type"] == "TEXT_ARRAY" and c["inputs"][0]["maxSize"] == 2
    tx = add(api, ev["id"], {"text": {"label": "Notes", "multiLine": True, "maxLength": 300}})
    t = control(tx["form"], tx["id"])
    assert t["type"] == "TEXTAREA" and t["inputs"][0]["maxLength"] == 300
    one_line = add(api, ev["id"], {"text": {"label": "Nickname"}})
    assert control(one_line["form"], one_line["id"])["inputs"][0]["maxLength"] == limits.FORM_TEXT_MAX_LENGTH
    rb = add(api, ev["id"], {"radioButton": {"label": "Meal", "options": ["Fish", "Meat"]}}, base=ALT)
    assert control(rb["form"], rb["id"])["type"] == "RADIO"
    f = get_form(api, ev["id"])
    assert [c["orderIndex"] for c in f["controls"]] == list(range(11))
    assert f["controls"][-1]["id"] == rb["id"]
    # every change is live at once, and announced by the legacy EventUpdated
    rows = webhooks(database, ev["id"])
    assert len(rows) == 9 and [r.entity_event_sequence for r in rows] == list(range(1, 10))
    assert rows[0].payload["eventId"] == ev["id"] and rows[0].payload["title"] == ev["title"]
    assert rows[0].payload["scheduleConfig"]["startDate"] and rows[0].payload["location"]["address"] == "1 Main St"


def test_add_control_refusals(api):
    ev = create_event(api)
    for body, field, rule in (
        ({}, "control", "REQUIRED_FIELD"),
        ({"phone": {}, "date": {}}, "date", "CUSTOM"),
        ({"dropdown": {"label": "One", "options": ["A"]}}, "dropdown.options", "MIN_SIZE"),
        ({"radioButton": {"options": []}}, "radioButton.options", "MIN_SIZE"),
        ({"checkbox": {"options": []}}, "checkbox.options", "MIN_SIZE"),
        ({"dropdown": {"options": ["A", "A"]}}, "dropdown.options", "CUSTOM"),
        ({"dropdown": {"options": ["A", ""]}}, "dropdown.options[1]", "MIN_LENGTH"),
        ({"dropdown": {"options": ["A", "x" * 201]}}, "dropdown.options[1]", "MAX_LENGTH"),
        ({"dropdown": {"options": [str(n) for n in range(201)]}}, "dropdown.options", "MAX_SIZE"),
        ({"dropdown": {"options": ["A", "B"], "defaultOptionSelection": {"optionIndex": 2}}},
         "dropdown.defaultOptionSelection.optionIndex", "MAX"),
        ({"dropdown": {"label": "x" * 201, "options": ["A", "B"]}}, "dropdown.label", "MAX_LENGTH"),
        ({"phone": {"label": "x" * 101}}, "phone.label", "MAX_LENGTH"),
        ({"text": {"maxLength": 1001}}, "text.maxLength", "MAX"),
        ({"additionalGuests": {"maxGuests": 11}}, "additionalGuests.maxGuests", "MAX"),
    ):
        r = add(api, ev["id"], body, status=400)
        assert violation(r)["field"] == field and violation(r)["violatedRule"] == rule, (body, r.text)
    # the bounds themselves are accepted
    add(api, ev["id"], {"dropdown": {"label": "x" * 200, "options": [str(n) for n in range(200)]}})
    add(api, ev["id"], {"text": {"maxLength": 1000}})
    # name and e-mail cannot be added: every form has exactly one of each
    r = add(api, ev["id"], {"name": {"labels": {"firstName": "F"}}}, status=400)
    assert violation(r)["field"] == "control"


def test_additional_guests_only_once_and_only_on_rsvp_events(api):
    ticketed = create_event(api)
    r = add(api, ticketed["id"], {"additionalGuests": {"maxGuests": 3}}, status=428)
    assert code(r) == "INVALID_EVENT_CONFIGURATION"
    rsvp = create_event(api, initial_type="RSVP")
    g = add(api, rsvp["id"], {"additionalGuests": {"maxGuests": 3, "namesMandatory": True, "labels": {"multiple": "Friends"}}})
    assert g["id"] == "additionalGuests"
    c = control(g["form"], "additionalGuests")
    assert c["type"] == "GUEST_CONTROL" and c["label"] == "Friends"
    assert [i["name"] for i in c["inputs"]] == ["additionalGuests", "guestNames"]
    assert c["inputs"][0]["type"] == "NUMBER" and c["inputs"][0]["options"] == ["1", "2", "3"]
    assert c["inputs"][1]["mandatory"] is True and c["inputs"][1]["maxSize"] == 3
    assert code(add(api, rsvp["id"], {"additionalGuests": {}}, status=428)) == "INVALID_EVENT_CONFIGURATION"


def test_at_most_the_limit_of_controls(api):
    ev = create_event(api)
    for _ in range(limits.FORM_CONTROLS_PER_EVENT - 2):
        add(api, ev["id"], {"phone": {}})
    r = add(api, ev["id"], {"phone": {}}, status=428)
    assert code(r) == "INVALID_EVENT_CONFIGURATION"
    assert r.json()["details"]["applicationError"]["data"] == {"limit": limits.FORM_CONTROLS_PER_EVENT}
    assert len(get_form(api, ev["id"])["controls"]) == limits.FORM_CONTROLS_PER_EVENT


# --- Update Control ------------------------------------------------------------------------


def test_update_control_replaces_its_settings_and_moves_it(api, database):
    ev = create_event(api)
    a = add(api, ev["id"], {"phone": {"label": "A", "mandatory": True}})["id"]
    b = add(api, ev["id"], {"text": {"label": "B"}})["id"]
    c = add(api, ev["id"], {"dropdown": {"label": "C", "options": ["x", "y"]}})["id"]
    f = put(api, ev["id"], a, {"phone": {"label": "A2"}})["form"]
    assert control(f, a)["label"] == "A2" and control(f, a)["inputs"][0]["mandatory"] is False  # PUT: replaced
    f = put(api, ev["id"], c, {"orderIndex": 2})["form"]
    assert [x["id"] for x in f["controls"]] == ["name", "email", c, a, b]
    f = put(api, ev["id"], c, {"orderIndex": 4, "dropdown": {"label": "C2", "options": ["x", "y", "z"]}}, base=ALT)["form"]
    assert [x["id"] for x in f["controls"]] == ["name", "email", a, b, c]
    assert control(f, c)["inputs"][0]["options"] == ["x", "y", "z"]
    f = put(api, ev["id"], b, {"orderIndex": 99})["form"]  # past the end: last
    assert [x["id"] for x in f["controls"]] == ["name", "email", a, c, b]
    f = put(api, ev["id"], b, {"orderIndex": 0})["form"]  # above the pinned ones: first custom
    assert [x["id"] for x in f["controls"]] == ["name", "email", b, a, c]
    assert [x["orderIndex"] for x in f["controls"]] == [0, 1, 2, 3, 4]
    # the system controls take their labels
    f = put(api, ev["id"], "name", {"name": {"labels": {"firstName": "Given name", "lastName": "Family name"}}})["form"]
    assert control(f, "name")["label"] == "Given name, Family name"
    assert [i["label"] for i in control(f, "name")["inputs"]] == ["Given name", "Family name"]
    f = put(api, ev["id"], "email", {"email": {"label": "E-mail address"}})["form"]
    assert control(f, "email")["inputs"][0]["label"] == "E-mail address" and control(f, "email")["inputs"][0]["mandatory"]
    assert len(webhooks(database, ev["id"])) == 3 + 7


def test_update_control_refusals(api):
    ev = create_event(api)
    p = add(api, ev["id"], {"phone": {}})["id"]
    for cid, body in (
        (p, {"dropdown": {"options": ["a", "b"]}}),  # a phone stays a phone
        (p, {"name": {"labels": {"firstName": "F"}}}),
        ("name", {"phone": {"label": "P"}}),  # the system controls take only their labels
        ("email", {"name": {}}),
        ("name", {"orderIndex": 5}),  # pinned to the top
    ):
        r = put(api, ev["id"], cid, body, status=428)
        assert code(r) == "INVALID_EVENT_CONFIGURATION", (cid, body, r.text)
    assert violation(put(api, ev["id"], p, {}, status=400))["field"] == "control"
    assert violation(put(api, ev["id"], p, {"phone": {}, "text": {}}, status=400))["field"] == "text"
    assert violation(put(api, ev["id"], p, {"phone": {"label": "x" * 101}}, status=400))["field"] == "phone.label"
    assert violation(put(api, ev["id"], p, {"orderIndex": -1}, status=400))["field"] == "orderIndex"
    r = put(api, ev["id"], "phone-0000000000000000", {"phone": {}}, status=404)
    assert code(r) == "CONTROL_NOT_FOUND"
    # what the 1.0.108 SDK sends (its bug): a control that does not exist
    assert code(put(api, ev["id"], "undefined", {"phone": {}}, status=404)) == "CONTROL_NOT_FOUND"
    assert put(api, ev["id"], "name", {"orderIndex": 0})["form"]["controls"][0]["id"] == "name"  # its own place: fine


# --- Delete Control ------------------------------------------------------------------------


def test_delete_control(api, database):
    ev = create_event(api)
    a = add(api, ev["id"], {"phone": {}})["id"]
    b = add(api, ev["id"], {"date": {}})["id"]
    f = delete(api, ev["id"], a)["form"]
    assert [x["id"] for x in f["controls"]] == ["name", "email", b] and control(f, b)["orderIndex"] == 2
    assert code(delete(api, ev["id"], a, status=404)) == "CONTROL_NOT_FOUND"
    assert code(delete(api, ev["id"], "undefined", status=404)) == "CONTROL_NOT_FOUND"
    for system in ("name", "email"):
        r = delete(api, ev["id"], system, status=428)
        assert code(r) == "INVALID_EVENT_CONFIGURATION" and "cannot be deleted" in r.json()["message"]
    f = delete(api, ev["id"], b, base=ALT)["form"]
    assert [x["id"] for x in f["controls"]] == ["name", "email"]
    assert len(webhooks(database, ev["id"])) == 4


# --- Update Messages -----------------------------------------------------------------------


def test_update_messages_with_and_without_a_field_mask(api):
    ev = create_event(api)
    default = get_form(api, ev["id"])["messages"]
    f = messages(api, ev["id"], {"fields": "checkout.title,registrationClosed",
                                 "messages": {"checkout": {"title": "Your details", "submitActionLabel": "ignored"},
                                              "registrationClosed": {"message": "Sold out, sorry"}}})
    m = f["messages"]
    assert m["checkout"]["title"] == "Your details"
    assert m["checkout"]["submitActionLabel"] == default["checkout"]["submitActionLabel"]  # not in the mask
    assert m["registrationClosed"] == {"message": "Sold out, sorry",
                                       "exploreEventsActionLabel": default["registrationClosed"]["exploreEventsActionLabel"]}
    assert get_form(api, ev["id"])["messages"] == m
    # a path the mask names and `messages` leaves out returns to its default
    m = messages(api, ev["id"], {"fields": ["checkout.title"], "messages": {}}, base=ALT)["messages"]
    assert m["checkout"]["title"] == default["checkout"]["title"] and m["registrationClosed"]["message"] == "Sold out, sorry"
    # without a mask: a full update (what it leaves out is the default)
    m = messages(api, ev["id"], {"messages": {"rsvp": {"rsvpYesOption": "Count me in"}}})["messages"]
    assert m["rsvp"]["rsvpYesOption"] == "Count me in" and m["registrationClosed"] == default["registrationClosed"]
    assert m["rsvp"]["positiveMessages"] == default["rsvp"]["positiveMessages"]


def test_update_messages_refusals(api):
    ev = create_event(api)
    r = messages(api, ev["id"], {"fields": "checkout.nope", "messages": {}}, status=400)
    assert violation(r)["field"] == "fields"
    r = messages(api, ev["id"], {"messages": {"checkout": {"title": "x" * (limits.FORM_MESSAGE_MAX + 1)}}}, status=400)
    assert violation(r)["field"] == "messages.checkout.title" and violation(r)["violatedRule"] == "MAX_LENGTH"
    assert messages(api, ev["id"], {"fields": ["x"] * 101}, status=400).status_code == 400


# --- Publish Draft / Discard Draft (deprecated no-ops) ------------------------------------


def test_publish_and_discard_draft_are_no_ops(api, database):
    ev = create_event(api)
    pid = add(api, ev["id"], {"phone": {"label": "P"}})["id"]
    before = get_form(api, ev["id"])
    for base in (DOCS, ALT):
        r = api.post(f"{form_url(ev['id'], base)}/publish", {"eventId": ev["id"]})
        assert r.status_code == 200 and r.json() == {"form": before}
        r = api.delete(form_url(ev["id"], base), params={"eventId": ev["id"]})
        assert r.status_code == 200 and r.json() == {}
    assert control(get_form(api, ev["id"]), pid)["label"] == "P"  # nothing discarded
    assert len(webhooks(database, ev["id"])) == 1
    # an event that never changed its form publishes the default
    other = create_event(api)
    assert api.post(f"{form_url(other['id'])}/publish", {}).json()["form"] == get_form(api, other["id"])
    assert api.post(f"{form_url(new_id())}/publish", {}).status_code == 404
    assert api.delete(form_url(new_id())).status_code == 404


# --- who may read and write ---------------------------------------------------------------


def test_visitors_read_forms_of_published_events_only_and_never_write(api, make_api):
    draft = create_event(api)
    live = create_event(api, draft=False)
    pid = add(api, live["id"], {"phone": {}})["id"]
    visitor = make_api(identity="visitor")
    assert control(get_form(visitor, live["id"]), pid)["type"] == "INPUT"
    assert code(get_form(visitor, draft["id"], status=404)) == "EVENT_NOT_FOUND"
    assert get_form(make_api(identity="member"), live["id"], ALT)["controls"][2]["id"] == pid
    reader = make_api(permissions={Permission.READ_EVENTS})
    for who in (visitor, reader, make_api(permissions={Permission.MANAGE_ORDERS})):
        assert add(who, live["id"], {"phone": {}}, status=403).status_code == 403
        assert put(who, live["id"], pid, {"phone": {}}, status=403).status_code == 403
        assert delete(who, live["id"], pid, status=403).status_code == 403
        assert messages(who, live["id"], {"messages": {}}, status=403).status_code == 403
        assert who.post(f"{form_url(live['id'])}/publish", {}).status_code == 403
        assert who.delete(form_url(live["id"])).status_code == 403
    assert get_form(make_api(permissions={Permission.MANAGE_ORDERS}), live["id"], status=403).status_code == 403
    manager = make_api(permissions={Permission.MANAGE_EVENTS})
    assert get_form(manager, draft["id"])["controls"][0]["id"] == "name"
    add(manager, draft["id"], {"date": {}})


def test_another_sites_event_is_not_found(api, make_api):
    theirs = create_event(make_api(site="site-b"), draft=False)
    pid = add(make_api(site="site-b"), theirs["id"], {"phone": {}})["id"]
    assert code(get_form(api, theirs["id"], status=404)) == "EVENT_NOT_FOUND"
    assert code(add(api, theirs["id"], {"phone": {}}, status=404)) == "EVENT_NOT_FOUND"
    assert code(put(api, theirs["id"], pid, {"phone": {}}, status=404)) == "EVENT_NOT_FOUND"
    assert code(delete(api, theirs["id"], pid, status=404)) == "EVENT_NOT_FOUND"
    assert code(messages(api, theirs["id"], {"messages": {}}, status=404)) == "EVENT_NOT_FOUND"
    assert api.post(f"{form_url(theirs['id'])}/publish", {}).status_code == 404
    assert code(get_form(make_api(site="site-a", identity="visitor"), theirs["id"], status=404)) == "EVENT_NOT_FOUND"
    assert code(get_form(api, new_id(), status=404)) == "EVENT_NOT_FOUND"


# --- the events hooks ----------------------------------------------------------------------


def test_clone_event_copies_the_form_and_delete_event_removes_it(api, database):
    ev = create_event(api)
    pid = add(api, ev["id"], {"phone": {"label": "Mobile"}})["id"]
    messages(api, ev["id"], {"fields": "checkout.title", "messages": {"checkout": {"title": "Hello"}}})
    r = api.post(f"{EVENTS}/{ev['id']}/clone", {"eventId": ev["id"]})
    assert r.status_code == 200, r.text
    copy = r.json()["event"]
    f = get_form(api, copy["id"])
    assert f == get_form(api, ev["id"]) and control(f, pid)["label"] == "Mobile"
    # the copy's form is its own
    delete(api, copy["id"], pid)
    assert control(get_form(api, ev["id"]), pid)
    # an event with the default form clones into the default form
    plain = create_event(api)
    c2 = api.post(f"{EVENTS}/{plain['id']}/clone", {}).json()["event"]
    assert len(get_form(api, c2["id"])["controls"]) == 2
    assert api.delete(f"{EVENTS}/{ev['id']}").status_code == 200
    with database.session() as s:
        assert s.get(EventForm, ev["id"]) is None and s.get(EventForm, copy["id"]) is not None
    assert get_form(api, ev["id"], status=404).status_code == 404


def test_the_form_fieldset_presenter(api, database):
    """Events v3's FORM fieldset reads the form through events.hooks.presenting["FORM"]."""
    from boxoffice.events import service as events_service

    assert forms_service.present in events_service.hooks.presenting["FORM"]
    changed = create_event(api)
    plain = create_event(api)
    pid = add(api, changed["id"], {"checkbox": {"label": "Diet", "options": ["Vegan"]}})["id"]
    principal = Principal("site-a", IdentityType.APP, "app", frozenset(Permission))
    with database.session() as s:
        evs = list(s.scalars(select(Event).where(Event.id.in_([changed["id"], plain["id"]]))))
        out = forms_service.present(s, principal, evs)
        assert forms_service.present(s, principal, []) == {}
    assert set(out) == {changed["id"], plain["id"]}
    assert out[changed["id"]] == {"form": get_form(api, changed["id"])}
    assert control(out[changed["id"]]["form"], pid)["type"] == "CHECKBOX"
    assert [c["id"] for c in out[plain["id"]]["form"]["controls"]] == ["name", "email"]
