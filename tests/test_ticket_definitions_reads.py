"""Get Ticket Definition's served path (routes._get_direct, service._PgGet): the same
answers and refusals as a FastAPI-solved route, one read, on both databases."""

from __future__ import annotations

import asyncio
import base64
import datetime as dt
import json

import fastapi.routing
import psycopg
import pytest
from psycopg_pool import PoolTimeout
from sqlalchemy import update

from boxoffice import db as db_module
from boxoffice.db import Database
from boxoffice.identity import IdentityType, Permission, Principal
from boxoffice.ticket_definitions import service
from boxoffice.ticket_definitions.models import TicketDefinition
from tests.helpers import TD, create_event, create_td


def _refusal(r, status: int) -> dict:
    assert r.status_code == status, r.text
    return r.json()


def test_get_row_is_the_core_row(api, database):
    """The driver's row (PostgreSQL) equals what Core reads, value for value: aware UTC
    timestamps, parsed JSON, booleans, NULLs."""
    ev = create_event(api)
    td = create_td(api, ev["id"], extendedFields={"namespaces": {"_user_fields": {"color": "red"}}},
                   pricingMethod={"pricingOptions": {"optionDetails": [
                       {"name": "Adult", "price": {"value": "20", "currency": "USD"}},
                       {"name": "Child", "price": {"value": "10", "currency": "USD"}}]}})
    later = dt.datetime(2030, 1, 2, 3, 4, 5, 123000, tzinfo=dt.UTC)
    with database.session(write=True) as s:
        s.execute(update(TicketDefinition).where(TicketDefinition.id == td["id"]).values(
            sale_end=later, next_hold_expiry=later, sold_count=1))
    principal = Principal(site_id=api.site, identity_type=IdentityType.APP, identity_id="x", permissions=frozenset(Permission))
    with database.reading() as conn:
        got = service.get(conn, principal, td["id"])
        core = conn.execute(service._GET, {"id": td["id"], "site": api.site}).first()
    assert tuple(got) == tuple(core)
    assert got.sale_end == later and got.sale_end.tzinfo is not None
    assert got.price_options[1]["name"] == "Child" and got.extended_fields["namespaces"]["_user_fields"]["color"] == "red"
    assert got.hidden is False and got.sold_count == 1
    with database.reading() as conn:
        other = Principal(site_id="another-site", identity_type=IdentityType.APP, identity_id="x", permissions=frozenset(Permission))
        with pytest.raises(Exception, match="not found"):
            service.get(conn, other, td["id"])


def test_query_rows_are_the_core_rows(api, database):
    """Query's page (query.plain_rows: named tuples, not SQLAlchemy Rows) holds what
    Core reads, value for value and in order, and the sort keys after the columns."""
    ev = create_event(api)
    ids = [create_td(api, ev["id"], name=f"T{i}")["id"] for i in range(3)]
    later = dt.datetime(2030, 1, 2, 3, 4, 5, 123000, tzinfo=dt.UTC)
    with database.session(write=True) as s:
        s.execute(update(TicketDefinition).where(TicketDefinition.id == ids[1]).values(sale_end=later))
    principal = Principal(site_id=api.site, identity_type=IdentityType.APP, identity_id="x", permissions=frozenset(Permission))
    with database.session() as s:
        page = service.query(s, principal, {"filter": {"eventId": ev["id"]}}, b"k" * 32)
        core = s.connection().execute(service._site(principal).where(TicketDefinition.event_id == ev["id"])
                                      .order_by(TicketDefinition.created_date, TicketDefinition.id)).all()
    assert [r.id for r in page.rows] == ids
    assert [tuple(r)[: len(core[0])] for r in page.rows] == [tuple(r) for r in core]
    assert page.rows[1].sale_end == later and page.rows[1].created_date.tzinfo is not None
    assert page.rows[0][-1] == ids[0]  # the id tie-breaker key, last


def test_query_lists_what_get_answers_from_core_columns(api, database):
    """Query reads fewer columns than Get (service._LISTED) through plain table columns
    (query.core), on a Core connection: each listed definition is still Get's answer,
    field for field, and the statement holds no ORM element to compile."""
    ev = create_event(api)
    ids = [create_td(api, ev["id"], name="A")["id"],
           create_td(api, ev["id"], name="B", salePeriod={"startDate": "2030-01-01T00:00:00.000Z"},
                     extendedFields={"namespaces": {"_user_fields": {"c": "d"}}})["id"]]
    listed = api.post(f"{TD}/query", {"query": {"filter": {"eventId": ev["id"]}}, "fields": ["SALES_DETAILS"]})
    assert listed.status_code == 200, listed.text
    got = [api.get(f"{TD}/{i}", params={"fields": "SALES_DETAILS"}).json()["ticketDefinition"] for i in ids]
    assert listed.json()["ticketDefinitions"] == got
    principal = Principal(site_id=api.site, identity_type=IdentityType.APP, identity_id="x", permissions=frozenset(Permission))
    ctx = service.q.Ctx(now=dt.datetime.now(dt.UTC))
    assert service.QUERY.by_name["eventId"].expr(ctx) is TicketDefinition.__table__.c.event_id
    assert service.QUERY.id_expr is TicketDefinition.__table__.c.id
    stmt = service._site(principal)
    assert "next_sale_transition" not in stmt.selected_columns and "name" in stmt.selected_columns
    assert not stmt._propagate_attrs  # no ORM plugin: Core compiles and runs it


def test_get_is_served_without_fastapis_dependency_solver(api, monkeypatch):
    """The Get route answers without FastAPI solving dependencies per request (the layer
    it skips); another route still goes through it (the patch is effective)."""
    ev = create_event(api)
    td = create_td(api, ev["id"])

    def refuse(*_a, **_k):
        raise AssertionError("solve_dependencies was called")

    monkeypatch.setattr(fastapi.routing, "solve_dependencies", refuse)
    r = api.get(f"{TD}/{td['id']}?fields=SALES_DETAILS")
    assert r.status_code == 200, r.text
    assert r.json()["ticketDefinition"]["salesDetails"]["unsoldCount"] == 3
    with pytest.raises(AssertionError, match="solve_dependencies"):
        api.post(f"{TD}/query", {"query": {}})


def test_get_reads_on_the_loop_on_postgresql(api, database, monkeypatch):
    """PostgreSQL: Get reads on the app's async connection, no thread; event details or a
    hold past its expiry (seats that read as free) go to the thread pool's read. Both
    paths answer alike. SQLite: no async pool, every Get in the thread pool."""
    from boxoffice.ticket_definitions import routes

    if database.is_sqlite:
        assert not database._async_reads
        return
    assert len(database._async_reads) == 1  # the TestClient's loop's
    ev = create_event(api)
    td = create_td(api, ev["id"])
    path = f"{TD}/{td['id']}?fields=SALES_DETAILS"
    hops: list[str] = []
    real = routes.run_in_threadpool

    async def counted(fn, *a, **k):
        hops.append(fn.__name__)
        return await real(fn, *a, **k)

    monkeypatch.setattr(routes, "run_in_threadpool", counted)
    on_loop = api.get(path).json()["ticketDefinition"]
    assert hops == [] and on_loop["salesDetails"]["unsoldCount"] == 3
    monkeypatch.setattr(database, "async_reads", lambda: None)
    in_pool = api.get(path).json()["ticketDefinition"]
    monkeypatch.undo()
    monkeypatch.setattr(routes, "run_in_threadpool", counted)
    assert hops == ["_read_one"] and in_pool == on_loop
    assert api.get(f"{TD}/{td['id']}?fields=EVENT_DETAILS").json()["ticketDefinition"]["eventDetails"]["title"]
    assert hops == ["_read_one"] * 2
    with database.session(write=True) as s:  # a hold due: the counters still hold 1 seat of it
        s.execute(update(TicketDefinition).where(TicketDefinition.id == td["id"]).values(
            next_hold_expiry=dt.datetime(2020, 1, 1, tzinfo=dt.UTC)))
    assert api.get(path).json()["ticketDefinition"]["salesDetails"]["unsoldCount"] == 3
    assert hops == ["_read_one"] * 3
    err = _refusal(api.get(f"{TD}/00000000-0000-0000-0000-000000000000"), 404)["details"]["applicationError"]
    assert err["code"] == "TICKET_DEFINITION_NOT_FOUND" and hops == ["_read_one"] * 3

    async def no_connection(*_a, **_k):
        raise PoolTimeout("no connection in time")

    monkeypatch.setattr(service._pg_get, "run_async", no_connection)  # PostgreSQL stalled: the pool's read decides
    assert api.get(path).json()["ticketDefinition"]["salesDetails"]["unsoldCount"] == 3
    assert hops == ["_read_one"] * 4

    async def broken(*_a, **_k):
        raise psycopg.OperationalError("server closed the connection unexpectedly")

    monkeypatch.setattr(service._pg_get, "run_async", broken)  # a pooled connection a restart broke
    assert api.get(path).json()["ticketDefinition"]["salesDetails"]["unsoldCount"] == 3
    assert hops == ["_read_one"] * 5


def _pg_only(database):
    if database.is_sqlite:
        pytest.skip("the async read pool is PostgreSQL's")


def test_async_reads_connect_as_sqlalchemy_does(database):
    """A space in ``options`` (or a password) reaches PostgreSQL as SQLAlchemy passes it:
    a URL rendered back to text would turn it into '+', and the pool would not open."""
    _pg_only(database)
    url = database.engine.url.update_query_dict({"options": "-c statement_timeout=4321"})
    db = Database(url.render_as_string(hide_password=False))

    async def run() -> str:
        await db.open_async_reads(2)
        pool = db.async_reads()
        assert pool is not None
        async with pool.connection() as conn:
            value = (await (await conn.execute("SHOW statement_timeout")).fetchone())[0]
        await db.close_async_reads()
        assert db.async_reads() is None
        return value

    try:
        assert asyncio.run(run()) == "4321ms"
    finally:
        db.dispose()


def test_async_reads_that_cannot_open_leave_the_thread_pool(database, monkeypatch, caplog):
    _pg_only(database)
    monkeypatch.setattr(db_module, "ASYNC_OPEN_WAIT", 0.5)
    db = Database(database.engine.url.set(port=1).render_as_string(hide_password=False))

    async def run() -> None:
        await db.open_async_reads(2)
        assert db.async_reads() is None
        await db.close_async_reads()

    asyncio.run(run())
    assert "thread pool" in caplog.text


def test_two_lifespans_on_one_loop_share_one_pool(database):
    """Counted before the first await: neither opener overwrites the other, and the
    pool closes with the last of them."""
    _pg_only(database)
    db = Database(database.engine.url.render_as_string(hide_password=False))

    async def run() -> None:
        await asyncio.gather(db.open_async_reads(2), db.open_async_reads(2))
        pool = db.async_reads()
        assert pool is not None and len(db._async_reads) == 1
        await db.close_async_reads()
        assert db.async_reads() is pool and not pool.closed
        await db.close_async_reads()
        assert db.async_reads() is None and pool.closed

    try:
        asyncio.run(run())
    finally:
        db.dispose()


def test_get_answers_and_refusals_are_the_routes(api, make_api):
    ev = create_event(api)
    td = create_td(api, ev["id"])
    path = f"{TD}/{td['id']}"
    # the fieldsets: repeated keys, `.r`, each unknown one refused as FastAPI refused it
    t = api.get(f"{path}?fields=SALES_DETAILS&fields=EVENT_DETAILS").json()["ticketDefinition"]
    assert t["salesDetails"]["unsoldCount"] == 3 and t["eventDetails"]["title"] == ev["title"]
    dotr = base64.urlsafe_b64encode(json.dumps({"fields": ["EVENT_DETAILS"]}).encode()).decode().rstrip("=")
    t = api.get(path, params={".r": dotr}).json()["ticketDefinition"]
    assert "eventDetails" in t and "salesDetails" not in t
    body = _refusal(api.get(f"{path}?fields=SALES_DETAILS&fields=NOPE"), 400)
    fv = body["details"]["validationError"]["fieldViolations"]
    assert [v["field"] for v in fv] == ["fields[1]"] and "SALES_DETAILS" in fv[0]["description"]
    _refusal(api.get(f"{path}?fields=SALES_DETAILS,EVENT_DETAILS"), 400)  # one value, as before
    bad_r = base64.urlsafe_b64encode(json.dumps({"fields": ["NOPE"]}).encode()).decode().rstrip("=")
    assert _refusal(api.get(path, params={".r": bad_r}), 400)["details"]["validationError"]["fieldViolations"][0][
        "field"] == "fields"
    # the key and its permission, before anything is read
    assert _refusal(api.client.get(path), 401)
    assert _refusal(api.client.get(path, headers={"Authorization": "not-a-key"}), 401)
    assert _refusal(api.get(path, headers={"wix-site-id": "someone-else"}), 403)
    no_perm = make_api(permissions={Permission.READ_EVENTS})
    assert "Manage Ticket Definitions" in _refusal(no_perm.get(path), 403)["message"]
    assert make_api(permissions={Permission.MANAGE_ORDERS}).get(path).status_code == 200
    # another site's definition is not found, as an unknown id
    err = _refusal(make_api(site="site-b").get(path), 404)["details"]["applicationError"]
    assert err["code"] == "TICKET_DEFINITION_NOT_FOUND"


def test_get_is_documented_as_before(client):
    op = client.get("/openapi.json").json()["paths"]["/events-ticket-definitions/v3/ticket-definitions/{ticketDefinitionId}"]["get"]
    assert op["summary"] == "Get Ticket Definition"
    params = {p["name"]: p for p in op["parameters"]}
    assert params["ticketDefinitionId"]["in"] == "path" and params["fields"]["in"] == "query"
    assert "TicketDefinitionResponse" in json.dumps(op["responses"]["200"])
