"""Checkout checks guests' answers against the event's registration form
(forms.service.check_answers): required answers, value types, options, sizes, unknown
inputs; `options.ignoreFormValidation` (Manage Orders only) skips it; orders and tickets
carry every answer. On SQLite and PostgreSQL."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from sqlalchemy import select

from boxoffice.errors import InvalidArgument
from boxoffice.events.models import Event
from boxoffice.forms import service as forms_service
from tests.helpers import CHECKOUT, create_event, create_td, guest_form, reserve

FORM = "/events/v1/events/{}/form"


def add(api, event_id, control):
    r = api.post(f"{FORM.format(event_id)}/control", control)
    assert r.status_code == 200, r.text
    return r.json()["id"]


def violations(r):
    assert r.status_code == 400, r.text
    return {v["field"]: v for v in r.json()["details"]["validationError"]["fieldViolations"]}


def with_answers(*extra, first="Ann", last="Lee", email="ann@example.com"):
    g = guest_form(first, last, email)
    g["form"]["inputValues"].extend(extra)
    return g


@pytest.fixture
def shop(api):
    """A published event whose form asks for a phone (required), a T-shirt size (dropdown,
    required), diets (checkbox), a birthday (date) and notes (text, at most 20)."""
    ev = create_event(api, draft=False)
    td = create_td(api, ev["id"], initialLimit=20, pricingMethod={"fixedPrice": {"value": "0", "currency": "USD"}})
    ids = {
        "phone": add(api, ev["id"], {"phone": {"label": "Phone", "mandatory": True}}),
        "size": add(api, ev["id"], {"dropdown": {"label": "T-shirt", "options": ["S", "M", "L"], "mandatory": True}}),
        "diet": add(api, ev["id"], {"checkbox": {"label": "Diet", "options": ["Vegan", "Halal", "Kosher"]}}),
        "birthday": add(api, ev["id"], {"date": {"label": "Birthday"}}),
        "notes": add(api, ev["id"], {"text": {"label": "Notes", "maxLength": 20}}),
    }
    return ev, td, ids


def good(ids, **over):
    answers = {
        ids["phone"]: {"value": "+1 (555) 010-0100"},
        ids["size"]: {"value": "M"},
        ids["diet"]: {"values": ["Vegan", "Halal"]},
        ids["birthday"]: {"value": "1990-04-01"},
        ids["notes"]: {"value": "Window seat"},
    }
    for k, v in over.items():
        if v is None:
            answers.pop(ids[k])
        else:
            answers[ids[k]] = v
    return [{"inputName": k, **v} for k, v in answers.items()]


def test_a_checkout_with_every_answer_right_keeps_them_all(api, shop):
    ev, td, ids = shop
    r = reserve(api, td["id"], 2)
    g1 = with_answers(*good(ids))
    g2 = with_answers(*good(ids, size={"value": "L"}, diet=None), first="Bo", last="Kim", email="bo@example.com")
    res = api.post(CHECKOUT, {"eventId": ev["id"], "reservationId": r["id"], "guests": [g1, g2]})
    assert res.status_code == 200, res.text
    o = res.json()["order"]
    assert o["checkoutForm"] == g1["form"]
    assert [t["guestDetails"]["form"] for t in o["tickets"]] == [g1["form"], g2["form"]]
    got = api.get(f"/events/v1/events/{ev['id']}/orders/{o['orderNumber']}", params={"fieldset": "FORM"}).json()["order"]
    assert got["checkoutForm"] == g1["form"]
    listed = api.get("/events/v1/tickets", params={"eventId": ev["id"], "fieldset": "GUEST_FORM"}).json()["tickets"]
    assert sorted((t["guestDetails"]["form"] for t in listed), key=str) == sorted([g1["form"], g2["form"]], key=str)


def test_each_wrong_answer_is_a_400_naming_its_control(api, shop):
    ev, td, ids = shop
    r = reserve(api, td["id"], 1)

    def attempt(answers, **kw):
        return api.post(CHECKOUT, {"eventId": ev["id"], "reservationId": r["id"], "guests": [with_answers(*answers, **kw)]})

    base = "guests[0].form.inputValues"
    for over, name, rule, words in (
        ({"phone": None}, "phone", "REQUIRED_FIELD", "is required"),
        ({"size": None}, "size", "REQUIRED_FIELD", "T-shirt"),
        ({"phone": {"value": "   "}}, "phone", "REQUIRED_FIELD", "is required"),
        ({"phone": {"value": "call me maybe"}}, "phone", "FORMAT", "phone number"),
        ({"size": {"value": "XXL"}}, "size", "FORMAT", "one of the options"),
        ({"size": {"values": ["S", "M"]}}, "size", "MAX_SIZE", "one value"),
        ({"diet": {"values": ["Vegan", "Paleo"]}}, "diet", "FORMAT", "one of the options"),
        ({"diet": {"values": ["Vegan", "Vegan"]}}, "diet", "FORMAT", "twice"),
        ({"birthday": {"value": "April 1st"}}, "birthday", "FORMAT", "date"),
        ({"notes": {"value": "x" * 21}}, "notes", "MAX_LENGTH", "20"),
    ):
        v = violations(attempt(good(ids, **over)))
        field = f"{base}.{ids[name]}"
        assert set(v) == {field}, (over, v)
        assert v[field]["violatedRule"] == rule and words in v[field]["description"], (over, v[field])
        assert ids[name] in v[field]["description"]  # the control is named
    # the system inputs too: an e-mail that is not one, a name over Wix's 50 characters
    v = violations(attempt(good(ids), email="not-an-email"))
    assert v[f"{base}.email"]["violatedRule"] == "FORMAT"
    v = violations(attempt(good(ids), first="x" * 51))
    assert v[f"{base}.firstName"]["violatedRule"] == "MAX_LENGTH"
    # answers to inputs the form does not have, or the same input twice, are refused
    v = violations(attempt([*good(ids), {"inputName": "shoeSize", "value": "42"}]))
    assert v[f"{base}.shoeSize"]["description"] == "is not an input of this event's registration form"
    v = violations(attempt([*good(ids), {"inputName": ids["notes"], "value": "again"}]))
    assert v[f"{base}.{ids['notes']}"]["description"] == "is answered twice"
    # every wrong answer of every guest, in one refusal
    r2 = reserve(api, td["id"], 2)
    bad = api.post(CHECKOUT, {"eventId": ev["id"], "reservationId": r2["id"],
                              "guests": [with_answers(*good(ids, phone=None)), with_answers(*good(ids, size={"value": "XL"}))]})
    assert set(violations(bad)) == {f"{base}.{ids['phone']}", f"guests[1].form.inputValues.{ids['size']}"}
    # nothing was sold by a refused checkout
    ok = api.post(CHECKOUT, {"eventId": ev["id"], "reservationId": r["id"], "guests": [with_answers(*good(ids))]})
    assert ok.status_code == 200, ok.text


def test_the_buyer_may_give_the_first_guests_name_and_email(api, shop):
    ev, td, ids = shop
    r = reserve(api, td["id"], 1)
    answers = good(ids)
    body = {"eventId": ev["id"], "reservationId": r["id"], "guests": [{"form": {"inputValues": answers}}]}
    v = violations(api.post(CHECKOUT, body))
    assert set(v) == {"buyer.firstName", "buyer.lastName", "buyer.email"}  # checkout's own rule comes first
    res = api.post(CHECKOUT, {**body, "buyer": {"firstName": "A", "lastName": "B", "email": "a@b.co"}})
    assert res.status_code == 200, res.text
    assert res.json()["order"]["checkoutForm"] == {"inputValues": answers}
    # without guests the buyer's answers are the only ones: the form's required controls are missing
    r2 = reserve(api, td["id"], 1)
    v = violations(api.post(CHECKOUT, {"eventId": ev["id"], "reservationId": r2["id"],
                                       "buyer": {"firstName": "A", "lastName": "B", "email": "a@b.co"}}))
    assert set(v) == {f"guests[0].form.inputValues.{ids['phone']}", f"guests[0].form.inputValues.{ids['size']}"}


def test_ignore_form_validation_is_a_managers_option(api, make_api, shop):
    ev, td, ids = shop
    visitor = make_api(identity="visitor")
    r = reserve(visitor, td["id"], 1)
    sloppy = {"eventId": ev["id"], "reservationId": r["id"],
              "guests": [with_answers({"inputName": "shoeSize", "value": "42"})]}
    assert violations(visitor.post(CHECKOUT, sloppy))
    refused = visitor.post(CHECKOUT, {**sloppy, "options": {"ignoreFormValidation": True}})
    assert refused.status_code == 403
    r2 = reserve(api, td["id"], 1)
    res = api.post(CHECKOUT, {**sloppy, "reservationId": r2["id"], "options": {"ignoreFormValidation": True}})
    assert res.status_code == 200, res.text
    assert {"inputName": "shoeSize", "value": "42"} in res.json()["order"]["checkoutForm"]["inputValues"]


def test_the_default_form_takes_the_three_answers_existing_clients_send(api):
    ev = create_event(api, draft=False)
    td = create_td(api, ev["id"], pricingMethod={"fixedPrice": {"value": "0", "currency": "USD"}})
    r = reserve(api, td["id"], 1)
    assert api.post(CHECKOUT, {"eventId": ev["id"], "reservationId": r["id"], "guests": [guest_form()]}).status_code == 200
    r = reserve(api, td["id"], 1)
    extra = with_answers({"inputName": "phone", "value": "1"})
    v = violations(api.post(CHECKOUT, {"eventId": ev["id"], "reservationId": r["id"], "guests": [extra]}))
    assert set(v) == {"guests[0].form.inputValues.phone"}


def test_numbers_and_additional_guests(api, database):
    """The additional-guests control (RSVP events only; rule checked through check_answers):
    a number of guests from 0 to maxGuests, and their names."""
    ev = create_event(api, initial_type="RSVP")
    add(api, ev["id"], {"additionalGuests": {"maxGuests": 2, "namesMandatory": True}})

    def check(*answers):
        with database.session() as s:
            event = s.scalars(select(Event).where(Event.id == ev["id"])).one()
            items = [SimpleNamespace(input_name=n, value=v if not isinstance(v, list) else None,
                                     values=v if isinstance(v, list) else None) for n, v in answers]
            forms_service.check_answers(s, event, [items], {"firstName": "A", "lastName": "B", "email": "a@b.co"})

    check()
    check(("additionalGuests", "0"))
    check(("additionalGuests", "2"), ("guestNames", ["Cy", "Di"]))
    for answers, field, rule in (
        ([("additionalGuests", "two")], "additionalGuests", "FORMAT"),
        ([("additionalGuests", "3"), ("guestNames", ["a", "b", "c"])], "additionalGuests", "FORMAT"),
        ([("additionalGuests", "2"), ("guestNames", ["Cy"])], "guestNames", "REQUIRED_FIELD"),
        ([("additionalGuests", "1"), ("guestNames", ["Cy", "Di"])], "guestNames", "MAX_SIZE"),
        ([("additionalGuests", "1"), ("guestNames", ["x" * 101])], "guestNames", "MAX_LENGTH"),
    ):
        with pytest.raises(InvalidArgument) as e:
            check(*answers)
        assert {(v["field"], v["violatedRule"]) for v in e.value.violations} >= {(f"guests[0].form.inputValues.{field}", rule)}, (
            answers, e.value.violations,
        )


def test_what_is_kept_is_what_is_checked(api, shop, make_api):
    """An answer carries `value` or `values`, never both (checking one and keeping the
    other let any answer through); `buyer`'s name and e-mail, which checkout keeps over
    the form's, are checked by the form's rules; no control characters in answers."""
    ev, td, ids = shop
    visitor = make_api(identity="visitor")
    answers = good(ids)

    def attempt(guest, **extra):
        res = reserve(visitor, td["id"])
        return visitor.post(CHECKOUT, {"eventId": ev["id"], "reservationId": res["id"], "guests": [guest], **extra})

    both = with_answers(*answers)
    both["form"]["inputValues"][2] = {"inputName": "email", "value": "x@y.z\r\nBcc: a@b.c", "values": ["ann@example.com"]}
    r = attempt(both)
    assert r.status_code == 400 and "value or values" in r.text
    r = attempt(with_answers(*answers), buyer={"firstName": "Eve\r\nX-Evil: 1", "lastName": "Lee", "email": "x@y.co\r\nBcc: e@z.com"})
    v = violations(r)
    assert {"buyer.firstName", "buyer.email"} <= set(v) and v["buyer.email"]["violatedRule"] == "FORMAT"
    r = attempt(with_answers(*answers, first="A\x00nn"))
    assert "guests[0].form.inputValues.firstName" in violations(r)
    r = attempt(with_answers(*answers), buyer={"firstName": "Eve", "lastName": "Lee", "email": "eve@example.com"})
    assert r.status_code == 200 and r.json()["order"]["email"] == "eve@example.com"


def test_free_orders_per_e_mail_are_capped(api, make_api):
    """A FREE order is sold and mailed at once: one address gets at most the event's
    ticketLimitPerOrder free (or unpaid) tickets of it, whatever key checks out, so a
    visitor cannot mail one stranger without end. Other addresses are not held back."""
    ev = create_event(api, draft=False, registration={"initialType": "TICKETING", "tickets": {"ticketLimitPerOrder": 2}})
    td = create_td(api, ev["id"], initialLimit=10, pricingMethod={"fixedPrice": {"value": "0", "currency": "USD"}})
    visitor = make_api(identity="visitor")

    def free(email, status=200):
        res = reserve(visitor, td["id"])
        r = visitor.post(CHECKOUT, {"eventId": ev["id"], "reservationId": res["id"], "guests": [guest_form(email=email)]})
        assert r.status_code == status, r.text
        return r

    free("victim@example.org")
    free("victim@example.org")
    r = free("victim@example.org", 428)
    assert r.json()["details"]["applicationError"]["code"] == "TICKET_LIMIT_PER_BUYER_EXCEEDED"
    for i in range(3):  # one shared visitor key registers many guests
        free(f"guest{i}@example.org")


def test_guests_assigned_separately_need_a_form_per_ticket(api):
    ev = create_event(api, draft=False, registration={"initialType": "TICKETING", "tickets": {"guestsAssignedSeparately": True}})
    td = create_td(api, ev["id"], initialLimit=10)
    res = reserve(api, td["id"], 2)
    r = api.post(CHECKOUT, {"eventId": ev["id"], "reservationId": res["id"], "guests": [guest_form()]})
    assert "guests" in violations(r)
    r = api.post(CHECKOUT, {"eventId": ev["id"], "reservationId": res["id"], "guests": [guest_form(), guest_form("Bo", "Kim", "bo@example.com")], "options": {"payInPerson": True}})
    assert r.status_code == 200, r.text
