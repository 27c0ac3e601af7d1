"""Random and hostile queries against every Query endpoint: never a 500, never slow.

hypothesis draws filters deep and wide, well-formed and not (unknown fields and
operators, wrong types, huge and nested arrays, `$not` thousands deep, lone
surrogates, integers beyond 64 bits, NaN), with random sort and paging, and posts them
to Query Ticket Definitions (owner key), Query Available Ticket Definitions and Query
Events (visitor key). Every answer must be a 200 or a Wix-envelope 4xx within
MAX_SECONDS. Runs on SQLite and PostgreSQL; each database's half stays under a minute.
"""

from __future__ import annotations

import base64
import json
import os
import time
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.helpers import EVENTS, TD, create_event, create_td

MAX_SECONDS = 1.0
# per endpoint and database; BOXOFFICE_FUZZ_EXAMPLES=2000 for a longer campaign
EXAMPLES = int(os.environ.get("BOXOFFICE_FUZZ_EXAMPLES", "120"))

STRINGS = ["alpha", "beta", "", "zz top", "Émile"]
INTS = [0, 1, 3, "2", -5, 2**31 - 1]
MONEY = ["200", "10.50", 0, 199.99, "0.00"]
DATES = ["2026-01-01T00:00:00.000Z", "2030-06-01T12:00:00Z", "2020-02-29T00:00:00+02:00"]
BOOLS = [True, False]
# Each queryable field with values of its own kind (a leaf on it can match rows).
TD_FIELDS: dict[str, list[Any]] = {
    "id": STRINGS, "eventId": STRINGS, "revision": INTS, "name": STRINGS, "description": STRINGS,
    "initialLimit": INTS, "limit": INTS, "sortIndex": INTS, "pricingMethod.fixedPrice.value": MONEY,
    "pricingMethod.fixedPrice.currency": ["USD", "EUR"], "pricingMethod.pricingType": ["STANDARD", "DONATION"],
    "pricingMethod.free": BOOLS, "feeType": ["FEE_INCLUDED", "NO_FEE", "FEE_ADDED_AT_CHECKOUT"],
    "saleStatus": ["SALE_STARTED", "SALE_ENDED", "SALE_SCHEDULED"], "hidden": BOOLS,
    "createdDate": DATES, "updatedDate": DATES,
}
EVENT_FIELDS: dict[str, list[Any]] = {
    "id": STRINGS, "title": ["Leather Workshop", "Draft", ""], "slug": STRINGS,
    "status": ["UPCOMING", "STARTED", "ENDED", "CANCELED", "DRAFT"], "createdDate": DATES, "updatedDate": DATES,
    "publishedDate": DATES, "dateAndTimeSettings.startDate": DATES, "dateAndTimeSettings.endDate": DATES,
    "registration.initialType": ["TICKETING", "RSVP"], "registration.type": ["TICKETING", "RSVP", "EXTERNAL"],
}
OPS = ["$eq", "$ne", "$lt", "$lte", "$gt", "$gte", "$in", "$nin", "$exists", "$regex", "$nor", "$", "$hasSome", "$startsWith"]

# --- values, from plausible to hostile ----------------------------------------------------

surrogates = st.one_of(
    st.sampled_from(["\ud800", "\udfff", "a\ud83d", "\ude00b", "\U0001f600"]),
    st.text(st.characters(min_codepoint=0xD7F0, max_codepoint=0xE010), min_size=1, max_size=3),
)
strings = st.one_of(
    st.text(max_size=12),
    surrogates,
    st.sampled_from(
        [
            "", "alpha", "SALE_STARTED", "FEE_INCLUDED", "UPCOMING", "TICKETING", "USD",
            "2026-01-01T00:00:00.000Z", "9999-12-31T23:59:59-14:00", "0001-01-01T00:00:00+14:00", "yesterday",
            "1e999999", "-1e999999", "NaN", "Infinity", "0.001", "92233720368547758.08", "1_000", " 12 ",
            "9" * 5000,
        ]
    ),
)
numbers = st.one_of(
    st.integers(min_value=-(2**70), max_value=2**70),
    st.sampled_from([0, 1, -1, 2**31 - 1, 2**31, 2**63 - 1, 2**63, -(2**63) - 1, 10**30, 10**400]),
    st.floats(allow_nan=True, allow_infinity=True),
)
scalars = st.one_of(st.none(), st.booleans(), numbers, strings)
json_values = st.recursive(
    scalars,
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=6), inner, max_size=3)),
    max_leaves=8,
)


class Raw:
    """A piece of JSON built as text when the request is sent: hostile sizes and depths
    that hypothesis would take long to draw, json.dumps could not nest, and a report
    could not print (it shows the recipe: ``Raw('not', 3000)``)."""

    def __init__(self, kind: str, n: int, field: str = "name") -> None:
        self.kind, self.n, self.field = kind, n, field

    def __repr__(self) -> str:
        return f"Raw({self.kind!r}, {self.n}, {self.field!r})"

    def text(self) -> str:
        f, n = json.dumps(self.field), self.n
        leaf = f'{{{f}:"alpha"}}'
        if self.kind == "not":
            return '{"$not":' * n + leaf + "}" * n
        if self.kind == "andor":
            return "".join('{"%s":[' % ("$and", "$or")[i % 2] for i in range(n)) + leaf + "]}" * n
        if self.kind == "list":
            return "[" * n + leaf + "]" * n
        if self.kind == "or":
            return '{"$or":[' + ",".join([f'{{{f}:"x"}}'] * n) + "]}"
        if self.kind == "empty":
            return '{"$and":[' + ",".join(["{}"] * n) + "]}"
        if self.kind in ("$in", "$nin"):
            return f'{{{f}:{{"{self.kind}":[' + ",".join(map(str, range(n))) + "]}}"
        raise ValueError(self.kind)


def dumps(body: Any) -> bytes:
    """json.dumps as a hostile client would (ASCII escapes, so lone surrogates travel as
    ``\\udxxx``; NaN and Infinity as bare tokens), with each Raw spliced in as text."""
    raws: list[Raw] = []

    def mark(o: Any) -> str:
        if isinstance(o, Raw):
            raws.append(o)
            return f"@@RAW{len(raws) - 1}@@"
        raise TypeError(type(o))

    text = json.dumps(body, separators=(",", ":"), default=mark)
    for i, r in enumerate(raws):
        text = text.replace(f'"@@RAW{i}@@"', r.text(), 1)
    return text.encode()


def mostly(common: st.SearchStrategy[Any], rare: st.SearchStrategy[Any], odds: int = 9) -> st.SearchStrategy[Any]:
    """``common`` ``odds`` times in ``odds + 1`` (st.one_of(a, a, b) is one_of(a, b))."""
    return st.integers(0, odds).flatmap(lambda i: rare if i == 0 else common)


def good_leaves(fields: dict[str, list[Any]]) -> st.SearchStrategy[dict]:
    """A well-formed condition: a known field, an operator, values of its kind."""

    def on(name: str) -> st.SearchStrategy[dict]:
        v = st.one_of(st.sampled_from(fields[name]), st.none())
        return st.one_of(
            v.map(lambda x: {name: x}),
            st.builds(lambda op, x: {name: {op: x}}, st.sampled_from(["$eq", "$ne", "$lt", "$lte", "$gt", "$gte"]), v),
            st.builds(lambda op, xs: {name: {op: xs}}, st.sampled_from(["$in", "$nin"]), st.lists(v, max_size=6)),
            st.booleans().map(lambda b: {name: {"$exists": b}}),
        )

    return st.sampled_from(sorted(fields)).flatmap(on)


def bad_leaves(fields: dict[str, list[Any]]) -> st.SearchStrategy[dict]:
    """Anything in a condition's place: unknown fields and operators, wrong types."""
    names = st.one_of(st.sampled_from(sorted(fields)), st.text(max_size=8), surrogates)
    ops = st.one_of(st.sampled_from(OPS), surrogates)
    value = st.one_of(scalars, st.lists(scalars, max_size=5), json_values)
    return st.one_of(
        st.builds(lambda n, v: {n: v}, names, value),
        st.builds(lambda n, ops_: {n: ops_}, names, st.dictionaries(ops, value, min_size=1, max_size=3)),
    )


def filters(fields: dict[str, list[Any]]) -> st.SearchStrategy[Any]:
    good, bad = good_leaves(fields), bad_leaves(fields)
    tree = st.recursive(
        mostly(good, bad, 4),
        lambda kids: st.one_of(
            st.lists(kids, max_size=5).map(lambda fs: {"$and": fs}),
            st.lists(kids, max_size=5).map(lambda fs: {"$or": fs}),
            kids.map(lambda f: {"$not": f}),
            st.lists(kids, min_size=2, max_size=3).map(lambda fs: {k: v for f in fs for k, v in f.items()}),
        ),
        max_leaves=25,
    )
    name = st.sampled_from(sorted(fields))
    hostile = st.one_of(
        # wide: up to just past the limits, and thousands past them
        st.builds(Raw, st.just("or"), st.one_of(st.integers(0, 250), st.integers(0, 60_000)), name),
        st.builds(Raw, st.just("empty"), st.one_of(st.integers(0, 250), st.integers(0, 60_000))),
        st.builds(Raw, st.sampled_from(["$in", "$nin"]), st.one_of(st.integers(0, 600), st.integers(0, 70_000)), name),
        # deep: up to just past the limit, and past Python's recursion limit
        st.builds(Raw, st.sampled_from(["not", "andor", "list"]), st.one_of(st.integers(0, 12), st.integers(0, 3_000)), name),
        # not a filter at all
        json_values,
    )
    return mostly(tree, hostile, 3)


def sorts(fields: dict[str, list[Any]]) -> st.SearchStrategy[Any]:
    good = st.builds(
        lambda f, o: {"fieldName": f, **({"order": o} if o else {})},
        st.sampled_from(sorted(fields)),
        st.sampled_from(["ASC", "DESC", None]),
    )
    bad = st.one_of(
        st.builds(
            lambda f, o: {"fieldName": f, "order": o},
            st.one_of(st.sampled_from(sorted(fields)), strings, numbers),
            st.one_of(st.sampled_from(["ASC", "DESC"]), strings, st.none()),
        ),
        json_values,
    )
    return st.one_of(
        st.none(), st.none(), st.lists(good, min_size=1, max_size=3), st.lists(st.one_of(good, bad), max_size=12), json_values
    )


paging_values = st.one_of(st.none(), numbers, strings, st.booleans())


def pagings() -> st.SearchStrategy[Any]:
    small = st.integers(0, 120)
    return st.one_of(
        st.none(),
        st.none(),
        st.fixed_dictionaries({}, optional={"limit": small, "offset": st.one_of(small, st.integers(0, 200_000))}).map(
            lambda p: {"paging": p}
        ),
        st.fixed_dictionaries({}, optional={"limit": small}).map(lambda p: {"cursorPaging": p}),
        st.fixed_dictionaries({}, optional={"limit": paging_values, "offset": paging_values}).map(lambda p: {"paging": p}),
        st.fixed_dictionaries({}, optional={"limit": paging_values, "cursor": st.one_of(strings, numbers)}).map(
            lambda p: {"cursorPaging": p}
        ),
    )


def queries(fields: dict[str, list[Any]]) -> st.SearchStrategy[Any]:
    q = st.builds(
        lambda f, s, p: {**({"filter": f} if f is not None else {}), **({"sort": s} if s is not None else {}), **(p or {})},
        st.one_of(st.none(), filters(fields)),
        sorts(fields),
        pagings(),
    )
    return mostly(q, json_values)


# --- the endpoints ---------------------------------------------------------------------------

ENDPOINTS = {
    "query-ticket-definitions": (f"{TD}/query", "app", TD_FIELDS),
    "query-available-ticket-definitions": (f"{TD}/available/query", "visitor", TD_FIELDS),
    "query-events": (f"{EVENTS}/query", "visitor", EVENT_FIELDS),
}


@pytest.fixture
def callers(make_api) -> dict[str, Any]:
    owner = make_api()
    ev = create_event(owner, draft=False)
    for name in ("alpha", "beta"):
        create_td(owner, ev["id"], name=name)
    create_event(owner, title="Draft")
    return {"app": owner, "visitor": make_api(identity="visitor")}


def send(api: Any, method: str, path: str, body: Any = None, **kw: Any) -> Any:
    """One request, timed (the body serialised by :func:`dumps`)."""
    data = dumps(body) if method == "POST" else b""
    t = time.perf_counter()
    if method == "POST":
        r = api.client.post(path, content=data, headers=api.headers({"content-type": "application/json"}))
    else:
        r = api.get(path, **kw)
    took = time.perf_counter() - t
    assert r.status_code < 500, r.text
    assert took < MAX_SECONDS, f"{took:.2f}s for a {len(data)}-byte body"
    if r.status_code != 200:
        err = r.json()
        assert "message" in err and "details" in err, err
    return r


SETTINGS = settings(
    max_examples=EXAMPLES,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large],
)


@pytest.mark.parametrize("endpoint", sorted(ENDPOINTS))
def test_random_queries_never_500_and_stay_fast(callers, endpoint):
    path, who, fields = ENDPOINTS[endpoint]
    api = callers[who]

    @SETTINGS
    @given(body=mostly(queries(fields).map(lambda q: {"query": q}), json_values))
    def check(body):
        send(api, "POST", path, body)

    check()


@pytest.mark.parametrize("path", [f"{TD}/count", f"{TD}/available/count"])
def test_random_count_filters_never_500_and_stay_fast(callers, path):
    api = callers["app"]

    @settings(SETTINGS, max_examples=EXAMPLES // 3)
    @given(flt=filters(TD_FIELDS), facet=st.one_of(st.none(), st.lists(st.sampled_from(sorted(TD_FIELDS) + ["nope"]), max_size=3)))
    def check(flt, facet):
        send(api, "POST", path, {"filter": flt, **({"facet": facet} if facet is not None and "available" not in path else {})})

    check()


def test_random_dot_r_never_500_and_stays_fast(callers):
    """The SDK's GET form: base64url JSON, here of any shape and depth."""
    api = callers["app"]
    td = api.post(f"{TD}/query", {}).json()["ticketDefinitions"][0]["id"]
    raw = st.one_of(
        json_values.map(lambda v: json.dumps({"fields": v}).encode()),
        json_values.map(lambda v: json.dumps(v).encode()),
        st.integers(0, 6_000).map(lambda n: b"[" * n + b"]" * n),  # base64 of 12 KB: under the `.r` limit
        st.binary(max_size=40),
    )

    @settings(SETTINGS, max_examples=EXAMPLES // 2)
    @given(data=raw, path=st.sampled_from([f"{TD}/{td}", "/events/v1/orders", "/events/v1/tickets"]))
    def check(data, path):
        r = base64.urlsafe_b64encode(data).rstrip(b"=").decode()
        send(api, "GET", path, params={".r": r})

    check()
