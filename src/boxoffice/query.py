"""Wix API Query Language -> SQL: filter, sort, offset and cursor paging.

One compiler serves every Query/Count endpoint. An endpoint describes its fields
once (:class:`Field`: wire name, SQL expression, value kind, operators, sortable) and
hands the request's ``query`` object to :func:`run_query` or ``filter`` to
:func:`compile_filter`.

Semantics, identical on SQLite and PostgreSQL:

* every leaf is two-valued: a comparison with a NULL field is false, ``$ne``/``$nin``
  match NULL fields, so ``$not`` is a plain complement;
* strings compare by code point (PostgreSQL columns use the "C" collation);
* sort is ``NULLS FIRST`` ascending and ``NULLS LAST`` descending, with ``id`` as
  the final tie-breaker so paging is stable;
* cursors are keyset positions (last row's sort values) together with the filter
  and sort they belong to, HMAC-signed so a client cannot alter them.

Bounds (limits.py): before any SQL is built, :func:`check_filter` walks the filter
without recursion and refuses it (400 naming the path) when it has too many leaves,
nests too deep, binds too many values, or carries what no database can take (lone
surrogates, integers beyond 64 bits); sort items and offsets are bounded likewise.
"""

from __future__ import annotations

import base64
import dataclasses
import datetime as dt
import hashlib
import hmac
import json
import types
from collections import namedtuple
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy import BigInteger, Connection, Integer, SmallInteger, and_, false, func, not_, or_, select, true
from sqlalchemy.orm import Session
from sqlalchemy.sql import ColumnElement, Select

from . import limits
from .errors import FilterParserError, InvalidArgument
from .timefmt import parse as parse_time
from .values import lone_surrogate, show

EQ_OPS = frozenset({"$eq", "$ne", "$in", "$nin", "$exists"})
RANGE_OPS = EQ_OPS | {"$lt", "$lte", "$gt", "$gte"}


@dataclass
class Ctx:
    """What a field expression may depend on besides the row, e.g. the current time."""

    now: dt.datetime


@dataclass(frozen=True)
class Field:
    name: str
    expr: Callable[[Ctx], ColumnElement[Any]]
    kind: str  # string | int | bool | datetime | money | enum
    ops: frozenset[str] = RANGE_OPS
    sortable: bool = True
    nullable: bool = True
    enum: tuple[str, ...] = ()
    aliases: tuple[str, ...] = ()


def field(name: str, expr: Any, kind: str, **kw: Any) -> Field:
    """A Field from a column (or any fixed SQL expression) or a ``ctx -> expr`` function."""
    if isinstance(expr, types.FunctionType):
        return Field(name, expr, kind, **kw)
    col = core(expr)
    return Field(name, lambda ctx: col, kind, **kw)


def core(expr: Any) -> Any:
    """A mapped attribute's plain table column (anything else as given).

    Why: a statement that holds no ORM-annotated element compiles and runs as Core,
    skipping the ORM's compile state and its column descriptions (~0.5 ms of CPU a
    Query of 100 rows here); comparing a plain column is also cheaper than comparing
    an attribute. Same SQL either way."""
    prop = getattr(expr, "property", None)
    cols = getattr(prop, "columns", None)
    if cols and len(cols) == 1 and getattr(expr, "__clause_element__", None) is not None:
        return cols[0]
    return expr


@dataclass
class Spec:
    """The query surface of one entity."""

    fields: Sequence[Field]
    id_expr: Any  # a column: an ORM attribute or a Core column
    default_sort: list[dict[str, str]]
    max_limit: int = 100
    default_limit: int = 100
    by_name: dict[str, Field] = dataclasses.field(init=False)

    def __post_init__(self) -> None:
        self.id_expr = core(self.id_expr)
        self.by_name = {}
        for f in self.fields:
            self.by_name[f.name] = f
            for a in f.aliases:
                self.by_name[a] = f

    def field(self, name: str, where: str, use: str = "filters") -> Field:
        f = self.by_name.get(name)
        if f is None:
            err = FilterParserError if use == "filters" else InvalidArgument
            raise err(where, f'field "{name}" is not supported in {use}')
        return f


# --- values ------------------------------------------------------------------

# What an integer column (and money in cents) can hold on both databases.
INT_MIN, INT_MAX = -(2**63), 2**63 - 1
_MONEY_MAX = Decimal(INT_MAX) / 100


def _int_range(col: ColumnElement[Any]) -> tuple[int, int]:
    """The values a column's integer type holds: a value outside is refused (400), the
    same on SQLite (64-bit everywhere) as on PostgreSQL (which would fail the cast)."""
    t = col.type
    if isinstance(t, BigInteger) or not isinstance(t, Integer):
        return INT_MIN, INT_MAX
    bits = 15 if isinstance(t, SmallInteger) else 31
    return -(2**bits), 2**bits - 1


def coerce(f: Field, value: Any, where: str) -> Any:
    """Wire value -> the value the column stores; bad types are a 400 naming the field."""
    if value is None:
        return None
    k = f.kind
    try:
        if k in ("string", "enum"):
            if not isinstance(value, str):
                raise ValueError
            if k == "enum" and f.enum and value not in f.enum:
                raise FilterParserError(where, f"must be one of {', '.join(f.enum)}")
            return value
        if k == "int":
            if isinstance(value, bool):
                raise ValueError
            if isinstance(value, str):
                value = value.strip()
            iv = int(value) if not isinstance(value, float) or value.is_integer() else None
            if iv is None:
                raise ValueError
            if not INT_MIN <= iv <= INT_MAX:
                raise FilterParserError(where, "is out of range (a 64-bit integer)")
            return iv
        if k == "bool":
            if not isinstance(value, bool):
                raise ValueError
            return value
        if k == "datetime":
            if not isinstance(value, str):
                raise ValueError
            return parse_time(value)
        if k == "money":  # stored as integer cents
            if isinstance(value, bool) or not isinstance(value, (str, int, float)):
                raise ValueError
            d = Decimal(str(value))
            if d.is_finite() and abs(d) > _MONEY_MAX:  # before * 100, which would overflow
                raise FilterParserError(where, "is out of range")
            d *= 100
            if d != d.to_integral_value():
                raise FilterParserError(where, "has more than 2 decimal places")
            return int(d)
    except FilterParserError:
        raise
    except (ValueError, TypeError, InvalidOperation, OverflowError):
        pass
    raise FilterParserError(where, f"value {json.dumps(value)[:60]} is not a valid {k}")


# --- filter ------------------------------------------------------------------


_SCALAR = (str, int, float, bool, type(None))
_LOGICAL = ("$and", "$or", "$not")


def check_filter(flt: Any, where: str = "query.filter") -> None:
    """Refuse a filter too big, too deep or unbindable, before any SQL is built.

    An explicit stack, no recursion: ``$not`` nested 100,000 deep costs one pass and a
    400, never a RecursionError. Counts, over the whole filter (limits.py):

    * leaves (FILTER_MAX_LEAVES): each ``field: {"$op": value}`` condition, and each
      empty ``{}`` / ``[]`` (a constant still compiled into the SQL);
    * depth (FILTER_MAX_DEPTH): nesting of ``$and`` / ``$or`` / ``$not``;
    * ``$in`` / ``$nin`` size (FILTER_MAX_IN) and values bound in all (FILTER_MAX_VALUES).

    Also refuses values no column takes (objects, nested arrays) and strings with lone
    surrogates (no database can encode them) in keys and values. What it lets through
    is exactly what :func:`compile_filter` can turn into SQL or refuse with a 400.
    """
    if flt is None:
        return
    leaves = values = 0
    stack: list[tuple[Any, str, int]] = [(flt, where, 0)]
    while stack:
        node, path, depth = stack.pop()
        if not isinstance(node, dict):
            raise FilterParserError(path, "must be an object")
        if not node:  # {} compiles to TRUE: still a term of the SQL
            leaves += 1
            if leaves > limits.FILTER_MAX_LEAVES:
                raise FilterParserError(path, f"is one condition too many: a filter has at most {limits.FILTER_MAX_LEAVES}")
        for key, value in node.items():
            if not isinstance(key, str) or lone_surrogate(key):
                raise FilterParserError(f"{path}.{show(key)}", "is not a valid key (a lone surrogate is not Unicode)")
            kpath = f"{path}.{key}"
            if key in _LOGICAL:
                if depth >= limits.FILTER_MAX_DEPTH:
                    raise FilterParserError(kpath, f"nests $and/$or/$not deeper than {limits.FILTER_MAX_DEPTH} levels")
                if key == "$not":
                    stack.append((value, kpath, depth + 1))
                    continue
                if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
                    raise FilterParserError(kpath, "must be an array of filter objects")
                if len(value) > limits.FILTER_MAX_LEAVES:
                    raise FilterParserError(kpath, f"has {len(value)} items; at most {limits.FILTER_MAX_LEAVES}")
                if not value:  # [] compiles to a constant: still a term of the SQL
                    leaves += 1
                    if leaves > limits.FILTER_MAX_LEAVES:
                        raise FilterParserError(kpath, f"is one condition too many: a filter has at most {limits.FILTER_MAX_LEAVES}")
                # reversed: popped in document order, so a refusal names the first offender
                stack.extend((v, f"{kpath}[{i}]", depth + 1) for i, v in reversed(list(enumerate(value))))
                continue
            if isinstance(value, dict) and value and all(isinstance(k, str) and k.startswith("$") for k in value):
                conds = [(op, v, f"{kpath}.{op}") for op, v in value.items()]
            else:
                conds = [("$eq", value, kpath)]
            for op, v, vpath in conds:
                if lone_surrogate(op):
                    raise FilterParserError(f"{kpath}.{show(op)}", "is not a valid operator (a lone surrogate is not Unicode)")
                leaves += 1
                if leaves > limits.FILTER_MAX_LEAVES:
                    raise FilterParserError(vpath, f"is one condition too many: a filter has at most {limits.FILTER_MAX_LEAVES}")
                if isinstance(v, list):
                    if len(v) > limits.FILTER_MAX_IN:
                        raise FilterParserError(vpath, f"has {len(v)} values; at most {limits.FILTER_MAX_IN}")
                    items = v
                else:
                    items = [v]
                values += len(items)
                if values > limits.FILTER_MAX_VALUES:
                    raise FilterParserError(vpath, f"brings the filter above {limits.FILTER_MAX_VALUES} values")
                for x in items:
                    if not isinstance(x, _SCALAR):
                        if v is value and isinstance(v, (dict, list)):  # {"field": [..]} / {"field": {..}}
                            raise FilterParserError(vpath, "must be a value or an {\"$operator\": value} object")
                        raise FilterParserError(vpath, "must be a string, number, boolean or null")
                    if isinstance(x, str) and lone_surrogate(x):
                        raise FilterParserError(vpath, "has a string with a lone surrogate (invalid Unicode)")


def compile_filter(spec: Spec, flt: Any, ctx: Ctx, where: str = "query.filter") -> ColumnElement[bool]:
    """``flt`` as a SQL condition; checked against the limits first (:func:`check_filter`)."""
    check_filter(flt, where)
    return _compile(spec, flt, ctx, where)


def _compile(spec: Spec, flt: Any, ctx: Ctx, where: str) -> ColumnElement[bool]:
    if flt is None:
        return true()
    if not isinstance(flt, dict):
        raise FilterParserError(where, "must be an object")
    parts: list[ColumnElement[bool]] = []
    for key, value in flt.items():
        if key in ("$and", "$or"):
            if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
                raise FilterParserError(f"{where}.{key}", "must be an array of filter objects")
            subs = [_compile(spec, v, ctx, f"{where}.{key}[{i}]") for i, v in enumerate(value)]
            if key == "$and":
                parts.append(and_(true(), *subs))
            else:
                parts.append(or_(false(), *subs))
        elif key == "$not":
            parts.append(not_(_compile(spec, value, ctx, f"{where}.$not")))
        elif key.startswith("$"):
            raise FilterParserError(f"{where}.{key}", f'operator "{key}" is not supported here')
        else:
            f = spec.field(key, f"{where}.{key}")
            parts.append(_field_condition(f, value, ctx, f"{where}.{key}"))
    return and_(true(), *parts)


def _field_condition(f: Field, value: Any, ctx: Ctx, where: str) -> ColumnElement[bool]:
    if isinstance(value, dict) and value and all(k.startswith("$") for k in value):
        return and_(true(), *[_leaf(f, op, v, ctx, f"{where}.{op}") for op, v in value.items()])
    if isinstance(value, (dict, list)):
        raise FilterParserError(where, "must be a value or an {\"$operator\": value} object")
    return _leaf(f, "$eq", value, ctx, where)


def _leaf(f: Field, op: str, value: Any, ctx: Ctx, where: str) -> ColumnElement[bool]:
    if op not in f.ops:
        raise FilterParserError(where, f'operator "{op}" is not supported for field "{f.name}"')
    col = f.expr(ctx)
    notnull = col.is_not(None)
    lo, hi = _int_range(col) if f.kind in ("int", "money") else (INT_MIN, INT_MAX)

    def bound(v: Any) -> Any:
        x = coerce(f, v, where)
        if isinstance(x, int) and not isinstance(x, bool) and not lo <= x <= hi:
            raise FilterParserError(where, f"is out of range (from {lo} to {hi})")
        return x

    if op == "$exists":
        if not isinstance(value, bool):
            raise FilterParserError(where, "$exists takes true or false")
        return notnull if value else col.is_(None)
    if op in ("$in", "$nin"):
        if not isinstance(value, list):
            raise FilterParserError(where, f"{op} takes an array")
        vals = [bound(v) for v in value]
        present = [v for v in vals if v is not None]
        has_null = len(present) != len(vals)
        cond = and_(notnull, col.in_(present)) if present else false()
        if has_null:
            cond = or_(cond, col.is_(None))
        return cond if op == "$in" else not_(cond)
    v = bound(value)
    if op == "$eq":
        return col.is_(None) if v is None else and_(notnull, col == v)
    if op == "$ne":
        return notnull if v is None else or_(col.is_(None), col != v)
    if v is None:
        raise FilterParserError(where, f"{op} cannot compare with null")
    cmp = {"$lt": col < v, "$lte": col <= v, "$gt": col > v, "$gte": col >= v}[op]
    return and_(notnull, cmp)


# --- sort ----------------------------------------------------------------------


def parse_sort(spec: Spec, sort: Any, where: str = "query.sort") -> list[tuple[Field, bool]]:
    """-> [(field, descending)]; the entity's default when the request has none."""
    if sort is None or sort == []:
        sort = spec.default_sort
    if not isinstance(sort, list) or len(sort) > limits.SORT_MAX_ITEMS:
        raise InvalidArgument(where, f"must be an array of at most {limits.SORT_MAX_ITEMS} sort items")
    out = []
    for i, item in enumerate(sort):
        if not isinstance(item, dict) or not isinstance(item.get("fieldName"), str):
            raise InvalidArgument(f"{where}[{i}].fieldName", "is required")
        if lone_surrogate(item["fieldName"]):
            raise InvalidArgument(f"{where}[{i}].fieldName", "has a lone surrogate (invalid Unicode)", "FORMAT")
        f = spec.field(item["fieldName"], f"{where}[{i}].fieldName", "sort")
        if not f.sortable:
            raise InvalidArgument(f"{where}[{i}].fieldName", f'field "{f.name}" is not sortable')
        order = item.get("order", item.get("direction")) or "ASC"
        if order not in ("ASC", "DESC"):
            raise InvalidArgument(f"{where}[{i}].order", "must be ASC or DESC")
        out.append((f, order == "DESC"))
    return out


def _order_by(cols: list[tuple[ColumnElement[Any], bool, bool]]) -> list[Any]:
    """NULLS FIRST ascending / LAST descending, spelled only for nullable fields: a plain
    ASC/DESC on a NOT NULL column lets both databases walk an index instead of sorting."""
    out = []
    for c, desc, nullable in cols:
        o = c.desc() if desc else c.asc()
        if nullable:
            o = o.nulls_last() if desc else o.nulls_first()
        out.append(o)
    return out


def _after(cols: list[tuple[ColumnElement[Any], bool, bool]], key: list[Any]) -> ColumnElement[bool]:
    """Rows strictly after ``key`` in the order ``cols`` (nulls first asc, last desc)."""
    ors = []
    eqs: list[ColumnElement[bool]] = []
    for (c, desc, nullable), v in zip(cols, key, strict=True):
        if v is None:
            gt = false() if desc else c.is_not(None)
            eq = c.is_(None)
        elif not nullable:
            gt = c < v if desc else c > v
            eq = c == v
        else:
            gt = or_(c < v, c.is_(None)) if desc else c > v  # type: ignore[assignment]
            eq = c == v
        ors.append(and_(true(), *eqs, gt))
        eqs.append(eq)
    return or_(false(), *ors)


# --- cursors -------------------------------------------------------------------


def _enc(v: Any) -> Any:
    if isinstance(v, dt.datetime):
        return {"t": v.astimezone(dt.UTC).isoformat()}
    if isinstance(v, Decimal):
        return {"d": str(v)}
    return v


def _dec(v: Any) -> Any:
    if isinstance(v, dict) and "t" in v:
        return dt.datetime.fromisoformat(v["t"])
    if isinstance(v, dict) and "d" in v:
        return Decimal(v["d"])
    return v


def make_cursor(secret: bytes, scope: str, state: dict[str, Any]) -> str:
    raw = json.dumps(state, separators=(",", ":"), default=str).encode()
    mac = hmac.new(secret, scope.encode() + b"\0" + raw, hashlib.sha256).digest()[:16]
    return base64.urlsafe_b64encode(mac + raw).rstrip(b"=").decode()


def read_cursor(secret: bytes, scope: str, cursor: str) -> dict[str, Any]:
    try:
        blob = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        mac, raw = blob[:16], blob[16:]
        good = hmac.new(secret, scope.encode() + b"\0" + raw, hashlib.sha256).digest()[:16]
        if len(mac) == 16 and hmac.compare_digest(mac, good):
            state = json.loads(raw)
            if isinstance(state, dict):
                return state
    except (ValueError, UnicodeDecodeError):
        pass
    raise InvalidArgument("query.cursorPaging.cursor", "is not a valid cursor")


# --- running a query ----------------------------------------------------------


def raw(model: Any) -> dict[str, Any] | None:
    """A parsed QueryV2 back to its wire dict (only what the client sent)."""
    return None if model is None else model.model_dump(by_alias=True, exclude_unset=True)


@dataclass
class Page:
    rows: list[Any]
    metadata: dict[str, Any]


def _limit(spec: Spec, value: Any, where: str) -> int:
    if value is None:
        return spec.default_limit
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidArgument(where, "must be an integer")
    if value < 0 or value > spec.max_limit:
        raise InvalidArgument(where, f"must be between 0 and {spec.max_limit}", "MAX" if value > 0 else "MIN")
    return value


_PLAIN: dict[tuple[str, ...], Any] = {}


def plain_rows(result: Any) -> list[Any]:
    """A Core result's rows as named tuples (same attributes, same positions).

    A SQLAlchemy ``Row`` resolves each attribute through a Python ``__getattr__`` after
    the normal lookup fails: ~0.6-1.2 µs a field, ~30 fields a presented row. A named
    tuple's field is ~0.04 µs; presenting 100 definitions went from ~4.7 to ~1.4 ms
    (best of 7 in one process, README "Results"). One class per column list, cached."""
    keys = tuple(result.keys())
    cls: Any = _PLAIN.get(keys)
    if cls is None:
        if len(_PLAIN) > 256:  # column lists are the code's, not the caller's; a bound all the same
            _PLAIN.clear()
        cls = _PLAIN[keys] = namedtuple("Row", keys, rename=True)  # rename: the sort keys _k0... -> _N
    make = cls._make
    return [make(r) for r in result.all()]  # all(): one fetchall, where iterating fetches a row at a time


def run_query(
    session: Session | Connection,
    spec: Spec,
    base: Select[Any],
    query: dict[str, Any] | None,
    ctx: Ctx,
    *,
    secret: bytes,
    scope: str,
    default_mode: str = "cursor",
) -> Page:
    """Apply ``query`` (filter, sort, paging | cursorPaging) to ``base`` and run it.

    ``base`` selects one ORM entity (rows are entities) or one table's columns (rows
    are read-only Rows, much cheaper to load; ``session`` may then be a Core
    connection), already restricted to what the caller may see (site, visibility);
    ``scope`` binds cursors to that caller.
    """
    if isinstance(session, Connection):  # a Core connection (no ORM session): rows only
        entities, conn = False, session
    else:
        entities = len(base.column_descriptions) == 1
        conn = session.connection()
    pick = (lambda r: r[0]) if entities else (lambda r: r)
    # Table rows need no ORM: run them on the connection directly.
    execute = session.execute if entities else conn.execute
    query = query or {}
    if not isinstance(query, dict):
        raise InvalidArgument("query", "must be an object")
    paging, cpaging = query.get("paging"), query.get("cursorPaging")
    if paging is not None and cpaging is not None:
        raise InvalidArgument("query", "paging and cursorPaging are mutually exclusive")
    for name, obj in (("paging", paging), ("cursorPaging", cpaging)):
        if obj is not None and not isinstance(obj, dict):
            raise InvalidArgument(f"query.{name}", "must be an object")
    mode = "offset" if paging is not None else "cursor" if cpaging is not None else default_mode

    direction = "next"
    key: list[Any] | None = None
    flt, sort_req = query.get("filter"), query.get("sort")
    if mode == "cursor" and cpaging and cpaging.get("cursor"):
        if not isinstance(cpaging["cursor"], str):
            raise InvalidArgument("query.cursorPaging.cursor", "must be a string")
        state = read_cursor(secret, scope, cpaging["cursor"])
        flt, sort_req = state.get("f"), state.get("s")
        key = [_dec(v) for v in state.get("k", [])]
        direction = state.get("d", "next")

    where = compile_filter(spec, flt, ctx)
    sort = parse_sort(spec, sort_req)
    cols = [(f.expr(ctx), desc, f.nullable) for f, desc in sort] + [(spec.id_expr, False, False)]
    keyed = base.where(where).add_columns(*[c.label(f"_k{i}") for i, (c, _, _) in enumerate(cols)])

    if mode == "offset":
        limit = _limit(spec, (paging or {}).get("limit"), "query.paging.limit")
        offset = (paging or {}).get("offset") or 0
        if isinstance(offset, bool) or not isinstance(offset, int) or offset < 0:
            raise InvalidArgument("query.paging.offset", "must be a non-negative integer")
        if offset > limits.MAX_OFFSET:
            raise InvalidArgument("query.paging.offset", f"must be at most {limits.MAX_OFFSET}", "MAX")
        result = execute(keyed.order_by(*_order_by(cols)).limit(limit).offset(offset))
        rows = result.all() if entities else plain_rows(result)
        total = conn.scalar(select(func.count()).select_from(base.where(where).subquery()))
        meta: dict[str, Any] = {"count": len(rows), "offset": offset, "total": total, "tooManyToCount": False}
        return Page([pick(r) for r in rows], meta)

    limit = _limit(spec, (cpaging or {}).get("limit"), "query.cursorPaging.limit")
    walk = cols if direction == "next" else [(c, not d, n) for c, d, n in cols]
    stmt = keyed
    if key is not None:
        if len(key) != len(cols):
            raise InvalidArgument("query.cursorPaging.cursor", "is not a valid cursor")
        stmt = stmt.where(_after(walk, key))
    result = execute(stmt.order_by(*_order_by(walk)).limit(limit + 1))
    rows = list(result.all()) if entities else plain_rows(result)
    more = len(rows) > limit
    rows = rows[:limit]
    if direction == "prev":
        rows.reverse()

    def keys_of(r: Any) -> list[Any]:
        return [_enc(v) for v in r[-len(cols) :]]

    base_state = {"f": flt, "s": [{"fieldName": f.name, "order": "DESC" if d else "ASC"} for f, d in sort]}
    has_next = more if direction == "next" else key is not None
    has_prev = key is not None if direction == "next" else more
    nxt = prv = None
    if rows and has_next:
        nxt = make_cursor(secret, scope, {**base_state, "k": keys_of(rows[-1]), "d": "next"})
    if rows and has_prev:
        prv = make_cursor(secret, scope, {**base_state, "k": keys_of(rows[0]), "d": "prev"})
    meta = {"count": len(rows), "cursors": {"next": nxt, "prev": prv}}
    return Page([pick(r) for r in rows], meta)


def count(session: Session, base: Select[Any], spec: Spec, flt: Any, ctx: Ctx, where: str = "filter") -> int:
    cond = compile_filter(spec, flt, ctx, where)
    return session.scalar(select(func.count()).select_from(base.where(cond).subquery())) or 0


def facet_counts(
    session: Session, base: Select[Any], spec: Spec, flt: Any, facets: Any, ctx: Ctx
) -> dict[str, dict[str, dict[str, int]]]:
    """``{facet: {"counts": {value: n}}}`` over the filtered rows (NULL values not counted)."""
    if facets is None:
        return {}
    if not isinstance(facets, list) or len(facets) > 20 or not all(isinstance(x, str) for x in facets):
        raise InvalidArgument("facet", "must be an array of at most 20 field names")
    cond = compile_filter(spec, flt, ctx, "filter")
    out: dict[str, dict[str, dict[str, int]]] = {}
    for name in facets:
        f = spec.field(name, f"facet.{name}", "facets")
        col = f.expr(ctx).label("v")
        sub = base.where(cond).add_columns(col).subquery()
        rows = session.execute(select(sub.c.v, func.count()).group_by(sub.c.v)).all()
        counts: dict[str, int] = {}
        for v, n in rows:
            if v is None:
                continue
            if isinstance(v, bool) or f.kind == "bool":
                v = "true" if v else "false"
            elif isinstance(v, dt.datetime):
                v = v.isoformat()
            counts[str(v)] = n
        out[name] = {"counts": counts}
    return out
