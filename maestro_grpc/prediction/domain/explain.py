"""A loaded meta-model version: probabilities, per-feature contributions, extrapolation.

Contributions decompose the learner's log-odds before calibration:

- logistic regression (exact): intercept + sum of coefficient x
  standardised transformed value, one term per model column;
- gradient boosting (Saabas path attribution): the initial estimate plus,
  per tree, learning rate x (root value + the change of node value at each
  split along the sample's path, credited to the split's feature).

A missing indicator's term is added to its feature's, so there is one
contribution per feature, and base + contributions equals the log-odds
exactly. The calibrated probability is a monotone function of that log-odds.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import numpy.typing as npt
from sklearn.ensemble import GradientBoostingClassifier  # type: ignore[import-untyped]
from sklearn.feature_selection import VarianceThreshold  # type: ignore[import-untyped]
from sklearn.impute import SimpleImputer  # type: ignore[import-untyped]
from sklearn.linear_model import LogisticRegression  # type: ignore[import-untyped]
from sklearn.preprocessing import FunctionTransformer, StandardScaler  # type: ignore[import-untyped]

from maestro_grpc.prediction.domain.estimator import base_feature, deserialize, inner_pipeline
from maestro_grpc.prediction.model import (
    Contribution,
    Explanation,
    FeatureRange,
    ModelKind,
    StoredModel,
)

RANGE_MARGIN = 0.10
MAX_REASONS = 20


class LoadedModel:
    """A stored version, deserialised once and kept in memory."""

    def __init__(
        self,
        version: int,
        kind: ModelKind,
        observation_days: int,
        input_names: Sequence[str],
        ranges: Sequence[FeatureRange],
        model_bytes: bytes,
        *,
        no_skill: bool = False,
        verdict: str = "",
    ) -> None:
        self.version = version
        # A version without skill (see `validate.py`): its predictions carry the verdict.
        self.no_skill = no_skill
        self.verdict = verdict
        self.kind = kind
        self.observation_days = observation_days
        self.input_names = list(input_names)
        self.index = {name: i for i, name in enumerate(self.input_names)}
        self.ranges = list(ranges)
        self.estimator = deserialize(model_bytes)
        pipeline = inner_pipeline(self.estimator)
        self.prepare = pipeline[:-1]
        self.learner = pipeline[-1]
        self.imputer = pipeline.named_steps["impute"]
        middle = pipeline[1:-1]
        self.after_imputer = middle if len(middle.steps) else None
        calibrator = self.estimator.calibrated_classifiers_[0].calibrators[0]
        self.platt = (float(calibrator.a_), float(calibrator.b_))
        columns = list(self.prepare.get_feature_names_out(self.input_names))
        # Where each feature sits in the imputer's output (the inputs it kept).
        kept = [
            name
            for name, stat in zip(self.input_names, self.imputer.statistics_, strict=True)
            if not np.isnan(stat)
        ]
        self.imputed_index = {name: i for i, name in enumerate(kept)}
        self._steps = _Steps.of(self.imputer, self.after_imputer)
        self.column_feature = [base_feature(c) for c in columns]
        self._trees: list[tuple[Any, ...]] = []
        if isinstance(self.learner, GradientBoostingClassifier):
            for tree in self.learner.estimators_[:, 0]:
                t = tree.tree_
                self._trees.append(
                    (
                        t.children_left,
                        t.children_right,
                        t.feature,
                        t.threshold,
                        t.value[:, 0, 0],
                    )
                )

    @classmethod
    def of(cls, stored: StoredModel) -> LoadedModel:
        """Deserialise a stored version (slow for a large ensemble: not on the event loop)."""
        return cls(
            stored.version,
            stored.kind,
            stored.observation_days,
            stored.input_names,
            stored.ranges,
            stored.model_bytes,
            no_skill=stored.no_skill,
            verdict=stored.verdict,
        )

    # ---- rows ------------------------------------------------------------------------

    def row(self, features: Mapping[str, float | None]) -> npt.NDArray[np.float64]:
        """The model's input row for a feature mapping (absent or None -> NaN)."""
        out = np.full(len(self.input_names), np.nan)
        for name, value in features.items():
            j = self.index.get(name)
            if j is not None and value is not None and math.isfinite(value):
                out[j] = value
        return out

    def probabilities(self, rows: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
        """Calibrated probabilities of success of many rows."""
        return np.asarray(self.estimator.predict_proba(rows)[:, 1], dtype=np.float64)

    # ---- explanation ------------------------------------------------------------------

    def explain(self, features: Mapping[str, float | None], window_complete: bool) -> Explanation:
        x = self.row(features).reshape(1, -1)
        # One pass through the steps (what predict_proba would do, without
        # doing it twice): the imputer's output gives the values, the rest
        # the learner's input.
        imputed, z = self.prepared(x)
        if isinstance(self.learner, LogisticRegression):
            base = float(self.learner.intercept_[0])
            terms = self.learner.coef_[0] * z
        else:
            base, terms = self._saabas(z)
        log_odds = base + float(np.sum(terms))
        # Platt scaling, as CalibratedClassifierCV applies it: 1 / (1 + exp(a t + b)).
        probability = 1.0 / (1.0 + math.exp(self.platt[0] * log_odds + self.platt[1]))
        per_feature: dict[str, float] = {}
        for feature, term in zip(self.column_feature, terms, strict=True):
            per_feature[feature] = per_feature.get(feature, 0.0) + float(term)
        imputed = imputed[0]
        contributions = [
            Contribution(
                feature=name,
                value=float(imputed[self.imputed_index[name]]),
                missing=bool(np.isnan(x[0, self.index[name]])),
                contribution=value,
            )
            for name, value in per_feature.items()
        ]
        contributions.sort(key=lambda c: (-abs(c.contribution), c.feature))
        return Explanation(
            probability=probability,
            base_log_odds=base,
            contributions=contributions,
            extrapolation_reasons=self.extrapolation(x[0], window_complete),
        )

    def prepared(
        self, x: npt.NDArray[np.float64]
    ) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
        """A row (shape 1 x inputs) through the imputer (its output, 2-D) and the steps
        after it (the learner's input, 1-D): with numpy when the steps are the ones
        `estimator.pipeline` builds, else through scikit-learn."""
        if self._steps is not None:
            return self._steps.apply(x)
        imputed = np.asarray(self.imputer.transform(x))
        after = self.after_imputer
        return imputed, (np.asarray(after.transform(imputed))[0] if after else imputed[0])

    def _saabas(self, z: npt.NDArray[np.float64]) -> tuple[float, npt.NDArray[np.float64]]:
        assert isinstance(self.learner, GradientBoostingClassifier)
        rate = float(self.learner.learning_rate)
        # The initial estimate: the log-odds of the training prior.
        prior = float(self.learner.init_.predict_proba(z.reshape(1, -1))[0, 1])
        base = math.log(prior / (1.0 - prior))
        terms = np.zeros(z.shape[0])
        for left, right, feature, threshold, value in self._trees:
            node = 0
            base += rate * float(value[0])
            while left[node] != -1:
                f = int(feature[node])
                child = left[node] if z[f] <= threshold[node] else right[node]
                terms[f] += rate * float(value[child] - value[node])
                node = child
        return base, terms

    def extrapolation(self, x: npt.NDArray[np.float64], window_complete: bool) -> list[str]:
        """Why a row lies outside what the model was trained on (empty: it does not)."""
        reasons: list[tuple[float, str]] = []
        if not window_complete:
            reasons.append(
                (
                    math.inf,
                    f"the {self.observation_days}-day observation window has not closed yet; "
                    "the model was trained on complete windows",
                )
            )
        for r in self.ranges:
            value = x[self.index[r.name]]
            if np.isnan(value):
                if r.missing_fraction == 0.0:
                    reasons.append((1.0, f"{r.name} is missing; no training project lacked it"))
                continue
            span = r.high - r.low
            margin = RANGE_MARGIN * span
            if value < r.low - margin or value > r.high + margin:
                distance = (r.low - value if value < r.low else value - r.high) / (span or 1.0)
                reasons.append(
                    (
                        distance,
                        f"{r.name} = {value:.4g} is outside the training range "
                        f"[{r.low:.4g}, {r.high:.4g}]",
                    )
                )
        reasons.sort(key=lambda item: -item[0])
        return [text for _, text in reasons[:MAX_REASONS]]


class _Steps:
    """The fitted preparation of `estimator.pipeline`, applied to one row with numpy.

    scikit-learn's own `transform` validates its input at every step, about
    0.7 ms a prediction, more than the arithmetic: this does the arithmetic
    alone, from the fitted attributes (the same numbers, see
    tests/prediction/test_training.py). Steps it does not know: None, and
    scikit-learn does the work.
    """

    def __init__(
        self,
        kept: npt.NDArray[np.intp],
        fill: npt.NDArray[np.float64],
        flagged: npt.NDArray[np.intp],
        support: npt.NDArray[np.bool_] | None,
        asinh: bool,
        mean: npt.NDArray[np.float64] | None,
        scale: npt.NDArray[np.float64] | None,
    ) -> None:
        self.kept, self.fill, self.flagged = kept, fill, flagged
        self.support, self.asinh, self.mean, self.scale = support, asinh, mean, scale

    @classmethod
    def of(cls, imputer: Any, after: Any) -> _Steps | None:
        if not isinstance(imputer, SimpleImputer) or imputer.keep_empty_features:
            return None
        if not (isinstance(imputer.missing_values, float) and math.isnan(imputer.missing_values)):
            return None
        statistics = np.asarray(imputer.statistics_, dtype=np.float64)
        kept = np.flatnonzero(~np.isnan(statistics))
        indicator = imputer.indicator_
        flagged = np.asarray(indicator.features_ if indicator is not None else [], dtype=np.intp)
        support, asinh, scaled = None, False, False
        mean = scale = None
        for position, (_, step) in enumerate(after.steps if after is not None else []):
            if isinstance(step, VarianceThreshold) and position == 0:
                support = step.get_support()
            elif (
                isinstance(step, FunctionTransformer)
                and step.func is np.arcsinh
                and not step.kw_args
                and not asinh
                and not scaled
            ):
                asinh = True
            elif isinstance(step, StandardScaler) and not scaled:
                scaled = True
                mean = step.mean_ if step.with_mean else None
                scale = step.scale_ if step.with_std else None
                if mean is None and scale is None:
                    return None
            else:
                return None
        return cls(kept, statistics[kept], flagged, support, asinh, mean, scale)

    def apply(
        self, x: npt.NDArray[np.float64]
    ) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
        row = x[0]
        values = row[self.kept]
        values = np.where(np.isnan(values), self.fill, values)
        imputed = np.concatenate([values, np.isnan(row[self.flagged]).astype(np.float64)])
        z = imputed if self.support is None else imputed[self.support]
        if self.asinh:
            z = np.arcsinh(z)
        if self.mean is not None:
            z = z - self.mean
        if self.scale is not None:
            z = z / self.scale
        return imputed.reshape(1, -1), z
