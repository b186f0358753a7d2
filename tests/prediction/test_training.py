"""Training, storage format and explanations of the meta-model, on synthetic matrices."""

from __future__ import annotations

import math

import numpy as np
import pytest
import skops.io as sio  # type: ignore[import-untyped]

from maestro_grpc.prediction.domain import nested as N
from maestro_grpc.prediction.domain import training as T
from maestro_grpc.prediction.domain.estimator import UntrustedModel, deserialize, inner_pipeline
from maestro_grpc.prediction.domain.explain import LoadedModel, _Steps
from maestro_grpc.prediction.domain.nested import specs_for
from maestro_grpc.prediction.domain.trainset import (
    TrainingError,
    TrainingJob,
    TrainingSet,
    check_counts,
    check_trainable,
)
from maestro_grpc.prediction.domain.validate import temporal, verdict
from maestro_grpc.prediction.model import (
    FeatureRange,
    LeftOutReason,
    ModelKind,
    Scores,
    TrainingOutcome,
    TrainingSetReport,
)


def matrix(n: int = 240, seed: int = 0, xor: bool = False) -> TrainingSet:
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 5))
    logit = 3.0 * np.sign(x[:, 0] * x[:, 1]) if xor else 2.0 * x[:, 0] - 1.0 * x[:, 1]
    y = (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(np.int64)
    x[rng.random(n) < 0.15, 1] = np.nan  # partly missing
    x[:, 3] = 7.0  # constant
    x[:, 4] = np.nan  # never seen
    return TrainingSet(["a", "b", "noise", "constant", "absent"], x, y, [], 240)


def quiet(*_: object) -> None:
    return None


# The "absent" column has no value at all: the imputer says so whenever it sees it.
pytestmark = pytest.mark.filterwarnings("ignore:Skipping features without any observed")


@pytest.fixture(scope="module")
def linear() -> TrainingOutcome:
    return T.train(TrainingJob("j", matrix(), folds=4, repeats=1, seed=3), quiet)


@pytest.fixture(scope="module")
def xor() -> TrainingOutcome:
    return T.train(TrainingJob("j", matrix(xor=True), folds=4, repeats=1, seed=3), quiet)


def test_refuses_too_few_projects_or_one_outcome() -> None:
    counted = TrainingSetReport(
        considered=14,
        used=10,
        left_out={
            LeftOutReason.NO_OUTCOME: ["n"],
            LeftOutReason.ENDED_BEFORE_WINDOW_CLOSED: ["a", "b", "c"],
        },
    )
    with pytest.raises(
        TrainingError,
        match=r"found 10 \(5 succeeded, 5 failed\), and 3 more projects with an outcome were "
        r"left out \(ended_before_window_closed: 3\); 1 considered projects have no outcome",
    ):
        check_counts(10, 5, folds=5, report=counted)
    with pytest.raises(TrainingError, match=r"found 40 \(40 succeeded, 0 failed\)"):
        check_counts(40, 40, folds=5)
    with pytest.raises(TrainingError, match="at least 8 of each outcome"):
        check_counts(40, 35, folds=8)
    check_counts(40, 30, folds=5)
    flat = TrainingSet(["a"], np.ones((40, 1)), np.array([0, 1] * 20), [], 240)
    with pytest.raises(TrainingError, match="no feature varies"):
        check_trainable(flat, 5)
    partly = TrainingSet(["a"], np.ones((40, 1)), np.array([0, 1] * 20), [], 240)
    partly.x[0, 0] = np.nan  # the missing indicator varies
    check_trainable(partly, 5)


def test_train_keeps_the_better_learner_and_reports_scores(
    linear: TrainingOutcome, xor: TrainingOutcome
) -> None:
    assert linear.kind is ModelKind.LOGISTIC_REGRESSION
    assert linear.cv_scores.roc_auc > 0.75
    assert linear.cv_scores.brier < linear.cv_scores.baseline_brier
    assert (linear.cv_scores.folds, linear.cv_scores.repeats) == (4, 1)
    assert {c.kind for c in linear.candidates} == set(ModelKind)
    # No slope feature here: the levels-only candidate would be the same model.
    assert [c.name for c in linear.candidates] == ["logistic_regression", "gradient_boosting"]
    assert sum(c.times_selected for c in linear.candidates) == 4
    assert linear.validation is not None
    assert not linear.validation.no_skill
    assert linear.validation.verdict.startswith("Skill: ")
    assert 0.5 < linear.validation.roc_auc_low < linear.cv_scores.roc_auc
    names = [f.name for f in linear.features]
    assert names == ["a", "b", "noise"]  # constant and never-seen features are dropped
    b = next(f for f in linear.features if f.name == "b")
    assert 0.05 < b.missing_fraction < 0.3
    assert b.training_min <= b.imputed_value <= b.training_max
    a = next(f for f in linear.features if f.name == "a")
    assert a.importance > next(f for f in linear.features if f.name == "noise").importance
    assert xor.kind is ModelKind.GRADIENT_BOOSTING
    assert xor.cv_scores.roc_auc > 0.75


def test_same_data_and_seed_give_the_same_model(linear: TrainingOutcome) -> None:
    ts = matrix()
    first = linear
    second = T.train(TrainingJob("j", ts, folds=4, repeats=1, seed=3), quiet)
    assert first.cv_scores == second.cv_scores
    a = deserialize(first.model_bytes).predict_proba(np.nan_to_num(ts.x))
    b = deserialize(second.model_bytes).predict_proba(np.nan_to_num(ts.x))
    assert np.array_equal(a, b)


def test_progress_is_reported_in_order() -> None:
    seen: list[tuple[str, float]] = []
    T.train(
        TrainingJob("j", matrix(n=60), folds=3, repeats=2, seed=0),
        lambda stage, fraction, _message: seen.append((stage, fraction)),
    )
    stages = [s for s, _ in seen]
    assert stages[0] == "cross_validation"
    assert stages[-1] == "fitting"
    # The start, each outer fold of each repeat, the time-ordered hold-out.
    assert stages.count("cross_validation") == 1 + 3 * 2 + 1
    fractions = [f for _, f in seen]
    assert fractions == sorted(fractions)


class NotAllowed:
    pass


def test_loading_refuses_untrusted_types() -> None:
    data = sio.dumps({"model": NotAllowed()})
    with pytest.raises(UntrustedModel, match="NotAllowed"):
        deserialize(data)


def loaded(outcome: TrainingOutcome, names: list[str]) -> LoadedModel:
    ranges = [
        FeatureRange(f.name, f.training_min, f.training_max, f.missing_fraction)
        for f in outcome.features
    ]
    return LoadedModel(1, outcome.kind, 240, names, ranges, outcome.model_bytes)


@pytest.mark.parametrize("kind", ["linear", "xor"])
def test_contributions_add_up_to_the_learners_log_odds(
    kind: str, request: pytest.FixtureRequest
) -> None:
    ts = matrix(xor=kind == "xor")
    outcome: TrainingOutcome = request.getfixturevalue(kind)
    model = loaded(outcome, ts.feature_names)
    pipeline = inner_pipeline(model.estimator)
    for row in ts.x[:15]:
        features = {
            n: (None if math.isnan(v) else float(v))
            for n, v in zip(ts.feature_names, row, strict=True)
        }
        explained = model.explain(features, window_complete=True)
        log_odds = float(pipeline.decision_function(row.reshape(1, -1))[0])
        total = explained.base_log_odds + sum(c.contribution for c in explained.contributions)
        assert total == pytest.approx(log_odds, abs=1e-9)
        assert explained.probability == pytest.approx(model.probabilities(row.reshape(1, -1))[0])
        by_name = {c.feature: c for c in explained.contributions}
        assert set(by_name) == {"a", "b", "noise"}
        assert by_name["b"].missing == math.isnan(row[1])
        if math.isnan(row[1]):
            assert by_name["b"].value == next(
                f.imputed_value for f in outcome.features if f.name == "b"
            )
        else:
            assert by_name["b"].value == pytest.approx(row[1])
        magnitudes = [abs(c.contribution) for c in explained.contributions]
        assert magnitudes == sorted(magnitudes, reverse=True)


@pytest.mark.parametrize("kind", ["linear", "xor"])
def test_the_numpy_preparation_is_scikit_learns_to_the_bit(
    kind: str, request: pytest.FixtureRequest
) -> None:
    ts = matrix(xor=kind == "xor")
    model = loaded(request.getfixturevalue(kind), ts.feature_names)
    assert model._steps is not None  # the pipeline `estimator.pipeline` builds: numpy
    rows = np.random.default_rng(3).normal(scale=5.0, size=(40, len(ts.feature_names)))
    rows[np.random.default_rng(4).random(rows.shape) < 0.3] = np.nan
    for row in [*ts.x[:20], *rows]:
        x = row.reshape(1, -1)
        imputed, z = model.prepared(x)
        expected = np.asarray(model.imputer.transform(x))
        np.testing.assert_array_equal(imputed, expected)
        after = model.after_imputer
        np.testing.assert_array_equal(
            z, np.asarray(after.transform(expected))[0] if after else expected[0]
        )
    # Steps it does not know are left to scikit-learn.
    model._steps = None
    fallback = model.explain(dict(zip(ts.feature_names, ts.x[0], strict=True)), True)
    model._steps = _Steps.of(model.imputer, model.after_imputer)
    fast = model.explain(dict(zip(ts.feature_names, ts.x[0], strict=True)), True)
    assert fast == fallback


def test_extrapolation_reasons(linear: TrainingOutcome) -> None:
    model = loaded(linear, matrix().feature_names)
    inside = model.explain({"a": 0.0, "b": 0.0, "noise": 0.0}, window_complete=True)
    assert inside.extrapolation_reasons == []
    far = model.explain({"a": 1e6, "b": None, "noise": 0.0, "unknown": 3.0}, window_complete=False)
    assert far.extrapolation_reasons[0].startswith("the 240-day observation window has not closed")
    assert any(
        r.startswith("a = 1e+06 is outside the training range") for r in far.extrapolation_reasons
    )
    # b was missing for some training projects: missing is not extrapolation.
    assert not any(r.startswith("b ") for r in far.extrapolation_reasons)
    never_missing = model.explain({"b": 0.0, "noise": 0.0}, window_complete=True)
    assert never_missing.extrapolation_reasons == ["a is missing; no training project lacked it"]


# ---- issue #19: the honest scores' pieces, table-driven -------------------------------


@pytest.mark.parametrize(
    ("auc", "low", "brier", "baseline", "no_skill", "says"),
    [
        (0.80, 0.70, 0.15, 0.20, False, "Skill: outer-fold ROC AUC 0.800"),
        (0.55, 0.45, 0.15, 0.20, True, "does not clear 0.5"),
        (0.80, 0.70, 0.21, 0.20, True, "does not beat the baseline's 0.2000"),
        (0.50, 0.40, 0.25, 0.20, True, "does not clear 0.5; and its Brier score 0.2500"),
    ],
)
def test_the_verdict(
    auc: float, low: float, brier: float, baseline: float, no_skill: bool, says: str
) -> None:
    scores = Scores(auc, 0.05, brier, 0.7, 0.6, baseline, 5, 1)
    found, words = verdict(scores, low, 0.9)
    assert found is no_skill
    assert says in words


def test_auc_interval_and_time_order_on_small_or_one_sided_data() -> None:
    y = np.array([1, 1, 1, 0, 0, 0])
    assert N.auc(y, np.array([0.9, 0.8, 0.7, 0.3, 0.2, 0.1])) == 1.0
    assert N.auc(y, np.array([0.5] * 6)) == 0.5  # ties count half
    assert math.isnan(N.auc(np.ones(4, dtype=np.int64), np.arange(4.0)))
    assert all(math.isnan(v) for v in N.interval(np.ones(5, dtype=np.int64), np.arange(5.0), 0))
    ts = matrix(n=40)
    specs = N.specs_for(ts.feature_names)
    # No start times: no time-ordered hold-out.
    assert temporal(ts.x, ts.y, ts.feature_names, [], specs, 0) is None
    # Too few of an outcome before the cut: said, not scored.
    y_early = np.array([1] * 30 + [0] * 10, dtype=np.int64)
    found = temporal(ts.x, y_early, ts.feature_names, [float(i) for i in range(40)], specs, 0)
    assert found is not None
    assert math.isnan(found.roc_auc)
    assert found.note.startswith("too few projects of each outcome")
    assert (found.train_count, found.test_count, found.cut_time) == (30, 10, 30.0)


def test_the_levels_candidate_is_offered_only_when_it_differs() -> None:
    assert [s.name for s in specs_for(["a", "b"])] == ["logistic_regression", "gradient_boosting"]
    assert [s.name for s in specs_for(["m.mean", "m.slope"])] == [
        "logistic_regression",
        "logistic_regression_levels",
        "gradient_boosting",
    ]
    # Only slopes: leaving them out would leave nothing.
    assert len(specs_for(["m.slope"])) == 2


def test_folds_fitted_in_several_processes_score_exactly_the_same(linear: TrainingOutcome) -> None:
    # The same job as `linear`, its outer folds spread over two worker processes.
    job = TrainingJob("j", matrix(), folds=4, repeats=1, seed=3, jobs=2)
    spread = T.train(job, quiet)
    # repr: every float to its last bit, and a score that does not exist (NaN) equal to itself.
    for field in ("cv_scores", "candidates", "validation", "features", "candidate"):
        assert repr(getattr(spread, field)) == repr(getattr(linear, field)), field
