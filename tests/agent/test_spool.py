"""The spool: numbering, acks, crash tails, renumbering and splitting."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from maestro.metrics.v1 import metric_pb2, metrics_service_pb2, process_event_pb2
from maestro_grpc.agent import spool as spool_module
from maestro_grpc.agent.batching import BatchBuilder
from maestro_grpc.agent.spool import Spool, SpoolError, rows_of, split_batch
from maestro_grpc.agent.wire import encode_batch_request


def batch_of(n: int, start: int = 0) -> metric_pb2.MetricBatch:
    batch = metric_pb2.MetricBatch()
    for i in range(start, start + n):
        batch.points.add(project_id="p", name="x", value=float(i))
    return batch


def values(spool: Spool) -> list[float]:
    out: list[float] = []
    for record in spool.pending():
        out += [p.value for p in metric_pb2.MetricBatch.FromString(spool.read(record)).points]
    return out


def test_append_numbers_batches_and_survives_reopen(tmp_path: Path) -> None:
    spool = Spool(tmp_path)
    records = spool.append([batch_of(2), batch_of(3, 2)])
    assert [(r.sequence, r.rows) for r in records] == [(1, 2), (2, 3)]
    assert spool.append([metric_pb2.MetricBatch()]) == []  # empty batches are not spooled
    spool.close()
    again = Spool(tmp_path)
    assert [r.sequence for r in again.pending()] == [1, 2]
    assert values(again) == [0, 1, 2, 3, 4]
    assert again.pending_rows() == 5


def test_ack_drops_and_empties_the_file(tmp_path: Path) -> None:
    spool = Spool(tmp_path)
    spool.append([batch_of(1), batch_of(1, 1), batch_of(1, 2)])
    assert [r.sequence for r in spool.ack(2)] == [1, 2]
    assert spool.ack(1) == []
    assert [r.sequence for r in spool.pending()] == [3]
    spool.ack(3)
    assert (tmp_path / "batches.log").stat().st_size == 0
    # Numbering continues after the acked sequence, across a reopen.
    spool.close()
    again = Spool(tmp_path)
    assert again.acked_sequence == 3
    assert [r.sequence for r in again.append([batch_of(1)])] == [4]


def test_acked_records_are_skipped_after_a_crash_before_compaction(tmp_path: Path) -> None:
    spool = Spool(tmp_path)
    spool.append([batch_of(1), batch_of(1, 1)])
    spool.ack(1)
    spool.flush_acked()
    # A crash now: the file still holds record 1, acked.json says 1.
    again = Spool(tmp_path)
    assert [r.sequence for r in again.pending()] == [2]


@pytest.mark.parametrize("cut", [1, 10, 23, 30])
def test_torn_tail_is_cut_off(tmp_path: Path, cut: int) -> None:
    spool = Spool(tmp_path)
    spool.append([batch_of(2)])
    spool.append([batch_of(3, 2)])
    spool.close()
    log = tmp_path / "batches.log"
    data = log.read_bytes()
    log.write_bytes(data[:-cut])  # the last append was torn by a crash
    again = Spool(tmp_path)
    assert [r.sequence for r in again.pending()] == [1]
    assert again.truncated_bytes > 0
    assert [r.sequence for r in again.append([batch_of(1)])] == [2]
    assert values(again) == [0, 1, 0]


def test_corrupted_record_is_treated_as_a_tail(tmp_path: Path) -> None:
    spool = Spool(tmp_path)
    spool.append([batch_of(2), batch_of(2, 2)])
    spool.close()
    log = tmp_path / "batches.log"
    data = bytearray(log.read_bytes())
    data[-1] ^= 0xFF
    log.write_bytes(bytes(data))
    assert [r.sequence for r in Spool(tmp_path).pending()] == [1]


def test_renumber_and_split(tmp_path: Path) -> None:
    spool = Spool(tmp_path)
    spool.append([batch_of(5), batch_of(2, 5)])
    assert spool.needs_split(3)
    spool.renumber(41, max_rows=3)
    assert [(r.sequence, r.rows) for r in spool.pending()] == [(41, 3), (42, 2), (43, 2)]
    assert spool.acked_sequence == 40
    assert values(spool) == [0, 1, 2, 3, 4, 5, 6]
    spool.close()
    again = Spool(tmp_path)
    assert [r.sequence for r in again.pending()] == [41, 42, 43]
    with pytest.raises(SpoolError):
        again.renumber(1, 0)


def test_synced_flag_persists(tmp_path: Path) -> None:
    spool = Spool(tmp_path)
    assert not spool.synced
    spool.mark_synced()
    assert json.loads((tmp_path / "acked.json").read_text()) == {"acked": 0, "synced": True}
    assert Spool(tmp_path).synced


def test_unreadable_acked_file_is_an_error(tmp_path: Path) -> None:
    (tmp_path / "acked.json").write_text("{broken")
    with pytest.raises(SpoolError, match=r"acked\.json"):
        Spool(tmp_path)


def test_compaction_keeps_only_pending(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(spool_module, "COMPACT_MIN_BYTES", 100)
    spool = Spool(tmp_path, fsync=False)
    spool.append([batch_of(20, i * 20) for i in range(10)])
    assert not spool.compact()  # nothing acked yet
    spool.ack(8)
    before = (tmp_path / "batches.log").stat().st_size
    assert spool.compact()
    assert (tmp_path / "batches.log").stat().st_size < before / 3
    assert [r.sequence for r in spool.pending()] == [9, 10]
    assert values(spool) == [float(v) for v in range(160, 200)]
    assert [r.sequence for r in spool.append([batch_of(1)])] == [11]
    spool.close()
    assert [r.sequence for r in Spool(tmp_path).pending()] == [9, 10, 11]


def test_split_keeps_every_kind_of_row() -> None:
    batch = batch_of(3)
    batch.columns.add(
        project_id="p",
        names=["a", "b"],
        name_indexes=[0, 1, 0, 1, 0],
        values=[1, 2, 3, 4, 5],
        times_unix_micros=[1, 2, 3, 4, 5],
        label_sets=[metric_pb2.LabelSet(labels={"k": "v"})],
        label_set_indexes=[0, 0, 0, 0, 0],
    )
    for i in range(4):
        batch.events.add(project_id="p", commit=process_event_pb2.Commit(sha=f"{i:040x}"))
    parts = split_batch(batch.SerializeToString(), rows_of(batch), 2)
    assert all(rows <= 2 for _, rows in parts)
    merged = [metric_pb2.MetricBatch.FromString(p) for p, _ in parts]
    assert sum(rows for _, rows in parts) == rows_of(batch) == 12
    assert [p.value for b in merged for p in b.points] == [0, 1, 2]
    assert [v for b in merged for c in b.columns for v in c.values] == [1, 2, 3, 4, 5]
    assert [n for b in merged for c in b.columns for n in c.name_indexes] == [0, 1, 0, 1, 0]
    assert all(list(c.names) == ["a", "b"] for b in merged for c in b.columns)
    assert [e.commit.sha for b in merged for e in b.events] == [f"{i:040x}" for i in range(4)]


def test_builder_cuts_by_rows_and_bytes() -> None:
    out: list[metric_pb2.MetricBatch] = []
    builder = BatchBuilder(out.extend, max_rows=3, max_bytes=10_000, group=1)
    for i in range(7):
        builder.add_point(metric_pb2.MetricPoint(project_id="p", name="x", value=i))
    builder.flush()
    assert [rows_of(b) for b in out] == [3, 3, 1]
    out.clear()
    big = BatchBuilder(out.extend, max_rows=100, max_bytes=2_000, group=1)
    for i in range(10):
        big.add_event(
            process_event_pb2.ProcessEvent(
                project_id="p", commit=process_event_pb2.Commit(sha=f"{i:040x}", files=["f" * 500])
            )
        )
    big.flush()
    assert len(out) > 1
    assert all(b.ByteSize() <= 2_100 for b in out)
    assert sum(rows_of(b) for b in out) == 10 == big.rows


@settings(max_examples=50, deadline=None)
@given(st.integers(min_value=1, max_value=2**62), st.binary(max_size=3000))
def test_batch_request_encoding_matches_protobuf(sequence: int, blob: bytes) -> None:
    batch = metric_pb2.MetricBatch(points=[metric_pb2.MetricPoint(name=blob.hex()[:50])])
    payload = batch.SerializeToString()
    expected = metrics_service_pb2.StreamMetricsRequest(
        batch=metrics_service_pb2.StreamBatch(sequence=sequence, batch=batch)
    )
    assert encode_batch_request(sequence, payload) == expected.SerializeToString()
