"""A logistic regression whose coefficients keep the directions the user declared.

Where it is known that more of a feature can only help (or only hurt), the
coefficient of that feature is bounded to that sign: a regularised logistic
regression fitted by L-BFGS-B with bounds (the objective scikit-learn's
`LogisticRegression` minimises, C x the weighted log-loss + half the squared
coefficients, intercept free). The preparation is the linear candidate's
(median imputation with indicators, constant columns dropped, asinh,
standardising); all of them are increasing functions of the feature, so the
sign of a coefficient is the sign of the feature's effect. Missing
indicators and undeclared features stay free.

The fitted result is handed to plain scikit-learn types (`plain`): the
stored model is the linear candidate's pipeline with a `LogisticRegression`
holding the bounded coefficients, so storage (skops) and explanations
(`explain.py`) treat it as any logistic regression.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import numpy.typing as npt
from scipy.optimize import minimize  # type: ignore[import-untyped]
from scipy.special import expit, log_expit  # type: ignore[import-untyped]
from sklearn.base import BaseEstimator, ClassifierMixin  # type: ignore[import-untyped]
from sklearn.calibration import CalibratedClassifierCV  # type: ignore[import-untyped]
from sklearn.linear_model import LogisticRegression  # type: ignore[import-untyped]
from sklearn.pipeline import Pipeline  # type: ignore[import-untyped]
from sklearn.utils.class_weight import compute_sample_weight  # type: ignore[import-untyped]

from maestro_grpc.prediction.domain.estimator import INDICATOR_PREFIX

Array = npt.NDArray[np.float64]


def bounded_logit(
    z: Array, y: npt.NDArray[np.int64], weights: Array, signs: Sequence[int], c: float, iters: int
) -> tuple[Array, float]:
    """(coefficients, intercept) minimising c x weighted log-loss + |w|^2 / 2, w_j signed."""
    target = 2.0 * y - 1.0
    p = z.shape[1]

    def objective(theta: Array) -> tuple[float, Array]:
        w, b = theta[:p], theta[p]
        margin = target * (z @ w + b)
        loss = -float(np.sum(weights * log_expit(margin)))
        # d/dmargin of -log(expit(m)) is -expit(-m).
        g = -weights * target * expit(-margin)
        grad = np.empty(p + 1)
        grad[:p] = c * (z.T @ g) + w
        grad[p] = c * float(np.sum(g))
        return c * loss + 0.5 * float(w @ w), grad

    bounds = [(0.0, None) if s > 0 else (None, 0.0) if s < 0 else (None, None) for s in signs]
    result = minimize(
        objective,
        np.zeros(p + 1),
        jac=True,
        method="L-BFGS-B",
        bounds=[*bounds, (None, None)],
        options={"maxiter": iters},
    )
    theta = np.asarray(result.x, dtype=np.float64)
    return theta[:p], float(theta[p])


class MonotoneLogit(ClassifierMixin, BaseEstimator):  # type: ignore[misc]
    """The linear candidate's pipeline, its coefficients bounded to `signs` (one per input column).

    Used while fitting only (cross-validation clones it); `plain` turns a
    fitted one into standard types before it is stored.
    """

    def __init__(self, prepare: Any = None, signs: tuple[int, ...] = (), c: float = 1.0) -> None:
        self.prepare = prepare
        self.signs = signs
        self.c = c

    def fit(self, x: Array, y: npt.NDArray[np.int64]) -> MonotoneLogit:
        from sklearn.base import clone

        prepare: Pipeline = clone(self.prepare)
        z = np.asarray(prepare.fit_transform(x, y), dtype=np.float64)
        columns = prepare.get_feature_names_out([f"{j}" for j in range(x.shape[1])])
        signs = [
            0 if str(col).startswith(INDICATOR_PREFIX) else self.signs[int(col)] for col in columns
        ]
        weights = compute_sample_weight("balanced", y)
        coef, intercept = bounded_logit(z, y, weights, signs, self.c, 5000)
        model = LogisticRegression(C=self.c, class_weight="balanced", max_iter=5000)
        model.classes_ = np.array([0, 1])
        model.coef_ = coef.reshape(1, -1)
        model.intercept_ = np.array([intercept])
        model.n_features_in_ = z.shape[1]
        model.n_iter_ = np.array([0], dtype=np.int32)
        self.pipeline_ = Pipeline([*prepare.steps, ("model", model)])
        self.classes_ = model.classes_
        return self

    def predict(self, x: Array) -> npt.NDArray[np.int64]:
        return np.asarray(self.pipeline_.predict(x), dtype=np.int64)

    def predict_proba(self, x: Array) -> Array:
        return np.asarray(self.pipeline_.predict_proba(x), dtype=np.float64)

    def decision_function(self, x: Array) -> Array:
        return np.asarray(self.pipeline_.decision_function(x), dtype=np.float64)


def plain(calibrated: CalibratedClassifierCV) -> CalibratedClassifierCV:
    """A fitted calibrated MonotoneLogit as standard types: its inner pipeline in its place."""
    inner = calibrated.calibrated_classifiers_[0]
    if isinstance(inner.estimator, MonotoneLogit):
        fitted: Pipeline = inner.estimator.pipeline_
        inner.estimator = fitted
        calibrated.estimator = fitted
    return calibrated
