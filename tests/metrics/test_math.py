"""Unit tests of the plain math: percentiles, mergeable moments, the sketch, slopes."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from maestro_grpc.metrics.domain.sketch import RELATIVE_ACCURACY, Sketch
from maestro_grpc.metrics.domain.stats import Moments, merge_all, moments_of, percentile_cont, slope
from maestro_grpc.metrics.domain.summary import column_moments
from maestro_grpc.metrics.store.summaries import RollupColumns

T0 = datetime(2026, 1, 1, tzinfo=UTC)


@pytest.mark.parametrize(
    ("values", "q", "expected"),
    [
        # Golden values of PostgreSQL's percentile_cont (computed by hand:
        # rank q*(n-1), linear between neighbours).
        ([1.0], 0.5, 1.0),
        ([1.0, 2.0], 0.5, 1.5),
        ([1.0, 2.0, 3.0, 4.0], 0.9, 3.7),
        ([10.0, 20.0, 30.0, 40.0, 50.0], 0.95, 48.0),
        ([10.0, 20.0, 30.0, 40.0, 50.0], 0.99, 49.6),
        ([5.0, 5.0, 5.0], 0.99, 5.0),
        ([-3.0, 0.0, 3.0], 0.5, 0.0),
        ([], 0.5, math.nan),
    ],
)
def test_percentile_cont(values: list[float], q: float, expected: float) -> None:
    got = percentile_cont(values, q)
    if math.isnan(expected):
        assert math.isnan(got)
    else:
        assert got == pytest.approx(expected)
        assert got == pytest.approx(float(np.percentile(values, q * 100)))


@given(
    st.lists(st.floats(-1e6, 1e6), min_size=1, max_size=60),
    st.lists(st.floats(-1e6, 1e6), min_size=1, max_size=60),
)
def test_moments_merge_like_the_whole(left: list[float], right: list[float]) -> None:
    times_l = [T0 + timedelta(seconds=i) for i in range(len(left))]
    times_r = [T0 + timedelta(seconds=1000 + i) for i in range(len(right))]
    merged = merge_all([moments_of(np.array(left), times_l), moments_of(np.array(right), times_r)])
    assert merged is not None
    assert_like_the_whole(merged, np.array(left + right))


def assert_like_the_whole(merged: Moments, whole: np.ndarray) -> None:
    """Merged moments of consecutive parts (from T0 on) as the moments of all their values."""
    assert merged.count == whole.shape[0]
    assert merged.mean == pytest.approx(whole.mean(), abs=1e-6)
    assert merged.min == whole.min()
    assert merged.max == whole.max()
    expected_sd = float(whole.std(ddof=1)) if whole.shape[0] > 1 else 0.0
    assert merged.stddev == pytest.approx(expected_sd, rel=1e-6, abs=1e-6)
    assert merged.first_time == T0
    assert merged.last_value == whole[-1]


def test_stddev_keeps_precision_for_large_offsets() -> None:
    values = 1e9 + np.array([1.0, 2.0, 3.0, 4.0])
    times = [T0 + timedelta(seconds=i) for i in range(4)]
    halves = merge_all([moments_of(values[:2], times[:2]), moments_of(values[2:], times[2:])])
    assert halves is not None
    assert halves.stddev == pytest.approx(float(np.std(values - 1e9, ddof=1)), rel=1e-9)


def _stored(parts: list[list[float]], offset: float = 0.0) -> tuple[RollupColumns, np.ndarray]:
    """Rollup rows of consecutive parts (one series), as the store gives them, and all values."""
    rows = []
    start = 0
    for part in parts:
        values = offset + np.array(part)
        times = [T0 + timedelta(seconds=start + i) for i in range(len(part))]
        m = moments_of(values, times)
        rows.append((1, m.count, m.sum, m.m2, m.min, m.max, times[0], times[-1], m.last_value, b""))
        start += len(part)
    return RollupColumns.of(rows), offset + np.concatenate([np.array(p) for p in parts])


@given(st.lists(st.lists(st.floats(-1e6, 1e6), min_size=1, max_size=30), min_size=1, max_size=20))
def test_rollups_merged_as_columns_like_the_whole(parts: list[list[float]]) -> None:
    rollups, whole = _stored(parts)
    assert_like_the_whole(column_moments(rollups, list(range(len(parts)))), whole)


def test_rollups_merged_as_columns_keep_precision_for_large_offsets() -> None:
    rollups, whole = _stored([[1.0, 2.0], [3.0, 4.0], [5.0]], offset=1e9)
    merged = column_moments(rollups, [0, 1, 2])
    assert merged.stddev == pytest.approx(float(np.std(whole - 1e9, ddof=1)), rel=1e-9)


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.one_of(st.floats(1e-6, 1e9), st.floats(-1e9, -1e-6), st.just(0.0)),
        min_size=1,
        max_size=300,
    ),
    st.sampled_from([0.5, 0.9, 0.95, 0.99]),
)
def test_sketch_quantiles_within_relative_accuracy(values: list[float], q: float) -> None:
    array = np.array(values)
    sketch = Sketch.of(array)
    ordered = np.sort(array)
    n = len(values)
    position = q * (n - 1)
    lo, hi = ordered[math.floor(position)], ordered[math.ceil(position)]
    got = sketch.quantiles([q], float(array.min()), float(array.max()))[0]
    # Each rank's value is known within the relative accuracy, so the
    # interpolated answer lies within it of the two neighbours.
    slack = RELATIVE_ACCURACY * max(abs(lo), abs(hi)) + 1e-9
    assert min(lo, hi) - slack <= got <= max(lo, hi) + slack


def test_sketch_merge_equals_sketch_of_union_and_round_trips() -> None:
    rng = np.random.default_rng(3)
    a, b = rng.lognormal(3, 1, 5000), -rng.lognormal(1, 2, 3000)
    merged = Sketch.of(a)
    merged.merge(Sketch.of(b))
    union = Sketch.of(np.concatenate([a, b]))
    qs = [0.01, 0.5, 0.9, 0.99]
    assert merged.quantiles(qs) == union.quantiles(qs)
    again = Sketch.from_bytes(merged.to_bytes())
    assert again.quantiles(qs) == merged.quantiles(qs)
    assert again.count == 8000
    assert math.isnan(Sketch().quantiles([0.5])[0])
    with pytest.raises(ValueError, match="version"):
        Sketch.from_bytes(b"\x09" + merged.to_bytes()[1:])


def test_many_sketches_merged_at_once_equal_their_pairwise_merge() -> None:
    # A year's summary merges 365 daily sketches in one pass, from their bytes.
    rng = np.random.default_rng(5)
    days = [rng.normal(50, 30, 400) for _ in range(365)]
    days[10] = np.zeros(7)
    pairwise = Sketch()
    for day in days:
        pairwise.merge(Sketch.of(day))
    at_once = Sketch.merged_bytes([Sketch.of(day).to_bytes() for day in days])
    mixed = Sketch.merged(
        [Sketch.of(days[0]), Sketch.merged_bytes([Sketch.of(d).to_bytes() for d in days[1:]])]
    )
    qs = [0.01, 0.5, 0.9, 0.95, 0.99]
    assert at_once.quantiles(qs) == pairwise.quantiles(qs)
    assert mixed.quantiles(qs) == pairwise.quantiles(qs)
    assert at_once.count == mixed.count == pairwise.count == 364 * 400 + 7
    assert at_once.zeros == pairwise.zeros
    assert Sketch.merged([]).count == 0
    with pytest.raises(ValueError, match="version"):
        Sketch.merged_bytes([b"\x09" + Sketch.of(days[0]).to_bytes()[1:]])


def test_sketch_bounds_its_size() -> None:
    values = np.logspace(-11, 11, 20_000)
    sketch = Sketch.of(values)
    assert sketch.positive[0].shape[0] <= 4096
    # The top of the distribution keeps its accuracy.
    assert sketch.quantiles([0.99])[0] == pytest.approx(np.percentile(values, 99), rel=0.02)


@pytest.mark.parametrize(
    ("series", "expected"),
    [([], 0.0), ([4], 0.0), ([1, 2, 3], 1.0), ([3, 3, 3], 0.0), ([5, 3, 1, 0], -1.7)],
)
def test_slope(series: list[int], expected: float) -> None:
    assert slope(series) == pytest.approx(expected)
