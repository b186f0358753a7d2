"""Prediction records -> protobuf messages."""

from __future__ import annotations

import math
import uuid
from typing import Any

from maestro.prediction.v1 import meta_model_pb2 as mp
from maestro.prediction.v1 import prediction_service_pb2 as pb
from maestro.registry.v1 import project_pb2
from maestro_grpc.prediction.model import (
    Availability,
    LeftOutReason,
    MetaModelRecord,
    ModelKind,
    PredictionRecord,
    Proposal,
    RealisedScores,
    Recommendation,
)
from maestro_grpc.wire.protoconv import set_timestamp

KIND = {
    ModelKind.LOGISTIC_REGRESSION: mp.MODEL_KIND_LOGISTIC_REGRESSION,
    ModelKind.GRADIENT_BOOSTING: mp.MODEL_KIND_GRADIENT_BOOSTING,
}


def finite(value: float | None) -> float:
    """NaN, infinities and null (a degenerate fold, a score that does not exist) as 0."""
    return value if value is not None and math.isfinite(value) else 0.0


def cv_scores(scores: dict[str, Any]) -> mp.CvScores:
    return mp.CvScores(
        roc_auc=finite(scores["roc_auc"]),
        roc_auc_std=finite(scores["roc_auc_std"]),
        brier=finite(scores["brier"]),
        accuracy=finite(scores["accuracy"]),
        baseline_accuracy=finite(scores["baseline_accuracy"]),
        baseline_brier=finite(scores["baseline_brier"]),
        folds=int(scores["folds"]),
        repeats=int(scores["repeats"]),
    )


def realised(scores: RealisedScores) -> mp.RealisedScores:
    return mp.RealisedScores(
        projects=scores.projects,
        roc_auc=scores.roc_auc,
        brier=scores.brier,
        accuracy=scores.accuracy,
    )


def candidate(c: dict[str, Any]) -> mp.CandidateScores:
    return mp.CandidateScores(
        kind=KIND[ModelKind(c["kind"])],
        cv_scores=cv_scores(c["cv_scores"]),
        name=str(c.get("name", "")),
        inner_roc_auc=finite(float(c.get("inner_roc_auc", 0.0))),
        times_selected=int(c.get("times_selected", 0)),
        feature_count=int(c.get("feature_count", 0)),
    )


def validation(d: dict[str, Any]) -> mp.Validation:
    out = mp.Validation(
        roc_auc_low=finite(d["roc_auc_low"]),
        roc_auc_high=finite(d["roc_auc_high"]),
        baseline_lr=cv_scores(d["baseline_lr"]),
        learning_curve=[
            mp.LearningCurvePoint(
                fraction=p["fraction"],
                training_projects=p["training_projects"],
                roc_auc=finite(p["roc_auc"]),
                brier=finite(p["brier"]),
            )
            for p in d["learning_curve"]
        ],
    )
    t = d.get("temporal")
    if t is not None:
        out.temporal.CopyFrom(
            mp.TemporalValidation(
                roc_auc=finite(t["roc_auc"]),
                brier=finite(t["brier"]),
                baseline_brier=finite(t["baseline_brier"]),
                train_count=int(t["train_count"]),
                test_count=int(t["test_count"]),
                candidate=t["candidate"],
                note=t["note"],
            )
        )
        out.temporal.cut_time.FromSeconds(int(t["cut_time"]))
    return out


LEFT_OUT = {
    LeftOutReason.NO_OUTCOME: mp.LEFT_OUT_REASON_NO_OUTCOME,
    LeftOutReason.STILL_ACTIVE: mp.LEFT_OUT_REASON_STILL_ACTIVE,
    LeftOutReason.WINDOW_OPEN: mp.LEFT_OUT_REASON_WINDOW_OPEN,
    LeftOutReason.ENDED_BEFORE_WINDOW_CLOSED: mp.LEFT_OUT_REASON_ENDED_BEFORE_WINDOW_CLOSED,
}


def training_set(d: dict[str, Any]) -> mp.TrainingSetReport:
    left = d["left_out"]
    return mp.TrainingSetReport(
        considered=int(d["considered"]),
        used=int(d["used"]),
        left_out=sum(int(e["count"]) for e in left.values()),
        left_out_by_reason=[
            mp.LeftOut(
                reason=LEFT_OUT[r],
                count=int(left[r.value]["count"]),
                project_ids=left[r.value]["project_ids"],
            )
            for r in LeftOutReason
            if r.value in left
        ],
    )


def meta_model(record: MetaModelRecord) -> mp.MetaModel:
    out = mp.MetaModel(
        version=record.version,
        kind=KIND[record.kind],
        features=[
            mp.FeatureInfo(
                name=f["name"],
                importance=finite(f["importance"]),
                training_mean=finite(f["training_mean"]),
                training_min=finite(f["training_min"]),
                training_max=finite(f["training_max"]),
                missing_fraction=finite(f["missing_fraction"]),
                imputed_value=finite(f["imputed_value"]),
            )
            for f in record.features
        ],
        cv_scores=cv_scores(record.details["cv_scores"]),
        candidates=[candidate(c) for c in record.details["candidates"]],
        training_set_size=record.training_set_size,
        positive_count=record.positive_count,
        observation_days=record.observation_days,
        realised_scores=realised(record.realised),
        mlflow_run_id=record.mlflow_run_id,
        mlflow_model_uri=record.mlflow_model_uri,
        candidate=str(record.details.get("candidate", "")),
        no_skill=record.no_skill,
        verdict=record.verdict,
        serves_by_default=record.serves_by_default,
    )
    if record.details.get("validation"):
        out.validation.CopyFrom(validation(record.details["validation"]))
    if record.details.get("training_set"):
        out.training_set.CopyFrom(training_set(record.details["training_set"]))
    set_timestamp(out.create_time, record.create_time)
    return out


def prediction(record: PredictionRecord) -> mp.Prediction:
    out = mp.Prediction(
        id=str(record.id),
        project_id=str(record.project_id),
        model_version=record.model_version,
        probability=record.probability,
        base_log_odds=record.base_log_odds,
        contributions=[
            mp.FeatureContribution(
                feature=c.feature, value=c.value, missing=c.missing, contribution=c.contribution
            )
            for c in record.contributions
        ],
        extrapolation=record.extrapolation,
        extrapolation_reasons=record.extrapolation_reasons,
        no_skill=record.no_skill,
        warnings=record.warnings,
    )
    set_timestamp(out.observation_end_time, record.observation_end_time)
    set_timestamp(out.create_time, record.create_time)
    return out


def proposal(item: Proposal, project_id: uuid.UUID) -> pb.TeamProposal:
    return pb.TeamProposal(
        members=[
            project_pb2.TeamMember(
                project_id=str(project_id),
                person_id=m.person_id,
                display_name=m.display_name,
                role="TEAM_ROLE_" + m.role.upper(),
                years_experience=m.years_experience,
                skills=sorted(m.skills),
                allocation=m.availability,
            )
            for m in item.members
        ],
        probability=item.probability,
        skill_coverage=item.coverage,
        score=item.score,
        reasons=item.reasons,
        extrapolation=item.extrapolation,
        extrapolation_reasons=item.extrapolation_reasons,
    )


def availability(item: Availability) -> pb.CandidateAvailability:
    return pb.CandidateAvailability(
        person_id=item.person_id,
        requested=item.requested,
        allocated_elsewhere=item.allocated_elsewhere,
        available=item.available,
        excluded=item.excluded,
        projects=item.projects,
    )


def recommendation(found: Recommendation, project_id: uuid.UUID) -> pb.RecommendTeamResponse:
    return pb.RecommendTeamResponse(
        current_team=proposal(found.current, project_id) if found.current else None,
        proposals=[proposal(p, project_id) for p in found.proposals],
        model_version=found.model_version,
        ranking=(
            pb.TEAM_RANKING_PREDICTED_SUCCESS
            if found.by_model
            else pb.TEAM_RANKING_SKILL_COVERAGE_AND_EXPERIENCE
        ),
        ranking_reason=found.ranking_reason,
        observation_window_open=found.window_open,
        availability=[availability(a) for a in found.availability],
    )
