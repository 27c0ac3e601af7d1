"""The Query Language compiler, through Query Ticket Definitions.

The property test states the contract: for any filter and sort, the rows the
database returns are exactly those (in exactly the order) a plain-Python reading of
the same filter picks from the same rows.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.helpers import TD, create_event, create_td, iso, utcnow

NAMES = ["alpha", "Alpha", "beta", "Zed", "ärger", "émile", "b", "B2", "beta", "zz top"]


@pytest.fixture
def dataset(api) -> list[dict]:
    """~24 varied definitions over two events; returns them as the API shows them."""
    evs = [create_event(api, title="One"), create_event(api, title="Two")]
    now = utcnow()
    periods = [
        None,
        {"startDate": iso(now + dt.timedelta(days=3))},
        {"startDate": iso(now - dt.timedelta(days=3)), "endDate": iso(now + dt.timedelta(days=3))},
        {"endDate": iso(now - dt.timedelta(days=3))},
    ]
    prices = [
        {"fixedPrice": {"value": "10.50", "currency": "USD"}},
        {"fixedPrice": {"value": "0", "currency": "USD"}},
        {"fixedPrice": {"value": "200", "currency": "USD"}},
        {"guestPrice": {"value": "2", "currency": "USD"}},
        {"pricingOptions": {"optionDetails": [{"name": "Adult", "price": {"value": "50", "currency": "USD"}}]}},
    ]
    for i in range(24):
        pm = prices[i % len(prices)]
        free = pm.get("fixedPrice", {}).get("value") == "0"
        create_td(
            api,
            evs[i % 2]["id"],
            name=NAMES[i % len(NAMES)],
            description=None if i % 3 == 0 else f"desc {i % 4}",
            initialLimit=None if i % 4 == 0 else (i % 5) * 10 + 1,
            pricingMethod=pm,
            feeType="NO_FEE" if free and i % 2 else ["FEE_INCLUDED", "FEE_ADDED_AT_CHECKOUT"][i % 2],
            hidden=i % 3 == 1,
            salePeriod=periods[i % len(periods)],
        )
    # a few updates so revisions and updatedDate differ
    rows = api.post(f"{TD}/query", {"query": {"cursorPaging": {"limit": 100}}}).json()["ticketDefinitions"]
    for td in rows[::5]:
        api.patch(f"{TD}/{td['id']}", {"ticketDefinition": {"revision": td["revision"], "hidden": not td["hidden"]}})
    return api.post(f"{TD}/query", {"query": {"cursorPaging": {"limit": 100}}}).json()["ticketDefinitions"]


# --- a plain-Python reading of the query language --------------------------------


def _time(s: str) -> dt.datetime:
    return dt.datetime.fromisoformat(s.replace("Z", "+00:00"))


def value_of(td: dict, field: str) -> Any:
    pm = td["pricingMethod"]
    return {
        "id": td["id"],
        "eventId": td["eventId"],
        "revision": int(td["revision"]),
        "name": td["name"],
        "description": td.get("description"),
        "initialLimit": td.get("initialLimit"),
        "pricingMethod.fixedPrice.value": Decimal(pm["fixedPrice"]["value"]) if "fixedPrice" in pm else None,
        "pricingMethod.fixedPrice.currency": pm["fixedPrice"]["currency"] if "fixedPrice" in pm else None,
        "pricingMethod.pricingType": pm["pricingType"],
        "pricingMethod.free": pm["free"],
        "feeType": td["feeType"],
        "saleStatus": td["saleStatus"],
        "hidden": td["hidden"],
        "createdDate": _time(td["createdDate"]),
        "updatedDate": _time(td["updatedDate"]),
    }[field]


def wire_to_py(field: str, v: Any) -> Any:
    if v is None:
        return None
    if field in ("createdDate", "updatedDate"):
        return _time(v)
    if field == "pricingMethod.fixedPrice.value":
        return Decimal(str(v))
    if field == "revision":
        return int(v)
    return v


def matches(td: dict, flt: dict) -> bool:
    for key, value in flt.items():
        if key == "$and":
            ok = all(matches(td, f) for f in value)
        elif key == "$or":
            ok = any(matches(td, f) for f in value)
        elif key == "$not":
            ok = not matches(td, value)
        else:
            x = value_of(td, key)
            ops = value if isinstance(value, dict) else {"$eq": value}
            ok = all(leaf(x, op, key, v) for op, v in ops.items())
        if not ok:
            return False
    return True


def leaf(x: Any, op: str, field: str, v: Any) -> bool:
    if op == "$exists":
        return (x is not None) == v
    if op in ("$in", "$nin"):
        vals = [wire_to_py(field, i) for i in v]
        inside = x in vals if x is not None else None in vals
        return inside if op == "$in" else not inside
    v = wire_to_py(field, v)
    if op == "$eq":
        return x is None if v is None else (x is not None and x == v)
    if op == "$ne":
        return x is not None if v is None else (x is None or x != v)
    if x is None:
        return False
    return {"$lt": x < v, "$lte": x <= v, "$gt": x > v, "$gte": x >= v}[op]


def py_sort(rows: list[dict], field: str, desc: bool) -> list[dict]:
    """NULLS FIRST ascending, NULLS LAST descending, id ascending as the tie-breaker."""
    rows = sorted(rows, key=lambda r: r["id"])
    present = [r for r in rows if value_of(r, field) is not None]
    missing = [r for r in rows if value_of(r, field) is None]
    present.sort(key=lambda r: value_of(r, field), reverse=desc)  # stable: ids stay ascending within ties
    return present + missing if desc else missing + present


# --- filters as hypothesis draws them --------------------------------------------------

RANGE = ["$eq", "$ne", "$lt", "$lte", "$gt", "$gte", "$in", "$nin", "$exists"]
EQ = ["$eq", "$ne", "$in", "$nin", "$exists"]
FIELDS = {
    "id": RANGE,
    "eventId": RANGE,
    "revision": RANGE,
    "name": RANGE,
    "description": RANGE,
    "initialLimit": RANGE,
    "pricingMethod.fixedPrice.value": RANGE,
    "pricingMethod.fixedPrice.currency": RANGE,
    "pricingMethod.pricingType": RANGE,
    "pricingMethod.free": EQ,
    "feeType": RANGE,
    "saleStatus": RANGE,
    "hidden": EQ,
    "createdDate": RANGE,
    "updatedDate": RANGE,
}


def wire_values(rows: list[dict], field: str) -> list[Any]:
    """Values seen in the data (as the wire spells them) plus near misses."""
    out: list[Any] = []
    for r in rows:
        x = value_of(r, field)
        if x is None:
            continue
        if isinstance(x, dt.datetime):
            out += [iso(x), iso(x + dt.timedelta(milliseconds=1)), iso(x - dt.timedelta(milliseconds=1))]
        elif isinstance(x, Decimal):
            out += [str(x), str(x + Decimal("0.01"))]
        elif field == "revision":
            out += [str(x), x + 1]
        else:
            out.append(x)
    extra = {
        "name": ["a", "Beta", "zzz", "É"],
        "description": ["desc 1", "zzz"],
        "initialLimit": [0, 25, 100],
        "saleStatus": ["SALE_STARTED", "SALE_ENDED", "SALE_SCHEDULED"],
        "feeType": ["NO_FEE", "FEE_INCLUDED"],
        "pricingMethod.pricingType": ["STANDARD", "DONATION"],
        "pricingMethod.fixedPrice.currency": ["USD", "EUR"],
        "id": ["00000000-0000-0000-0000-000000000000", "ffffffff"],
    }.get(field, [])
    return out + extra


def filters(rows: list[dict]) -> st.SearchStrategy[dict]:
    def leaf_for(field: str) -> st.SearchStrategy[dict]:
        vals = st.sampled_from(wire_values(rows, field) or [None])
        ops = FIELDS[field]

        def build(op: str) -> st.SearchStrategy[dict]:
            if op == "$exists":
                return st.booleans().map(lambda b: {field: {"$exists": b}})
            if op in ("$in", "$nin"):
                return st.lists(st.one_of(vals, st.none()), max_size=4).map(lambda v: {field: {op: v}})
            if op in ("$eq", "$ne"):
                return st.one_of(vals, st.none()).flatmap(
                    lambda v: st.sampled_from([{field: {op: v}}] + ([{field: v}] if op == "$eq" else []))
                )
            return vals.map(lambda v: {field: {op: v}})

        return st.sampled_from(ops).flatmap(build)

    leaves = st.sampled_from(sorted(FIELDS)).flatmap(leaf_for)
    return st.recursive(
        leaves,
        lambda children: st.one_of(
            st.lists(children, min_size=1, max_size=3).map(lambda fs: {"$and": fs}),
            st.lists(children, min_size=1, max_size=3).map(lambda fs: {"$or": fs}),
            children.map(lambda f: {"$not": f}),
        ),
        max_leaves=6,
    )


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(data=st.data())
def test_sql_equals_python_for_random_filters_and_sorts(api, dataset, data):
    flt = data.draw(filters(dataset), label="filter")
    field = data.draw(st.sampled_from(sorted(FIELDS)), label="sort")
    desc = data.draw(st.booleans(), label="desc")
    r = api.post(
        f"{TD}/query",
        {"query": {"filter": flt, "sort": [{"fieldName": field, "order": "DESC" if desc else "ASC"}], "cursorPaging": {"limit": 100}}},
    )
    assert r.status_code == 200, r.text
    got = [t["id"] for t in r.json()["ticketDefinitions"]]
    want = [t["id"] for t in py_sort([t for t in dataset if matches(t, flt)], field, desc)]
    assert got == want


# --- paging -----------------------------------------------------------------------


def test_cursor_paging_walks_forward_and_back(api, dataset):
    flt = {"hidden": False}
    sort = [{"fieldName": "name", "order": "ASC"}]
    everything = api.post(f"{TD}/query", {"query": {"filter": flt, "sort": sort}}).json()["ticketDefinitions"]
    assert len(everything) > 10
    r0 = api.post(f"{TD}/query", {"query": {"filter": flt, "sort": sort, "cursorPaging": {"limit": 4}}})
    assert r0.status_code == 200, r0.text
    body = r0.json()
    pages = [body]
    assert body["metadata"]["cursors"]["prev"] is None
    while body["metadata"]["cursors"]["next"]:
        r = api.post(f"{TD}/query", {"query": {"cursorPaging": {"limit": 4, "cursor": body["metadata"]["cursors"]["next"]}}})
        assert r.status_code == 200, r.text
        body = r.json()
        pages.append(body)
    walked = [t["id"] for p in pages for t in p["ticketDefinitions"]]
    assert walked == [t["id"] for t in everything]
    assert all(p["metadata"]["count"] == len(p["ticketDefinitions"]) for p in pages)
    # and back again from the last page
    back = [pages[-1]]
    while back[-1]["metadata"]["cursors"]["prev"]:
        cur = back[-1]["metadata"]["cursors"]["prev"]
        back.append(api.post(f"{TD}/query", {"query": {"cursorPaging": {"limit": 4, "cursor": cur}}}).json())
    assert [t["id"] for p in reversed(back) for t in p["ticketDefinitions"]] == walked


def test_tampered_cursor_is_rejected(api, dataset, make_api):
    body = api.post(f"{TD}/query", {"query": {"cursorPaging": {"limit": 2}}}).json()
    cur = body["metadata"]["cursors"]["next"]
    bad = cur[:-3] + ("A" if cur[-3] != "A" else "B") + cur[-2:]
    r = api.post(f"{TD}/query", {"query": {"cursorPaging": {"cursor": bad}}})
    assert r.status_code == 400 and "cursor" in r.text
    # a cursor is bound to its site
    other = make_api(site="site-b")
    assert other.post(f"{TD}/query", {"query": {"cursorPaging": {"cursor": cur}}}).status_code == 400


def test_offset_paging_reports_total(api, dataset):
    r = api.post(f"{TD}/query", {"query": {"paging": {"limit": 5, "offset": 20}}})
    body = r.json()
    assert body["metadata"] == {"count": 4, "offset": 20, "total": 24, "tooManyToCount": False}
    ids = [t["id"] for t in api.post(f"{TD}/query", {}).json()["ticketDefinitions"]]
    assert [t["id"] for t in body["ticketDefinitions"]] == ids[20:]


def test_defaults_createddate_ascending_and_limit_100(api):
    ev = create_event(api)
    made = [create_td(api, ev["id"], name=f"N{i:03d}")["id"] for i in range(100)]
    create_event(api, title="second")
    ev2 = create_event(api, title="third")
    made.append(create_td(api, ev2["id"], name="last")["id"])
    body = api.post(f"{TD}/query", {}).json()
    assert [t["id"] for t in body["ticketDefinitions"]] == made[:100]
    assert body["metadata"]["cursors"]["next"]


@pytest.mark.parametrize(
    "query, field",
    [
        ({"cursorPaging": {"limit": 101}}, "query.cursorPaging.limit"),
        ({"paging": {"limit": 500}}, "query.paging.limit"),
        ({"paging": {"offset": -1}}, "query.paging.offset"),
        ({"filter": {"name": {"$regex": "a"}}}, "query.filter.name.$regex"),
        ({"filter": {"hidden": {"$lt": True}}}, "query.filter.hidden.$lt"),
        ({"filter": {"policyText": "x"}}, "query.filter.policyText"),
        ({"filter": {"$nor": []}}, "query.filter.$nor"),
        ({"filter": {"createdDate": {"$gt": "yesterday"}}}, "query.filter.createdDate.$gt"),
        ({"filter": {"initialLimit": "many"}}, "query.filter.initialLimit"),
        ({"filter": {"saleStatus": "ON_SALE"}}, "query.filter.saleStatus"),
        ({"filter": {"$and": {"name": "x"}}}, "query.filter.$and"),
        ({"sort": [{"fieldName": "policyText"}]}, "query.sort[0].fieldName"),
        ({"sort": [{"fieldName": "name", "order": "UP"}]}, "query.sort[0].order"),
        ({"paging": {"limit": 1}, "cursorPaging": {"limit": 1}}, "query"),
    ],
)
def test_unsupported_query_parts_are_400_naming_them(api, query, field):
    r = api.post(f"{TD}/query", {"query": query})
    assert r.status_code == 400, r.text
    assert field in error_fields(r), r.text


def error_fields(r) -> list[str]:
    """Paths a 400 names: field violations, or FILTER_PARSER_ERROR's data.field."""
    details = r.json()["details"]
    if "validationError" in details:
        return [v["field"] for v in details["validationError"]["fieldViolations"]]
    err = details["applicationError"]
    assert err["code"] == "FILTER_PARSER_ERROR", err
    return [err["data"]["field"]]


def test_seed_field_spellings_are_accepted(api):
    ev = create_event(api)
    create_td(api, ev["id"], initialLimit=5)
    create_td(api, ev["id"], initialLimit=50, pricingMethod={"guestPrice": {"value": "1", "currency": "USD"}})
    assert len(api.post(f"{TD}/query", {"query": {"filter": {"limit": {"$gt": 10}}}}).json()["ticketDefinitions"]) == 1
    assert len(api.post(f"{TD}/query", {"query": {"filter": {"pricing_method.pricing_type": "DONATION"}}}).json()["ticketDefinitions"]) == 1
    assert len(api.post(f"{TD}/query", {"query": {"filter": {"pricing_method.free": False}}}).json()["ticketDefinitions"]) == 2
