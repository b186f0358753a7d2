"""The log lines' time stamps: what datetime writes, to the character."""

from __future__ import annotations

from datetime import UTC, datetime

from hypothesis import given
from hypothesis import strategies as st

from maestro_grpc.logs import timestamp


def _datetime(created: float) -> str:
    return datetime.fromtimestamp(created, UTC).isoformat(timespec="milliseconds")


@given(st.floats(min_value=0, max_value=2**34, allow_nan=False, allow_infinity=False))
def test_a_stamp_is_what_datetime_writes(created: float) -> None:
    assert timestamp(created) == _datetime(created)


def test_rounding_at_the_edges_of_a_millisecond_and_a_second() -> None:
    for created in (0.0, 0.0004995, 0.0005, 0.9994999, 0.9999994, 0.9999995, 1764655298.9999996):
        assert timestamp(created) == _datetime(created), created
