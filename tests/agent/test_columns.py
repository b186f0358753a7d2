"""`agent stream`'s fast path: short-form points kept as columns, stdin read in chunks."""

from __future__ import annotations

import io
from collections.abc import Iterator

from maestro.metrics.v1 import metric_pb2
from maestro_grpc.agent import jsonlines
from maestro_grpc.agent.batching import BatchBuilder
from maestro_grpc.agent.commands.stream import idle_aware_lines
from maestro_grpc.agent.spool import rows_of
from maestro_grpc.agent.wire import describe_row

AGENT = metric_pb2.METRIC_SOURCE_AGENT
CI = metric_pb2.METRIC_SOURCE_CI


def points_of(batch: metric_pb2.MetricBatch) -> list[tuple[str, str, float, int, dict[str, str]]]:
    """(project, name, value, micros, labels) of every columnar point, in order."""
    out = []
    for block in batch.columns:
        for i, value in enumerate(block.values):
            labels = (
                dict(block.label_sets[block.label_set_indexes[i]].labels)
                if block.label_set_indexes
                else {}
            )
            name = block.names[block.name_indexes[i]]
            out.append((block.project_id, name, value, block.times_unix_micros[i], labels))
    return out


def test_short_points_become_one_block_per_project_and_source() -> None:
    out: list[metric_pb2.MetricBatch] = []
    builder = BatchBuilder(out.extend, group=1)
    builder.add_short(("p", AGENT, "loss", 0.5, 1_000_000, None))
    builder.add_short(("p", AGENT, "acc", 0.9, 1_000_000, {"model": "a"}))
    builder.add_short(("p", AGENT, "loss", 0.25, 2_000_000, {"model": "a"}))
    builder.add_short(("q", CI, "loss", 7.0, 3_000_000, None))
    builder.flush()
    [batch] = out
    assert rows_of(batch) == 4 == builder.rows
    assert [(b.project_id, b.source, list(b.names)) for b in batch.columns] == [
        ("p", AGENT, ["loss", "acc"]),
        ("q", CI, ["loss"]),
    ]
    assert points_of(batch) == [
        ("p", "loss", 0.5, 1_000_000, {}),
        ("p", "acc", 0.9, 1_000_000, {"model": "a"}),
        ("p", "loss", 0.25, 2_000_000, {"model": "a"}),
        ("q", "loss", 7.0, 3_000_000, {}),
    ]
    # A block where no point has labels sends no label columns at all.
    assert not batch.columns[1].label_sets
    assert not batch.columns[1].label_set_indexes


def test_short_points_are_cut_by_rows_and_bytes_with_points_and_events() -> None:
    out: list[metric_pb2.MetricBatch] = []
    builder = BatchBuilder(out.extend, max_rows=3, group=1)
    builder.add_point(metric_pb2.MetricPoint(project_id="p", name="full", value=1))
    for i in range(5):
        builder.add_short(("p", AGENT, "x", float(i), i + 1, None))
    builder.flush()
    assert [rows_of(b) for b in out] == [3, 3]
    assert [p[2] for b in out for p in points_of(b)] == [0, 1, 2, 3, 4]
    out.clear()
    small = BatchBuilder(out.extend, max_rows=1000, max_bytes=400, group=1)
    for i in range(40):
        small.add_short(("p", AGENT, f"metric.{i:03d}", float(i), i + 1, {"k": "v" * 20}))
    small.flush()
    assert len(out) > 1
    assert all(b.ByteSize() <= 440 for b in out)
    assert [p[1] for b in out for p in points_of(b)] == [f"metric.{i:03d}" for i in range(40)]
    # No block carries a name none of its points uses.
    for batch in out:
        for block in batch.columns:
            assert sorted(set(block.name_indexes)) == list(range(len(block.names)))


def test_read_lines_hands_short_points_over_as_fields() -> None:
    shorts: list[jsonlines.ShortPoint] = []
    points: list[metric_pb2.MetricPoint] = []
    summary = jsonlines.read_lines(
        [
            '{"name": "a", "value": 1, "time": "2025-01-31T12:00:00.5Z", "labels": {"k": "v"}}',
            b'{"name": "b", "value": 2.5, "time": 1738324800, "source": "ci", "project_id": "q"}',
            '{"name": "c", "value": 3, "time": "2025-01-31T13:00:00+01:00"}',
            '{"point": {"name": "d", "value": 4}}',
            '{"name": "e", "value": 1, "time": 1e300}',
        ],
        "p",
        emit_point=points.append,
        emit_event=lambda e: None,
        emit_short=shorts.append,
        on_invalid=lambda n, e: None,
    )
    assert (summary.lines, summary.points, len(summary.invalid)) == (5, 4, 1)
    assert "out of range" in summary.invalid[0]["error"]
    assert shorts == [
        ("p", AGENT, "a", 1.0, 1_738_324_800_500_000, {"k": "v"}),
        ("q", CI, "b", 2.5, 1_738_324_800_000_000, None),
        ("p", AGENT, "c", 3.0, 1_738_324_800_000_000, None),
    ]
    assert [p.name for p in points] == ["d"]


def chunks(*parts: bytes) -> io.BufferedReader:
    """A stream whose reads return exactly these parts, in turn."""

    class Parts(io.RawIOBase):
        def __init__(self) -> None:
            self.left = list(parts)

        def readable(self) -> bool:
            return True

        def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
            if not self.left:
                return 0
            part = self.left.pop(0)
            buffer[: len(part)] = part
            return len(part)

    return io.BufferedReader(Parts())


def lines_of(stream: io.BufferedReader) -> Iterator[str]:
    return idle_aware_lines(stream, 5.0, lambda: None)


def test_lines_split_across_chunks_are_joined() -> None:
    euro = "€".encode()
    stream = chunks(
        b'{"a": 1}\n{"b"', b": 2}\n\n" + euro[:1], euro[1:] + b"\n", b"last, no newline"
    )
    assert list(lines_of(stream)) == ['{"a": 1}', '{"b": 2}', "", "€", "last, no newline"]


def test_a_bad_byte_is_replaced_not_fatal() -> None:
    assert list(lines_of(chunks(b"ok\n\xff\xfe\n"))) == ["ok", "\ufffd\ufffd"]


def test_a_rejected_columnar_point_is_described_by_its_name() -> None:
    block = metric_pb2.MetricColumns(project_id="p", names=["loss", "acc"])
    block.name_indexes.extend([0, 1])
    block.values.extend([1.0, 2.0])
    block.times_unix_micros.extend([1, 2])
    payload = metric_pb2.MetricBatch(columns=[block]).SerializeToString()
    assert describe_row(payload, "columns[0].values[1]") == "point acc"
    assert describe_row(payload, "columns[0].names[0]") == "point loss"
    assert describe_row(payload, "columns[0]") == "columns of p"
    assert describe_row(payload, "columns[3].values[1]") == ""
