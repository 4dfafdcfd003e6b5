"""Loading registry models without letting them run code: skops files, checked against our own list.

A scikit-learn model saved with pickle or cloudpickle runs whatever its author put in it the moment it is
loaded. skops refuses every type it is not told to trust, but MLflow's own loader passes it the list of
trusted types stored *inside* the model (its MLmodel file), so a crafted model can trust anything. This
module is the one way the workbench loads a registry model (API, chapter V, the CI/CD gate, A/B tests):
it reads the model folder itself, accepts only the skops format, trusts only `TRUSTED_TYPES` below (a list
reviewed by us, never the model's), and refuses anything else with a reason a learner can read.
`WORKBENCH_API_ALLOW_PICKLE=1` lifts the refusal, for a teacher who knows why.
"""

from __future__ import annotations

import logging
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from workbench.core.i18n import LocalizedError
from workbench.core.settings import Settings, get_settings

log = logging.getLogger("workbench.models")

#: The types, beyond those skops trusts by itself (scikit-learn's estimators and transformers, builtins
#: containers, numpy arrays), that a learner's scikit-learn model plausibly holds. Each is plain data or a
#: scikit-learn function; a file that needs anything else is refused.
TRUSTED_TYPES: tuple[str, ...] = (
    "numpy.dtype",
    # trees and tree ensembles (decision tree, random forest, extra trees, gradient boosting, AdaBoost, bagging)
    "sklearn.tree._tree.Tree",
    "sklearn.ensemble._hist_gradient_boosting.predictor.TreePredictor",
    # nearest neighbours with a KD or ball tree
    "sklearn.neighbors._kd_tree.KDTree",
    "sklearn.neighbors._ball_tree.BallTree",
    "sklearn.metrics._dist_metrics.EuclideanDistance64",
    "sklearn.metrics._dist_metrics.ManhattanDistance64",
    "sklearn.metrics._dist_metrics.MinkowskiDistance64",
    # neural network optimisers (MLPClassifier keeps its optimiser)
    "sklearn.neural_network._stochastic_optimizers.AdamOptimizer",
    "sklearn.neural_network._stochastic_optimizers.SGDOptimizer",
    # calibration, voting and stacking ensembles
    "sklearn.calibration._CalibratedClassifier",
    "sklearn.calibration._SigmoidCalibration",
    "sklearn.utils._bunch.Bunch",
    # iterative imputation
    "sklearn.impute._iterative.IterativeImputer",
    "sklearn.impute._iterative._ImputerTriplet",
    # feature selection score functions and column selectors
    "sklearn.feature_selection._univariate_selection.f_classif",
    "sklearn.feature_selection._univariate_selection.chi2",
    "sklearn.feature_selection._mutual_info.mutual_info_classif",
    "sklearn.compose._column_transformer.make_column_selector",
    "builtins.object",  # make_column_selector(dtype_include=object)
)
SAFE_FORMAT = "skops"


class ModelRefused(LocalizedError, RuntimeError):
    """A model the workbench will not load; `key` says why (`pickle_format`, `untrusted_types`, ...)."""

    namespace = "model_safety"


@dataclass(frozen=True)
class ModelFolder:
    """What an MLflow model folder declares, read without loading anything."""

    path: Path
    flavors: tuple[str, ...]
    serialization_format: str | None  # of the sklearn flavor: skops, pickle, cloudpickle (None: no sklearn flavor)
    model_file: Path | None


def inspect_model_dir(path: Path | str) -> ModelFolder:
    """Read an MLflow model folder's MLmodel file (YAML only: nothing is imported or unpickled).

    Raises:
        ModelRefused: no readable MLmodel file, or a model file outside the folder.
    """
    import yaml

    folder = Path(path)
    try:
        spec = yaml.safe_load((folder / "MLmodel").read_text(encoding="utf-8")) or {}
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise ModelRefused("unreadable", error=f"MLmodel: {type(exc).__name__}") from None
    flavors = spec.get("flavors") if isinstance(spec, dict) else None
    if not isinstance(flavors, dict):
        raise ModelRefused("unreadable", error="MLmodel has no flavors")
    sklearn = flavors.get("sklearn")
    if not isinstance(sklearn, dict):
        return ModelFolder(folder, tuple(flavors), None, None)
    model_file = (folder / str(sklearn.get("pickled_model", "model.pkl"))).resolve()
    if not model_file.is_relative_to(folder.resolve()):
        raise ModelRefused("unreadable", error="the model file points outside the model folder")
    return ModelFolder(folder, tuple(flavors), str(sklearn.get("serialization_format", "cloudpickle")), model_file)


def load_model_dir(path: Path | str, allow_pickle: bool = False) -> Any:
    """Load the scikit-learn model of an MLflow model folder, refusing anything that could run code.

    Args:
        allow_pickle: also load pickle/cloudpickle models and skops files with types outside our list
            (`WORKBENCH_API_ALLOW_PICKLE=1`): only for models you know the origin of.

    Raises:
        ModelRefused: not a scikit-learn model, not skops, untrusted types, or an unreadable file.
    """
    import skops.io as sio

    folder = inspect_model_dir(path)
    if folder.serialization_format is None:
        raise ModelRefused("not_sklearn", flavors=", ".join(folder.flavors) or "none")
    if folder.serialization_format != SAFE_FORMAT:
        if not allow_pickle:
            raise ModelRefused("pickle_format", format=folder.serialization_format)
        log.warning(
            "loading a %s model because WORKBENCH_API_ALLOW_PICKLE is set: it can run code", folder.serialization_format
        )
        import mlflow.sklearn

        return mlflow.sklearn.load_model(str(folder.path))
    if folder.model_file is None or not folder.model_file.is_file():
        raise ModelRefused("unreadable", error="the skops file is missing")
    try:
        needed = sio.get_untrusted_types(file=folder.model_file)
    except Exception as exc:  # not a skops archive (zip + schema): refuse, whatever the reason
        raise ModelRefused("unreadable", error=f"{type(exc).__name__}: {str(exc)[:200]}") from None
    unknown = sorted(set(needed) - set(TRUSTED_TYPES))
    if unknown and not allow_pickle:
        raise ModelRefused("untrusted_types", types=", ".join(unknown))
    if unknown:
        log.warning("trusting %s because WORKBENCH_API_ALLOW_PICKLE is set", unknown)
    try:
        model = sio.load(folder.model_file, trusted=sorted(needed))
    except Exception as exc:  # a corrupt archive or an incompatible scikit-learn version
        raise ModelRefused("unreadable", error=f"{type(exc).__name__}: {str(exc)[:200]}") from None
    if not hasattr(model, "predict"):
        raise ModelRefused("not_sklearn", flavors=type(model).__name__)
    return model


def load_model_uri(model_uri: str, settings: Settings | None = None) -> Any:
    """Download a model (`models:/name@alias`, `models:/name/3`, `runs:/...`) and load it with `load_model_dir`.

    Args:
        settings: whose tracking store to use; without it, MLflow's current tracking URI (a script's
            `mlflow.set_tracking_uri` or `MLFLOW_TRACKING_URI`).

    Raises:
        ModelRefused: the model is refused (see `load_model_dir`).
        mlflow.exceptions.MlflowException: the URI does not resolve (no such alias, run or version).
    """
    import mlflow

    tracking_uri = settings.mlflow_tracking_uri if settings else mlflow.get_tracking_uri()
    allow_pickle = (settings or get_settings()).allow_pickle_models
    with tempfile.TemporaryDirectory(prefix="workbench-model-") as tmp:
        local = mlflow.artifacts.download_artifacts(artifact_uri=model_uri, dst_path=tmp, tracking_uri=tracking_uri)
        return load_model_dir(local, allow_pickle=allow_pickle)


def check_predicts(model: Any, rows: Any) -> None:
    """Smoke test: the model gives one finite probability in [0, 1] per row of `rows` (a loan table).

    Raises:
        ModelRefused: it fails, or its answers are not probabilities.
    """
    try:
        probabilities = np.asarray(model.predict_proba(rows), dtype=float)
    except Exception as exc:  # any failure on a valid application means it cannot be served
        raise ModelRefused("smoke_test", error=f"{type(exc).__name__}: {str(exc)[:200]}") from None
    if probabilities.ndim != 2 or probabilities.shape[0] != len(rows) or probabilities.shape[1] != 2:
        raise ModelRefused("smoke_test", error=f"predict_proba returned shape {probabilities.shape}")
    if not np.isfinite(probabilities).all() or (probabilities < 0).any() or (probabilities > 1).any():
        raise ModelRefused("smoke_test", error="predict_proba returned values that are not probabilities")
