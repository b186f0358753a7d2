"""Totals of one metric over per-project windows: one query for any number of windows.

The windows travel as parameters the database turns into rows and joins
with the series and points (their indexes: series by project and name,
points by series and time): arrays under `unnest ... WITH ORDINALITY` on
PostgreSQL, a JSON array under `json_each` on SQLite. Each window is
named by its position, so the answer comes back as columns aligned with
the windows; on PostgreSQL as arrays in one row (decoded in C, not row by
row). The same tests run both.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
from sqlalchemy import (
    DateTime,
    Interval,
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
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.sql.expression import ColumnElement, FromClause
from sqlalchemy.types import Uuid

from maestro_grpc.metrics.model import Windows, WindowTotals
from maestro_grpc.metrics.store.tables import metric_points as points
from maestro_grpc.metrics.store.tables import metric_series as series

_STAMP = "%Y-%m-%d %H:%M:%S.%f"  # SQLAlchemy's DATETIME text on SQLite


def _naive(t: datetime) -> str:
    return t.astimezone(UTC).replace(tzinfo=None).strftime(_STAMP)


def _source(
    windows: Windows, dialect: str
) -> tuple[FromClause, ColumnElement[Any], dict[str, Any]]:
    """The windows as rows (i, project_id, start), the pre-period's start, and the parameters."""
    pre = timedelta(days=windows.pre_days)
    if dialect == "postgresql":
        rows = (
            func.unnest(
                bindparam("w_project", type_=ARRAY(Uuid())),
                bindparam("w_start", type_=ARRAY(DateTime(timezone=True))),
            )
            .table_valued(
                column("project_id", Uuid()),
                column("start", DateTime(timezone=True)),
                with_ordinality="i",
            )
            .render_derived(name="w")
        )
        pre_start = rows.c.start - bindparam("w_pre", type_=Interval())
        params = {"w_project": windows.project_ids, "w_start": windows.starts, "w_pre": pre}
        return rows, pre_start, params
    each = func.json_each(bindparam("w_json", type_=String())).table_valued("key", "value")
    sub = select(
        each.c.key.label("i"),
        func.json_extract(each.c.value, "$[0]").label("project_id"),
        func.json_extract(each.c.value, "$[1]").label("start"),
        func.json_extract(each.c.value, "$[2]").label("pre_start"),
    ).subquery("w")
    text = json.dumps(
        [
            [p.hex, _naive(s), _naive(s - pre)]
            for p, s in zip(windows.project_ids, windows.starts, strict=True)
        ]
    )
    return sub, sub.c.pre_start, {"w_json": text}


def _joined(
    w: FromClause, pre_start: ColumnElement[Any], name: str
) -> tuple[FromClause, ColumnElement[bool]]:
    source = w.join(
        series, and_(series.c.project_id == w.c.project_id, series.c.name == name)
    ).join(
        points,
        and_(
            points.c.series_id == series.c.id,
            points.c.time >= pre_start,
            points.c.time < bindparam("w_end", type_=DateTime(timezone=True)),
        ),
    )
    return source, points.c.time >= w.c.start


def _totals(w: FromClause, pre_start: ColumnElement[Any], name: str) -> Select[Any]:
    source, post = _joined(w, pre_start, name)
    return (
        select(
            w.c.i,
            func.sum(case((post, 1), else_=0)).label("n"),
            func.sum(case((post, points.c.value), else_=0.0)).label("total"),
            func.sum(case((post, 0), else_=1)).label("pre_n"),
            func.sum(case((post, 0.0), else_=points.c.value)).label("pre_total"),
        )
        .select_from(source)
        .group_by(w.c.i)
    )


def _lasts(w: FromClause, pre_start: ColumnElement[Any], name: str) -> Select[Any]:
    """Each window's latest value, and its pre-period's."""
    source, post = _joined(w, pre_start, name)
    is_post = case((post, 1), else_=0)
    ranked = (
        select(
            w.c.i.label("i"),
            is_post.label("is_post"),
            points.c.value.label("value"),
            func.row_number()
            .over(
                partition_by=(w.c.i, is_post),
                order_by=(points.c.time.desc(), series.c.labels.desc()),
            )
            .label("rank"),
        )
        .select_from(source)
        .subquery("ranked")
    )
    return select(ranked.c.i, ranked.c.is_post, ranked.c.value).where(ranked.c.rank == 1)


def _as_arrays(query: Select[Any]) -> Select[Any]:
    """One row of arrays instead of many rows (PostgreSQL)."""
    sub = query.subquery("rows")
    aggregated: list[Any] = [func.array_agg(c) for c in sub.c]
    return select(*aggregated)


async def _columns(conn: AsyncConnection, query: Select[Any], params: dict[str, Any]) -> list[Any]:
    if conn.dialect.name == "postgresql":
        row = (await conn.execute(_as_arrays(query), params)).one()
        return [list(c or ()) for c in row]
    rows = (await conn.execute(query, params)).all()
    width = len(query.selected_columns)
    return [list(c) for c in zip(*rows, strict=True)] if rows else [[] for _ in range(width)]


async def totals(
    conn: AsyncConnection, name: str, windows: Windows, with_last: bool
) -> WindowTotals:
    """`name`'s points in each window and its pre-period, aligned with the windows."""
    size = len(windows)
    if size == 0:
        return WindowTotals.empty(0)
    w, pre_start, params = _source(windows, conn.dialect.name)
    params["w_end"] = windows.end
    # PostgreSQL's ordinality counts from 1, json_each's key from 0.
    base = 1 if conn.dialect.name == "postgresql" else 0
    i, n, total, pre_n, pre_total = await _columns(conn, _totals(w, pre_start, name), params)
    at = np.asarray(i, dtype=np.int64) - base
    out = WindowTotals.empty(size)
    out.count[at], out.total[at] = n, total
    out.pre_count[at], out.pre_total[at] = pre_n, pre_total
    if with_last:
        i, is_post, value = await _columns(conn, _lasts(w, pre_start, name), params)
        at = np.asarray(i, dtype=np.int64) - base
        post_mask = np.asarray(is_post, dtype=bool)
        values = np.asarray(value, dtype=np.float64)
        out.last[at[post_mask]] = values[post_mask]
        out.pre_last[at[~post_mask]] = values[~post_mask]
    return out
