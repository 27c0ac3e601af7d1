"""Coverage-guided fuzzing of the query language's front door (atheris / libFuzzer).

    .venv/bin/pip install atheris
    .venv/bin/python tests/fuzz/fuzz_query.py -max_total_time=60 [corpus_dir]

Each input is either JSON text (decoded as the app's body parser would, so lone
surrogates, NaN and huge integers get through) or bytes that steer a small builder of
deep and wide filters. It goes through query.check_filter + compile_filter on an
in-memory spec, is compiled for PostgreSQL and run on an in-memory SQLite table.
The only acceptable failures are the 400s (FilterParserError, InvalidArgument); any
other exception, or one input taking over a second, is a crash libFuzzer reports.
Not collected by pytest (no test_ prefix).
"""

from __future__ import annotations

import datetime as dt
import json
import sys
import time
from typing import Any

import atheris

with atheris.instrument_imports(include=["boxoffice"]):
    from boxoffice import query as q
    from boxoffice.errors import FilterParserError, InvalidArgument

from sqlalchemy import BigInteger, Boolean, Column, DateTime, Integer, MetaData, String, Table, create_engine, select
from sqlalchemy.dialects import postgresql

meta = MetaData()
T = Table(
    "t",
    meta,
    Column("id", String, primary_key=True),
    Column("name", String, nullable=False),
    Column("note", String),
    Column("n", Integer),
    Column("cents", BigInteger),
    Column("flag", Boolean, nullable=False),
    Column("at", DateTime(timezone=True)),
)
SPEC = q.Spec(
    fields=[
        q.field("id", T.c.id, "string", nullable=False),
        q.field("name", T.c.name, "string", nullable=False),
        q.field("note", T.c.note, "string"),
        q.field("n", T.c.n, "int", aliases=("count",)),
        q.field("price", T.c.cents, "money"),
        q.field("flag", T.c.flag, "bool", ops=q.EQ_OPS, nullable=False),
        q.field("status", T.c.name, "enum", enum=("A", "B")),
        q.field("at", T.c.at, "datetime"),
    ],
    id_expr=T.c.id,
    default_sort=[{"fieldName": "name", "order": "ASC"}],
)
ENGINE = create_engine("sqlite://")
meta.create_all(ENGINE)
with ENGINE.begin() as c:
    c.execute(T.insert(), [{"id": f"{i}", "name": "ab"[i % 2], "note": None if i % 3 else "x", "n": i, "cents": i * 100,
                            "flag": bool(i % 2), "at": dt.datetime(2024, 1, 1 + i, tzinfo=dt.UTC)} for i in range(5)])
CTX = q.Ctx(now=dt.datetime(2024, 1, 3, tzinfo=dt.UTC))
PG = postgresql.dialect()

NAMES = ["id", "name", "note", "n", "count", "price", "flag", "status", "at", "nope", "$and", "$or", "$not", "$nor", "", "\ud800"]
OPS = ["$eq", "$ne", "$lt", "$lte", "$gt", "$gte", "$in", "$nin", "$exists", "$regex", "$", "$\udc00"]


def value(fdp: atheris.FuzzedDataProvider, depth: int) -> Any:
    k = fdp.ConsumeIntInRange(0, 12)
    if k == 0:
        return None
    if k == 1:
        return fdp.ConsumeBool()
    if k == 2:
        return fdp.ConsumeInt(fdp.ConsumeIntInRange(1, 40))  # up to 320-bit integers
    if k == 3:
        return fdp.ConsumeRegularFloat() if fdp.ConsumeBool() else fdp.PickValueInList([float("nan"), float("inf"), -0.0])
    if k in (4, 5):
        return fdp.ConsumeUnicodeNoSurrogates(8) if k == 4 else fdp.ConsumeUnicode(4)  # ConsumeUnicode may give surrogates
    if k == 6:
        return fdp.PickValueInList(["2024-01-02T00:00:00Z", "9999-12-31T23:59:59-14:00", "1e999999", "NaN", "A", "B", "12"])
    if k == 7 and depth < 6:
        return [value(fdp, depth + 1) for _ in range(fdp.ConsumeIntInRange(0, 4))]
    if k == 8:
        return list(range(fdp.ConsumeIntInRange(0, 70_000)))  # a huge $in
    return fdp.ConsumeIntInRange(-3, 3)


def build(fdp: atheris.FuzzedDataProvider, depth: int = 0) -> Any:
    k = fdp.ConsumeIntInRange(0, 9)
    if k == 0 and depth < 40:
        return {"$not": build(fdp, depth + 1)}
    if k in (1, 2) and depth < 40:
        n = fdp.PickValueInList([0, 1, 2, 3, 199, 200, 201, 5_000])
        kid = build(fdp, depth + 1)
        return {("$and", "$or")[k - 1]: [kid] * n}  # shared child: wide for free
    if k == 3:  # deep beyond any recursion limit
        f: Any = {"name": "a"}
        for _ in range(fdp.ConsumeIntInRange(0, 5_000)):
            f = {"$not": f}
        return f
    if k == 4:
        return {}
    name = fdp.PickValueInList(NAMES)
    if fdp.ConsumeBool():
        return {name: value(fdp, depth)}
    return {name: {fdp.PickValueInList(OPS): value(fdp, depth) for _ in range(fdp.ConsumeIntInRange(1, 3))}}


def TestOneInput(data: bytes) -> None:
    fdp = atheris.FuzzedDataProvider(data)
    if fdp.ConsumeBool():
        try:
            flt = json.loads(fdp.ConsumeBytes(fdp.remaining_bytes()).decode("utf-8", "surrogatepass"))
        except (ValueError, RecursionError):
            return
    else:
        flt = build(fdp)
    t = time.perf_counter()
    try:
        cond = q.compile_filter(SPEC, flt, CTX)
        sort = q.parse_sort(SPEC, None)
        stmt = select(T.c.id).where(cond).order_by(*[f.expr(CTX) for f, _ in sort])
        str(stmt.compile(dialect=PG))
        with ENGINE.connect() as c:
            c.execute(stmt).all()
    except (FilterParserError, InvalidArgument) as e:
        e.description.encode("utf-8")  # the 400 itself must be sendable
    took = time.perf_counter() - t
    if took > 1.0:
        raise RuntimeError(f"one input took {took:.2f}s")


def main() -> None:
    sys.setrecursionlimit(1_000)  # the app's own; deep input must not need more
    atheris.Setup(sys.argv, TestOneInput)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
