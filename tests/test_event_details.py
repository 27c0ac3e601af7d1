"""The whole Events v3 Event: every field an organiser sets is stored and returned, each
fieldset returns what it names, PATCH changes only what it carries, Clone copies it all,
and every growing input is bounded (on SQLite and PostgreSQL)."""

from __future__ import annotations

import copy
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy import select

from boxoffice.events import service as events_service
from boxoffice.events.schemas import DESCRIPTION_MAX_BYTES
from boxoffice.outbox.models import OutboxEvent
from tests.helpers import CHECKOUT, EVENTS, create_event, create_td, event_body, guest_form, reserve

ALL = ["DETAILS", "TEXTS", "REGISTRATION", "URLS", "SEO_SETTINGS", "AGENDA", "CATEGORIES"]
CAT = "/events/v1/categories"

RICH = {
    "nodes": [
        {
            "type": "PARAGRAPH",
            "id": "p1",
            "nodes": [{"type": "TEXT", "id": "", "nodes": [], "textData": {"text": "Bring gloves", "decorations": [{"type": "BOLD"}]}}],
            "paragraphData": {"textStyle": {"textAlignment": "AUTO"}},
        }
    ],
    "metadata": {"version": 1, "id": "doc-1"},
    "documentStyle": {},
}

FULL = {
    "shortDescription": "Hands-on leather work",
    "detailedDescription": "An older plain text description",
    "mainImage": {"id": "abc123.jpg", "url": "wix:image://v1/abc123.jpg/gloves.jpg#originWidth=800&originHeight=600",
                  "width": 800, "height": 600, "altText": "gloves.jpg", "filename": "gloves.jpg"},
    "description": RICH,
    "location": {
        "type": "VENUE",
        "name": "Workshop",
        "locationTbd": False,
        "address": {
            "formattedAddress": "1 Main St, Springfield",
            "geocode": {"latitude": 40.5, "longitude": -73.25},
            "streetAddress": {"number": "1", "name": "Main St", "apt": "2B"},
            "addressLine": "1 Main St",
            "addressLine2": "Floor 2",
            "city": "Springfield",
            "subdivision": "NY",
            "country": "us",
            "postalCode": "10001",
        },
    },
    "registration": {
        "initialType": "TICKETING",
        "tickets": {
            "guestsAssignedSeparately": True,
            "ticketLimitPerOrder": 10,
            "currency": "EUR",
            "taxSettings": {"type": "ADDED_AT_CHECKOUT", "name": "VAT", "rate": "21.5", "appliedToDonations": False},
            "reservationDurationInMinutes": 15,
        },
        "rsvp": {"responseType": "YES_AND_NO", "limit": 40, "waitlistEnabled": True},
        "external": {"url": "https://tickets.example.com/e/1"},
        "allowedGuestTypes": "MEMBER",
        "registrationPaused": False,
        "registrationDisabled": False,
    },
    "guestListSettings": {"displayedPublicly": True},
    "onlineConferencing": {"enabled": True, "providerId": "0b4a6b8c-1f5e-4d4e-9a6e-2b2f7c3e9d11", "type": "WEBINAR"},
    "seoSettings": {
        "slug": "leather-101",
        "advancedSeoData": {
            "tags": [{"type": "meta", "props": {"name": "description", "content": "Leather"}, "children": "", "custom": False, "disabled": False}],
            "settings": {"preventAutoRedirect": True, "keywords": [{"term": "leather", "isMain": True, "origin": "USER"}]},
        },
    },
    "agendaSettings": {"enabled": False},
    "eventDisplaySettings": {"hideEventDetailsButton": True, "hideEventDetailsPage": False},
}


def full_event(api, draft: bool = True, **over) -> dict:
    body = event_body(draft=draft)
    body["event"].update(copy.deepcopy(FULL))
    body["event"].update(over)
    body["fields"] = ALL
    r = api.post(EVENTS, body)
    assert r.status_code == 200, r.text
    return r.json()["event"]


def get(api, event_id: str, fields=ALL) -> dict:
    r = api.get(f"{EVENTS}/{event_id}", params={"fields": fields} if fields else None)
    assert r.status_code == 200, r.text
    return r.json()["event"]


def violation(r) -> str:
    assert r.status_code == 400, r.text
    return r.json()["details"]["validationError"]["fieldViolations"][0]["field"]


def test_every_field_round_trips(api):
    created = full_event(api)
    e = get(api, created["id"])
    assert e == created
    assert e["shortDescription"] == FULL["shortDescription"] and e["detailedDescription"] == FULL["detailedDescription"]
    assert e["mainImage"] == FULL["mainImage"] and e["description"] == RICH
    addr = e["location"]["address"]
    assert addr["country"] == "US" and addr["countryFullname"] == "United States"
    assert addr["subdivisionFullname"] == "New York" and addr["geocode"] == {"latitude": 40.5, "longitude": -73.25}
    assert addr["streetAddress"] == {"number": "1", "name": "Main St", "apt": "2B"} and addr["addressLine2"] == "Floor 2"
    reg = e["registration"]
    assert reg["tickets"]["taxSettings"] == FULL["registration"]["tickets"]["taxSettings"]
    assert reg["tickets"]["currency"] == "EUR" and reg["tickets"]["ticketLimitPerOrder"] == 10
    assert reg["tickets"]["guestsAssignedSeparately"] is True and reg["tickets"]["reservationDurationInMinutes"] == 15
    assert reg["rsvp"] == FULL["registration"]["rsvp"] and reg["external"] == FULL["registration"]["external"]
    assert reg["allowedGuestTypes"] == "MEMBER" and reg["registrationPaused"] is False and reg["status"] == "UNKNOWN_REGISTRATION_STATUS"
    assert reg["tickets"]["soldOut"] is False  # no definitions yet: ticket definitions' part
    for k in ("guestListSettings", "onlineConferencing", "eventDisplaySettings"):
        assert e[k] == FULL[k], k
    assert e["seoSettings"] == {**FULL["seoSettings"], "hidden": False}
    assert e["agendaSettings"]["enabled"] is False and e["agendaSettings"]["pageUrl"]["path"] == f"/event-details/{e['slug']}/schedule"
    assert e["eventPageUrl"] == {"base": "http://testserver", "path": f"/event-details/{e['slug']}"}
    assert e["userId"] and e["instanceId"] == "site-a" and e["categories"] == {"categories": []}


def test_fieldsets_return_what_they_name_and_nothing_else(api):
    ev = full_event(api)
    base = get(api, ev["id"], fields=None)
    assert set(base) == {
        "id", "title", "slug", "status", "location", "dateAndTimeSettings", "instanceId", "userId",
        "guestListSettings", "onlineConferencing", "eventDisplaySettings", "createdDate", "updatedDate", "revision",
    }  # fmt: skip
    extra = {
        "DETAILS": {"shortDescription", "mainImage", "calendarUrls"},
        "TEXTS": {"description", "detailedDescription"},
        "REGISTRATION": {"registration"},
        "URLS": {"eventPageUrl"},
        "SEO_SETTINGS": {"seoSettings"},
        "AGENDA": {"agendaSettings"},
        "CATEGORIES": {"categories"},
        "DASHBOARD": {"summaries"},
        "FEED": set(),
        "ONLINE_CONFERENCING_SESSION": set(),
    }
    for fieldset, keys in extra.items():
        assert set(get(api, ev["id"], fields=[fieldset])) - set(base) == keys, fieldset
    assert {"description", "seoSettings"} <= set(get(api, ev["id"], fields=["TEXTS", "SEO_SETTINGS"]))
    assert api.get(f"{EVENTS}/{ev['id']}", params={"fields": ["NOPE"]}).status_code == 400


def test_update_changes_only_what_it_carries(api, database):
    ev = full_event(api)
    r = api.patch(f"{EVENTS}/{ev['id']}", {"event": {"id": ev["id"], "agendaSettings": {"enabled": True}}, "fields": ALL})
    assert r.status_code == 200, r.text
    after = r.json()["event"]
    assert after["agendaSettings"]["enabled"] is True
    strip = ("agendaSettings", "revision", "updatedDate")
    assert {k: v for k, v in after.items() if k not in strip} == {k: v for k, v in ev.items() if k not in strip}
    assert get(api, ev["id"])["agendaSettings"]["enabled"] is True  # it sticks
    # nested objects merge field by field; an explicit null clears; lists are replaced whole
    r = api.patch(f"{EVENTS}/{ev['id']}", {"event": {
        "location": {"address": {"city": "Shelbyville"}},
        "registration": {"tickets": {"taxSettings": {"rate": "7"}}, "external": {"url": None}},
        "seoSettings": {"advancedSeoData": {"settings": {"keywords": [{"term": "hide"}]}}},
        "shortDescription": None,
    }, "fields": ALL})
    e = r.json()["event"]
    assert e["location"]["address"]["city"] == "Shelbyville" and e["location"]["address"]["postalCode"] == "10001"
    assert e["registration"]["tickets"]["taxSettings"] == {**FULL["registration"]["tickets"]["taxSettings"], "rate": "7"}
    assert e["registration"]["external"] == {} and e["registration"]["rsvp"] == FULL["registration"]["rsvp"]
    assert e["seoSettings"]["advancedSeoData"]["settings"] == {"preventAutoRedirect": True, "keywords": [{"term": "hide"}]}
    assert e["seoSettings"]["advancedSeoData"]["tags"] == FULL["seoSettings"]["advancedSeoData"]["tags"]
    assert "shortDescription" not in e and e["description"] == RICH
    with database.session() as s:
        last = s.scalars(select(OutboxEvent).where(OutboxEvent.entity_id == ev["id"]).order_by(OutboxEvent.position.desc())).first()
    ent = last.payload["updatedEvent"]["currentEntity"]
    assert ent["agendaSettings"]["enabled"] is True and ent["description"] == RICH and ent["registration"]["rsvp"]


def test_read_only_fields_sent_back_are_ignored(api):
    ev = full_event(api)
    sent = {
        **get(api, ev["id"]),
        "status": "ENDED", "userId": "someone", "instanceId": "site-b", "contactLabel": "x",
        "calendarUrls": {"google": "https://evil.example"}, "summaries": {"tickets": {"ticketsSold": 99}},
        "registration": {"status": "OPEN_TICKETS", "tickets": {"lowestPrice": {"value": "1", "currency": "EUR"}, "soldOut": True}},
        "seoSettings": {"hidden": True}, "agendaSettings": {"pageUrl": {"base": "x", "path": "/y"}},
        "dateAndTimeSettings": {"recurrenceStatus": "RECURRING", "formatted": {"dateAndTime": "never"}},
        "onlineConferencing": {"session": {"hostLink": "https://x"}},
    }  # fmt: skip
    r = api.patch(f"{EVENTS}/{ev['id']}", {"event": sent, "fields": ALL})
    assert r.status_code == 200, r.text
    e = r.json()["event"]
    assert e["status"] == "DRAFT" and e["userId"] == ev["userId"] and e["instanceId"] == "site-a" and "summaries" not in e
    assert e["calendarUrls"] == ev["calendarUrls"] and e["registration"]["status"] == "UNKNOWN_REGISTRATION_STATUS"
    assert "lowestPrice" not in e["registration"]["tickets"] and e["registration"]["tickets"]["soldOut"] is False
    assert e["seoSettings"]["hidden"] is False and e["agendaSettings"]["pageUrl"] == ev["agendaSettings"]["pageUrl"]
    assert e["dateAndTimeSettings"]["recurrenceStatus"] == "ONE_TIME" and e["dateAndTimeSettings"]["formatted"] == ev["dateAndTimeSettings"]["formatted"]
    assert "session" not in e["onlineConferencing"] and "contactLabel" not in e


def test_clone_copies_every_setting(api):
    ev = full_event(api, draft=False)
    api.patch(f"{EVENTS}/{ev['id']}", {"event": {"agendaSettings": {"enabled": True}}})
    r = api.post(f"{EVENTS}/{ev['id']}/clone", {"event": {"guestListSettings": {"displayedPublicly": False}}, "fields": ALL})
    assert r.status_code == 200, r.text
    c = r.json()["event"]
    assert c["id"] != ev["id"] and c["slug"] != ev["slug"] and c["status"] == "DRAFT"
    for k in ("description", "detailedDescription", "mainImage", "shortDescription", "location", "onlineConferencing", "eventDisplaySettings"):
        assert c[k] == ev[k], k
    assert c["agendaSettings"]["enabled"] is True and c["guestListSettings"] == {"displayedPublicly": False}
    assert c["registration"]["tickets"]["taxSettings"] == ev["registration"]["tickets"]["taxSettings"]
    assert c["registration"]["rsvp"] == ev["registration"]["rsvp"] and c["registration"]["allowedGuestTypes"] == "MEMBER"
    assert c["seoSettings"]["advancedSeoData"] == ev["seoSettings"]["advancedSeoData"] and "slug" not in c["seoSettings"]


def test_computed_fields(api):
    body = event_body(draft=False)
    body["event"]["dateAndTimeSettings"] = {
        "startDate": "2031-09-01T08:20:00.000Z", "endDate": "2031-09-05T10:14:00.000Z", "timeZoneId": "Europe/Paris",
    }  # fmt: skip
    body["event"]["shortDescription"] = "Gloves on"
    body["fields"] = ["DETAILS", "REGISTRATION", "URLS"]
    e = api.post(EVENTS, body).json()["event"]
    f = e["dateAndTimeSettings"]["formatted"]
    assert f == {
        "dateAndTime": "September 1, 2031 at 10:20 AM – September 5, 2031 at 12:14 PM",
        "startDate": "September 1, 2031", "startTime": "10:20 AM", "endDate": "September 5, 2031", "endTime": "12:14 PM",
    }  # fmt: skip
    r = api.patch(f"{EVENTS}/{e['id']}", {"event": {"dateAndTimeSettings": {
        "endDate": "2031-09-01T10:50:00.000Z", "showTimeZone": True}}, "fields": ["DETAILS"]})  # fmt: skip
    assert r.json()["event"]["dateAndTimeSettings"]["formatted"]["dateAndTime"] == "September 1, 2031, 10:20 AM – 12:50 PM GMT+2"
    google = urlsplit(e["calendarUrls"]["google"])
    q = parse_qs(google.query)
    assert google.netloc == "calendar.google.com" and q["action"] == ["TEMPLATE"] and q["text"] == [e["title"]]
    assert q["dates"] == ["20310901T082000Z/20310905T101400Z"] and q["location"] == ["Workshop, 1 Main St"]
    assert "Gloves on" in q["details"][0]
    assert e["registration"]["status"] == "OPEN_TICKETS" and e["eventPageUrl"]["path"] == f"/event-details/{e['slug']}"
    # the organiser's own page wins
    r = api.patch(f"{EVENTS}/{e['id']}", {"event": {"eventPageUrl": {"base": "https://shop.example", "path": "/e/1"}}, "fields": ["URLS"]})
    assert r.json()["event"]["eventPageUrl"] == {"base": "https://shop.example", "path": "/e/1"}
    r = api.patch(f"{EVENTS}/{e['id']}", {"event": {"registration": {"registrationDisabled": True}}, "fields": ["REGISTRATION"]})
    assert r.json()["event"]["registration"]["status"] == "CLOSED_MANUALLY"


def test_ics_link(api, make_api):
    e = api.post(EVENTS, {**event_body(draft=False), "fields": ["DETAILS"]}).json()["event"]
    link = urlsplit(e["calendarUrls"]["ics"])
    r = api.client.get(f"{link.path}?{link.query}")  # no credentials: the signature is the key
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/calendar")
    assert "BEGIN:VEVENT" in r.text and f"UID:{e['id']}@boxoffice" in r.text and "SUMMARY:Leather Workshop" in r.text
    assert api.client.get(f"{link.path}?sig=00{link.query[6:]}").status_code == 404
    assert api.client.get(link.path.replace("site-a", "site-b") + f"?{link.query}").status_code == 404
    draft = api.post(EVENTS, {**event_body(), "fields": ["DETAILS"]}).json()["event"]
    d = urlsplit(draft["calendarUrls"]["ics"])
    assert api.client.get(f"{d.path}?{d.query}").status_code == 404  # drafts are not public


def test_registration_summary_from_ticket_definitions(api):
    ev = create_event(api, draft=False)
    create_td(api, ev["id"], name="Cheap", initialLimit=1, pricingMethod={"fixedPrice": {"value": "5", "currency": "USD"}})
    create_td(api, ev["id"], name="Dear", initialLimit=1, pricingMethod={"fixedPrice": {"value": "50", "currency": "USD"}})
    create_td(api, ev["id"], name="Hidden", hidden=True, pricingMethod={"fixedPrice": {"value": "500", "currency": "USD"}})
    t = get(api, ev["id"], ["REGISTRATION"])["registration"]["tickets"]
    assert t["lowestPrice"] == {"value": "5.00", "currency": "USD"} and t["highestPrice"] == {"value": "50.00", "currency": "USD"}
    assert t["soldOut"] is False
    tds = api.post("/events-ticket-definitions/v3/ticket-definitions/query", {}).json()["ticketDefinitions"]
    for td in tds:
        if td["name"] != "Hidden":
            res = reserve(api, td["id"])
            api.post(CHECKOUT, {"eventId": ev["id"], "reservationId": res["id"], "guests": [guest_form()], "options": {"markAsPaid": True}})
    reg = get(api, ev["id"], ["REGISTRATION"])["registration"]
    assert reg["tickets"]["soldOut"] is True and reg["status"] == "CLOSED_AUTOMATICALLY"


def test_categories_fieldset_and_query_presents_in_one_call_per_fieldset(api, make_api, monkeypatch):
    a = create_event(api, title="A", draft=False)
    b = create_event(api, title="B", draft=False)
    shown = api.post(CAT, {"category": {"name": "Shown"}}).json()["category"]
    hidden = api.post(CAT, {"category": {"name": "Secret", "states": ["MANUAL", "HIDDEN"]}}).json()["category"]
    for c in (shown, hidden):
        api.post(f"{CAT}/{c['id']}/events", {"eventId": [a["id"]]})
    cats = get(api, a["id"], ["CATEGORIES"])["categories"]["categories"]
    assert [c["name"] for c in cats] == ["Shown", "Secret"] and cats[1]["hidden"] is True and cats[0]["type"] == "MANUAL"
    visitor = make_api(identity="visitor")
    r = visitor.get(f"{EVENTS}/{a['id']}", params={"fields": "CATEGORIES"})
    assert [c["name"] for c in r.json()["event"]["categories"]["categories"]] == ["Shown"]
    calls = []
    hooks = events_service.hooks.presenting
    for name in ("CATEGORIES", "REGISTRATION"):
        monkeypatch.setitem(hooks, name, [(lambda h: lambda s, p, evs: calls.append(len(evs)) or h(s, p, evs))(h) for h in hooks[name]])
    r = api.post(f"{EVENTS}/query", {"fields": ["CATEGORIES", "REGISTRATION"]})
    assert r.status_code == 200 and calls == [2, 2]
    got = {e["id"]: e for e in r.json()["events"]}
    assert got[b["id"]]["categories"] == {"categories": []} and got[a["id"]]["categories"]["categories"][0]["id"] == shown["id"]
    # List Events By Category presents the same way
    r = api.get(f"/events/v3/events/category/{shown['id']}", params={"fields": "CATEGORIES"})
    assert r.status_code == 200 and r.json()["events"][0]["categories"]["categories"][0]["id"] == shown["id"]


def test_webhook_entity_carries_the_whole_event(api, database):
    ev = full_event(api, draft=False)
    with database.session() as s:
        rows = list(s.scalars(select(OutboxEvent).where(OutboxEvent.entity_id == ev["id"]).order_by(OutboxEvent.position)))
    created = rows[0].payload["createdEvent"]["entity"]
    for k in ("description", "mainImage", "seoSettings", "registration", "guestListSettings", "categories"):
        assert k in created, k
    published = rows[1].payload["actionEvent"]["body"]
    assert published["registration"]["tickets"]["taxSettings"] and published["eventId"] == ev["id"]


LIMITS = [
    ({"title": "x" * 121}, "event.title"),
    ({"shortDescription": "x" * 501}, "event.shortDescription"),
    ({"detailedDescription": "x" * 50_001}, "event.detailedDescription"),
    ({"description": {"nodes": [{"type": "TEXT", "textData": {"text": "x" * DESCRIPTION_MAX_BYTES}}]}}, "event.description"),
    ({"description": {"nodes": [{}] * 2001}}, "event.description"),
    ({"mainImage": {"url": "https://img.example/" + "x" * 2048}}, "event.mainImage.url"),
    ({"mainImage": {"url": "javascript:alert(1)"}}, "event.mainImage.url"),
    ({"location": {"type": "VENUE", "name": "x" * 51}}, "event.location.name"),
    ({"location": {"type": "VENUE", "address": {"city": "x" * 101}}}, "event.location.address.city"),
    ({"location": {"type": "VENUE", "address": {"country": "XX"}}}, "event.location.address.country"),
    ({"location": {"type": "VENUE", "address": {"geocode": {"latitude": 91}}}}, "event.location.address.geocode.latitude"),
    ({"dateAndTimeSettings": {"startDate": "2031-01-01T10:00:00Z", "endDate": "2031-01-01T11:00:00Z", "timeZoneId": "Mars/Olympus"}},
     "event.dateAndTimeSettings.timeZoneId"),
    ({"dateAndTimeSettings": {"startDate": "2031-01-01T10:00:00Z", "endDate": "2031-01-01T11:00:00Z", "dateAndTimeTbdMessage": "x" * 101}},
     "event.dateAndTimeSettings.dateAndTimeTbdMessage"),
    ({"dateAndTimeSettings": {"startDate": "2031-01-01T10:00:00Z", "endDate": "2031-01-01T11:00:00Z",
                              "recurringEvents": {"individualEventDates": [{}] * 1001}}},
     "event.dateAndTimeSettings.recurringEvents.individualEventDates"),
    ({"registration": {"initialType": "TICKETING", "tickets": {"ticketLimitPerOrder": 51}}}, "event.registration.tickets.ticketLimitPerOrder"),
    ({"registration": {"initialType": "TICKETING", "tickets": {"reservationDurationInMinutes": 4}}},
     "event.registration.tickets.reservationDurationInMinutes"),
    ({"registration": {"initialType": "TICKETING", "tickets": {"taxSettings": {"name": "x" * 11}}}}, "event.registration.tickets.taxSettings.name"),
    ({"registration": {"initialType": "TICKETING", "tickets": {"taxSettings": {"rate": "100.5"}}}}, "event.registration.tickets.taxSettings.rate"),
    ({"registration": {"initialType": "TICKETING", "tickets": {"taxSettings": {"rate": "1.2345"}}}}, "event.registration.tickets.taxSettings.rate"),
    ({"registration": {"initialType": "TICKETING", "tickets": {"currency": "ZZZ"}}}, "event.registration.tickets.currency"),
    ({"registration": {"initialType": "TICKETING", "external": {"url": "ftp://x.example"}}}, "event.registration.external.url"),
    ({"registration": {"initialType": "RSVP", "rsvp": {"limit": "10"}}}, "event.registration.rsvp.limit"),
    ({"registration": {"initialType": "RSVP", "rsvp": {"startDate": "2031-01-02T00:00:00Z", "endDate": "2031-01-01T00:00:00Z"}}},
     "event.registration.rsvp.endDate"),
    ({"registration": {"initialType": "TICKETING", "allowedGuestTypes": "ROBOTS"}}, "event.registration.allowedGuestTypes"),
    ({"onlineConferencing": {"providerId": "not-a-guid"}}, "event.onlineConferencing.providerId"),
    ({"seoSettings": {"slug": "x" * 131}}, "event.seoSettings.slug"),
    ({"seoSettings": {"advancedSeoData": {"settings": {"keywords": [{"term": "k"}] * 6}}}}, "event.seoSettings.advancedSeoData.settings.keywords"),
    ({"seoSettings": {"advancedSeoData": {"tags": [{"type": "meta"}] * 51}}}, "event.seoSettings.advancedSeoData.tags"),
    ({"seoSettings": {"advancedSeoData": {"tags": [{"type": "meta", "props": {"k": "v" * 20_000}}]}}}, "event.seoSettings.advancedSeoData.tags[0].props"),
    ({"eventPageUrl": {"base": "https://x.example"}}, "event.eventPageUrl.path"),
    ({"eventDisplaySettings": {"hideEventDetailsPage": "maybe"}}, "event.eventDisplaySettings.hideEventDetailsPage"),
]


@pytest.mark.parametrize(("over", "where"), LIMITS, ids=[w for _, w in LIMITS])
def test_every_field_is_bounded(api, over, where):
    body = event_body()
    body["event"].update(over)
    assert violation(api.post(EVENTS, body)).startswith(where), where
    ev = create_event(api, title=f"T {len(where)}")
    patch = {k: v for k, v in over.items() if k != "registration"}
    if "registration" in over:
        patch["registration"] = {k: v for k, v in over["registration"].items() if k != "initialType"}
    r = api.patch(f"{EVENTS}/{ev['id']}", {"event": patch})
    assert violation(r).startswith(where), where


def test_visitors_and_other_sites(api, make_api):
    ev = full_event(api, draft=False)
    visitor = make_api(identity="visitor")
    e = visitor.get(f"{EVENTS}/{ev['id']}", params={"fields": ALL}).json()["event"]
    assert e["description"] == RICH and e["seoSettings"] == ev["seoSettings"]
    assert visitor.patch(f"{EVENTS}/{ev['id']}", {"event": {"agendaSettings": {"enabled": True}}}).status_code == 403
    other = make_api(site="site-b")
    assert other.patch(f"{EVENTS}/{ev['id']}", {"event": {"agendaSettings": {"enabled": True}}}).status_code == 404
    assert other.get(f"{EVENTS}/{ev['id']}", params={"fields": ALL}).status_code == 404


def test_ics_file_keeps_control_characters_out(api):
    """A bare CR in a title must not end an ICS line: control characters become spaces."""
    body = {**event_body(draft=False), "fields": ["DETAILS"]}
    body["event"]["title"] = "Party\rEND:VEVENT\rBEGIN:VEVENT\rSUMMARY:Injected"
    r = api.post(EVENTS, body)
    assert r.status_code == 200, r.text
    link = urlsplit(r.json()["event"]["calendarUrls"]["ics"])
    text = api.client.get(f"{link.path}?{link.query}").text
    lines = text.split("\r\n")
    assert not any("\r" in line or "\n" in line for line in lines)
    assert [x for x in lines if x.startswith(("BEGIN:VEVENT", "END:VEVENT"))] == ["BEGIN:VEVENT", "END:VEVENT"]
    assert "SUMMARY:Party END:VEVENT BEGIN:VEVENT SUMMARY:Injected" in text
