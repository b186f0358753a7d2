"""A mergeable quantile sketch with 1% relative error (the DDSketch scheme), on numpy.

A value v > 0 falls in bucket ceil(log(v) / log(gamma)) with gamma =
(1 + a) / (1 - a); every value of a bucket is within a relative a of the
bucket's representative 2 gamma^k / (gamma + 1), so any rank's value is
known to within a. Negative values mirror positive ones; values nearer to 0
than 1e-12 count as zeros. Two sketches merge by adding bucket counts, which
is what lets hourly rollups add up to days and days to any window.

Written here rather than taken from `ddsketch` (DataDog's package) because
that one adds values one Python call at a time; rollups add thousands of
values per bucket, so this one does it with numpy in a few vector
operations. Bucket count is bounded: beyond MAX_BINS per sign, the lowest
buckets are collapsed into one (their values lose accuracy first, as in
DDSketch).
"""

from __future__ import annotations

import math
import struct
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

RELATIVE_ACCURACY = 0.01
GAMMA = (1 + RELATIVE_ACCURACY) / (1 - RELATIVE_ACCURACY)
LOG_GAMMA = math.log(GAMMA)
MIN_MAGNITUDE = 1e-12
MAX_BINS = 4096
_VERSION = 1
_HEADER = struct.Struct("<BqII")

Keys = npt.NDArray[np.int64]
Counts = npt.NDArray[np.int64]


def _bins(magnitudes: npt.NDArray[np.float64]) -> tuple[Keys, Counts]:
    keys = np.ceil(np.log(magnitudes) / LOG_GAMMA).astype(np.int64)
    unique, counts = np.unique(keys, return_counts=True)
    return unique, counts.astype(np.int64)


def _merge_bins(a: tuple[Keys, Counts], b: tuple[Keys, Counts]) -> tuple[Keys, Counts]:
    if a[0].shape[0] == 0:
        return b
    if b[0].shape[0] == 0:
        return a
    keys = np.concatenate([a[0], b[0]])
    counts = np.concatenate([a[1], b[1]])
    unique, inverse = np.unique(keys, return_inverse=True)
    return unique, np.bincount(inverse, weights=counts).astype(np.int64)


def _sum_bins(parts: list[tuple[Keys, Counts]]) -> tuple[Keys, Counts]:
    parts = [p for p in parts if p[0].shape[0]]
    if not parts:
        return _empty()
    keys = np.concatenate([p[0] for p in parts])
    counts = np.concatenate([p[1] for p in parts])
    # Bucket keys of magnitudes from 1e-12 to the largest double span fewer
    # than 40,000 buckets: count them by index, linear in the entries,
    # rather than sorting them.
    low = int(keys.min())
    dense = np.bincount(keys - low, weights=counts).astype(np.int64)
    present = np.flatnonzero(dense)
    return present.astype(np.int64) + low, dense[present]


def _collapse(bins: tuple[Keys, Counts]) -> tuple[Keys, Counts]:
    keys, counts = bins
    if keys.shape[0] <= MAX_BINS:
        return bins
    cut = keys.shape[0] - MAX_BINS + 1
    merged = counts[:cut].sum()
    return (
        np.concatenate([[keys[cut]], keys[cut + 1 :]]),
        np.concatenate([[merged + counts[cut]], counts[cut + 1 :]]),
    )


def _empty() -> tuple[Keys, Counts]:
    return np.zeros(0, np.int64), np.zeros(0, np.int64)


@dataclass
class Sketch:
    """Bucket counts of positive and negative values, and the zeros."""

    positive: tuple[Keys, Counts] = field(default_factory=_empty)
    negative: tuple[Keys, Counts] = field(default_factory=_empty)
    zeros: int = 0

    @classmethod
    def of(cls, values: npt.NDArray[np.float64]) -> Sketch:
        sketch = cls()
        sketch.add(values)
        return sketch

    @property
    def count(self) -> int:
        return int(self.positive[1].sum() + self.negative[1].sum() + self.zeros)

    def add(self, values: npt.NDArray[np.float64]) -> None:
        values = np.asarray(values, dtype=np.float64)
        magnitude = np.abs(values)
        zero = magnitude < MIN_MAGNITUDE
        self.zeros += int(zero.sum())
        positive = values[(values > 0) & ~zero]
        negative = -values[(values < 0) & ~zero]
        if positive.shape[0]:
            self.positive = _collapse(_merge_bins(self.positive, _bins(positive)))
        if negative.shape[0]:
            self.negative = _collapse(_merge_bins(self.negative, _bins(negative)))

    @classmethod
    def merged(cls, sketches: list[Sketch]) -> Sketch:
        """One sketch of many, their buckets added in one pass (not one merge each).

        A year's summary merges 365 daily sketches: merging them pairwise
        costs a sort of the growing bucket set per sketch, this one sort.
        """
        out = cls()
        out.positive = _collapse(_sum_bins([s.positive for s in sketches]))
        out.negative = _collapse(_sum_bins([s.negative for s in sketches]))
        out.zeros = sum(s.zeros for s in sketches)
        return out

    @classmethod
    def merged_bytes(cls, datas: list[bytes]) -> Sketch:
        """One sketch of many serialized ones, decoded together (see `merged`)."""
        parts: list[list[bytes]] = [[], [], [], []]
        zeros = 0
        for data in datas:
            version, zero, n_pos, n_neg = _HEADER.unpack_from(data)
            if version != _VERSION:
                raise ValueError(f"unknown sketch version {version}")
            zeros += zero
            offset = _HEADER.size
            for index, (width, n) in enumerate(((4, n_pos), (8, n_pos), (4, n_neg), (8, n_neg))):
                parts[index].append(data[offset : offset + width * n])
                offset += width * n
        keys_pos, counts_pos, keys_neg, counts_neg = (
            np.frombuffer(b"".join(chunks), dtype=dtype).astype(np.int64)
            for chunks, dtype in zip(parts, ("<i4", "<i8", "<i4", "<i8"), strict=True)
        )
        out = cls(zeros=int(zeros))
        out.positive = _collapse(_sum_bins([(keys_pos, counts_pos)]))
        out.negative = _collapse(_sum_bins([(keys_neg, counts_neg)]))
        return out

    def merge(self, other: Sketch) -> None:
        self.positive = _collapse(_merge_bins(self.positive, other.positive))
        self.negative = _collapse(_merge_bins(self.negative, other.negative))
        self.zeros += other.zeros

    def _ascending(self) -> tuple[npt.NDArray[np.float64], Counts]:
        """Representative values and counts of every bucket, smallest value first."""
        rep_neg = -2 * np.power(GAMMA, self.negative[0][::-1].astype(np.float64)) / (GAMMA + 1)
        rep_pos = 2 * np.power(GAMMA, self.positive[0].astype(np.float64)) / (GAMMA + 1)
        values = np.concatenate([rep_neg, [0.0] if self.zeros else [], rep_pos])
        counts = np.concatenate(
            [self.negative[1][::-1], [self.zeros] if self.zeros else [], self.positive[1]]
        ).astype(np.int64)
        return values, counts

    def quantiles(
        self, qs: list[float], lo: float = -math.inf, hi: float = math.inf
    ) -> list[float]:
        """Values at the quantiles, interpolated between ranks as percentile_cont does.

        `lo` and `hi` (the exact min and max, when known) clamp the answers.
        """
        n = self.count
        if n == 0:
            return [math.nan] * len(qs)
        values, counts = self._ascending()
        cumulative = np.cumsum(counts)

        def at(rank: int) -> float:
            return float(values[int(np.searchsorted(cumulative, rank, side="right"))])

        out = []
        for q in qs:
            position = q * (n - 1)
            below = math.floor(position)
            fraction = position - below
            value = at(below)
            if fraction > 0:
                value += fraction * (at(below + 1) - value)
            out.append(min(max(value, lo), hi))
        return out

    def to_bytes(self) -> bytes:
        header = _HEADER.pack(
            _VERSION, self.zeros, self.positive[0].shape[0], self.negative[0].shape[0]
        )
        return b"".join(
            [
                header,
                self.positive[0].astype("<i4").tobytes(),
                self.positive[1].astype("<i8").tobytes(),
                self.negative[0].astype("<i4").tobytes(),
                self.negative[1].astype("<i8").tobytes(),
            ]
        )

    @classmethod
    def from_bytes(cls, data: bytes) -> Sketch:
        version, zeros, n_pos, n_neg = _HEADER.unpack_from(data)
        if version != _VERSION:
            raise ValueError(f"unknown sketch version {version}")
        offset = _HEADER.size

        def take(dtype: str, n: int) -> npt.NDArray[np.int64]:
            nonlocal offset
            size = np.dtype(dtype).itemsize * n
            array = np.frombuffer(data, dtype=dtype, count=n, offset=offset).astype(np.int64)
            offset += size
            return array

        positive = (take("<i4", n_pos), take("<i8", n_pos))
        negative = (take("<i4", n_neg), take("<i8", n_neg))
        return cls(positive=positive, negative=negative, zeros=int(zeros))
