"""The query language's limits (limits.py), refused with a 400 before any SQL is built.

Issue 9's attack run: filters of 20,000-60,000 `$or` leaves took 19-72 s a request
(a visitor key may call Query Available Ticket Definitions); `$not` nested 300 deep,
`$in` with 65,535 values, a lone surrogate in a value, an offset of 10^30, a deeply
nested `.r` were each a 500. Every test here runs on SQLite and on PostgreSQL.
"""

from __future__ import annotations

import base64
import json
import time
from typing import Any

import pytest

from boxoffice import limits
from boxoffice import query as q
from boxoffice.errors import FilterParserError, InvalidArgument
from boxoffice.limits import MAX_R_CHARS
from tests.helpers import EVENTS, TD, create_event, create_td

AVAILABLE = f"{TD}/available/query"
# A hang guard, not a speed measure (that lives in bench/): a refusal is a walk of the
# request, milliseconds, and the code before the limits took 19-72 s; a loaded 2-core CI
# machine once took 1.1 s for a refusal, so the bound is far above any honest refusal.
FAST = 15.0


@pytest.fixture
def site(api) -> dict[str, Any]:
    """A published event with two definitions, as the owner made them."""
    ev = create_event(api, draft=False)
    return {"event": ev, "tds": [create_td(api, ev["id"], name=n) for n in ("alpha", "beta")]}


@pytest.fixture
def visitor(make_api, site):
    return make_api(identity="visitor")


def post_raw(api, path: str, body: Any) -> Any:
    """POST ``body`` serialised by the standard library (ASCII escapes, so a lone
    surrogate travels as ``\\ud800``, exactly as an attacker's client sends it)."""
    data = body if isinstance(body, bytes) else json.dumps(body, separators=(",", ":")).encode()
    t = time.perf_counter()
    r = api.client.post(path, content=data, headers=api.headers({"content-type": "application/json"}))
    r.elapsed_s = time.perf_counter() - t
    return r


def refused(r, field: str | None = None, code: str | None = None) -> dict:
    """A Wix 400 envelope; ``field`` must be the path it names (when given)."""
    assert r.status_code == 400, r.text
    assert r.elapsed_s < FAST, f"{r.elapsed_s:.2f}s"
    body = r.json()
    details = body["details"]
    if "validationError" in details:
        fields = [v["field"] for v in details["validationError"]["fieldViolations"]]
        got_code = "INVALID_ARGUMENT"
    else:
        fields = [details["applicationError"]["data"].get("field")]
        got_code = details["applicationError"]["code"]
    if field is not None:
        assert field in fields, body
    if code is not None:
        assert got_code == code, body
    return body


def nest_not(leaf: dict, depth: int) -> dict:
    for _ in range(depth):
        leaf = {"$not": leaf}
    return leaf


def ors(n: int) -> dict:
    return {"$or": [{"name": f"n{i}"} for i in range(n)]}


# --- leaves ------------------------------------------------------------------------


def test_visitor_or_of_20000_leaves_is_400_at_once(visitor):
    r = post_raw(visitor, AVAILABLE, {"query": {"filter": ors(20_000)}})
    refused(r, "query.filter.$or", "FILTER_PARSER_ERROR")


def test_leaves_at_the_limit_pass_and_one_more_is_refused(visitor):
    ok = post_raw(visitor, AVAILABLE, {"query": {"filter": ors(limits.FILTER_MAX_LEAVES)}})
    assert ok.status_code == 200, ok.text
    half = limits.FILTER_MAX_LEAVES // 2
    # spread over two arrays, so no single array is too long: the total is what counts
    flt = {"$and": [ors(half), ors(limits.FILTER_MAX_LEAVES - half + 1)]}
    refused(post_raw(visitor, AVAILABLE, {"query": {"filter": flt}}), code="FILTER_PARSER_ERROR")


def test_empty_objects_count_as_leaves(visitor):
    """`{}` compiles to TRUE: 20,000 of them would still be 20,000 SQL terms."""
    flt = {"$and": [{"$or": [{}] * 150}, {"$or": [{}] * 150}]}
    refused(post_raw(visitor, AVAILABLE, {"query": {"filter": flt}}), code="FILTER_PARSER_ERROR")


# --- depth -------------------------------------------------------------------------


def test_not_nested_300_deep_is_400(visitor):
    refused(post_raw(visitor, AVAILABLE, {"query": {"filter": nest_not({"name": "alpha"}, 300)}}))


def test_depth_at_the_limit_passes_and_one_more_is_refused(visitor, site):
    ok = post_raw(visitor, AVAILABLE, {"query": {"filter": nest_not({"name": "alpha"}, limits.FILTER_MAX_DEPTH)}})
    assert ok.status_code == 200, ok.text
    assert len(ok.json()["ticketDefinitions"]) == 1  # ten $nots: alpha itself
    deep = nest_not({"name": "alpha"}, limits.FILTER_MAX_DEPTH + 1)
    path = "query.filter" + ".$not" * (limits.FILTER_MAX_DEPTH + 1)
    refused(post_raw(visitor, AVAILABLE, {"query": {"filter": deep}}), path, "FILTER_PARSER_ERROR")


def test_and_or_nesting_counts_as_depth(visitor):
    flt: dict = {"name": "alpha"}
    for i in range(limits.FILTER_MAX_DEPTH + 1):
        flt = {("$and", "$or")[i % 2]: [flt]}
    refused(post_raw(visitor, AVAILABLE, {"query": {"filter": flt}}), code="FILTER_PARSER_ERROR")


# --- values ------------------------------------------------------------------------


def test_in_with_65535_values_is_400(visitor):
    flt = {"name": {"$in": [f"v{i}" for i in range(65_535)]}}
    refused(post_raw(visitor, AVAILABLE, {"query": {"filter": flt}}), "query.filter.name.$in", "FILTER_PARSER_ERROR")


@pytest.mark.parametrize("op", ["$in", "$nin"])
def test_in_at_the_limit_passes_and_one_more_is_refused(visitor, op):
    vals = ["alpha"] + [f"v{i}" for i in range(limits.FILTER_MAX_IN - 1)]
    ok = post_raw(visitor, AVAILABLE, {"query": {"filter": {"name": {op: vals}}}})
    assert ok.status_code == 200, ok.text
    r = post_raw(visitor, AVAILABLE, {"query": {"filter": {"name": {op: vals + ["one more"]}}}})
    refused(r, f"query.filter.name.{op}", "FILTER_PARSER_ERROR")


def test_values_bound_in_all_are_limited(visitor):
    per = limits.FILTER_MAX_IN
    n = limits.FILTER_MAX_VALUES // per + 1  # each $in allowed, together too many
    flt = {"$or": [{"name": {"$in": [f"{i}-{j}" for j in range(per)]}} for i in range(n)]}
    refused(post_raw(visitor, AVAILABLE, {"query": {"filter": flt}}), code="FILTER_PARSER_ERROR")


@pytest.mark.parametrize(
    "flt, field",
    [
        ({"name": "\ud800"}, "query.filter.name"),
        ({"name": {"$in": ["ok", "\udfff"]}}, "query.filter.name.$in"),
        ({"\ud800": "x"}, None),
        ({"name": {"$eq": "a\ud83d"}}, "query.filter.name.$eq"),
    ],
)
def test_lone_surrogate_in_a_filter_is_400(visitor, flt, field):
    """Refused by the body parser in front ("body") or by the filter check (the path)."""
    body = refused(post_raw(visitor, AVAILABLE, {"query": {"filter": flt}}))
    details = body["details"]
    named = [v["field"] for v in details.get("validationError", {}).get("fieldViolations", [])]
    named.append(details.get("applicationError", {}).get("data", {}).get("field"))
    assert "body" in named or field is None or field in named, body


def test_a_paired_surrogate_is_an_ordinary_character(visitor):
    r = post_raw(visitor, AVAILABLE, {"query": {"filter": {"name": "\U0001f600"}}})  # sent as \ud83d\ude00
    assert r.status_code == 200, r.text


@pytest.mark.parametrize(
    "flt, field",
    [
        ({"sortIndex": 10**30}, "query.filter.sortIndex"),
        ({"sortIndex": {"$gt": -(10**30)}}, "query.filter.sortIndex.$gt"),
        ({"initialLimit": {"$in": [1, 2**63]}}, "query.filter.initialLimit.$in"),
        ({"pricingMethod.fixedPrice.value": 1e300}, "query.filter.pricingMethod.fixedPrice.value"),
        ({"pricingMethod.fixedPrice.value": "1e999999"}, "query.filter.pricingMethod.fixedPrice.value"),
        ({"name": {"$eq": {"$eq": "x"}}}, "query.filter.name.$eq"),
        ({"name": {"$in": [["alpha"]]}}, "query.filter.name.$in"),
    ],
)
def test_values_no_column_holds_are_400(visitor, flt, field):
    refused(post_raw(visitor, AVAILABLE, {"query": {"filter": flt}}), field, "FILTER_PARSER_ERROR")


def test_integers_are_bounded_by_the_column_alike_on_both_databases(visitor):
    """sortIndex is a 32-bit column: its largest value is a value, one more is a 400 (on
    PostgreSQL the cast would fail, on SQLite it would compare)."""
    r = post_raw(visitor, AVAILABLE, {"query": {"filter": {"sortIndex": {"$lt": 2**31 - 1}}}})
    assert r.status_code == 200 and len(r.json()["ticketDefinitions"]) == 2, r.text
    r = post_raw(visitor, AVAILABLE, {"query": {"filter": {"sortIndex": {"$lt": 2**31}}}})
    refused(r, "query.filter.sortIndex.$lt", "FILTER_PARSER_ERROR")
    # money is stored in 64-bit cents
    r = post_raw(visitor, AVAILABLE, {"query": {"filter": {"pricingMethod.fixedPrice.value": {"$lt": "92233720368547758.07"}}}})
    assert r.status_code == 200 and len(r.json()["ticketDefinitions"]) == 2, r.text


# --- every filter-taking endpoint checks --------------------------------------------


@pytest.mark.parametrize(
    "path, wrap, who",
    [
        (f"{TD}/query", lambda f: {"query": {"filter": f}}, "owner"),
        (AVAILABLE, lambda f: {"query": {"filter": f}}, "visitor"),
        (f"{TD}/count", lambda f: {"filter": f}, "owner"),
        (f"{TD}/available/count", lambda f: {"filter": f}, "visitor"),
        ("/events-ticket-definitions/v3/bulk/ticket-definitions/delete", lambda f: {"filter": f}, "owner"),
        (f"{EVENTS}/query", lambda f: {"query": {"filter": f}}, "visitor"),
    ],
)
def test_every_filter_endpoint_refuses_a_huge_or(api, visitor, path, wrap, who):
    caller = api if who == "owner" else visitor
    field = "query.filter.$or" if "query" in path.rsplit("/", 1)[1] else "filter.$or"
    big = {"$or": [{"id": f"x{i}"} for i in range(40_000)]}  # ~640 KB, under the body limit
    refused(post_raw(caller, path, wrap(big)), field, "FILTER_PARSER_ERROR")
    deep = nest_not({"id": "x"}, limits.FILTER_MAX_DEPTH + 1)  # within the body's JSON depth
    refused(post_raw(caller, path, wrap(deep)), None, "FILTER_PARSER_ERROR")


# --- sort and paging ---------------------------------------------------------------


def test_sort_items_are_limited(visitor):
    sort = [{"fieldName": "name"}] * (limits.SORT_MAX_ITEMS + 1)
    refused(post_raw(visitor, AVAILABLE, {"query": {"sort": sort}}), "query.sort")
    ok = post_raw(visitor, AVAILABLE, {"query": {"sort": sort[: limits.SORT_MAX_ITEMS]}})
    assert ok.status_code == 200, ok.text


@pytest.mark.parametrize("path", [f"{TD}/query", AVAILABLE, f"{EVENTS}/query"])
def test_paging_offset_above_the_limit_is_400(api, visitor, path):
    caller = api if path == f"{TD}/query" else visitor
    for offset in (10**30, limits.MAX_OFFSET + 1):
        refused(post_raw(caller, path, {"query": {"paging": {"offset": offset}}}), "query.paging.offset")
    ok = post_raw(caller, path, {"query": {"paging": {"offset": limits.MAX_OFFSET}}})
    assert ok.status_code == 200, ok.text
    body = ok.json()
    assert body.get("metadata", body.get("pagingMetadata"))["count"] == 0


@pytest.mark.parametrize("paging", ["paging", "cursorPaging"])
def test_huge_limit_is_400(visitor, paging):
    refused(post_raw(visitor, AVAILABLE, {"query": {paging: {"limit": 10**30}}}), f"query.{paging}.limit")


# --- the SDK's `.r` GET parameter ---------------------------------------------------


def dot_r(value: Any = None, raw: bytes | None = None) -> str:
    data = raw if raw is not None else json.dumps(value).encode()
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


@pytest.fixture
def long_urls(monkeypatch):
    """httpx refuses URLs over 64 KiB; servers (uvicorn with httptools) need not."""
    import httpx._urlparse

    monkeypatch.setattr(httpx._urlparse, "MAX_URL_LENGTH", 10**8)


def timed_get(api, path: str, **kw: Any) -> Any:
    t = time.perf_counter()
    r = api.get(path, **kw)
    r.elapsed_s = time.perf_counter() - t
    return r


def test_dot_r_deeply_nested_is_400(api, site, long_urls):
    td = site["tds"][0]["id"]
    for depth in (5_000, 100_000):  # json.loads' RecursionError; far beyond the length limit
        refused(timed_get(api, f"{TD}/{td}", params={".r": dot_r(raw=b"[" * depth + b"]" * depth)}), ".r")
    nested: Any = ["SALES_DETAILS"]
    for _ in range(limits.MAX_JSON_DEPTH):
        nested = [nested]
    refused(timed_get(api, f"{TD}/{td}", params={".r": dot_r({"fields": nested})}), ".r")


def test_dot_r_too_long_is_400(api, site, long_urls):
    td = site["tds"][0]["id"]
    r = timed_get(api, f"{TD}/{td}", params={".r": dot_r({"fields": ["SALES_DETAILS"], "pad": "x" * MAX_R_CHARS})})
    refused(r, ".r")


@pytest.mark.parametrize("path, key", [("td", "fields"), ("/events/v1/orders", "fieldset")])
def test_dot_r_with_a_lone_surrogate_is_400(api, site, path, key):
    """An unknown value is named in the 400; with a lone surrogate that message could
    not even be encoded (a 500) before `.r` refused it."""
    path = f"{TD}/{site['tds'][0]['id']}" if path == "td" else path
    raw = b'{"%s": ["\\ud800"]}' % key.encode()
    refused(timed_get(api, path, params={".r": dot_r(raw=raw)}), ".r")


def test_dot_r_as_the_sdk_sends_it_still_works(api, site):
    td = site["tds"][0]["id"]
    r = api.get(f"{TD}/{td}", params={".r": dot_r({"ticketDefinitionId": td, "fields": ["SALES_DETAILS"]})})
    assert r.status_code == 200, r.text
    assert "salesDetails" in r.json()["ticketDefinition"]


# --- legacy lists' offset/limit -------------------------------------------------------


@pytest.mark.parametrize("path", ["/events/v1/orders", "/events/v1/tickets"])
def test_legacy_list_offset_above_the_limit_is_400(api, site, path):
    params: dict[str, Any] = {"eventId": site["event"]["id"]} if "tickets" in path else {}
    for offset in (10**30, limits.MAX_OFFSET + 1):
        refused(timed_get(api, path, params={**params, "offset": str(offset)}), "offset")
    ok = api.get(path, params={**params, "offset": str(limits.MAX_OFFSET), "limit": str(10**30)})
    assert ok.status_code == 200, ok.text
    assert ok.json()["limit"] == 100  # a huge limit is served as the largest page


@pytest.mark.parametrize("path, key", [("/events/v1/orders", "orderNumber"), ("/events/v1/tickets", "ticketNumber")])
def test_legacy_list_repeated_key_is_limited(api, path, key, long_urls):
    """Each repeated key becomes one SQL IN list: 70,000 of them passed PostgreSQL's
    65,535 bind parameters."""
    r = timed_get(api, path, params=[(key, f"N{i}") for i in range(70_000)])
    refused(r, key)
    ok = api.get(path, params=[(key, f"N{i}") for i in range(limits.FILTER_MAX_IN)])
    assert ok.status_code == 200, ok.text


# --- the check itself, with no HTTP in front ------------------------------------------
# The body parser in front (app.py) refuses JSON deeper than MAX_JSON_DEPTH; the query
# layer must not rely on it (cursors, internal callers, a changed front).

SPEC = q.Spec(
    fields=[q.field("name", None, "string"), q.field("n", None, "int"), q.field("price", None, "money")],
    id_expr=None,  # type: ignore[arg-type]
    default_sort=[],
)


@pytest.mark.parametrize("depth", [300, 100_000])
def test_check_filter_walks_any_depth_without_recursing(depth):
    t = time.perf_counter()
    with pytest.raises(FilterParserError) as e:
        q.check_filter(nest_not({"name": "x"}, depth))
    assert time.perf_counter() - t < FAST
    assert e.value.data["field"] == "query.filter" + ".$not" * (limits.FILTER_MAX_DEPTH + 1)
    with pytest.raises(FilterParserError):  # the compiler's entry checks first
        q.compile_filter(SPEC, nest_not({"name": "x"}, depth), q.Ctx(now=None))  # type: ignore[arg-type]


def test_check_filter_names_a_surrogate_key_without_echoing_it():
    with pytest.raises(FilterParserError) as e:
        q.check_filter({"$and": [{"\ud800": 1}]})
    assert e.value.data["field"] == "query.filter.$and[0].\\ud800"
    e.value.description.encode("utf-8")  # the error itself can be sent
    with pytest.raises(FilterParserError):
        q.check_filter({"name": {"$\udc00": 1}})


def test_sort_field_with_a_surrogate_is_refused_without_echoing_it():
    with pytest.raises(InvalidArgument) as e:
        q.parse_sort(SPEC, [{"fieldName": "\ud800"}])
    e.value.description.encode("utf-8")
