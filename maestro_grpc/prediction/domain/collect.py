"""The training set: every finished project with an outcome, its features over its window.

Projects are taken by name (unique, and the same in every store and every
import), so the same data and seed give the same folds and the same model.
A finished project that ended before its observation window closed is left
out, and counted, so the error for too few projects can say how many were.
"""

from __future__ import annotations

import math
from datetime import datetime

import numpy as np

from maestro_grpc.errors import FailedPrecondition
from maestro_grpc.prediction.domain.features import compute
from maestro_grpc.prediction.domain.observe import FeatureReader, load_projects
from maestro_grpc.prediction.domain.trainset import TrainingError, TrainingSet, check_counts
from maestro_grpc.prediction.domain.window import Features, ProjectRecord, Window, window_for
from maestro_grpc.prediction.model import Report, TrainingOptions

FINISHED = {"completed", "cancelled"}
FEATURE_BATCH = 200

Target = tuple[ProjectRecord, Window]


def eligible(
    projects: list[ProjectRecord], observation_days: int, now: datetime
) -> tuple[list[Target], int]:
    """The finished projects with an outcome and a closed window, and how many were left out."""
    targets: list[Target] = []
    left_out = 0
    for project in sorted(projects, key=lambda p: p.name):
        if project.status not in FINISHED or project.succeeded is None:
            continue
        window = window_for(project.start, observation_days, now)
        finished = project.finished_time
        if not window.complete or finished is None or finished < window.end:
            left_out += 1
            continue
        targets.append((project, window))
    return targets, left_out


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
    )


async def training_set(
    reader: FeatureReader, options: TrainingOptions, now: datetime, report: Report
) -> tuple[TrainingSet, int]:
    """The eligible projects' features and outcomes, and how many were left out."""
    report("loading", 0.0, "finding finished projects with a recorded outcome")
    everything = await load_projects(reader.registry)
    targets, left_out = eligible(everything, options.observation_days, now)
    positives = sum(1 for p, _ in targets if p.succeeded)
    try:
        check_counts(len(targets), positives, options.folds, left_out)
    except TrainingError as error:
        raise FailedPrecondition(str(error), reason="NOT_ENOUGH_PROJECTS") from None
    report("features", 0.05, f"measuring {len(targets)} projects")
    rows = await measure(reader, targets, report)
    return matrix(targets, rows, options.observation_days), left_out


def _number(value: float | None) -> float:
    return math.nan if value is None else float(value)
