"""The schema and the API held to docs/scaling.md's plan for Citus (sharded by site).

* Every table carries ``site_id`` or is one of the plan's global tables (reference or
  instance tables), each with its reason.
* Every primary key, unique constraint or unique index, and every foreign key includes
  ``site_id`` (Citus checks uniqueness and references inside one shard only), unless the
  plan lists it as an exception with its reason.
* Every SQL statement of a representative API session (create an event and a ticket
  definition, reserve, check out, pay, tickets, check-in, guests, the Query methods) that
  touches a site-keyed table constrains that table's ``site_id`` (Citus routes it to one
  shard), unless the plan lists it.

The exceptions are parsed from docs/scaling.md's tables, and compared with what the code
does as SETS: a new violation fails (it is not in the plan), and so does a listed one
that is gone (the plan must say it was mended), so the document cannot drift from the
schema. Statements are parsed with sqlglot, not matched with regexes.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
import sqlglot
from sqlalchemy import ForeignKeyConstraint, UniqueConstraint, event
from sqlglot import exp

from boxoffice import models_registry  # noqa: F401  (every table in Base.metadata)
from boxoffice.db import Base
from tests.conftest import ROOT
from tests.helpers import EVENTS, RES, TD, checkout, create_event, create_td, reserve

DOC = ROOT / "docs" / "scaling.md"
SITE = "site_id"
# Alembic's own table is not in the models; the plan lists it with the global tables.
ALEMBIC = "alembic_version"


# --- the plan, read from docs/scaling.md -----------------------------------------------


def _rows(heading: str) -> list[list[str]]:
    """The rows of the first Markdown table after the heading that starts with
    ``heading``: each row's cells, stripped (the header and rule lines skipped)."""
    text = DOC.read_text()
    at = re.search(rf"^#+ {re.escape(heading)}.*$", text, re.M)
    assert at, f"docs/scaling.md has no heading starting {heading!r}"
    rows: list[list[str]] = []
    for line in text[at.end() :].splitlines():
        if line.startswith("#"):
            break
        if line.startswith("|"):
            rows.append([c.strip() for c in line.strip().strip("|").split("|")])
        elif rows:
            break
    assert len(rows) > 2, f"docs/scaling.md: no table under {heading!r}"
    return rows[2:]


def _code(cell: str) -> str:
    m = re.fullmatch(r"`([^`]+)`", cell)
    assert m, f"docs/scaling.md: expected one `code` cell, got {cell!r}"
    return m.group(1)


def global_tables() -> dict[str, str]:
    """The plan's tables that are not distributed by site: {table: kind}."""
    out = {}
    for row in _rows("Global tables"):
        assert len(row) >= 3 and row[2], f"docs/scaling.md: a global table needs a kind and a reason: {row}"
        out[_code(row[0])] = row[1]
    return out


def exceptions(heading: str) -> set[str]:
    """The canonical names the plan lists under ``heading``, each with a reason."""
    out = set()
    for row in _rows(heading):
        assert len(row) >= 2 and row[-1], f"docs/scaling.md: an exception needs its reason: {row}"
        out.add(_code(row[0]))
    return out


# --- what the schema does ----------------------------------------------------------------


def _cols(cols: Any) -> str:
    return ", ".join(c.name for c in cols)


def keys_without_site() -> set[str]:
    """Every primary key, unique constraint and unique index of a distributed table that
    leaves out site_id, as ``pk t(a)``, ``unique t(a, b)``."""
    glob = global_tables()
    out = set()
    for t in Base.metadata.sorted_tables:
        if t.name in glob:
            continue
        if SITE not in t.primary_key.columns:
            out.add(f"pk {t.name}({_cols(t.primary_key.columns)})")
        uniques = [c.columns for c in t.constraints if isinstance(c, UniqueConstraint)]
        uniques += [i.columns for i in t.indexes if i.unique]
        for cols in uniques:
            if SITE not in cols:
                out.add(f"unique {t.name}({_cols(cols)})")
    return out


def foreign_keys_without_site() -> set[str]:
    """Every foreign key between distributed tables whose columns leave out site_id, as
    ``fk t(a) -> u(b)``; a key to a reference table is fine as it is."""
    glob = global_tables()
    out = set()
    for t in Base.metadata.sorted_tables:
        for c in t.constraints:
            if not isinstance(c, ForeignKeyConstraint) or t.name in glob:
                continue
            target = c.referred_table.name
            if glob.get(target) == "reference" or SITE in c.columns:
                continue
            out.add(f"fk {t.name}({_cols(c.columns)}) -> {target}({', '.join(e.column.name for e in c.elements)})")
    return out


def test_every_table_is_keyed_by_site_or_is_a_listed_global_table() -> None:
    glob = global_tables()
    names = {t.name for t in Base.metadata.sorted_tables} | {ALEMBIC}
    assert set(glob) <= names, f"docs/scaling.md lists tables that do not exist: {set(glob) - names}"
    without = {f"table {t.name}" for t in Base.metadata.sorted_tables if SITE not in t.columns and t.name not in glob}
    assert without == exceptions("Tables without site_id"), (
        "tables without site_id that are not global tables: list each in docs/scaling.md "
        "('Tables without site_id') with its plan, or give it a site_id"
    )
    assert ALEMBIC in glob


def test_every_key_and_unique_includes_the_site() -> None:
    assert keys_without_site() == exceptions("Keys without site_id")


def test_every_foreign_key_includes_the_site() -> None:
    assert foreign_keys_without_site() == exceptions("Foreign keys without site_id")


def test_the_plan_tells_each_kind_of_global_table() -> None:
    glob = global_tables()
    assert set(glob.values()) <= {"reference", "instance"}, glob
    # Citus: a reference table may reference only reference tables; nothing references
    # an instance table (it stays on the coordinator)
    for t in Base.metadata.sorted_tables:
        for c in t.constraints:
            if isinstance(c, ForeignKeyConstraint):
                target = c.referred_table.name
                assert glob.get(target) != "instance", f"{t.name} references the instance table {target}"
                if glob.get(t.name) == "reference":
                    assert glob.get(target) == "reference", f"reference table {t.name} references {target}"


# --- what the API's statements do --------------------------------------------------------


def site_keyed_tables() -> set[str]:
    glob = global_tables()
    return {t.name for t in Base.metadata.sorted_tables if SITE in t.columns and t.name not in glob}


_PARAM = re.compile(r"%\((\w+)\)s|\?")


_NOT_DML = re.compile(r"\s*(BEGIN|COMMIT|ROLLBACK|SAVEPOINT|RELEASE|PRAGMA|SET|SHOW|LISTEN)\b", re.I)


def _parse(sql: str) -> exp.Expression | None:
    """One statement, its driver's placeholders (psycopg ``%(name)s``, sqlite3 ``?``)
    made sqlglot's ``:name`` placeholders; None for what is not DML (BEGIN, PRAGMA...).
    A statement sqlglot cannot parse fails the test: it is never skipped unread."""
    if _NOT_DML.match(sql):
        return None
    tree = sqlglot.parse_one(_PARAM.sub(lambda m: f":{m.group(1) or 'p'}", sql), read="postgres")
    return tree if isinstance(tree, exp.Select | exp.Update | exp.Delete | exp.Insert | exp.Union) else None


def _conjuncts(e: exp.Expression | None) -> Iterator[exp.Expression]:
    if e is None:
        return
    if isinstance(e, exp.Where):
        yield from _conjuncts(e.this)
    elif isinstance(e, exp.And):
        yield from _conjuncts(e.left)
        yield from _conjuncts(e.right)
    elif isinstance(e, exp.Paren):
        yield from _conjuncts(e.this)
    else:
        yield e


def _is_value(e: exp.Expression) -> bool:
    """A value the statement brings (a bound parameter or a literal), not a column."""
    while isinstance(e, exp.Cast | exp.Paren):
        e = e.this
    return isinstance(e, exp.Placeholder | exp.Literal | exp.Parameter)


def _site_column(e: exp.Expression) -> exp.Column | None:
    while isinstance(e, exp.Cast | exp.Paren):
        e = e.this
    return e if isinstance(e, exp.Column) and e.name == SITE else None


def _unrouted(scope: exp.Expression, keyed: set[str]) -> list[str]:
    """The site-keyed tables read or written directly in this SELECT/UPDATE/DELETE whose
    site_id is not pinned (by ``site_id = value``, ``site_id IN (values)``, or by
    ``a.site_id = b.site_id`` to a table that is pinned), each as ``table by cols``:
    the columns the statement does constrain it by (``-`` for none)."""
    sources: dict[str, str] = {}  # alias -> table

    def add(t: Any) -> None:
        if isinstance(t, exp.Table) and t.name:
            sources[t.alias_or_name] = t.name

    add(scope.this if isinstance(scope, exp.Update | exp.Delete) else None)
    conds = [scope.args.get("where")]
    frm = scope.args.get("from") or scope.args.get("from_")
    if frm is not None:
        add(frm.this)
    for j in scope.args.get("joins") or []:
        add(j.this)
        conds.append(j.args.get("on"))
    for u in scope.args.get("using") or []:
        add(u)
    mine = {a for a, t in sources.items() if t in keyed}
    if not mine:
        return []

    def owner(col: exp.Column) -> str | None:
        if col.table:
            return col.table
        return next(iter(sources)) if len(sources) == 1 else None

    pinned: set[str] = set()
    links: list[tuple[str, str]] = []
    used: dict[str, set[str]] = {}  # alias -> the columns its conditions name
    for c in (x for cond in conds for x in _conjuncts(cond)):
        for col in c.find_all(exp.Column):
            if (a := owner(col)) is not None:
                used.setdefault(a, set()).add(col.name)
        if isinstance(c, exp.EQ):
            left, right = _site_column(c.left), _site_column(c.right)
            if left is not None and right is not None:
                a, b = owner(left), owner(right)
                if a and b:
                    links.append((a, b))
            elif left is not None and _is_value(c.right) or right is not None and _is_value(c.left):
                a = owner(left or right)  # type: ignore[arg-type]
                if a:
                    pinned.add(a)
        elif isinstance(c, exp.In) and (col := _site_column(c.this)) is not None:
            if c.expressions and all(_is_value(v) for v in c.expressions) and (a := owner(col)):
                pinned.add(a)
    grew = True
    while grew:
        grew = False
        for a, b in links:
            if (a in pinned) != (b in pinned):
                pinned |= {a, b}
                grew = True
    return sorted(f"{sources[a]} by {', '.join(sorted(used.get(a, ()))) or '-'}" for a in mine - pinned)


def statement_violations(sql: str, keyed: set[str]) -> list[str]:
    """What in one statement reaches a site-keyed table without its site: a list of
    ``query <verb> <table> by <columns>`` (empty when the statement stays in one site)."""
    tree = _parse(sql)
    if tree is None:
        return []
    out = []
    for node in tree.walk():
        if isinstance(node, exp.Insert):
            target = node.this.this if isinstance(node.this, exp.Schema) else node.this
            cols = [c.name for c in node.this.expressions] if isinstance(node.this, exp.Schema) else []
            if isinstance(target, exp.Table) and target.name in keyed and SITE not in cols:
                out.append(f"query INSERT {target.name}")
        elif isinstance(node, exp.Select | exp.Update | exp.Delete):
            verb = type(node).__name__.upper()
            out += [f"query {verb} {t}" for t in _unrouted(node, keyed)]
    return out


def test_the_checker_sees_what_it_must() -> None:
    """The parser's verdicts on statements written by hand (so that the API test below
    could fail): pinned, pinned through a join on the site, and not pinned."""
    keyed = {"orders", "tickets", "events"}
    ok = [
        "SELECT * FROM orders WHERE orders.site_id = %(s)s AND orders.id = %(id)s",
        "SELECT * FROM orders o JOIN tickets t ON t.order_id = o.id AND t.site_id = o.site_id WHERE o.site_id = ?",
        "UPDATE tickets SET name = ? WHERE tickets.site_id IN (?, ?) AND tickets.id = ?",
        "DELETE FROM events WHERE site_id = %(s)s",
        "INSERT INTO events (id, site_id) VALUES (?, ?)",
        "SELECT pg_notify(%(channel)s, %(payload)s)",
        "SELECT * FROM orders WHERE site_id = ? AND id IN (SELECT order_id FROM tickets WHERE tickets.site_id = ?)",
    ]
    for sql in ok:
        assert statement_violations(sql, keyed) == [], sql
    bad = {
        "SELECT * FROM orders WHERE orders.id = %(id)s": ["query SELECT orders by id"],
        "SELECT * FROM orders o JOIN tickets t ON t.order_id = o.id WHERE o.site_id = ?": ["query SELECT tickets by order_id"],
        "UPDATE tickets SET name = ? WHERE tickets.id = ? OR tickets.site_id = ?": ["query UPDATE tickets by id, site_id"],
        "INSERT INTO events (id) VALUES (?)": ["query INSERT events"],
        "SELECT * FROM orders WHERE site_id = ? AND id IN (SELECT order_id FROM tickets WHERE id = ?)": ["query SELECT tickets by id"],
        "DELETE FROM events WHERE site_id = slug": ["query DELETE events by site_id, slug"],
        "SELECT count(*) FROM orders": ["query SELECT orders by -"],
    }
    for sql, want in bad.items():
        assert statement_violations(sql, keyed) == want, sql


@pytest.fixture
def statements(database: Any) -> Iterator[list[str]]:
    """Every SQL statement the app sends while the test runs (SQLAlchemy's
    ``before_cursor_execute``; PostgreSQL's COPY of a batch's rows goes past it, and
    carries every column)."""
    seen: list[str] = []

    def hear(conn: Any, cursor: Any, statement: str, *_: Any) -> None:
        seen.append(statement)

    event.listen(database.engine, "before_cursor_execute", hear)
    try:
        yield seen
    finally:
        event.remove(database.engine, "before_cursor_execute", hear)


def api_session(api: Any) -> None:
    """A representative session: set up an event, sell, pay, read, check in."""
    ev = create_event(api, draft=False)
    td = create_td(api, ev["id"], initialLimit=10)
    assert api.get(f"{EVENTS}/{ev['id']}").status_code == 200
    assert api.post(f"{EVENTS}/query", {"query": {}}).status_code == 200
    assert api.get(f"{TD}/{td['id']}", params={"fields": "SALES_DETAILS"}).status_code == 200
    assert api.post(f"{TD}/query", {"query": {"filter": {"eventId": ev["id"]}}}).status_code == 200
    res = reserve(api, td["id"], 2)
    assert api.get(f"{RES}/{res['id']}").status_code == 200
    order = checkout(api, ev["id"], res["id"])["order"]
    assert api.post(f"/boxoffice/v1/test-payments/{order['orderNumber']}/pay").status_code == 200
    assert api.get(f"/events/v1/events/{ev['id']}/orders/{order['orderNumber']}").status_code == 200
    assert api.get("/events/v1/orders", params={"eventId": ev["id"]}).status_code == 200
    tickets = api.get("/events/v1/tickets", params={"eventId": ev["id"], "fieldset": "TICKET_DETAILS"})
    assert tickets.status_code == 200, tickets.text
    numbers = [t["ticketNumber"] for t in order["tickets"]]
    assert api.get(f"/events/v1/tickets/{numbers[0]}", params={"eventId": ev["id"]}).status_code == 200
    assert api.post("/events/v1/tickets/check-in", {"eventId": ev["id"], "ticketNumber": numbers[:1]}).status_code == 200
    assert api.post("/events/v2/guests/query", {"query": {"filter": {"eventId": ev["id"]}}}).status_code == 200


def test_every_statement_of_an_api_session_stays_in_its_site(make_api: Any, statements: list[str]) -> None:
    api = make_api("site-a")
    make_api("site-b")  # a second site, so that a statement that forgets the site has something to find
    api_session(api)
    keyed = site_keyed_tables()
    touched = {t.name for sql in statements if (tree := _parse(sql)) is not None for t in tree.find_all(exp.Table)}
    selling = {"events", "ticket_definitions", "ticket_reservations", "orders", "tickets", "guests"}
    assert selling <= touched, f"the session did not reach {selling - touched}: the capture is not seeing it"
    found: dict[str, str] = {}
    for sql in statements:
        for v in statement_violations(sql, keyed):
            found.setdefault(v, sql)
    planned = exceptions("Which queries stay on one shard")
    new = "\n".join(f"{v}:\n    {found[v]}" for v in sorted(set(found) - planned))
    assert not new, f"statements that do not pin site_id (pin it, or list it in docs/scaling.md with its plan):\n{new}"
    assert planned <= set(found), f"docs/scaling.md lists gaps the session no longer shows (mended? take them out): {planned - set(found)}"
