"""The meta-model's estimator: how each candidate is built, and how a fitted one is stored.

Every candidate is one scikit-learn estimator, so cross-validation fits
exactly what is deployed:

    CalibratedClassifierCV(method="sigmoid", cv=3, ensemble=False) of
      Pipeline(impute: SimpleImputer(median, add_indicator=True)
               constant: VarianceThreshold(0)          # drops constant columns
               [asinh, scale]                          # logistic regression only
               model: LogisticRegression | GradientBoostingClassifier)

A missing value becomes the training median plus a 0/1 indicator column
`missingindicator_<feature>` (only for features some training project
lacked); a feature missing for every training project is dropped. A fitted
estimator is serialised with skops and loaded back with an explicit list of
trusted types, never with pickle.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.calibration import CalibratedClassifierCV  # type: ignore[import-untyped]
from sklearn.ensemble import GradientBoostingClassifier  # type: ignore[import-untyped]
from sklearn.feature_selection import VarianceThreshold  # type: ignore[import-untyped]
from sklearn.impute import SimpleImputer  # type: ignore[import-untyped]
from sklearn.linear_model import LogisticRegression  # type: ignore[import-untyped]
from sklearn.pipeline import Pipeline  # type: ignore[import-untyped]
from sklearn.preprocessing import FunctionTransformer, StandardScaler  # type: ignore[import-untyped]

from maestro_grpc.prediction.model import ModelKind

INDICATOR_PREFIX = "missingindicator_"

# The only types a stored model may contain beyond what skops trusts by
# default; loading refuses anything else.
TRUSTED_TYPES = (
    "numpy.dtype",
    "sklearn.calibration._CalibratedClassifier",
    "sklearn.calibration._SigmoidCalibration",
    "sklearn.tree._tree.Tree",
)


class UntrustedModel(Exception):
    """A stored model holds types outside TRUSTED_TYPES."""


def candidate(kind: ModelKind, seed: int) -> CalibratedClassifierCV:
    """The full estimator of one kind, unfitted."""
    return CalibratedClassifierCV(pipeline(kind, seed), method="sigmoid", cv=3, ensemble=False)


def pipeline(kind: ModelKind, seed: int) -> Pipeline:
    """The learner of one kind with its preparation, uncalibrated (what inner folds rank)."""
    steps: list[tuple[str, Any]] = [
        ("impute", SimpleImputer(strategy="median", add_indicator=True)),
        ("constant", VarianceThreshold(0.0)),
    ]
    model: Any
    if kind is ModelKind.LOGISTIC_REGRESSION:
        steps += [
            ("asinh", FunctionTransformer(np.arcsinh, feature_names_out="one-to-one")),
            ("scale", StandardScaler()),
        ]
        # Balanced class weights: the failures are usually the minority, and
        # the calibration afterwards restores honest probabilities.
        model = LogisticRegression(C=0.02, class_weight="balanced", max_iter=5000)
    else:
        # Each split looks at sqrt(features) of them: with a hundred or more
        # generic features this is what keeps 10,000 projects trainable.
        model = GradientBoostingClassifier(
            n_estimators=100,
            learning_rate=0.1,
            max_depth=2,
            subsample=0.7,
            max_features="sqrt",
            min_samples_leaf=5,
            random_state=seed % (2**32),
        )
    return Pipeline([*steps, ("model", model)])


def inner_pipeline(estimator: CalibratedClassifierCV) -> Pipeline:
    """The fitted pipeline inside a fitted calibrated estimator."""
    pipeline: Pipeline = estimator.calibrated_classifiers_[0].estimator
    return pipeline


def base_feature(column: str) -> str:
    return column.removeprefix(INDICATOR_PREFIX)


def serialize(estimator: Any) -> bytes:
    import skops.io as sio  # type: ignore[import-untyped]

    data: bytes = sio.dumps(estimator)
    return data


def ready_to_load() -> None:
    """Import what `deserialize` needs now, not in the first load (0.5-0.7 s at load 4)."""
    import skops.io  # noqa: F401


def deserialize(data: bytes) -> CalibratedClassifierCV:
    """Load a stored model, refusing any type outside the known list."""
    import skops.io as sio

    untrusted = sio.get_untrusted_types(data=data)
    unexpected = sorted(set(untrusted) - set(TRUSTED_TYPES))
    if unexpected:
        raise UntrustedModel(f"stored model holds untrusted types: {', '.join(unexpected)}")
    model: CalibratedClassifierCV = sio.loads(data, trusted=list(untrusted))
    return model
