"""The team.* features: of a real team over its window, and of many hypothetical teams at once.

Composition at the window's end: size, members and share per role, mean and
max years of experience, total allocation, coverage of the project's
required skills (label `required_skills`), turnover (members who left
within the window over members who joined before its end). All missing when
no member had joined by then.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from maestro_grpc.prediction.domain.window import Features, Member, Window
from maestro_grpc.registry.model import TeamRole

ROLES = tuple(role.value for role in TeamRole)


def team_features(members: Sequence[Member], required: frozenset[str], window: Window) -> Features:
    """Composition at the window's end; all missing when nobody had joined by then."""
    joined = [m for m in members if (m.join_time or window.start) < window.observed_end]
    names = team_feature_names()
    if not joined:
        return dict.fromkeys(names)
    present = [m for m in joined if m.leave_time is None or m.leave_time >= window.observed_end]
    left = len(joined) - len(present)
    size = len(present)
    out: Features = {"team.size": float(size)}
    for role in ROLES:
        count = sum(1 for m in present if m.role == role)
        out[f"team.role.{role}.count"] = float(count)
        out[f"team.role.{role}.share"] = count / size if size else None
    years = [m.years_experience for m in present]
    out["team.experience.mean"] = sum(years) / size if size else None
    out["team.experience.max"] = max(years) if years else None
    out["team.allocation.total"] = sum(m.allocation for m in present)
    covered: set[str] = set()
    for m in present:
        covered |= m.skills
    out["team.skill_coverage"] = len(required & covered) / len(required) if required else None
    out["team.turnover"] = left / len(joined)
    return out


def team_feature_names() -> list[str]:
    names = ["team.size"]
    for role in ROLES:
        names += [f"team.role.{role}.count", f"team.role.{role}.share"]
    return [
        *names,
        "team.experience.mean",
        "team.experience.max",
        "team.allocation.total",
        "team.skill_coverage",
        "team.turnover",
    ]


@dataclass(frozen=True)
class CandidatePool:
    """Candidates as arrays, for computing the team features of many teams at once."""

    roles: npt.NDArray[np.int64]  # index into ROLES
    years: npt.NDArray[np.float64]
    allocation: npt.NDArray[np.float64]
    # covers[i, j]: candidate i has the j-th required skill.
    covers: npt.NDArray[np.bool_]

    @classmethod
    def of(cls, members: Sequence[Member], required: frozenset[str]) -> CandidatePool:
        wanted = sorted(required)
        return cls(
            roles=np.array([ROLES.index(m.role) for m in members], dtype=np.int64),
            years=np.array([m.years_experience for m in members], dtype=np.float64),
            allocation=np.array([m.allocation for m in members], dtype=np.float64),
            covers=np.array(
                [[skill in m.skills for skill in wanted] for m in members], dtype=np.bool_
            ).reshape(len(members), len(wanted)),
        )


def team_feature_columns(
    pool: CandidatePool, membership: npt.NDArray[np.bool_]
) -> dict[str, npt.NDArray[np.float64]]:
    """team.* of teams drawn from `pool` (row b of `membership` marks team b's members).

    The teams are hypothetical: every member is there for the whole window,
    so turnover is 0. For the same members this agrees with `team_features`.
    """
    m = membership.astype(np.float64)
    size = m.sum(axis=1)
    safe = np.where(size > 0, size, 1.0)
    nan = np.full(size.shape, np.nan)
    out: dict[str, npt.NDArray[np.float64]] = {"team.size": size}
    for index, role in enumerate(ROLES):
        count = m @ (pool.roles == index).astype(np.float64)
        out[f"team.role.{role}.count"] = count
        out[f"team.role.{role}.share"] = np.where(size > 0, count / safe, nan)
    out["team.experience.mean"] = np.where(size > 0, (m @ pool.years) / safe, nan)
    masked = np.where(membership, pool.years[np.newaxis, :], -np.inf)
    out["team.experience.max"] = np.where(size > 0, masked.max(axis=1, initial=-np.inf), nan)
    out["team.allocation.total"] = m @ pool.allocation
    if pool.covers.shape[1]:
        covered = (m @ pool.covers.astype(np.float64)) > 0
        out["team.skill_coverage"] = covered.mean(axis=1)
    else:
        out["team.skill_coverage"] = nan
    out["team.turnover"] = np.zeros(size.shape)
    return out


def skill_coverage(pool: CandidatePool, membership: npt.NDArray[np.bool_]) -> npt.NDArray[Any]:
    """Share of the required skills each team covers (1 when none are required)."""
    if not pool.covers.shape[1]:
        return np.ones(membership.shape[0])
    covered = (membership.astype(np.float64) @ pool.covers.astype(np.float64)) > 0
    return np.asarray(covered.mean(axis=1), dtype=np.float64)
