"""timefmt.iso, the wire's timestamp format, against its plain definition (the fast
form cuts a string; this holds the cut to the format for every instant and offset)."""

from __future__ import annotations

import datetime as dt

from hypothesis import given
from hypothesis import strategies as st

from boxoffice.timefmt import iso


def _plain(t: dt.datetime) -> str:
    return t.astimezone(dt.UTC).replace(tzinfo=None).isoformat(timespec="milliseconds") + "Z"


@given(
    st.datetimes(min_value=dt.datetime(2, 1, 1), max_value=dt.datetime(9998, 12, 31)),
    st.sampled_from([dt.UTC, dt.timezone(dt.timedelta(hours=5, minutes=30)), dt.timezone(dt.timedelta(hours=-8))]),
)
def test_iso_is_utc_with_milliseconds_and_z(t: dt.datetime, tz: dt.tzinfo) -> None:
    aware = t.replace(tzinfo=tz)
    assert iso(aware) == _plain(aware)
    assert len(iso(aware)) == 24 and iso(aware).endswith("Z")


def test_iso_of_none_is_none() -> None:
    assert iso(None) is None
