"""Per-project totals of one metric over per-project windows: one query for any number of them.

The windows travel as one parameter, a row source the database joins
with the series and points (their indexes: series by project and name,
points by series and time): arrays under `unnest` on PostgreSQL, a JSON
array under `json_each` on SQLite. The same tests run both.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from datetime import UTC
from typing import Any

from sqlalchemy import (
    DateTime,
    Select,
    String,
    and_,
    bindparam,
    case,
    column,
    func,
    select,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.sql.expression import ColumnElement, FromClause
from sqlalchemy.types import Uuid

from maestro_grpc.metrics.model import UnitWindow, WindowTotals
from maestro_grpc.metrics.store.tables import metric_points as points
from maestro_grpc.metrics.store.tables import metric_series as series

_STAMP = "%Y-%m-%d %H:%M:%S.%f"  # SQLAlchemy's DATETIME text on SQLite


def source(windows: Sequence[UnitWindow], dialect: str) -> tuple[FromClause, dict[str, Any]]:
    """The windows as rows (project_id, pre_start, start, stop), and the parameters."""
    pre = [w.pre_start or w.start for w in windows]
    rows: FromClause
    if dialect == "postgresql":
        stamp = ARRAY(DateTime(timezone=True))
        rows = (
            func.unnest(
                bindparam("w_project", type_=ARRAY(Uuid())),
                bindparam("w_pre", type_=stamp),
                bindparam("w_start", type_=stamp),
                bindparam("w_stop", type_=stamp),
            )
            .table_valued(
                column("project_id", Uuid()),
                column("pre_start", DateTime(timezone=True)),
                column("start", DateTime(timezone=True)),
                column("stop", DateTime(timezone=True)),
            )
            .render_derived(name="w")
        )
        return rows, {
            "w_project": [w.project_id for w in windows],
            "w_pre": pre,
            "w_start": [w.start for w in windows],
            "w_stop": [w.end for w in windows],
        }
    each = func.json_each(bindparam("w_json", type_=String())).table_valued("value").alias("e")
    value = each.c.value
    rows = select(
        func.json_extract(value, "$[0]").label("project_id"),
        func.json_extract(value, "$[1]").label("pre_start"),
        func.json_extract(value, "$[2]").label("start"),
        func.json_extract(value, "$[3]").label("stop"),
    ).subquery("w")
    text = json.dumps(
        [
            [w.project_id.hex, _naive(p), _naive(w.start), _naive(w.end)]
            for w, p in zip(windows, pre, strict=True)
        ]
    )
    return rows, {"w_json": text}


def _naive(t: Any) -> str:
    return str(t.astimezone(UTC).replace(tzinfo=None).strftime(_STAMP))


def _joined(w: FromClause, name: str) -> tuple[FromClause, ColumnElement[bool]]:
    source = w.join(
        series, and_(series.c.project_id == w.c.project_id, series.c.name == name)
    ).join(
        points,
        and_(
            points.c.series_id == series.c.id,
            points.c.time >= w.c.pre_start,
            points.c.time < w.c.stop,
        ),
    )
    return source, points.c.time >= w.c.start


def totals_query(w: FromClause, name: str) -> Select[Any]:
    source, post = _joined(w, name)
    return (
        select(
            w.c.project_id,
            func.sum(case((post, 1), else_=0)).label("n"),
            func.sum(case((post, points.c.value), else_=0.0)).label("total"),
            func.sum(case((post, 0), else_=1)).label("pre_n"),
            func.sum(case((post, 0.0), else_=points.c.value)).label("pre_total"),
        )
        .select_from(source)
        .group_by(w.c.project_id)
    )


def last_query(w: FromClause, name: str) -> Select[Any]:
    """Each project's latest value in the window and in its pre-period."""
    source, post = _joined(w, name)
    is_post = case((post, 1), else_=0)
    ranked = (
        select(
            w.c.project_id.label("project_id"),
            is_post.label("is_post"),
            points.c.value.label("value"),
            func.row_number()
            .over(
                partition_by=(w.c.project_id, is_post),
                order_by=(points.c.time.desc(), series.c.labels.desc()),
            )
            .label("rank"),
        )
        .select_from(source)
        .subquery("ranked")
    )
    return select(ranked.c.project_id, ranked.c.is_post, ranked.c.value).where(ranked.c.rank == 1)


def project_of(value: Any) -> uuid.UUID:
    return value if isinstance(value, uuid.UUID) else uuid.UUID(hex=str(value))


def merge(sums: Sequence[Any], lasts: Sequence[Any] | None) -> dict[uuid.UUID, WindowTotals]:
    """The two queries' rows as totals by project."""
    last: dict[tuple[uuid.UUID, int], float] = {}
    for row in lasts or ():
        last[(project_of(row.project_id), int(row.is_post))] = float(row.value)
    out: dict[uuid.UUID, WindowTotals] = {}
    for row in sums:
        pid = project_of(row.project_id)
        out[pid] = WindowTotals(
            count=int(row.n),
            total=float(row.total),
            last=last.get((pid, 1), 0.0),
            pre_count=int(row.pre_n),
            pre_total=float(row.pre_total),
            pre_last=last.get((pid, 0), 0.0),
        )
    return out
