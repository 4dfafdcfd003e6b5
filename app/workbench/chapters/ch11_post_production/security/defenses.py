"""Defenses: adversarial training, validation, ensembles, rate limits, safe model loading."""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from workbench.chapters.ch11_post_production.security.evasion import EvasionResult, _art_classifier
from workbench.chapters.ch11_post_production.security.extraction import ExtractionResult
from workbench.chapters.ch11_post_production.security.victim import (
    DEFAULT_SEED,
    ModelSpace,
    SecurityError,
    Victim,
    one_thread,
)
from workbench.core.data import (
    NUMERIC_FEATURES,
)
from workbench.core.i18n import translate
from workbench.core.settings import Settings

# --------------------------------------------------------------------------------------------
# Defenses
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class DefenseResult:
    """A defense measured on the same attack: accuracy (or another score) before and after."""

    defense: str
    attack: str
    metric: str
    before: float
    after: float
    detail: dict = field(default_factory=dict)


def _fgsm(model: Any, space: ModelSpace, Z: np.ndarray, eps: float, mask: np.ndarray, y: np.ndarray | None = None):
    from art.attacks.evasion import FastGradientMethod

    attack = FastGradientMethod(_art_classifier(model, space, clip=False), eps=eps)
    return attack.generate(Z.astype(np.float32), y=y, mask=mask).astype(float)


def robust_logistic_regression(
    Z: np.ndarray, y: np.ndarray, eps: float, mask: np.ndarray, C: float = 1.0, seed: int = DEFAULT_SEED
):
    """Adversarial training of a logistic regression, done exactly.

    For a linear model the worst change of size `eps` (per feature, on the `mask` columns) is known in
    closed form: it lowers the margin of every row by `eps * sum(|w|)` on those columns, and it is what
    FGSM finds. Training on every row's worst case *against the model being trained* (min-max) is
    therefore minimising `log(1 + exp(-(y * (w.x + b) - eps * |w|_mask)))`, solved here with L-BFGS.
    (Adding one round of FGSM rows crafted on the *old* model does not work on a linear model: every
    row of a class moves the same way, the new model learns that shift and gets weaker.)
    """
    from scipy.optimize import minimize
    from sklearn.linear_model import LogisticRegression

    signs = 2.0 * np.asarray(y) - 1.0
    d = Z.shape[1]

    def loss(theta: np.ndarray) -> tuple[float, np.ndarray]:
        w, b = theta[:d], theta[d]
        smooth = np.sqrt(w**2 + 1e-8)  # |w|, differentiable
        margin = signs * (Z @ w + b) - eps * float((mask * smooth).sum())
        slope = -1.0 / (1.0 + np.exp(margin))
        grad_w = (slope * signs) @ Z - eps * slope.sum() * mask * w / smooth + w / C
        value = float(np.logaddexp(0, -margin).sum() + 0.5 * (w @ w) / C)
        return value, np.r_[grad_w, (slope * signs).sum()]

    theta = minimize(loss, np.zeros(d + 1), jac=True, method="L-BFGS-B").x
    model = LogisticRegression(C=C, max_iter=1000, random_state=seed).fit(Z, y)  # sets classes_ etc.
    model.coef_, model.intercept_ = theta[:d][None, :], np.array([theta[d]])
    return model


@one_thread
def adversarial_training(victim: Victim, eps: float = 1.0, features: Sequence[str] = NUMERIC_FEATURES) -> DefenseResult:
    """Adversarial training (min-max) of the logistic regression; each model is then attacked with FGSM
    on its own gradients (the attacker knows the hardened model too). Robustness costs clean accuracy:
    both are in `detail`."""
    from sklearn.linear_model import LogisticRegression

    if not isinstance(victim.model, LogisticRegression):
        raise SecurityError("err_adv_training_model")
    if eps <= 0:
        raise SecurityError("err_eps")
    space = victim.space
    mask = space.mask(features)
    Z_train, Z_test = space.transform(victim.X_train), space.transform(victim.X_test)
    hardened = robust_logistic_regression(Z_train, victim.y_train, eps, mask, C=float(victim.model.C))

    def under_attack(model) -> float:
        return float((model.predict(_fgsm(model, space, Z_test, eps, mask)) == victim.y_test).mean())

    return DefenseResult(
        "adversarial_training",
        "fgsm",
        "accuracy",
        under_attack(victim.model),
        under_attack(hardened),
        {
            "clean_before": float((victim.model.predict(Z_test) == victim.y_test).mean()),
            "clean_after": float((hardened.predict(Z_test) == victim.y_test).mean()),
            "eps": eps,
        },
    )


def validation_defense(result: EvasionResult) -> DefenseResult:
    """Input validation: the raw adversarial vectors are refused or clipped back to valid applications.

    Before: accuracy if the service accepted any vector. After: accuracy on what a validating service
    scores (projected, valid applications); `detail` also gives the share a strict service would reject.
    """
    return DefenseResult(
        "input_validation",
        result.attack,
        "accuracy",
        result.accuracy_model_space,
        result.accuracy_valid,
        {"rejected_share": result.rejected_share, "clean": result.accuracy_clean},
    )


@one_thread
def ensemble_defense(
    victim: Victim, eps: float = 1.0, features: Sequence[str] = NUMERIC_FEATURES, seed: int = DEFAULT_SEED
) -> DefenseResult:
    """Adversarial rows crafted with FGSM on the logistic regression (white box), sent to the logistic
    regression alone and to a soft-voting ensemble (logistic regression + random forest + boosting)
    trained on the same rows: the attack transfers badly to models it was not built on."""
    from sklearn.base import clone
    from sklearn.ensemble import HistGradientBoostingClassifier, RandomForestClassifier, VotingClassifier

    space = victim.space
    Z_train, Z_test = space.transform(victim.X_train), space.transform(victim.X_test)
    Z_adv = _fgsm(victim.model, space, Z_test, eps, space.mask(features))
    members = [
        ("logistic_regression", clone(victim.model)),
        (
            "random_forest",
            RandomForestClassifier(n_estimators=100, max_depth=6, min_samples_leaf=3, random_state=seed, n_jobs=1),
        ),
        ("gradient_boosting", HistGradientBoostingClassifier(random_state=seed)),
    ]
    ensemble = VotingClassifier(members, voting="soft").fit(Z_train, victim.y_train)
    return DefenseResult(
        "ensemble",
        "fgsm_transfer",
        "accuracy",
        float((victim.model.predict(Z_adv) == victim.y_test).mean()),
        float((ensemble.predict(Z_adv) == victim.y_test).mean()),
        {
            "clean_before": float((victim.model.predict(Z_test) == victim.y_test).mean()),
            "clean_after": float((ensemble.predict(Z_test) == victim.y_test).mean()),
            "eps": eps,
        },
    )


def rate_limit_defense(unlimited: ExtractionResult, limited: ExtractionResult) -> DefenseResult:
    """Rate limiting: fidelity of the stolen copy without and with the limit (`detail` has the share of the
    attacker's queries answered in each run)."""

    def answered(result: ExtractionResult) -> float:
        return result.obtained / max(1, result.obtained + result.refused)

    return DefenseResult(
        "rate_limiting",
        "extraction",
        "fidelity",
        unlimited.fidelity,
        limited.fidelity,
        {"answered_before": answered(unlimited), "answered_after": answered(limited), "refused": limited.refused},
    )


@dataclass(frozen=True)
class LoaderTrial:
    """One model folder opened by one loader: accepted or refused, and whether its hidden payload ran."""

    file: str  # "pickle": cloudpickle with a payload; "smuggled": skops trusting os.system; "skops": a clean model
    loader: str  # "mlflow": mlflow.sklearn.load_model (MLflow's default); "workbench": workbench.core.safe_models
    loaded: bool
    reason: str | None  # the workbench's refusal key (model_safety.*), when refused
    params: dict
    payload_ran: bool | None  # None: the file carries no payload


class _Payload:
    """What an attacker hides in a pickle: `pickle.load` calls open(marker, "w"), creating a file (harmless here)."""

    def __init__(self, marker: Path) -> None:
        self.marker = str(marker)

    def __reduce__(self):
        return (open, (self.marker, "w"))


def build_model_folders(workdir: Path, pipeline: Any) -> dict[str, Path]:
    """Three MLflow model folders as `mlflow.sklearn.save_model` writes them: a cloudpickle one whose model
    file is a payload creating `workdir/payload-ran`, a skops one whose MLmodel trusts `os.system`, and a
    clean skops one (the learner's case)."""
    import os
    import pickle

    import mlflow.sklearn
    import skops.io as sio
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import FunctionTransformer

    from workbench.core.tracking import model_requirements, trusted_types_for

    folders = {name: workdir / name for name in ("pickle", "smuggled", "skops")}
    for folder in folders.values():
        if folder.exists():
            import shutil

            shutil.rmtree(folder)
    requirements = model_requirements()
    mlflow.sklearn.save_model(
        pipeline, folders["pickle"], serialization_format="cloudpickle", pip_requirements=requirements
    )
    (folders["pickle"] / "model.pkl").write_bytes(pickle.dumps(_Payload(workdir / "payload-ran")))
    smuggled = Pipeline([("shell", FunctionTransformer(os.system)), ("model", pipeline)])
    mlflow.sklearn.save_model(
        smuggled,
        folders["smuggled"],
        serialization_format="skops",
        pip_requirements=requirements,
        skops_trusted_types=sio.get_untrusted_types(data=sio.dumps(smuggled)),
    )
    mlflow.sklearn.save_model(
        pipeline,
        folders["skops"],
        serialization_format="skops",
        pip_requirements=requirements,
        skops_trusted_types=trusted_types_for(pipeline),
    )
    return folders


def model_loading_trials(workdir: Path, pipeline: Any, settings: Settings) -> list[LoaderTrial]:
    """Open each folder of `build_model_folders` with MLflow's default loader (in a separate process, so
    the payload runs there and nowhere else) and with the workbench's loader, and report what happened."""
    import subprocess
    import sys

    from workbench.core import safe_models

    folders = build_model_folders(workdir, pipeline)
    marker = workdir / "payload-ran"
    script = (
        "import json, os, sys, mlflow.sklearn\n"
        "marker, result = sys.argv[1], {}\n"
        "for folder in sys.argv[2:]:\n"
        "    if os.path.exists(marker): os.remove(marker)\n"
        "    try:\n"
        "        mlflow.sklearn.load_model(folder); loaded = True\n"
        "    except Exception:\n"
        "        loaded = False\n"
        "    result[folder] = [loaded, os.path.exists(marker)]\n"
        "print(json.dumps(result))\n"
    )
    run = subprocess.run(
        [sys.executable, "-c", script, str(marker), *map(str, folders.values())],
        capture_output=True,
        text=True,
        timeout=180,
        env={**os.environ, "MLFLOW_ALLOW_PICKLE_DESERIALIZATION": "true"},
    )
    try:
        default = json.loads(run.stdout.strip().splitlines()[-1])
    except (IndexError, json.JSONDecodeError):
        raise SecurityError(f"MLflow's loader could not be run: {run.stderr[-500:]}") from None
    trials = []
    for name, folder in folders.items():
        payload = name == "pickle"
        loaded, ran = default[str(folder)]
        trials.append(LoaderTrial(name, "mlflow", loaded, None, {}, ran if payload else None))
        marker.unlink(missing_ok=True)
        try:
            safe_models.load_model_dir(folder, allow_pickle=False)
            loaded, reason, params = True, None, {}
        except safe_models.ModelRefused as exc:
            loaded, reason, params = False, exc.key, {k: str(v) for k, v in exc.params.items()}
        trials.append(LoaderTrial(name, "workbench", loaded, reason, params, marker.exists() if payload else None))
    marker.unlink(missing_ok=True)
    return trials


def loading_table(trials: Sequence[LoaderTrial], lang: str) -> pd.DataFrame:
    """The trials side by side: one row per file, what each loader did, whether the payload ran, and why the
    workbench refused."""
    rows = []
    for file in dict.fromkeys(t.file for t in trials):
        by_loader = {t.loader: t for t in trials if t.file == file}
        row = {translate("security.col_file", lang): translate(f"security.file_{file}", lang)}
        for loader, trial in by_loader.items():
            key = "security.verdict_loaded" if trial.loaded else "security.verdict_refused"
            row[translate(f"security.loader_{loader}", lang)] = translate(key, lang)
        ran = [by_loader[loader].payload_ran for loader in ("mlflow", "workbench") if loader in by_loader]
        row[translate("security.col_payload", lang)] = (
            "—" if None in ran else " / ".join(translate("security.yes" if r else "security.no", lang) for r in ran)
        )
        refused = by_loader.get("workbench")
        row[translate("security.col_reason", lang)] = (
            translate(f"model_safety.{refused.reason}", lang, **refused.params) if refused and refused.reason else "—"
        )
        rows.append(row)
    return pd.DataFrame(rows)


def safe_loading_defense(trials: Sequence[LoaderTrial]) -> DefenseResult:
    """Safe loading: did the hidden payload run, with MLflow's default loader (before) and the workbench's (after)."""
    ran = {t.loader: float(bool(t.payload_ran)) for t in trials if t.payload_ran is not None}
    refused = sum(not t.loaded for t in trials if t.loader == "workbench")
    return DefenseResult(
        "safe_loading",
        "malicious_model",
        "payload_ran",
        ran.get("mlflow", 0.0),
        ran.get("workbench", 0.0),
        {"refused": refused},
    )


def safe_loading_code(model_uri: str = "models:/loan-approval@production", tracking_uri: str | None = None) -> str:
    """Plain Python for loading a registry model the way the workbench does: skops only, our trusted types."""
    from workbench.core.safe_models import TRUSTED_TYPES

    trusted = ",\n    ".join(repr(t) for t in TRUSTED_TYPES)
    connect = f'mlflow.set_tracking_uri("{tracking_uri}")\n' if tracking_uri else ""
    return f"""from pathlib import Path

import mlflow
import skops.io as sio
import yaml

{connect}# Our own reviewed list: never the skops_trusted_types written inside the model
TRUSTED = [
    {trusted},
]

folder = Path(mlflow.artifacts.download_artifacts("{model_uri}"))   # files only: nothing is loaded yet
flavor = yaml.safe_load((folder / "MLmodel").read_text())["flavors"]["sklearn"]
if flavor["serialization_format"] != "skops":
    raise SystemExit(f"refused: {{flavor['serialization_format']}} runs code when loaded")
model_file = folder / flavor["pickled_model"]
unknown = sorted(set(sio.get_untrusted_types(file=model_file)) - set(TRUSTED))
if unknown:
    raise SystemExit(f"refused: types not on our list: {{unknown}}")
model = sio.load(model_file, trusted=sio.get_untrusted_types(file=model_file))
print(type(model).__name__, "loaded safely")
"""


def defenses_table(results: Sequence[DefenseResult], lang: str) -> pd.DataFrame:
    """The defenses side by side, for display."""
    return pd.DataFrame(
        [
            {
                translate("security.col_defense", lang): translate(f"security.defense_{r.defense}", lang),
                translate("security.col_attack", lang): translate(f"security.attack_{r.attack}", lang),
                translate("security.col_metric", lang): translate(f"security.metric_{r.metric}", lang),
                translate("security.col_before", lang): round(r.before, 3),
                translate("security.col_after", lang): round(r.after, 3),
            }
            for r in results
        ]
    )
