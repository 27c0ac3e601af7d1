"""Tickets and check-in, QR codes and PDF tickets."""

from __future__ import annotations

import re

import pytest

from boxoffice.tickets.pdf import sign_ticket_code
from tests.helpers import checkout, create_event, create_td, reserve

TICKETS = "/events/v1/tickets"
CHECK_IN = "/events/v1/tickets/check-in"


def code(r) -> str:
    return r.json()["details"]["applicationError"]["code"]


@pytest.fixture
def paid_order(api):
    ev = create_event(api, draft=False)
    td = create_td(api, ev["id"], initialLimit=10)
    o = checkout(api, ev["id"], reserve(api, td["id"], 3)["id"])["order"]
    api.post(f"/boxoffice/v1/test-payments/{o['orderNumber']}/pay")
    return ev, td, o, [t["ticketNumber"] for t in o["tickets"]]


def test_check_in_records_who_and_when_and_refuses_twice(api, paid_order, database):
    ev, _, o, numbers = paid_order
    r = api.post(CHECK_IN, {"eventId": ev["id"], "ticketNumber": numbers[:2]})
    assert r.status_code == 200, r.text
    first = r.json()["tickets"][0]["checkIn"]["created"]
    again = api.post(CHECK_IN, {"eventId": ev["id"], "ticketNumber": [numbers[0]]})
    assert again.status_code == 428 and code(again) == "TICKET_ALREADY_CHECKED_IN"
    assert again.json()["details"]["applicationError"]["data"]["checkedInAt"] == first
    assert again.json()["details"]["applicationError"]["data"]["checkedInBy"]["identityType"] == "APP"
    # a batch is all or nothing
    mixed = api.post(CHECK_IN, {"eventId": ev["id"], "ticketNumber": [numbers[2], numbers[0]]})
    assert mixed.status_code == 428
    t3 = api.get(f"{TICKETS}/{numbers[2]}", params={"fieldset": "TICKET_DETAILS"}).json()["ticket"]
    assert "checkIn" not in t3
    got = api.get(f"/events/v1/events/{ev['id']}/orders/{o['orderNumber']}", params={"fieldset": ["DETAILS"]}).json()["order"]
    assert got["fullyCheckedIn"] is False
    api.post(CHECK_IN, {"eventId": ev["id"], "ticketNumber": [numbers[2]]})
    got = api.get(f"/events/v1/events/{ev['id']}/orders/{o['orderNumber']}").json()["order"]
    assert got["fullyCheckedIn"] is True
    undo = api.delete(CHECK_IN, params={"eventId": ev["id"], "ticketNumber": [numbers[0]]})
    assert undo.status_code == 200 and "checkIn" not in undo.json()["tickets"][0]
    assert api.post(CHECK_IN, {"eventId": ev["id"], "ticketNumber": [numbers[0]]}).status_code == 200


def test_only_confirmed_orders_check_in(api):
    ev = create_event(api, draft=False)
    td = create_td(api, ev["id"])
    offline = checkout(api, ev["id"], reserve(api, td["id"])["id"], options={"payInPerson": True})["order"]
    r = api.post(CHECK_IN, {"eventId": ev["id"], "ticketNumber": [offline["tickets"][0]["ticketNumber"]]})
    assert r.status_code == 428 and code(r) == "ORDER_NOT_CONFIRMED"
    declined = checkout(api, ev["id"], reserve(api, td["id"])["id"])["order"]
    api.post(f"/boxoffice/v1/test-payments/{declined['orderNumber']}/decline")
    r = api.post(CHECK_IN, {"eventId": ev["id"], "ticketNumber": [declined["tickets"][0]["ticketNumber"]]})
    assert r.status_code == 428 and code(r) == "TICKET_CANCELED"
    r = api.post(CHECK_IN, {"eventId": ev["id"], "ticketNumber": ["NOPE01"]})
    assert r.status_code == 404 and code(r) == "TICKET_NOT_FOUND"


def test_qr_scan_accepts_real_codes_and_rejects_forged_ones(app, api, make_api, paid_order):
    ev, _, _, numbers = paid_order
    secret = app.state.secret
    good = sign_ticket_code(secret, "site-a", ev["id"], numbers[0])
    r = api.post("/boxoffice/v1/check-in/scan", {"code": good})
    assert r.status_code == 200 and r.json()["ticket"]["checkIn"]["created"]
    forged = sign_ticket_code(b"not the secret", "site-a", ev["id"], numbers[1])
    altered = good.replace(good.split(".")[1], sign_ticket_code(secret, "site-a", ev["id"], numbers[1]).split(".")[1])
    for bad in (forged, altered, good[:-2], "hello"):
        r = api.post("/boxoffice/v1/check-in/scan", {"code": bad})
        assert r.status_code == 428 and code(r) == "INVALID_TICKET_CODE", bad
    other_site = make_api(site="site-b")
    assert other_site.post("/boxoffice/v1/check-in/scan", {"code": sign_ticket_code(secret, "site-a", ev["id"], numbers[1])}).status_code == 403


def test_tickets_pdf_is_a_public_signed_link_with_a_page_per_ticket(client, paid_order):
    _, _, o, _ = paid_order
    url = o["ticketsPdf"].replace("http://testserver", "")
    r = client.get(url)  # no credentials
    assert r.status_code == 200 and r.headers["content-type"] == "application/pdf"
    assert r.content.startswith(b"%PDF")
    assert len(re.findall(rb"/Type\s*/Page(?!s)", r.content)) == 3
    assert client.get(url.replace("sig=", "sig=0")).status_code == 404
    one = client.get(o["tickets"][0]["ticketPdfUrl"].replace("http://testserver", ""))
    assert one.status_code == 200 and len(re.findall(rb"/Type\s*/Page(?!s)", one.content)) == 1


def test_list_get_and_update_tickets(api, paid_order):
    ev, td, o, numbers = paid_order
    lst = api.get(TICKETS, params={"eventId": ev["id"]}).json()
    assert lst["total"] == 3 and set(lst["tickets"][0]) == {"anonymized"}
    lst = api.get(TICKETS, params={"eventId": ev["id"], "fieldset": ["TICKET_DETAILS", "GUEST_DETAILS"], "sort": "ticket_number:desc"}).json()
    assert [t["ticketNumber"] for t in lst["tickets"]] == sorted(numbers, reverse=True)
    t = lst["tickets"][0]
    assert t["orderStatus"] == "PAID" and t["price"] == {"amount": "200.00", "value": "200.00", "currency": "USD"}
    assert t["guestDetails"]["firstName"] == "Ann"
    assert t["checkInUrl"].endswith(f"/boxoffice/v1/check-in/{t['ticketNumber']},{ev['id']}")
    page = api.get(t["checkInUrl"].replace("http://testserver", "")).json()["ticket"]
    assert page["ticketNumber"] == t["ticketNumber"]
    api.post(CHECK_IN, {"eventId": ev["id"], "ticketNumber": [numbers[0]]})
    assert api.get(TICKETS, params={"state": "CHECKED_IN"}).json()["total"] == 1
    assert api.get(TICKETS, params={"state": ["NON_CHECKED_IN", "PAID"]}).json()["total"] == 2
    assert api.get(TICKETS, params={"orderNumber": o["orderNumber"], "limit": 2}).json()["limit"] == 2
    facets = api.get(TICKETS, params={"facet": "state"}).json()["facets"]
    assert facets == {"state": {"counts": {"CHECKED_IN": 1, "NON_CHECKED_IN": 2}}}
    upd = api.patch(f"{TICKETS}/{numbers[1]}", {"eventId": ev["id"], "fields": "archived", "archived": True})
    assert upd.status_code == 200 and upd.json()["ticket"]["archived"] is True
    form = {"inputValues": [{"inputName": "firstName", "value": "Cy"}, {"inputName": "lastName", "value": "Doe"}]}
    upd = api.patch(f"{TICKETS}/{numbers[2]}", {"fields": "guestDetails.form", "guestDetails": {"form": form}})
    assert upd.json()["ticket"]["guestFullName"] == "Cy Doe"
    assert api.get(f"{TICKETS}/NOPE").status_code == 404
    assert api.get(TICKETS, params={"state": "SLEEPING"}).status_code == 400


def test_only_a_paid_ticket_carries_its_qr_code(api, make_api):
    """`qrCode` (TICKET_DETAILS; Wix's docs name it, the typings pass it through) is what the
    ticket's QR holds, for a valid ticket only; the PDF of an unpaid order prints why it is
    not a ticket instead of a QR code."""
    import re

    ev = create_event(api, draft=False)
    td = create_td(api, ev["id"], initialLimit=10)
    pending = checkout(api, ev["id"], reserve(api, td["id"])["id"])["order"]
    paid = checkout(api, ev["id"], reserve(api, td["id"])["id"])["order"]
    api.post(f"/boxoffice/v1/test-payments/{paid['orderNumber']}/pay")
    got = lambda n: api.get(f"{TICKETS}/{n}", params={"fieldset": "TICKET_DETAILS"}).json()["ticket"]  # noqa: E731
    assert "qrCode" not in got(pending["tickets"][0]["ticketNumber"])
    qr = got(paid["tickets"][0]["ticketNumber"])["qrCode"]
    r = api.post("/boxoffice/v1/check-in/scan", {"code": qr})
    assert r.status_code == 200, r.text
    unpaid_pdf = api.client.get(pending["ticketsPdf"])
    assert unpaid_pdf.status_code == 200 and unpaid_pdf.headers["content-type"] == "application/pdf"
    assert not re.findall(rb"/Subtype\s*/Image", unpaid_pdf.content)  # nothing to scan
    paid_pdf = api.client.get(paid["ticketsPdf"])
    assert len(re.findall(rb"/Subtype\s*/Image", paid_pdf.content)) == 1
