"""The scheduler's event lifecycle webhooks: event_reminder (7 d, 3 d, 1 d, 2 h, 1 h,
30 min before the start), event_started and event_ended, each exactly once per event,
caught up after downtime, never for drafts or canceled events; driven step by step
with the pass's clock given (no background thread), on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
import threading

from sqlalchemy import select

from boxoffice import scheduler
from boxoffice.events.models import REMINDERS, Event
from boxoffice.events.service import emit_lifecycle, lifecycle_due
from boxoffice.outbox.models import OutboxEvent
from boxoffice.timefmt import parse
from tests.helpers import CHECKOUT, EVENTS, create_event, create_td, event_body, guest_form, iso, reserve, utcnow

LIFECYCLE = ("reminder", "started", "ended")


def emitted(database, event_id: str) -> list[OutboxEvent]:
    with database.session() as s:
        rows = s.scalars(select(OutboxEvent).where(OutboxEvent.entity_id == event_id).order_by(OutboxEvent.position))
        return [o for o in rows if o.slug in LIFECYCLE]


def run(database, t: dt.datetime) -> int:
    return database.write(lambda s: emit_lifecycle(s, t))


def dates(ev: dict) -> tuple[dt.datetime, dt.datetime]:
    ds = ev["dateAndTimeSettings"]
    return parse(ds["startDate"]), parse(ds["endDate"])


def test_reminders_then_started_then_ended_each_once(api, database):
    ev = create_event(api, draft=False)
    start, end = dates(ev)
    assert run(database, utcnow()) == 0
    for before, starts_in in REMINDERS:
        at = start - before
        assert run(database, at - dt.timedelta(seconds=1)) == 0
        assert run(database, at) == 1
        assert run(database, at + dt.timedelta(seconds=1)) == 0
    assert run(database, start) == 1 and run(database, start) == 0
    assert run(database, end + dt.timedelta(hours=1)) == 1 and run(database, end + dt.timedelta(days=9)) == 0
    rows = emitted(database, ev["id"])
    assert [o.slug for o in rows] == ["reminder"] * 6 + ["started", "ended"]
    assert [o.payload["actionEvent"]["body"]["startsIn"] for o in rows[:6]] == [d for _, d in REMINDERS]
    assert {o.event_type for o in rows} == {f"wix.events.v3.event_{s}" for s in LIFECYCLE}
    reminder = rows[5].payload["actionEvent"]["body"]
    assert set(reminder) == {"timestamp", "eventId", "location", "dateAndTimeSettings", "title", "userId", "startsIn", "hasGuests"}
    assert reminder["timestamp"] == iso(start - dt.timedelta(minutes=30)) and reminder["title"] == ev["title"]
    started, ended = (o.payload["actionEvent"]["body"] for o in rows[6:])
    assert started == {"timestamp": iso(start), "eventId": ev["id"], "hasGuests": False}
    assert ended == {"timestamp": iso(end), "eventId": ev["id"], "hasGuests": False}
    assert rows[6].identity == {"identityType": "APP", "appId": "boxoffice"}
    with database.session() as s:
        assert s.get(Event, ev["id"]).next_lifecycle is None


def test_after_downtime_started_and_ended_once_and_only_the_latest_reminder(api, database):
    a = create_event(api, title="A", draft=False)
    start, end = dates(a)
    # down from before the first reminder until 20 minutes before the start
    assert run(database, start - dt.timedelta(minutes=20)) == 1
    assert [o.payload["actionEvent"]["body"]["startsIn"] for o in emitted(database, a["id"])] == [{"minutes": 30}]
    b = create_event(api, title="B", draft=False)
    # down until after the end: no reminder (the event began), one started, one ended
    assert run(database, end + dt.timedelta(days=2)) == 4  # a and b: started + ended each
    assert [o.slug for o in emitted(database, b["id"])] == ["started", "ended"]
    assert [o.slug for o in emitted(database, a["id"])] == ["reminder", "started", "ended"]


def test_drafts_canceled_and_tbd_events_emit_nothing(api, database):
    draft = create_event(api, title="Draft")
    canceled = create_event(api, title="Canceled", draft=False)
    assert api.post(f"{EVENTS}/{canceled['id']}/cancel", {}).status_code == 200
    body = event_body(title="TBD", draft=False)
    body["event"]["dateAndTimeSettings"] = {"dateAndTimeTbd": True, "dateAndTimeTbdMessage": "Soon"}
    tbd = api.post(EVENTS, body).json()["event"]
    far = utcnow() + dt.timedelta(days=400)
    assert run(database, far) == 0
    with database.session() as s:
        assert not lifecycle_due(s, far)
    for e in (draft, canceled, tbd):
        assert emitted(database, e["id"]) == []
    # a draft published after its start: no "started" then; its end still comes
    t = utcnow()
    body = event_body(title="Late", draft=True)
    body["event"]["dateAndTimeSettings"] = {"startDate": iso(t - dt.timedelta(hours=1)), "endDate": iso(t + dt.timedelta(hours=1))}
    late = api.post(EVENTS, body).json()["event"]
    assert api.post(f"{EVENTS}/{late['id']}/publish", {}).status_code == 200
    assert run(database, utcnow()) == 0
    assert run(database, t + dt.timedelta(hours=2)) == 1
    assert [o.slug for o in emitted(database, late["id"])] == ["ended"]


def test_moving_the_dates_replans(api, database):
    ev = create_event(api, draft=False)
    t = utcnow()
    # an upcoming event moved to a start in the past: it starts now, once; no reminders
    r = api.patch(f"{EVENTS}/{ev['id']}", {"event": {"dateAndTimeSettings": {
        "startDate": iso(t - dt.timedelta(minutes=1)), "endDate": iso(t + dt.timedelta(hours=3))}}})  # fmt: skip
    assert r.status_code == 200
    assert run(database, utcnow()) == 1 and run(database, utcnow()) == 0
    assert [o.slug for o in emitted(database, ev["id"])] == ["started"]
    # moved again into the future: it is upcoming again, reminders from now on only
    new_start = utcnow() + dt.timedelta(hours=5)
    api.patch(f"{EVENTS}/{ev['id']}", {"event": {"dateAndTimeSettings": {
        "startDate": iso(new_start), "endDate": iso(new_start + dt.timedelta(hours=1))}}})  # fmt: skip
    assert run(database, new_start - dt.timedelta(hours=2)) == 1
    assert run(database, new_start + dt.timedelta(hours=2)) == 2
    assert [o.slug for o in emitted(database, ev["id"])] == ["started", "reminder", "started", "ended"]


def test_has_guests(api, database):
    ev = create_event(api, draft=False)
    td = create_td(api, ev["id"])
    res = reserve(api, td["id"])
    assert api.post(CHECKOUT, {"eventId": ev["id"], "reservationId": res["id"], "guests": [guest_form()]}).status_code == 200
    start, _ = dates(ev)
    run(database, start)
    assert emitted(database, ev["id"])[-1].payload["actionEvent"]["body"]["hasGuests"] is True


def test_two_passes_racing_emit_each_webhook_exactly_once(api, database):
    ids = [create_event(api, title=f"R{i}", draft=False)["id"] for i in range(6)]
    start, end = dates({"dateAndTimeSettings": api.get(f"{EVENTS}/{ids[-1]}").json()["event"]["dateAndTimeSettings"]})
    for at in (start - dt.timedelta(minutes=29), end + dt.timedelta(minutes=1)):
        barrier, counts, errors = threading.Barrier(2), [], []

        def one() -> None:
            try:
                barrier.wait()
                counts.append(run(database, at))
            except Exception as e:  # noqa: BLE001 - reported below
                errors.append(e)

        threads = [threading.Thread(target=one) for _ in range(2)]
        for th in threads:
            th.start()
        for th in threads:
            th.join()
        assert not errors, errors
        assert sum(counts) == len(ids) * (1 if at < start else 2)
    for i in ids:
        assert [o.slug for o in emitted(database, i)] == ["reminder", "started", "ended"]


def test_an_idle_tick_is_one_read_and_no_write(api, database, monkeypatch):
    create_event(api, draft=False)
    writes = []
    real = database.write
    monkeypatch.setattr(database, "write", lambda fn, *a, **k: writes.append(fn) or real(fn, *a, **k))
    assert scheduler.tick(database) == 0 and writes == []
    assert "ix_events_next_lifecycle" in {ix.name for ix in Event.__table__.indexes}
