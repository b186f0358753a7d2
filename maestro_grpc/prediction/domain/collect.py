"""The training set: the selected finished projects with an outcome, features over their window.

Projects are taken by name (unique, and the same in every store and every
import), so the same data and seed give the same folds and the same model.
Every project the selector matches is either used or counted as left out
with its reason (`TrainingSetReport`), in this order of checks:

- no outcome recorded: NO_OUTCOME;
- an outcome, but the project is still PLANNED or ACTIVE: STILL_ACTIVE (the
  documented rule: an outcome counts once the project is finished, because
  its end is when the outcome became known; until then it is reported, never
  silently dropped);
- the observation window has not closed yet: WINDOW_OPEN;
- it ended before its window closed (its outcome was known while it was
  observed): ENDED_BEFORE_WINDOW_CLOSED.
"""

from __future__ import annotations

import math
from datetime import datetime

import numpy as np

from maestro_grpc.errors import FailedPrecondition, NotFound
from maestro_grpc.prediction.domain.features import compute
from maestro_grpc.prediction.domain.observe import FeatureReader, load_projects
from maestro_grpc.prediction.domain.trainset import TrainingError, TrainingSet, check_counts
from maestro_grpc.prediction.domain.window import Features, ProjectRecord, Window, window_for
from maestro_grpc.prediction.model import (
    LeftOutReason,
    Report,
    TrainingOptions,
    TrainingSelector,
    TrainingSetReport,
)

FINISHED = {"completed", "cancelled"}
FEATURE_BATCH = 200

Target = tuple[ProjectRecord, Window]


def matches(project: ProjectRecord, selector: TrainingSelector) -> bool:
    """Whether the selector considers the project (every condition given holds)."""
    if selector.project_ids and project.id not in selector.project_ids:
        return False
    if selector.started_after is not None and project.start < selector.started_after:
        return False
    if selector.started_before is not None and project.start >= selector.started_before:
        return False
    labels = dict(project.labels)
    return all(labels.get(key) == value for key, value in selector.labels)


def _reason(project: ProjectRecord, window: Window) -> LeftOutReason | None:
    if project.succeeded is None:
        return LeftOutReason.NO_OUTCOME
    if project.status not in FINISHED:
        return LeftOutReason.STILL_ACTIVE
    if not window.complete:
        return LeftOutReason.WINDOW_OPEN
    finished = project.finished_time
    if finished is None or finished < window.end:
        return LeftOutReason.ENDED_BEFORE_WINDOW_CLOSED
    return None


def eligible(
    projects: list[ProjectRecord],
    observation_days: int,
    now: datetime,
    selector: TrainingSelector | None = None,
) -> tuple[list[Target], TrainingSetReport]:
    """The considered projects that can be trained on, and the report of every one of them."""
    targets: list[Target] = []
    report = TrainingSetReport()
    for project in sorted(projects, key=lambda p: p.name):
        if selector is not None and not matches(project, selector):
            continue
        report.considered += 1
        window = window_for(project.start, observation_days, now)
        reason = _reason(project, window)
        if reason is not None:
            report.left_out.setdefault(reason, []).append(str(project.id))
            continue
        targets.append((project, window))
    report.used = len(targets)
    report.left_out = {r: report.left_out[r] for r in LeftOutReason if r in report.left_out}
    return targets, report


async def measure(reader: FeatureReader, targets: list[Target], report: Report) -> list[Features]:
    """The features of every target, read in batches."""
    rows: list[Features] = []
    for start in range(0, len(targets), FEATURE_BATCH):
        batch = targets[start : start + FEATURE_BATCH]
        observed = await reader.observe(batch)
        rows += [
            compute(project, window, obs)
            for (project, window), obs in zip(batch, observed, strict=True)
        ]
        report(
            "features",
            0.05 + 0.2 * len(rows) / len(targets),
            f"{len(rows)}/{len(targets)} projects",
        )
    return rows


def matrix(targets: list[Target], rows: list[Features], observation_days: int) -> TrainingSet:
    """Rows as a matrix over every feature some project has (NaN where one is missing)."""
    names = sorted({name for row in rows for name, value in row.items() if value is not None})
    x = np.array(
        [[_number(row.get(name)) for name in names] for row in rows], dtype=np.float64
    ).reshape(len(rows), len(names))
    y = np.array([1 if p.succeeded else 0 for p, _ in targets], dtype=np.int64)
    return TrainingSet(
        feature_names=names,
        x=x,
        y=y,
        project_ids=[str(p.id) for p, _ in targets],
        observation_days=observation_days,
        start_times=[p.start.timestamp() for p, _ in targets],
    )


async def training_set(
    reader: FeatureReader, options: TrainingOptions, now: datetime, report: Report
) -> tuple[TrainingSet, TrainingSetReport]:
    """The eligible projects' features and outcomes, and the report of the considered ones."""
    report("loading", 0.0, "finding finished projects with a recorded outcome")
    selector = options.selector
    ids = list(selector.project_ids) or None
    everything = await load_projects(reader.registry, ids)
    if ids is not None and len(everything) < len(set(ids)):
        found = {p.id for p in everything}
        missing = sorted(str(i) for i in set(ids) - found)
        raise NotFound(
            f"training_set.project_ids: no such project: {', '.join(missing[:10])}",
            reason="PROJECT_NOT_FOUND",
        )
    targets, counted = eligible(everything, options.observation_days, now, selector)
    positives = sum(1 for p, _ in targets if p.succeeded)
    try:
        check_counts(len(targets), positives, options.folds, counted)
    except TrainingError as error:
        raise FailedPrecondition(str(error), reason="NOT_ENOUGH_PROJECTS") from None
    report(
        "features",
        0.05,
        f"measuring {len(targets)} of {counted.considered} projects considered "
        f"({counted.left_out_count} left out)",
    )
    rows = await measure(reader, targets, report)
    return matrix(targets, rows, options.observation_days), counted


def _number(value: float | None) -> float:
    return math.nan if value is None else float(value)
